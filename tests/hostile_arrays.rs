//! Hostile arrays from Python: every layout, byte order, alignment, flag, dtype and subclass numpy
//! can produce gives correct values or a clear error, checked against numpy's own values; shapes
//! whose element count overflows are refused by the Rust constructors; and a property test
//! builds random arrays in Python. (Simple layouts are in `numpy_bridge.rs` and
//! `tensor_proptest.rs`.)

use proptest::prelude::*;
use python4r::pyo3::prelude::*;
use python4r::pyo3::types::PyDict;
use python4r::{DType, Error, Tensor, py_exec};

#[py_exec(code = "result = arr * 2.0")]
fn double(arr: &Tensor) -> Tensor;

/// Runs `setup` (which defines `a`) in a fresh namespace and returns the tensor made from `a`,
/// or the conversion error, and numpy's own view of it: shape and values as float64, C order.
fn import(setup: &str) -> (python4r::Result<Tensor>, Vec<usize>, Vec<f64>) {
    python4r::with_gil(|py| {
        let ns = PyDict::new(py);
        let code = format!("import numpy as np\n{setup}");
        py.run(&std::ffi::CString::new(code).unwrap(), Some(&ns), None)?;
        let a = ns.get_item("a")?.expect("the setup defines `a`");
        let shape: Vec<usize> = a.getattr("shape")?.extract()?;
        let values: Vec<f64> = py
            .eval(
                c"np.asarray(a).astype('f8').ravel().tolist() if np.asarray(a).dtype.kind in 'biuf' else []",
                Some(&ns),
                None,
            )?
            .extract()?;
        Ok((Tensor::from_numpy(&a), shape, values))
    })
    .unwrap()
}

/// `t` has numpy's shape and values, survives every read and a round trip back to numpy.
fn check_values(what: &str, t: &Tensor, shape: &[usize], values: &[f64]) {
    assert_eq!(t.shape(), shape, "{what}");
    assert_eq!(t.len(), values.len(), "{what}");
    let ours = t.cast(DType::Float64).to_vec::<f64>().unwrap();
    assert_eq!(ours, values, "{what}");
    assert_eq!(
        t.to_contiguous()
            .cast(DType::Float64)
            .to_vec::<f64>()
            .unwrap(),
        values,
        "{what}"
    );
    match t.dtype() {
        DType::Float64 => {
            assert_eq!(
                t.to_ndarray::<f64>()
                    .unwrap()
                    .iter()
                    .copied()
                    .collect::<Vec<_>>(),
                values
            );
            if let Ok(slice) = t.as_slice::<f64>() {
                assert_eq!(slice, values, "{what}: as_slice");
            }
        }
        DType::Int32 => {
            let want: Vec<i32> = values.iter().map(|&v| v as i32).collect();
            assert_eq!(t.to_vec::<i32>().unwrap(), want);
            if let Ok(slice) = t.as_slice::<i32>() {
                assert_eq!(slice, want, "{what}: as_slice");
            }
        }
        _ => {}
    }
    if let (Some(&first), false) = (values.first(), t.is_empty()) {
        let index = vec![0; t.ndim()];
        assert_eq!(
            t.cast(DType::Float64).get::<f64>(&index).unwrap(),
            first,
            "{what}"
        );
    }
    // Back to numpy (and through a `#[py_exec]` function).
    let back: Vec<f64> = python4r::with_gil(|py| {
        let arr = t.to_numpy(py)?;
        Ok(arr
            .call_method1("astype", ("f8",))?
            .call_method0("ravel")?
            .call_method0("tolist")?
            .extract()?)
    })
    .unwrap();
    assert_eq!(back, values, "{what}: round trip");
    if t.dtype().is_float() {
        let doubled = double(t).cast(DType::Float64).to_vec::<f64>().unwrap();
        let want: Vec<f64> = values.iter().map(|v| v * 2.0).collect();
        assert_eq!(doubled, want, "{what}: doubled in Python");
    }
}

fn assert_imports(setups: &[&str]) {
    for setup in setups {
        let (t, shape, values) = import(setup);
        let t = t.unwrap_or_else(|e| panic!("{setup}: {e}"));
        check_values(setup, &t, &shape, &values);
    }
}

#[test]
fn layouts() {
    assert_imports(&[
        // Fortran order, transposed, both.
        "a = np.asfortranarray(np.arange(24.0).reshape(2, 3, 4))",
        "a = np.arange(24.0).reshape(2, 3, 4).transpose(2, 0, 1)",
        "a = np.asfortranarray(np.arange(12, dtype='i4').reshape(3, 4)).T[::-1]",
        // Negative strides, with steps and offsets.
        "a = np.arange(30.0).reshape(5, 6)[::-2, ::-3]",
        "a = np.arange(30, dtype='i4').reshape(5, 6)[4:0:-1, -1::-2].T",
        "a = np.arange(10.0)[::-1][2:7][::-2]",
        // Stride 0 (broadcast, as_strided) and overlapping windows.
        "a = np.broadcast_to(np.arange(3.0), (4, 3))",
        "a = np.broadcast_to(np.float64(7.5), (2, 3, 2))",
        "a = np.lib.stride_tricks.as_strided(np.arange(4.0), shape=(3, 4), strides=(0, 8))",
        "a = np.lib.stride_tricks.sliding_window_view(np.arange(8.0), 3)",
        // 0-d, in every way numpy makes one.
        "a = np.array(3.25)",
        "a = np.float64(2.5)",
        "a = np.arange(6.0).reshape(2, 3)[1, 2][()]",
        "a = np.arange(6, dtype='i4').reshape(2, 3)[1, ...][2, ...]",
    ]);
}

#[test]
fn empty_in_every_axis() {
    assert_imports(&[
        "a = np.zeros(0)",
        "a = np.zeros((0, 3))",
        "a = np.zeros((3, 0))",
        "a = np.zeros((2, 0, 4), order='F')",
        "a = np.zeros((4, 3))[::-1][5:]",
        "a = np.zeros((4, 3), dtype='i4')[:, 3:].T",
        "a = np.broadcast_to(np.zeros(0), (5, 0))",
        "a = np.zeros((0, 0, 0))[::-1]",
    ]);
}

#[test]
fn unaligned_and_odd_strides() {
    assert_imports(&[
        // At an odd address, writable (bytearray) and not.
        "a = np.frombuffer(bytearray(b'\\0' + np.arange(12.0).tobytes()), dtype='f8', offset=1).reshape(3, 4)",
        "a = np.frombuffer(b'\\0' + np.arange(12, dtype='i4').tobytes(), dtype='i4', offset=1)[::-2]",
        // A field of a packed structured array: stride 9, not a multiple of the item size.
        "s = np.zeros(5, dtype=[('tag', 'u1'), ('x', '<f8')])\ns['x'] = np.arange(5.0) * 1.5\na = s['x']",
        "s = np.zeros((3, 2), dtype=[('tag', 'u1'), ('x', '<i4')])\ns['x'] = np.arange(6).reshape(3, 2)\na = s['x'].T",
    ]);
    let (t, _, _) =
        import("a = np.frombuffer(b'\\0' + np.arange(3.0).tobytes(), dtype='f8', offset=1)");
    assert!(
        matches!(t.unwrap().as_slice::<f64>(), Err(Error::Layout(_))),
        "unaligned: no &[f64]"
    );
}

#[test]
fn big_endian_every_layout() {
    assert_imports(&[
        "a = np.arange(12, dtype='>f8').reshape(3, 4)",
        "a = np.asfortranarray(np.arange(12, dtype='>f8').reshape(3, 4))[::-1, 1:]",
        "a = np.arange(12, dtype='>i4').reshape(3, 4).T[::2]",
        "a = np.arange(6, dtype='>u8')",
        "a = np.arange(6, dtype='>f2')[::-1]",
        "a = np.arange(4, dtype='>i2').reshape(2, 2)",
        "s = np.zeros(4, dtype=[('tag', 'u1'), ('x', '>f8')])\ns['x'] = [1.5, -2, 3, 4e300]\na = s['x']",
        "a = np.array(258, dtype='>i4')",
    ]);
}

#[test]
fn read_only_arrays() {
    assert_imports(&[
        "a = np.arange(6.0)\na.setflags(write=False)",
        "a = np.frombuffer(np.arange(6.0).tobytes(), dtype='f8')",
        "a = np.broadcast_to(np.arange(3.0), (2, 3))",
        "b = np.arange(6.0)\na = b[::2]\na.setflags(write=False)",
    ]);
    // Rust never writes them: a `&mut` use copies first.
    let (t, _, values) = import("a = np.arange(3.0)\na.setflags(write=False)");
    let mut t = t.unwrap();
    t.as_mut_slice::<f64>().unwrap()[0] = 100.0;
    assert_eq!(values, vec![0.0, 1.0, 2.0]);
    // A read-only array over memory Python can still write is not lent as `&[T]`: the slice
    // is a snapshot that Python's later writes do not change.
    python4r::exec("import numpy as np\nro_base = np.zeros(3)\nro_view = ro_base[:]\nro_view.setflags(write=False)\nro_owner = np.zeros(3)\nro_owner.setflags(write=False)").unwrap();
    let view: Tensor = python4r::get("ro_view").unwrap();
    let owner: Tensor = python4r::get("ro_owner").unwrap();
    let (s1, s2) = (
        view.as_slice::<f64>().unwrap(),
        owner.as_slice::<f64>().unwrap(),
    );
    python4r::exec("ro_base[0] = 7.0\nro_owner.setflags(write=True)\nro_owner[1] = 5.0").unwrap();
    assert_eq!(
        (s1, s2),
        (&[0.0; 3][..], &[0.0; 3][..]),
        "borrowed slices never change"
    );
    assert_eq!(
        view.to_vec::<f64>().unwrap(),
        vec![7.0, 0.0, 0.0],
        "to_vec reads the memory now"
    );
    assert_eq!(owner.to_vec::<f64>().unwrap(), vec![0.0, 5.0, 0.0]);
}

#[test]
fn unsupported_dtypes_are_clear_errors() {
    // Each dtype with the hint that fits it: no `.astype(np.float64)` for strings or complex
    // numbers, which would fail or drop the imaginary part.
    let cases = [
        (
            "np.array([1, 'a', None], dtype=object)",
            "object",
            "tolist()",
        ),
        ("np.array(['ab', 'c'])", "<U2", "Vec<String>"),
        ("np.array([b'ab'])", "S2", "Vec<Vec<u8>>"),
        (
            "np.array(['2024-01-01'], dtype='datetime64[15m]')",
            "datetime64[15m]",
            "astype('datetime64[ns]')",
        ),
        (
            "np.array(['NaT'], dtype='datetime64')",
            "datetime64",
            "has no values but NaT",
        ),
        (
            "np.array([1], dtype='timedelta64[ps]')",
            "timedelta64[ps]",
            "astype('timedelta64[ns]')",
        ),
        (
            "np.zeros(2, dtype=[('x', 'f8'), ('y', 'i4')])",
            "('x', '<f8')",
            "a['x']",
        ),
        ("np.zeros(2, dtype='V4')", "V4", "a['x']"),
        (
            "np.zeros(2, dtype=np.clongdouble)",
            "complex256",
            "astype(np.complex128)",
        ),
        (
            "np.zeros(2, dtype=np.longdouble)",
            "float128",
            "astype(np.float64)",
        ),
    ];
    for (expr, dtype, hint) in cases {
        let (t, _, _) = import(&format!("a = {expr}"));
        let err = t.expect_err(expr);
        assert!(
            matches!(&err, Error::UnsupportedDType { dtype: d, .. } if d.contains(dtype)),
            "{expr}: {err:?}"
        );
        let msg = err.to_string();
        assert!(msg.starts_with("unsupported dtype `"), "{expr}: {msg}");
        assert!(msg.contains(dtype), "{expr}: {msg}");
        assert!(msg.contains("float64, float32"), "{expr}: {msg}");
        assert!(msg.contains(hint), "{expr}: {msg}");
        if dtype.starts_with('<') || dtype.starts_with("complex") {
            assert!(!msg.contains("astype(np.float64)"), "{expr}: {msg}");
        }
    }
    // Through the public conversions, naming the variable.
    python4r::exec("import numpy as np\nbad_dates = np.zeros(3, dtype='M8[as]')").unwrap();
    let msg = python4r::get::<Tensor>("bad_dates")
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("`bad_dates`") && msg.contains("datetime64[as]"),
        "{msg}"
    );
}

#[test]
fn ndarray_subclasses() {
    assert_imports(&[
        "a = np.matrix([[1.0, 2.0], [3.0, 4.0]])",
        "a = np.matrix(np.arange(6.0).reshape(2, 3)).T",
        "a = np.ma.array([1.0, 2.0, 3.0])",
        "a = np.ma.array([1.0, 2.0, 3.0], mask=[False, False, False])[::-1]",
        "class Mine(np.ndarray): pass\na = np.arange(4.0).view(Mine)",
        "a = np.rec.fromarrays([np.arange(3.0)], names='x').x",
    ]);
    let (t, _, _) = import("a = np.ma.array([1.0, 2.0, 3.0], mask=[False, True, False])");
    let msg = t.unwrap_err().to_string();
    assert!(
        msg.contains("1 masked element") && msg.contains("filled"),
        "{msg}"
    );
    // `.data` or `.filled()` give values.
    assert_imports(&[
        "m = np.ma.array([1.0, 2.0, 3.0], mask=[False, True, False])\na = m.filled(0.0)",
        "m = np.ma.array([1.0, 2.0, 3.0], mask=[False, True, False])\na = m.data",
    ]);
}

#[test]
fn bool_arrays_with_any_byte() {
    let (t, shape, values) =
        import("a = np.arange(256, dtype=np.uint8).view(np.bool_).reshape(16, 16)");
    let t = t.unwrap();
    check_values("bool bytes 0..=255", &t, &shape, &values);
    let bools = t.to_vec::<bool>().unwrap();
    assert_eq!(bools.iter().filter(|&&b| !b).count(), 1);
    assert_eq!(
        t.cast(DType::UInt8).to_vec::<u8>().unwrap().iter().max(),
        Some(&1)
    );
    assert_eq!(
        t.as_slice::<bool>().unwrap(),
        &bools[..],
        "a normalised private copy"
    );
    assert!(t.view_ndarray::<bool>().is_err());
    assert_eq!(
        t.to_ndarray::<bool>()
            .unwrap()
            .iter()
            .filter(|&&b| b)
            .count(),
        255
    );
    let same = Tensor::from_vec(bools.clone(), &[16, 16]).unwrap();
    assert!(t == same, "compares by value");
}

#[test]
fn overflowing_shapes_from_rust_constructors() {
    let huge: [&[usize]; 4] = [
        &[usize::MAX, 2],
        &[1 << 32, 1 << 32],
        &[isize::MAX as usize / 4 + 1, 1], // fits usize, but not as bytes of f64
        &[2, 3, usize::MAX / 3 + 1],
    ];
    for shape in huge {
        for result in [
            Tensor::zeros(DType::Float64, shape),
            Tensor::ones(DType::Float64, shape),
            Tensor::from_vec(vec![0.0f64; 2], shape),
            Tensor::scalar(1.0f64).broadcast_to(shape),
            Tensor::from_vec(vec![0.0f64; 6], &[6])
                .unwrap()
                .reshape(shape),
        ] {
            let err = result.expect_err("an overflowing shape");
            assert!(
                matches!(err, Error::ShapeOverflow { .. } | Error::ShapeMismatch(_)),
                "{shape:?}: {err:?}"
            );
        }
        let err = Tensor::zeros(DType::UInt8, shape).unwrap_err();
        if shape
            .iter()
            .try_fold(1usize, |a, &d| a.checked_mul(d))
            .is_none()
        {
            assert!(matches!(err, Error::ShapeOverflow { .. }), "{shape:?}");
            assert!(err.to_string().contains("too large"), "{err}");
        } else {
            // A valid shape too big for memory: an error, not an abort.
            assert!(
                matches!(err, Error::AllocationFailed { .. }),
                "{shape:?}: {err:?}"
            );
        }
    }
    let err = Tensor::ones(DType::Int8, &[1 << 61]).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "cannot allocate {} bytes for a tensor of shape [{}]: not enough memory; use a smaller \
             shape, or process it in pieces",
            1usize << 61,
            1usize << 61
        )
    );
    // A broadcast view may describe far more elements than memory holds: views work, copies
    // fail cleanly.
    let wide = Tensor::scalar(1.5f64)
        .broadcast_to(&[1 << 40, 1 << 18])
        .unwrap();
    assert_eq!(wide.get::<f64>(&[(1 << 40) - 1, 5]).unwrap(), 1.5);
    assert!(matches!(
        wide.to_vec::<f64>(),
        Err(Error::AllocationFailed { .. })
    ));
    let t = python4r::with_gil(|py| {
        let code = c"__import__('numpy').broadcast_to(2.0, (1 << 40, 1 << 18))";
        Tensor::from_numpy(&py.eval(code, None, None)?)
    })
    .unwrap();
    assert_eq!(t.len(), 1 << 58);
    assert!(matches!(
        t.to_vec::<f64>(),
        Err(Error::AllocationFailed { .. })
    ));
    // An empty shape with a huge axis is fine (no elements) and crosses to numpy as it can.
    let t = Tensor::zeros(DType::Float64, &[usize::MAX, 0]).unwrap();
    assert_eq!(t.len(), 0);
    let crossed = python4r::with_gil(|py| Ok(t.to_numpy(py).map(|a| a.to_string())));
    match crossed.unwrap() {
        Ok(text) => assert!(text.contains("[]"), "{text}"),
        Err(e) => assert!(!e.to_string().is_empty()),
    }
}

// ---- Property test: random arrays built in Python ----

#[derive(Clone, Debug)]
struct Recipe {
    dtype: &'static str,
    shape: Vec<usize>,
    fortran: bool,
    unaligned: bool,
    steps: Vec<isize>,
    transpose: bool,
    broadcast: Option<usize>,
    read_only: bool,
}

const DTYPES: [&str; 16] = [
    "<f8", ">f8", "<f4", ">f4", "<f2", ">f2", "<i8", ">i8", "<i4", ">i4", "i2", "i1", "<u8", ">u2",
    "u1", "?",
];

fn recipe() -> impl Strategy<Value = Recipe> {
    (
        prop::sample::select(DTYPES.to_vec()),
        prop::collection::vec(0..4usize, 0..4),
        any::<bool>(),
        any::<bool>(),
        prop::collection::vec(prop::sample::select(vec![1isize, 2, 3, -1, -2]), 4),
        any::<bool>(),
        prop::option::of(1..3usize),
        any::<bool>(),
    )
        .prop_map(
            |(dtype, shape, fortran, unaligned, steps, transpose, broadcast, read_only)| Recipe {
                dtype,
                shape,
                fortran,
                unaligned,
                steps,
                transpose,
                broadcast,
                read_only,
            },
        )
}

fn numpy_code(r: &Recipe) -> String {
    let n: usize = r.shape.iter().product();
    let mut code = format!(
        "base = ((np.arange({n}) * 7 + 3) % 50).astype('{}').reshape({:?})\n",
        r.dtype, r.shape
    );
    if r.dtype == "?" {
        // Bool bytes other than 0 and 1.
        code = format!(
            "base = ((np.arange({n}) * 7 + 3) % 5).astype('u1').view('?').reshape({:?})\n",
            r.shape
        );
    }
    if r.unaligned {
        code.push_str(
            "raw = bytearray(base.nbytes + 1)\nu = np.frombuffer(raw, dtype=base.dtype, offset=1, count=base.size).reshape(base.shape)\nu[...] = base\nbase = u\n",
        );
    }
    if r.fortran {
        code.push_str("base = np.asfortranarray(base)\n");
    }
    let index: Vec<String> = (0..r.shape.len())
        .map(|axis| format!("::{}", r.steps[axis]))
        .collect();
    if index.is_empty() {
        code.push_str("a = base[()]\n");
    } else {
        code.push_str(&format!("a = base[{}]\n", index.join(", ")));
    }
    if r.transpose {
        code.push_str("a = a.T\n");
    }
    if let Some(k) = r.broadcast {
        code.push_str(&format!("a = np.broadcast_to(a, ({k},) + a.shape)\n"));
    }
    if r.read_only && r.broadcast.is_none() {
        code.push_str("a.setflags(write=False)\n");
    }
    code
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_python_arrays_read_like_numpy(r in recipe()) {
        let code = numpy_code(&r);
        let (t, shape, values) = import(&code);
        let t = t.map_err(|e| TestCaseError::fail(format!("{code}: {e}")))?;
        prop_assert_eq!(t.shape(), &shape[..], "{}", code);
        let ours = t.cast(DType::Float64).to_vec::<f64>().unwrap();
        prop_assert_eq!(&ours, &values, "{}", code);
        let back: Vec<f64> = python4r::with_gil(|py| {
            let arr = t.to_numpy(py)?;
            Ok(arr.call_method1("astype", ("f8",))?.call_method0("ravel")?.call_method0("tolist")?.extract()?)
        }).unwrap();
        prop_assert_eq!(&back, &values, "round trip: {}", code);
        if !t.is_empty() {
            let last: Vec<usize> = t.shape().iter().map(|d| d - 1).collect();
            prop_assert_eq!(t.cast(DType::Float64).get::<f64>(&last).unwrap(), *values.last().unwrap());
        }
    }
}
