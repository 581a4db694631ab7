//! Property tests: for random dtypes, shapes and strided views (permuted, sliced with steps,
//! flipped, broadcast), `to_vec` agrees with numpy's `ravel().tolist()`, both for Rust views
//! exported to numpy and for numpy views imported as tensors.

use proptest::prelude::*;
use python4r::pyo3::prelude::*;
use python4r::pyo3::types::PyDict;
use python4r::{DType, Tensor};

#[derive(Clone, Debug)]
enum Op {
    Permute(Vec<usize>),
    Slice {
        axis: usize,
        start: usize,
        len: usize,
        step: usize,
    },
    Flip(usize),
    Broadcast(usize),
}

fn ops(ndim: usize) -> impl Strategy<Value = Vec<Op>> {
    let op = prop_oneof![
        Just(()).prop_perturb(move |_, mut rng| {
            let mut p: Vec<usize> = (0..ndim).collect();
            for i in (1..p.len()).rev() {
                p.swap(i, rng.random_range(0..=i));
            }
            Op::Permute(p)
        }),
        (0..ndim.max(1), 0..4usize, 0..5usize, 1..4usize).prop_map(|(axis, start, len, step)| {
            Op::Slice {
                axis,
                start,
                len,
                step,
            }
        }),
        (0..ndim.max(1)).prop_map(Op::Flip),
        (1..3usize).prop_map(Op::Broadcast),
    ];
    prop::collection::vec(op, 0..4)
}

fn apply(t: &Tensor, op: &Op) -> Tensor {
    match op {
        Op::Permute(p) if p.len() == t.ndim() => t.permute(p).unwrap(),
        Op::Slice {
            axis,
            start,
            len,
            step,
        } if *axis < t.ndim() => {
            let dim = t.shape()[*axis];
            let s = (*start).min(dim);
            let e = (s + len).min(dim);
            t.slice(*axis, s..e, *step).unwrap()
        }
        Op::Flip(axis) if *axis < t.ndim() => t.flip(*axis).unwrap(),
        Op::Broadcast(n) => {
            let mut shape = vec![*n];
            shape.extend_from_slice(t.shape());
            t.broadcast_to(&shape).unwrap()
        }
        _ => t.clone(),
    }
}

/// The same op as numpy code on `v`.
fn numpy_op(op: &Op, ndim: usize) -> Option<String> {
    Some(match op {
        Op::Permute(p) if p.len() == ndim => format!("v = v.transpose({p:?})"),
        Op::Slice {
            axis,
            start,
            len,
            step,
        } if *axis < ndim => {
            let idx = format!(
                "{}slice(min({start}, v.shape[{axis}]), min(min({start}, v.shape[{axis}]) + {len}, v.shape[{axis}]), {step})",
                "slice(None), ".repeat(*axis)
            );
            format!("v = v[({idx},)]")
        }
        Op::Flip(axis) if *axis < ndim => format!("v = np.flip(v, {axis})"),
        Op::Broadcast(n) => format!("v = np.broadcast_to(v, ({n},) + v.shape)"),
        _ => return None,
    })
}

/// numpy's values of `v` as floats, in logical order: the real parts of complex numbers, the
/// counts of dates and durations.
fn numpy_values(v: &Bound<'_, PyAny>) -> PyResult<Vec<f64>> {
    let flat = v.call_method0("ravel")?;
    let flat = match flat
        .getattr("dtype")?
        .getattr("kind")?
        .extract::<String>()?
        .as_str()
    {
        "c" => flat.getattr("real")?,
        "M" | "m" => flat.call_method1("astype", ("i8",))?,
        _ => flat,
    };
    flat.call_method1("astype", ("f8",))?
        .call_method0("tolist")?
        .extract()
}

/// Ours, as `numpy_values`.
fn rust_values(t: &Tensor) -> Vec<f64> {
    let t = if t.dtype().is_complex() {
        t.real().unwrap()
    } else {
        t.clone()
    };
    t.cast(DType::Float64).to_vec::<f64>().unwrap()
}

fn dtypes() -> impl Strategy<Value = DType> {
    prop::sample::select(DType::ALL.to_vec())
}

fn base(dtype: DType, shape: &[usize]) -> Tensor {
    let n: usize = shape.iter().product();
    let values: Vec<i64> = (0..n as i64).map(|i| (i * 7 + 3) % 50).collect();
    let t = Tensor::from_vec(values, shape).unwrap();
    if dtype == DType::Bool {
        t.cast(DType::UInt8).cast(DType::Bool)
    } else {
        t.cast(dtype)
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn rust_views_read_like_numpy(
        dtype in dtypes(),
        (shape, ops) in prop::collection::vec(0..4usize, 0..4)
            .prop_flat_map(|shape| { let n = shape.len(); (Just(shape), ops(n)) }),
    ) {
        let mut t = base(dtype, &shape);
        for op in &ops {
            t = apply(&t, op);
        }
        let ours = rust_values(&t);
        let theirs: Vec<f64> = python4r::with_gil(|py| {
            let arr = t.to_numpy(py)?;
            Ok(numpy_values(&arr)?)
        }).unwrap();
        prop_assert_eq!(ours, theirs);
    }

    #[test]
    fn numpy_views_read_like_numpy(
        dtype in dtypes().prop_filter("numpy has no bfloat16 without ml_dtypes", |d| *d != DType::BFloat16),
        (shape, ops) in prop::collection::vec(0..4usize, 0..4)
            .prop_flat_map(|shape| { let n = shape.len(); (Just(shape), ops(n)) }),
    ) {
        let mut code = format!(
            "import numpy as np\nv = np.asarray((np.arange({n}).reshape({shape:?}) * 7 + 3) % 50).astype('{name}')\n",
            n = shape.iter().product::<usize>(),
            shape = shape,
            name = dtype.numpy_name(),
        );
        let mut ndim = shape.len();
        for op in &ops {
            if let Some(line) = numpy_op(op, ndim) {
                code.push_str(&line);
                code.push('\n');
                if matches!(op, Op::Broadcast(_)) { ndim += 1; }
            }
        }
        let (t, theirs, ptr): (Tensor, Vec<f64>, usize) = python4r::with_gil(|py| {
            let ns = PyDict::new(py);
            py.run(&std::ffi::CString::new(code.clone()).unwrap(), Some(&ns), None)?;
            let v = ns.get_item("v")?.unwrap();
            let list = numpy_values(&v)?;
            let ptr = v.getattr("ctypes")?.getattr("data")?.extract()?;
            Ok((v.extract::<Tensor>()?, list, ptr))
        }).unwrap();
        prop_assert_eq!(t.data_ptr() as usize, ptr, "shared, not copied");
        prop_assert_eq!(rust_values(&t), theirs, "{}", code);
    }
}
