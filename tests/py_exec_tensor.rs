//! `#[py_exec]` with [`Tensor`]s: zero-copy inputs (read-only `&Tensor`, writable `&mut Tensor`
//! changed at the same address), copy on write when Python keeps an array, and tensors in tuple,
//! `Vec` and `Option` returns.

use python4r::{DType, Tensor, py_exec};

#[py_exec(code = "result = arr * 2.0")]
fn double(arr: &Tensor) -> Tensor;

#[py_exec(code = "result = arr * 2.0")]
fn try_double(arr: &Tensor) -> python4r::Result<Tensor>;

#[py_exec(code = "arr *= 2")]
fn double_in_place(arr: &mut Tensor);

#[py_exec(code = "arr[...] = 0")]
fn zero_shared(arr: &Tensor) -> python4r::Result<()>;

#[py_exec(code = "result = arr")]
fn identity(arr: &Tensor) -> Tensor;

#[py_exec(code = "result = arr.ctypes.data")]
fn address(arr: &Tensor) -> usize;

const LAYOUTS: [&str; 7] = [
    "contiguous",
    "transposed",
    "strided",
    "flipped",
    "broadcast",
    "0-d",
    "empty",
];

/// A fresh tensor of `dtype` in one of the layouts the bridge distinguishes, the only holder
/// of its storage (so a `&mut` crossing lends it as it is).
fn layout(dtype: DType, name: &str) -> Tensor {
    let base = Tensor::from_vec((0..24).map(f64::from).collect(), &[4, 6])
        .unwrap()
        .cast(dtype);
    match name {
        "contiguous" => base,
        "transposed" => base.transpose(),
        "strided" => base.slice(1, 0..6, 2).unwrap(),
        "flipped" => base.flip(0).unwrap(),
        "broadcast" => base
            .index_axis(0, 1)
            .unwrap()
            .broadcast_to(&[3, 6])
            .unwrap(),
        "0-d" => Tensor::scalar(1.5f64).cast(dtype),
        "empty" => Tensor::zeros(dtype, &[0, 3]).unwrap(),
        _ => unreachable!("{name}"),
    }
}

fn layouts(dtype: DType) -> impl Iterator<Item = (&'static str, Tensor)> {
    LAYOUTS
        .into_iter()
        .map(move |name| (name, layout(dtype, name)))
}

#[test]
fn double_on_f64_and_f32_in_every_layout() {
    // numpy 1 promotes a 0-d float32 times a Python float to float64 (value-based casting).
    let numpy_major: u32 =
        python4r::eval("int(__import__('numpy').__version__.split('.')[0])").unwrap();
    for dtype in [DType::Float64, DType::Float32] {
        for (layout, t) in layouts(dtype) {
            let doubled = double(&t);
            let expected_dtype = if t.ndim() == 0 && numpy_major < 2 {
                DType::Float64
            } else {
                dtype
            };
            assert_eq!(doubled.dtype(), expected_dtype, "{layout} {dtype}");
            assert_eq!(doubled.shape(), t.shape(), "{layout} {dtype}");
            let expected: Vec<f64> = t
                .cast(DType::Float64)
                .to_vec::<f64>()
                .unwrap()
                .iter()
                .map(|x| x * 2.0)
                .collect();
            assert_eq!(
                doubled.cast(DType::Float64).to_vec::<f64>().unwrap(),
                expected,
                "{layout} {dtype}"
            );
        }
    }
}

#[test]
fn a_shared_tensor_crosses_without_a_copy_both_ways() {
    for (layout, t) in layouts(DType::Float32) {
        if t.is_empty() {
            continue; // numpy gives empty arrays no meaningful address
        }
        assert_eq!(address(&t), t.data_ptr() as usize, "{layout}");
        let back = identity(&t);
        assert!(back.shares_storage(&t), "{layout}");
        assert_eq!(back.data_ptr(), t.data_ptr(), "{layout}");
        assert_eq!(back.strides(), t.strides(), "{layout}");
    }
}

#[test]
fn a_shared_tensor_is_read_only_in_python() {
    let t = Tensor::from_vec(vec![1.0f64, 2.0, 3.0], &[3]).unwrap();
    let err = zero_shared(&t).unwrap_err();
    let exception = err.python_exception().expect("a Python exception");
    assert_eq!(exception.type_name(), "ValueError", "{err}");
    assert_eq!(t.to_vec::<f64>().unwrap(), [1.0, 2.0, 3.0], "unchanged");
    let doubled = try_double(&t).unwrap();
    assert_eq!(doubled.to_vec::<f64>().unwrap(), [2.0, 4.0, 6.0]);
}

#[test]
fn a_mut_tensor_changes_in_place_at_the_same_address() {
    for dtype in [DType::Float64, DType::Float32] {
        for (layout, t) in layouts(dtype) {
            if layout == "broadcast" {
                continue; // several elements at one address: not a `&mut` layout
            }
            let mut t = t;
            let expected: Vec<f64> = t
                .cast(DType::Float64)
                .to_vec::<f64>()
                .unwrap()
                .iter()
                .map(|x| x * 2.0)
                .collect();
            let before = t.data_ptr();
            double_in_place(&mut t);
            assert_eq!(t.data_ptr(), before, "{layout} {dtype}: moved to a copy");
            assert_eq!(
                t.cast(DType::Float64).to_vec::<f64>().unwrap(),
                expected,
                "{layout} {dtype}"
            );
        }
    }
}

#[test]
fn a_strided_mut_view_with_unique_storage_changes_in_place() {
    // A view that is the only holder of its storage is lent as it is, strides and all.
    let mut t = Tensor::from_vec((0..12).map(|x| x as f32).collect(), &[3, 4])
        .unwrap()
        .transpose();
    let before = t.data_ptr();
    double_in_place(&mut t);
    assert_eq!(t.data_ptr(), before);
    assert_eq!(t.get::<f32>(&[1, 2]).unwrap(), 18.0);
}

/// Lends `arr` writable and keeps it (`keep`), or writes into the array kept last (`write`).
#[py_exec(
    setup = "kept = []",
    code = r#"
        if action == "keep":
            arr += 1
            kept.append(arr)
            result = [arr.ctypes.data]
        else:
            kept[-1][0] = 100
            result = kept[-1].tolist()
    "#
)]
fn keep_or_write(arr: &mut Tensor, action: &str) -> Vec<i64>;

#[test]
fn python_keeping_a_mut_array_moves_the_tensor_to_a_copy() {
    let mut t = Tensor::from_vec(vec![1i64, 2, 3], &[3]).unwrap();
    let before = t.data_ptr() as i64;
    let kept_at = keep_or_write(&mut t, "keep")[0];
    assert_eq!(kept_at, before, "Python saw the tensor's own memory");
    assert_ne!(
        t.data_ptr() as i64,
        kept_at,
        "the tensor no longer shares memory with the array Python kept"
    );
    assert_eq!(t.to_vec::<i64>().unwrap(), [2, 3, 4]);
    // Python's later writes reach only its own array, Rust's only the tensor; both stay valid.
    let mut other = Tensor::zeros(DType::Int64, &[1]).unwrap();
    assert_eq!(keep_or_write(&mut other, "write"), [100, 3, 4]);
    assert_eq!(t.to_vec::<i64>().unwrap(), [2, 3, 4]);
    t.as_mut_slice::<i64>().unwrap()[1] = -1;
    assert_eq!(keep_or_write(&mut other, "write"), [100, 3, 4]);
    drop(t);
    assert_eq!(keep_or_write(&mut other, "write"), [100, 3, 4]);
}

#[py_exec(code = "arr += 1")]
fn increment(arr: &mut Tensor) -> python4r::Result<()>;

#[py_exec(code = "arr += 1\nraise RuntimeError('after the change')")]
fn increment_then_fail(arr: &mut Tensor) -> python4r::Result<()>;

#[test]
fn a_mut_tensor_stays_in_place_over_many_calls_and_after_an_error() {
    let mut t = Tensor::from_vec(vec![0i32; 4], &[4]).unwrap();
    let before = t.data_ptr();
    for _ in 0..10 {
        increment(&mut t).unwrap();
    }
    assert_eq!(t.data_ptr(), before);
    assert_eq!(t.to_vec::<i32>().unwrap(), [10; 4]);
    // The traceback may hold the frame (and so the array): the tensor is then a copy, but it
    // holds the change, as module code would have left it.
    increment_then_fail(&mut t).unwrap_err();
    assert_eq!(t.to_vec::<i32>().unwrap(), [11; 4]);
    increment(&mut t).unwrap();
    assert_eq!(t.to_vec::<i32>().unwrap(), [12; 4]);
}

#[py_exec(code = "mean = float(x.mean())\nstd = x.std()", output = ["mean", "std"])]
fn moments(x: &Tensor) -> (f64, Tensor);

#[py_exec(code = "import numpy as np\nlo = np.minimum(a, b)\nhi = np.maximum(a, b)", output = ["lo", "hi"])]
fn bounds(a: &Tensor, b: &Tensor) -> (Tensor, Tensor);

#[py_exec(code = "result = [a * i for i in range(n)]")]
fn multiples(a: &Tensor, n: usize) -> Vec<Tensor>;

#[py_exec(code = "result = a if a.size else None")]
fn non_empty(a: &Tensor) -> Option<Tensor>;

#[py_exec(code = "result = (a.sum(), a[::-1])")]
fn sum_and_reversed(a: &Tensor) -> (f64, Tensor);

#[test]
fn tuple_outputs_of_tensors() {
    let x = Tensor::from_vec(vec![1.0f64, 3.0], &[2]).unwrap();
    let (mean, std) = moments(&x);
    assert_eq!(mean, 2.0);
    assert_eq!(std.ndim(), 0);
    assert_eq!(std.get::<f64>(&[]).unwrap(), 1.0);

    let a = Tensor::from_vec(vec![1i32, 5, 3], &[3]).unwrap();
    let b = Tensor::from_vec(vec![2i32, 4, 3], &[3]).unwrap();
    let (lo, hi) = bounds(&a, &b);
    assert_eq!(lo.to_vec::<i32>().unwrap(), [1, 4, 3]);
    assert_eq!(hi.to_vec::<i32>().unwrap(), [2, 5, 3]);

    let (sum, reversed) = sum_and_reversed(&x);
    assert_eq!(sum, 4.0);
    assert!(
        reversed.shares_storage(&x),
        "a view of the input comes back zero-copy"
    );
    assert_eq!(reversed.to_vec::<f64>().unwrap(), [3.0, 1.0]);
}

#[test]
fn tensors_in_vec_and_option_returns() {
    let a = Tensor::from_vec(vec![1.0f32, 2.0], &[2]).unwrap();
    let all = multiples(&a, 3);
    assert_eq!(all.len(), 3);
    assert_eq!(all[2].to_vec::<f32>().unwrap(), [2.0, 4.0]);
    assert!(multiples(&a, 0).is_empty());

    let some = non_empty(&a).expect("a non-empty tensor");
    assert!(some.shares_storage(&a));
    assert!(non_empty(&Tensor::zeros(DType::Float32, &[0]).unwrap()).is_none());
}

/// Rebinding a `setup` name makes the body run as module code (exec in a fresh namespace): that
/// namespace is gone before the tensor is released, so it stays in place too.
#[py_exec(setup = "factor = 2", per_call = ["factor"], code = "factor = 3\narr *= factor")]
fn triple_in_module_frame(arr: &mut Tensor);

#[test]
fn a_mut_tensor_changes_in_place_in_a_module_frame_body() {
    let mut t = Tensor::from_vec(vec![1.0f32, 2.0], &[2]).unwrap();
    let before = t.data_ptr();
    triple_in_module_frame(&mut t);
    assert_eq!(t.data_ptr(), before);
    assert_eq!(t.to_vec::<f32>().unwrap(), [3.0, 6.0]);
}

#[test]
fn a_broadcast_mut_view_is_lent_as_separate_elements() {
    // A stride-0 view shows one element at three indices; lent writable as it is, `arr[0] = 5`
    // would change all three. It is copied into separate elements first.
    let mut row = Tensor::from_vec(vec![1_i64], &[1])
        .unwrap()
        .broadcast_to(&[3])
        .unwrap();
    assert_eq!(row.strides(), &[0]);
    increment_first(&mut row).unwrap();
    assert_eq!(row.to_vec::<i64>().unwrap(), vec![2, 1, 1]);
}

#[py_exec(code = "arr[0] += 1")]
fn increment_first(arr: &mut Tensor) -> python4r::Result<()>;
