//! `TensorViewMut`: views that write into their parent, in Rust and through `#[py_exec]`
//! (`x: &mut TensorViewMut<'_>`), in place at the same address; Python keeping the array
//! detaches the parent afterwards; copy on write happens on the parent, once.

use python4r::pyo3::prelude::*;
use python4r::{DType, Tensor, TensorViewMut, py_exec};

#[py_exec(code = "import numpy as np\nnp.sqrt(x, out=x)\nresult = x.ctypes.data")]
fn sqrt_in_place(x: &mut TensorViewMut<'_>) -> usize;

#[py_exec(
    code = "x[...] = np.arange(x.size).reshape(x.shape)",
    setup = "import numpy as np"
)]
fn fill_arange(x: &mut TensorViewMut<'_>);

#[py_exec(code = "import builtins\nbuiltins._kept_view = x[::1]\nx[...] = 1")]
fn keep_a_view(x: &mut TensorViewMut<'_>);

#[py_exec(code = "import builtins\nbuiltins._kept_view[...] = 99")]
fn write_kept();

#[py_exec(code = "x[...] = -1\nraise ValueError('after writing')")]
fn write_then_raise(x: &mut TensorViewMut<'_>) -> python4r::Result<()>;

#[py_exec(code = "import numpy as np\nnp.sqrt(x, out=x)")]
fn sqrt_tensor(x: &mut Tensor);

fn big() -> Tensor {
    Tensor::from_vec(
        vec![1.0f64, 4.0, 7.0, 2.0, 9.0, 8.0, 3.0, 16.0, 9.0],
        &[3, 3],
    )
    .unwrap()
}

#[test]
fn sqrt_of_a_column_changes_the_parent_in_place() {
    let mut big = big();
    let ptr = big.data_ptr();
    let seen = sqrt_in_place(&mut big.index_axis_mut(1, 1).unwrap());
    assert_eq!(seen, ptr as usize + 8, "Python wrote the parent's memory");
    assert_eq!(big.data_ptr(), ptr, "in place");
    assert_eq!(
        big.to_vec::<f64>().unwrap(),
        [1.0, 2.0, 7.0, 2.0, 3.0, 8.0, 3.0, 4.0, 9.0]
    );
    // Rust's own borrows see the new values without a copy (Python kept nothing).
    assert_eq!(big.as_slice::<f64>().unwrap()[7], 4.0);
    assert!(big.view_ndarray::<f64>().is_ok());
}

#[test]
fn a_mut_tensor_parameter_does_not_take_a_view() {
    let big = big();
    // A temporary `Tensor` view shares `big`'s storage: copy on write detaches it first.
    let mut column = big.index_axis(1, 1).unwrap();
    sqrt_tensor(&mut column);
    assert_eq!(column.to_vec::<f64>().unwrap(), [2.0, 3.0, 4.0]);
    assert_eq!(big, self::big(), "the parent is unchanged");
}

#[test]
fn every_kind_of_view_writes_what_numpy_writes() {
    type MakeView = fn(&mut Tensor) -> TensorViewMut<'_>;
    let cases: [(&str, MakeView); 6] = [
        ("p", |t| t.view_mut()),
        ("p[:, 1]", |t| t.index_axis_mut(1, 1).unwrap()),
        ("p[1:4:2]", |t| t.slice_mut(0, 1..4, 2).unwrap()),
        ("p.T", |t| t.transpose_mut()),
        ("p[:, ::-1].transpose(1, 0)[1:, 0]", |t| {
            t.flip_mut(1)
                .unwrap()
                .permute_mut(&[1, 0])
                .unwrap()
                .slice_mut(0, 1..3, 1)
                .unwrap()
                .index_axis_mut(1, 0)
                .unwrap()
        }),
        ("p[2, 1:]", |t| {
            t.index_axis_mut(0, 2)
                .unwrap()
                .slice_mut(0, 1..3, 1)
                .unwrap()
        }),
    ];
    for (numpy, make) in cases {
        let mut parent = Tensor::zeros(DType::Int32, &[4, 3])
            .unwrap()
            .transpose()
            .to_contiguous()
            .transpose();
        let ptr = parent.data_ptr();
        fill_arange(&mut make(&mut parent));
        assert_eq!(parent.data_ptr(), ptr, "{numpy}: in place");
        let expected: Vec<i32> = python4r::eval(&format!(
            "(lambda np: (lambda p: (p.__setitem__(..., 0), \
             {numpy}.__setitem__(..., np.arange({numpy}.size).reshape({numpy}.shape)), \
             p.ravel().tolist())[2])(np.zeros((3, 4), dtype=np.int32).T))(__import__('numpy'))"
        ))
        .unwrap();
        assert_eq!(parent.to_vec::<i32>().unwrap(), expected, "{numpy}");
    }
}

#[test]
fn python_keeping_the_array_detaches_the_parent_afterwards() {
    let mut big = big();
    let ptr = big.data_ptr();
    let mut column = big.index_axis_mut(1, 0).unwrap();
    keep_a_view(&mut column);
    // The view stays usable: it now writes the parent's new memory.
    column.set(&[2], 5.0f64).unwrap();
    assert_eq!(column.to_vec::<f64>().unwrap(), [1.0, 1.0, 5.0]);
    assert!(column.as_slice::<f64>().is_err(), "a column is strided");
    assert!(
        column.view_ndarray::<f64>().is_ok(),
        "no longer shared with Python"
    );
    drop(column);
    assert_ne!(big.data_ptr(), ptr, "moved to its own copy");
    write_kept();
    assert_eq!(
        big.to_vec::<f64>().unwrap(),
        [1.0, 4.0, 7.0, 1.0, 9.0, 8.0, 5.0, 16.0, 9.0],
        "Python's later writes reach only the old memory"
    );
    let kept: Vec<f64> = python4r::eval("__import__('builtins')._kept_view.tolist()").unwrap();
    assert_eq!(kept, [99.0; 3]);
}

#[test]
fn an_exception_still_releases_the_view() {
    let mut big = big();
    let err = write_then_raise(&mut big.slice_mut(0, 0..1, 1).unwrap()).unwrap_err();
    assert!(err.to_string().contains("after writing"), "{err}");
    // The error keeps the exception, whose traceback reaches the array: the parent was
    // detached, with what Python wrote before raising.
    assert_eq!(&big.to_vec::<f64>().unwrap()[..4], [-1.0, -1.0, -1.0, 2.0]);
    assert!(
        big.view_ndarray::<f64>().is_ok(),
        "Python no longer writes it"
    );
}

#[test]
fn views_of_shared_storage_copy_the_parent_once() {
    let mut big = big();
    let shared = big.clone();
    let ptr = big.data_ptr();
    big.index_axis_mut(1, 2).unwrap().fill(0.0f64).unwrap();
    let copied = big.data_ptr();
    assert_ne!(copied, ptr, "the parent moved to its own copy");
    assert_eq!(shared, self::big(), "the other tensor never changes");
    big.index_axis_mut(1, 1).unwrap().fill(0.0f64).unwrap();
    big.transpose_mut().set(&[0, 0], -1.0f64).unwrap();
    assert_eq!(big.data_ptr(), copied, "once");
    assert_eq!(
        big.to_vec::<f64>().unwrap(),
        [-1.0, 0.0, 0.0, 2.0, 0.0, 0.0, 3.0, 0.0, 0.0]
    );
}

#[test]
fn views_of_numpy_memory_copy_it_first() {
    python4r::exec("import numpy as np\nowner = np.arange(6.0).reshape(2, 3)").unwrap();
    let mut t: Tensor = python4r::get("owner").unwrap();
    let numpy_ptr = t.data_ptr();
    t.index_axis_mut(0, 0).unwrap().fill(-5.0f64).unwrap();
    assert_ne!(
        t.data_ptr(),
        numpy_ptr,
        "Python could write numpy's memory: copied"
    );
    assert_eq!(
        t.to_vec::<f64>().unwrap(),
        [-5.0, -5.0, -5.0, 3.0, 4.0, 5.0]
    );
    let owner: Vec<f64> = python4r::eval("owner.ravel().tolist()").unwrap();
    assert_eq!(owner, [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
}

#[test]
fn broadcast_parents_become_plain_before_a_view_writes() {
    let row = Tensor::from_vec(vec![1u8, 2, 3], &[3]).unwrap();
    let mut b = row.broadcast_to(&[2, 3]).unwrap();
    b.index_axis_mut(0, 0).unwrap().fill(0u8).unwrap();
    assert_eq!(b.to_vec::<u8>().unwrap(), [0, 0, 0, 1, 2, 3], "no aliasing");
    assert_eq!(row.to_vec::<u8>().unwrap(), [1, 2, 3]);
    assert_eq!(b.strides(), &[3, 1]);
}

#[test]
fn bfloat16_views_are_written_back() {
    let mut t = Tensor::ones(DType::BFloat16, &[2, 2]).unwrap();
    fill_arange(&mut t.index_axis_mut(1, 1).unwrap());
    assert_eq!(
        t.cast(DType::Float32).to_vec::<f32>().unwrap(),
        [1.0, 0.0, 1.0, 1.0]
    );
}

#[test]
fn views_cross_read_only_as_copies_of_their_values() {
    // A view is not a `Tensor`: to pass it read-only, copy it out (or pass the parent).
    let mut big = big();
    let column = big.index_axis_mut(1, 2).unwrap().to_tensor();
    let total: f64 =
        python4r::with_gil(|py| Ok(column.to_numpy(py)?.call_method0("sum")?.extract::<f64>()?))
            .unwrap();
    assert_eq!(total, 24.0);
}
