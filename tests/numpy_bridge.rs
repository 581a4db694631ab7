//! The NumPy bridge: every dtype both ways, python4j's numpy cases, every layout, lifetimes,
//! read-only enforcement, `&mut` in place and copy on write.

use python4r::pyo3::prelude::*;
use python4r::pyo3::types::PyDict;
use python4r::{DType, Error, Tensor, ToPythonMut};

const SHAPES: [&[usize]; 4] = [&[2, 3], &[3], &[1], &[]];

/// numpy 2 or later: NEP 50 promotion (numpy 1 promotes 0-d arrays by value, as scalars).
fn numpy2() -> bool {
    python4r::eval::<bool>("int(__import__('numpy').__version__.split('.')[0]) >= 2").unwrap()
}

fn np_name(d: DType) -> &'static str {
    // bfloat16 comes back as float32 by default.
    if d == DType::BFloat16 {
        "float32"
    } else {
        d.numpy_name()
    }
}

/// Runs `code` with `vars` in a fresh namespace and returns that namespace's `out`.
fn run<T: python4r::FromPython>(code: &str, vars: &[(&str, &Tensor)]) -> python4r::Result<T> {
    python4r::with_gil(|py| {
        let ns = PyDict::new(py);
        py.run(c"import numpy as np", Some(&ns), None)?;
        for (name, t) in vars {
            ns.set_item(name, t.to_numpy(py)?)?;
        }
        let code = std::ffi::CString::new(code).unwrap();
        py.run(&code, Some(&ns), None)?;
        T::from_python(&ns.get_item("out")?.expect("the code sets `out`"))
    })
}

/// Lends `t` writable as `x` (with `y` read-only) for one run of `code`, as a `&mut` argument
/// crosses; the namespace is dropped before `after_call`, unless `keep` stores the array.
fn run_mut(code: &str, t: &mut Tensor, y: Option<&Tensor>, keep: &str) -> python4r::Result<()> {
    python4r::with_gil(|py| {
        let obj = t.to_python_mut(py)?;
        {
            let ns = PyDict::new(py);
            py.run(c"import numpy as np", Some(&ns), None)?;
            ns.set_item("x", &obj)?;
            if let Some(y) = y {
                ns.set_item("y", y.to_numpy(py)?)?;
            }
            let code = std::ffi::CString::new(code).unwrap();
            py.run(&code, Some(&ns), None)?;
            if !keep.is_empty() {
                let main = py.import("__main__")?;
                main.setattr(keep, ns.get_item("x")?.unwrap())?;
            }
        }
        t.after_call(&obj)
    })
}

/// The values as `f64`: the real parts of complex numbers.
fn real_parts(t: &Tensor) -> Vec<f64> {
    let real = if t.dtype().is_complex() {
        t.real().unwrap()
    } else {
        t.clone()
    };
    real.cast(DType::Float64).to_vec::<f64>().unwrap()
}

#[test]
fn python4j_zeros_round_trip_every_dtype_and_shape() {
    for d in DType::ALL {
        for shape in SHAPES {
            let x = Tensor::zeros(d, shape).unwrap();
            let back: Tensor = run("out = x", &[("x", &x)]).unwrap();
            assert_eq!(back.shape(), shape, "{d} {shape:?}");
            assert_eq!(back.dtype().numpy_name(), np_name(d));
            if d != DType::BFloat16 {
                assert!(
                    back.shares_storage(&x),
                    "{d} {shape:?} crosses without a copy"
                );
                assert_eq!(back.data_ptr(), x.data_ptr());
            }
            assert_eq!(back.cast(d), x);
        }
    }
}

#[test]
fn python4j_arithmetic_every_dtype_and_shape() {
    // Dates and durations do not multiply; `dates.rs` does their arithmetic.
    for d in DType::ALL.into_iter().filter(|d| d.time_unit().is_none()) {
        for shape in SHAPES {
            let x = Tensor::ones(d, shape).unwrap();
            let y = Tensor::zeros(d, shape).unwrap();
            let z: Tensor = run("out = x * (y + 2)", &[("x", &x), ("y", &y)]).unwrap();
            let expected = if d == DType::Bool { 1.0 } else { 2.0 }; // True * (False + 2) = 2 -> int
            assert_eq!(z.shape(), shape);
            if d == DType::Bool {
                assert_eq!(z.dtype(), DType::Int64, "numpy promotes bool + int");
            } else if shape.is_empty() && !numpy2() {
                // numpy 1 promotes 0-d arrays with Python ints by value (float32 -> float64).
            } else {
                assert_eq!(z.dtype().numpy_name(), np_name(d), "{d}");
            }
            let vals = real_parts(&z);
            let want = if d == DType::Bool { 2.0 } else { expected };
            assert!(vals.iter().all(|&v| v == want), "{d} {shape:?}: {vals:?}");
        }
    }
}

#[test]
fn python4j_in_place_every_dtype_and_shape() {
    for d in DType::ALL.into_iter().filter(|d| d.time_unit().is_none()) {
        if d == DType::Bool {
            continue; // `x *= y + 2` cannot cast int64 back to bool in numpy
        }
        for shape in SHAPES {
            let mut x = Tensor::ones(d, shape).unwrap();
            let y = Tensor::zeros(d, shape).unwrap();
            let before = x.data_ptr();
            // numpy 1 promotes a 0-d uint64 plus a Python int to float64.
            let code = if numpy2() {
                "x *= y + 2"
            } else {
                "x *= y + y.dtype.type(2)"
            };
            run_mut(code, &mut x, Some(&y), "").unwrap();
            assert_eq!(x.data_ptr(), before, "{d} {shape:?} changed in place");
            assert_eq!(x.dtype(), d);
            let vals = real_parts(&x);
            assert!(vals.iter().all(|&v| v == 2.0), "{d} {shape:?}: {vals:?}");
        }
    }
    let mut b = Tensor::from_vec(vec![false, true], &[2]).unwrap();
    run_mut("x |= np.array([True, False])", &mut b, None, "").unwrap();
    assert_eq!(b.to_vec::<bool>().unwrap(), vec![true, true]);
}

#[test]
fn every_dtype_from_python() {
    for d in DType::ALL {
        let code = if d == DType::BFloat16 {
            "import ml_dtypes\nout = np.arange(6).reshape(2, 3).astype(ml_dtypes.bfloat16)"
                .to_owned()
        } else {
            format!(
                "out = (np.arange(6).reshape(2, 3) % 2).astype('{}')",
                d.numpy_name()
            )
        };
        let t: Tensor = run(&code, &[]).unwrap();
        assert_eq!(t.dtype(), d);
        assert_eq!(t.shape(), &[2, 3]);
        let expected: Vec<f64> = if d == DType::BFloat16 {
            (0..6).map(f64::from).collect()
        } else {
            (0..6).map(|i| f64::from(i % 2)).collect()
        };
        assert_eq!(real_parts(&t), expected, "{d}");
    }
}

#[test]
fn read_only_export_cannot_be_written() {
    let t = Tensor::from_vec(vec![1i32, 2, 3], &[3]).unwrap();
    let err = run::<bool>("x[0] = 5\nout = True", &[("x", &t)]).unwrap_err();
    assert!(
        err.to_string().contains("ValueError") && err.to_string().contains("read-only"),
        "{err}"
    );
    let err = run::<bool>("x.setflags(write=True)\nout = True", &[("x", &t)]).unwrap_err();
    assert!(err.to_string().contains("ValueError"), "{err}");
    let err = run::<bool>(
        "v = x[1:]\nv.setflags(write=True)\nout = True",
        &[("x", &t)],
    )
    .unwrap_err();
    assert!(err.to_string().contains("ValueError"), "{err}");
    assert_eq!(t.to_vec::<i32>().unwrap(), vec![1, 2, 3]);
    let flags: (bool, bool) =
        run("out = (x.flags.writeable, x.flags.owndata)", &[("x", &t)]).unwrap();
    assert_eq!(flags, (false, false));
}

#[test]
fn an_exports_base_is_a_tensor_storage_that_python_cannot_make() {
    let t = Tensor::from_vec(vec![1.5f64, 2.5], &[2]).unwrap();
    let (module, name): (String, String) = run(
        "out = (type(x.base).__module__, type(x.base).__name__)",
        &[("x", &t)],
    )
    .unwrap();
    assert_eq!(
        (module.as_str(), name.as_str()),
        ("python4r", "TensorStorage")
    );
    // Python 3.10 and later refuse to make one; 3.9 may make an empty one, which holds nothing
    // and is dropped without harm.
    let (made, refusal_flag): (bool, bool) = run(
        "import sys\ntry:\n    type(x.base)()\n    made = True\nexcept TypeError:\n    made = False\nout = (made, sys.version_info >= (3, 10))",
        &[("x", &t)],
    )
    .unwrap();
    assert!(!(made && refusal_flag), "Python made a TensorStorage");
    assert_eq!(t.to_vec::<f64>().unwrap(), [1.5, 2.5]);
}

#[test]
fn keepers_freed_and_reused_keep_each_tensor_alive() {
    // More exports alive at once than keepers are kept for reuse, then all of them freed, then
    // as many again: every array reads its own tensor's values, also after the tensors drop.
    for round in 0..3 {
        let tensors: Vec<Tensor> = (0..20)
            .map(|i| Tensor::from_vec(vec![f64::from(i + round * 100); 4], &[4]).unwrap())
            .collect();
        let sums: Vec<f64> = python4r::with_gil(|py| {
            let arrays = tensors
                .iter()
                .map(|t| t.to_numpy(py))
                .collect::<python4r::Result<Vec<_>>>()?;
            drop(tensors);
            arrays
                .iter()
                .map(|a| Ok(a.call_method0("sum")?.extract::<f64>()?))
                .collect()
        })
        .unwrap();
        let expected: Vec<f64> = (0..20).map(|i| 4.0 * f64::from(i + round * 100)).collect();
        assert_eq!(sums, expected, "round {round}");
    }
}

#[test]
fn strided_views_cross_without_copy() {
    let t = Tensor::from_vec((0..24i64).collect(), &[2, 3, 4]).unwrap();
    let views = [
        t.transpose(),
        t.permute(&[1, 0, 2]).unwrap(),
        t.slice(2, 1..4, 2).unwrap(),
        t.flip(1).unwrap().flip(2).unwrap(),
        t.index_axis(0, 1)
            .unwrap()
            .broadcast_to(&[5, 3, 4])
            .unwrap(),
        t.slice(1, 2..2, 1).unwrap(),
        t.index_axis(0, 1)
            .unwrap()
            .index_axis(0, 2)
            .unwrap()
            .index_axis(0, 3)
            .unwrap(),
    ];
    for v in &views {
        let (ptr, strides, list): (usize, Vec<isize>, Vec<i64>) = run(
            "out = (x.ctypes.data, list(x.strides), x.ravel().tolist())",
            &[("x", v)],
        )
        .unwrap();
        assert_eq!(ptr, v.data_ptr() as usize);
        assert_eq!(strides, v.strides());
        assert_eq!(list, v.to_vec::<i64>().unwrap());
    }
}

#[test]
fn every_numpy_layout_is_shared() {
    let cases = [
        ("np.arange(12.0).reshape(3, 4)", true),
        ("np.asfortranarray(np.arange(12.0).reshape(3, 4))", false),
        ("np.arange(12.0).reshape(3, 4).T", false),
        ("np.arange(24.0).reshape(4, 6)[::2, 1::3]", false),
        ("np.arange(12.0).reshape(3, 4)[::-1, ::-2]", false),
        ("np.broadcast_to(np.arange(4.0), (3, 4))", false),
        ("np.array(7.0)", true),
        ("np.zeros((0, 3))", true),
        (
            "np.frombuffer(b'\\0' + np.arange(5.0).tobytes(), dtype=np.float64, offset=1)",
            true,
        ),
    ];
    for (expr, contiguous) in cases {
        let code = format!("a = {expr}\nout = (a, a.ctypes.data, a.ravel().tolist())");
        let (t, ptr, list): (Tensor, usize, Vec<f64>) = run(&code, &[]).unwrap();
        assert_eq!(t.data_ptr() as usize, ptr, "{expr}");
        assert_eq!(t.to_vec::<f64>().unwrap(), list, "{expr}");
        assert_eq!(t.is_contiguous(), contiguous, "{expr}");
    }
    // Unaligned: to_vec works, as_slice refuses.
    let t: Tensor = run(
        "out = np.frombuffer(b'\\0' + np.arange(5.0).tobytes(), dtype=np.float64, offset=1)",
        &[],
    )
    .unwrap();
    assert!(matches!(t.as_slice::<f64>(), Err(Error::Layout(_))));
    assert_eq!(t.to_vec::<f64>().unwrap(), vec![0.0, 1.0, 2.0, 3.0, 4.0]);
}

#[test]
fn numpy_scalars_become_0d() {
    let t: Tensor = run("out = np.float32(1.5)", &[]).unwrap();
    assert_eq!((t.dtype(), t.ndim()), (DType::Float32, 0));
    assert_eq!(t.to_vec::<f32>().unwrap(), vec![1.5]);
    let t: Tensor = run("out = np.bool_(True)", &[]).unwrap();
    assert_eq!(t.to_vec::<bool>().unwrap(), vec![true]);
}

#[test]
fn big_endian_is_copied_correctly() {
    let (t, list): (Tensor, Vec<i32>) = run(
        "a = np.arange(5, dtype='>i4')[::-1]\nout = (a, a.tolist())",
        &[],
    )
    .unwrap();
    assert_eq!(t.dtype(), DType::Int32);
    assert_eq!(t.to_vec::<i32>().unwrap(), list);
}

#[test]
fn unsupported_dtypes_name_dtype_and_variable() {
    python4r::exec(
        "import numpy as np\nbad = np.zeros(2, dtype=np.clongdouble)\ns = np.array(['a'])",
    )
    .unwrap();
    let err = python4r::get::<Tensor>("bad").unwrap_err().to_string();
    assert!(err.contains("complex256") && err.contains("`bad`"), "{err}");
    let err = python4r::get::<Tensor>("s").unwrap_err().to_string();
    assert!(err.contains("<U1") && err.contains("`s`"), "{err}");
    let err = python4r::eval::<Tensor>("[1, 2]").unwrap_err().to_string();
    assert!(err.contains("numpy.ndarray"), "{err}");
}

#[test]
fn bool_bytes_other_than_0_and_1() {
    let t: Tensor = run(
        "out = np.array([0, 2, 1], dtype=np.uint8).view(np.bool_)",
        &[],
    )
    .unwrap();
    assert_eq!(t.to_vec::<bool>().unwrap(), vec![false, true, true]);
    // Writable by Python: as_slice hands out a private, normalised copy.
    assert_eq!(t.as_slice::<bool>().unwrap(), &[false, true, true]);
    // Read-only, but over a writable base: Python can still write it, so also a copy.
    let code =
        "out = np.array([0, 2, 1], dtype=np.uint8).view(np.bool_)\nout.setflags(write=False)";
    let t: Tensor = run(code, &[]).unwrap();
    assert_eq!(t.as_slice::<bool>().unwrap(), &[false, true, true]);
    // Memory nobody can write (over `bytes`) is borrowed, never copied: invalid bools refused.
    let t: Tensor = run("out = np.frombuffer(bytes([0, 2, 1]), dtype=np.bool_)", &[]).unwrap();
    assert!(matches!(t.as_slice::<bool>(), Err(Error::Layout(_))));
    assert_eq!(t.to_vec::<bool>().unwrap(), vec![false, true, true]);
}

#[test]
fn python_keeps_array_after_rust_drops_tensor() {
    let t = Tensor::from_vec(vec![1.0f64, 2.0, 3.0], &[3]).unwrap();
    python4r::set("kept_after_drop", &t).unwrap();
    python4r::exec("kept_view = kept_after_drop[::-1]\nkept_list = [kept_after_drop]").unwrap();
    drop(t);
    python4r::exec("import gc; gc.collect(); junk = [bytes(1000) for _ in range(1000)]").unwrap();
    let v: Vec<f64> = python4r::eval("kept_view.tolist() + kept_list[0].tolist()").unwrap();
    assert_eq!(v, vec![3.0, 2.0, 1.0, 1.0, 2.0, 3.0]);
    python4r::exec("del kept_after_drop, kept_view, kept_list").unwrap();
}

#[test]
fn rust_keeps_tensor_after_python_drops_array() {
    python4r::exec("import numpy as np\nsrc_arr = np.arange(4, dtype=np.uint16) * 3").unwrap();
    let t: Tensor = python4r::get("src_arr").unwrap();
    let ptr: usize = python4r::eval("src_arr.ctypes.data").unwrap();
    python4r::exec("del src_arr\nimport gc; gc.collect(); junk = np.ones(100000)").unwrap();
    assert_eq!(t.data_ptr() as usize, ptr);
    assert_eq!(t.to_vec::<u16>().unwrap(), vec![0, 3, 6, 9]);
}

#[test]
fn python_writes_show_through_shared_tensor() {
    python4r::exec("import numpy as np\nlive = np.zeros(3)").unwrap();
    let t: Tensor = python4r::get("live").unwrap();
    let snapshot = t.as_slice::<f64>().unwrap().to_vec();
    python4r::exec("live[1] = 5.0").unwrap();
    assert_eq!(t.to_vec::<f64>().unwrap(), vec![0.0, 5.0, 0.0]);
    assert_eq!(snapshot, vec![0.0; 3]);
    assert!(
        t.view_ndarray::<f64>().is_err(),
        "Python may write it: no borrow"
    );
}

#[test]
fn view_of_exported_tensor_comes_back_sharing_storage() {
    let t = Tensor::from_vec((0..12u32).collect(), &[3, 4]).unwrap();
    let back: Tensor = run("out = x[1:, ::2].T", &[("x", &t)]).unwrap();
    assert!(back.shares_storage(&t));
    assert_eq!(back.to_vec::<u32>().unwrap(), vec![4, 8, 6, 10]);
    assert!(back.as_slice::<u32>().is_err(), "not contiguous");
    let row: Tensor = run("out = x[2]", &[("x", &t)]).unwrap();
    assert_eq!(row.as_slice::<u32>().unwrap(), &[8, 9, 10, 11]);
}

#[test]
fn mut_kept_by_python_stops_sharing() {
    let mut x = Tensor::from_vec(vec![1i32, 2, 3], &[3]).unwrap();
    let before = x.data_ptr();
    run_mut("x += 1", &mut x, None, "kept_mut").unwrap();
    assert_ne!(
        x.data_ptr(),
        before,
        "Python kept the array: the tensor moved to a copy"
    );
    assert_eq!(x.to_vec::<i32>().unwrap(), vec![2, 3, 4]);
    python4r::exec("kept_mut[0] = 100").unwrap();
    assert_eq!(x.to_vec::<i32>().unwrap(), vec![2, 3, 4]);
    assert_eq!(
        python4r::eval::<Vec<i32>>("kept_mut.tolist()").unwrap(),
        vec![100, 3, 4]
    );

    // A view kept in Python counts too.
    let mut y = Tensor::from_vec(vec![1.0f32; 4], &[4]).unwrap();
    run_mut(
        "import builtins\nbuiltins._kept_view = x[1:]\nx *= 3",
        &mut y,
        None,
        "",
    )
    .unwrap();
    python4r::exec("import builtins\nbuiltins._kept_view[:] = 0").unwrap();
    assert_eq!(y.to_vec::<f32>().unwrap(), vec![3.0; 4]);
}

#[test]
fn mut_on_shared_tensor_copies_first() {
    let mut x = Tensor::from_vec(vec![1u8, 2], &[2]).unwrap();
    let other = x.clone();
    run_mut("x += 1", &mut x, None, "").unwrap();
    assert_eq!(x.to_vec::<u8>().unwrap(), vec![2, 3]);
    assert_eq!(other.to_vec::<u8>().unwrap(), vec![1, 2]);
    assert!(!x.shares_storage(&other));
}

#[test]
fn bf16_cast_and_write_back() {
    use python4r::half::bf16;
    let mut x = Tensor::from_vec(vec![bf16::from_f32(1.5), bf16::from_f32(-2.0)], &[2]).unwrap();
    let dtype: String = run("out = str(x.dtype)", &[("x", &x)]).unwrap();
    assert_eq!(dtype, "float32");
    let before = x.data_ptr();
    run_mut("assert x.dtype == np.float32\nx *= 2", &mut x, None, "").unwrap();
    assert_eq!(x.dtype(), DType::BFloat16);
    assert_eq!(x.data_ptr(), before);
    assert_eq!(
        x.to_vec::<bf16>().unwrap(),
        vec![bf16::from_f32(3.0), bf16::from_f32(-4.0)]
    );
}

#[test]
fn tensors_inside_containers() {
    use std::collections::HashMap;
    python4r::exec(
        "import numpy as np\nc_list = [np.zeros(2), np.ones(3, dtype=np.int8)]\n\
         c_dict = {'a': np.arange(3)}\nc_none = None\nc_tuple = (np.float64(2.0), np.zeros((2, 2)))",
    )
    .unwrap();
    let l: Vec<Tensor> = python4r::get("c_list").unwrap();
    assert_eq!((l[0].dtype(), l[1].dtype()), (DType::Float64, DType::Int8));
    let d: HashMap<String, Tensor> = python4r::get("c_dict").unwrap();
    assert_eq!(d["a"].to_vec::<i64>().unwrap(), vec![0, 1, 2]);
    let n: Option<Tensor> = python4r::get("c_none").unwrap();
    assert!(n.is_none());
    let (s, m): (Tensor, Tensor) = python4r::get("c_tuple").unwrap();
    assert_eq!((s.ndim(), m.shape()), (0, &[2usize, 2][..]));
    let z: Tensor = python4r::eval("np.zeros(5)").unwrap();
    assert_eq!(
        (z.dtype(), z.to_vec::<f64>().unwrap()),
        (DType::Float64, vec![0.0; 5])
    );
    let ts = vec![Tensor::scalar(1i32), Tensor::scalar(2i32)];
    python4r::set("c_back", &ts).unwrap();
    assert_eq!(
        python4r::eval::<i64>("int(c_back[0] + c_back[1])").unwrap(),
        3
    );
}
