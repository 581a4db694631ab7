//! Unit tests of the pure-Rust tensor: constructors, views, reads, casts.

use super::*;

#[test]
fn constructors_check_shapes() {
    assert!(matches!(
        Tensor::from_vec(vec![1u8; 5], &[2, 3]),
        Err(Error::ShapeMismatch(_))
    ));
    assert!(matches!(
        Tensor::from_vec(Vec::<u8>::new(), &[usize::MAX, usize::MAX, 0]),
        Err(Error::ShapeOverflow { .. })
    ));
    assert!(matches!(
        Tensor::ones(DType::Int64, &[usize::MAX / 4]),
        Err(Error::ShapeOverflow { .. })
    ));
    let t = Tensor::from_vec(Vec::<f32>::new(), &[0, 3]).unwrap();
    assert!(t.is_empty() && t.is_contiguous());
    assert_eq!(t.to_vec::<f32>().unwrap(), Vec::<f32>::new());
    assert_eq!(t.as_slice::<f32>().unwrap(), &[] as &[f32]);
}

#[test]
fn every_dtype_round_trips() {
    for d in DType::ALL {
        let t = Tensor::ones(d, &[2, 3]).unwrap();
        assert_eq!(t.dtype(), d);
        assert_eq!(t.len(), 6);
        assert_eq!(t.strides(), &[3 * d.size() as isize, d.size() as isize]);
        let back = t.cast(DType::Float64).to_vec::<f64>().unwrap();
        assert_eq!(back, vec![1.0; 6]);
        assert_eq!(
            Tensor::zeros(d, &[])
                .unwrap()
                .cast(DType::Int8)
                .to_vec::<i8>()
                .unwrap(),
            vec![0]
        );
    }
}

#[test]
fn views_read_logical_order() {
    let t = Tensor::from_vec((0..24i32).collect(), &[2, 3, 4]).unwrap();
    let p = t.permute(&[2, 0, 1]).unwrap();
    let expected: Vec<i32> = (0..4)
        .flat_map(|k| (0..2).flat_map(move |i| (0..3).map(move |j| i * 12 + j * 4 + k)))
        .collect();
    assert_eq!(p.to_vec::<i32>().unwrap(), expected);
    let s = t.slice(2, 0..4, 2).unwrap().flip(1).unwrap();
    assert_eq!(s.shape(), &[2, 3, 2]);
    assert_eq!(
        s.to_vec::<i32>().unwrap(),
        vec![8, 10, 4, 6, 0, 2, 20, 22, 16, 18, 12, 14]
    );
    assert!(s.shares_storage(&t));
    let b = t
        .index_axis(0, 1)
        .unwrap()
        .index_axis(1, 3)
        .unwrap()
        .broadcast_to(&[2, 3])
        .unwrap();
    assert_eq!(b.to_vec::<i32>().unwrap(), vec![15, 19, 23, 15, 19, 23]);
    assert!(t.broadcast_to(&[3, 3, 4]).is_err());
    let e = t.slice(1, 2..2, 1).unwrap();
    assert_eq!(e.shape(), &[2, 0, 4]);
    assert!(e.to_vec::<i32>().unwrap().is_empty());
}

#[test]
fn as_slice_needs_c_order_and_dtype() {
    let t = Tensor::from_vec(vec![1u32, 2, 3, 4], &[2, 2]).unwrap();
    assert!(matches!(
        t.transpose().as_slice::<u32>(),
        Err(Error::Layout(_))
    ));
    assert!(matches!(
        t.as_slice::<i32>(),
        Err(Error::DTypeMismatch { .. })
    ));
    assert_eq!(
        t.slice(0, 1..2, 1).unwrap().as_slice::<u32>().unwrap(),
        &[3, 4]
    );
    // A size-1 axis may have any stride.
    let row = t.slice(0, 1..2, 1).unwrap().transpose();
    assert_eq!(row.strides(), &[4, 8]);
    assert!(row.is_contiguous());
    assert!(!t.slice(1, 0..1, 1).unwrap().is_contiguous());
}

#[test]
fn mutation_is_copy_on_write() {
    let mut a = Tensor::from_vec(vec![1i64, 2, 3, 4], &[2, 2]).unwrap();
    let ptr = a.data_ptr();
    a.as_mut_slice::<i64>().unwrap()[3] = 40;
    assert_eq!(a.data_ptr(), ptr, "unique storage is written in place");
    let view = a.transpose();
    a.as_mut_slice::<i64>().unwrap()[0] = 10;
    assert_ne!(a.data_ptr(), ptr);
    assert_eq!(view.to_vec::<i64>().unwrap(), vec![1, 3, 2, 40]);
    assert_eq!(a.to_vec::<i64>().unwrap(), vec![10, 2, 3, 40]);
    let mut t = view;
    t.as_mut_slice::<i64>().unwrap()[1] = 0;
    assert!(t.is_contiguous());
    assert_eq!(t.to_vec::<i64>().unwrap(), vec![1, 0, 2, 40]);
}

#[test]
fn ndarray_round_trip() {
    use ::ndarray::{Array2, s};
    let a = Array2::from_shape_fn((3, 4), |(i, j)| (i * 4 + j) as f32);
    let v = a.slice(s![..;-1, 1..;2]);
    let t = Tensor::from(v);
    assert_eq!(
        t.to_vec::<f32>().unwrap(),
        vec![9.0, 11.0, 5.0, 7.0, 1.0, 3.0]
    );
    let owned = Tensor::from(a.clone());
    let view = owned.flip(0).unwrap().slice(1, 1..4, 2).unwrap();
    let nd = view.view_ndarray::<f32>().unwrap();
    assert_eq!(nd.into_dimensionality::<::ndarray::Ix2>().unwrap(), v);
    assert_eq!(
        view.to_ndarray::<f32>()
            .unwrap()
            .into_dimensionality()
            .unwrap(),
        v
    );
    let b = t.broadcast_to(&[2, 3, 2]).unwrap();
    assert_eq!(b.view_ndarray::<f32>().unwrap().strides(), &[0, 2, 1]);
}

#[test]
fn equality_ignores_layout() {
    let t = Tensor::from_vec(vec![1u8, 2, 3, 4], &[2, 2]).unwrap();
    assert_eq!(t.transpose().to_contiguous().transpose(), t);
    assert_ne!(t.transpose(), t);
}

/// A tensor moves on every call (into a `Result`, out of it, into the caller's variable): at
/// 128 bytes or less, a move is a few inline stores; above, a call to `memcpy`.
#[test]
#[cfg(target_pointer_width = "64")]
fn a_tensor_is_small_enough_to_move_without_a_memcpy_call() {
    assert!(size_of::<Tensor>() <= 128, "{} bytes", size_of::<Tensor>());
    assert_eq!(size_of::<crate::Result<Tensor>>(), size_of::<Tensor>());
}
