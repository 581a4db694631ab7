//! Errors as values: matching Python exceptions by type (subclasses included, built-in and
//! Python-defined), walking `__cause__` / `__context__`, and every `python4r::Error` variant
//! reached with its message checked. Start-up errors run in child processes (this test binary
//! re-run on one ignored `child_*` test), because the interpreter starts once per process.

mod common;

use python4r::pyo3::exceptions::{
    PyArithmeticError, PyBaseException, PyException, PyFileNotFoundError, PyKeyError,
    PyLookupError, PyOSError, PySystemExit, PyValueError, PyZeroDivisionError,
};
use python4r::pyo3::prelude::*;
use python4r::pyo3::types::PyDictMethods;
use python4r::{Context, DType, Error, Tensor};

fn python_error(ctx: &Context, code: &str) -> python4r::PyException {
    match ctx.exec(code) {
        Err(Error::Python(exc)) => *exc,
        other => panic!("expected a Python exception from {code:?}, got {other:?}"),
    }
}

#[test]
fn built_in_exceptions_match_their_type_and_every_base() {
    let ctx = Context::new();
    python4r::with_gil(|py| {
        let exc = python_error(&ctx, "open('/nonexistent/python4r/file')");
        assert_eq!(exc.type_name(), "FileNotFoundError");
        assert!(exc.is_instance_of::<PyFileNotFoundError>(py));
        assert!(exc.is_instance_of::<PyOSError>(py));
        assert!(exc.is_instance_of::<PyException>(py));
        assert!(exc.is_instance_of::<PyBaseException>(py));
        assert!(!exc.is_instance_of::<PyValueError>(py));

        let exc = python_error(&ctx, "1 // 0");
        assert!(exc.is_instance_of::<PyZeroDivisionError>(py));
        assert!(exc.is_instance_of::<PyArithmeticError>(py));
        assert!(!exc.is_instance_of::<PyLookupError>(py));

        let exc = python_error(&ctx, "raise SystemExit(4)");
        assert!(exc.is_instance_of::<PySystemExit>(py));
        assert!(
            !exc.is_instance_of::<PyException>(py),
            "SystemExit is no Exception"
        );
        assert_eq!(exc.message(), "4");
        Ok(())
    })
    .unwrap();
}

#[test]
fn python_defined_exceptions_match_by_class() {
    let ctx = Context::new();
    ctx.exec(
        "class AppError(Exception): pass\nclass NotFound(AppError, KeyError): pass\nclass Other(Exception): pass",
    )
    .unwrap();
    let exc = python_error(&ctx, "raise NotFound('user 7')");
    assert_eq!(exc.type_name(), "NotFound");
    python4r::with_gil(|py| {
        let globals = ctx.globals(py);
        let class = |name: &str| globals.get_item(name).unwrap().unwrap();
        assert!(exc.is_instance(py, &class("NotFound"))?);
        assert!(exc.is_instance(py, &class("AppError"))?);
        assert!(!exc.is_instance(py, &class("Other"))?);
        // Multiple inheritance: also a built-in KeyError.
        assert!(exc.is_instance_of::<PyKeyError>(py));
        // A tuple of classes, as `except (A, B)`.
        let tuple = py.eval(c"(Other, AppError)", Some(&globals), None)?;
        assert!(exc.is_instance(py, &tuple)?);
        // Not a class: a TypeError, not a panic or a wrong answer.
        let five = py.eval(c"5", None, None)?;
        let err = exc.is_instance(py, &five).unwrap_err();
        assert_eq!(err.python_exception().unwrap().type_name(), "TypeError");
        Ok(())
    })
    .unwrap();
    // Classes from a module are qualified by it.
    let exc = python_error(&ctx, "import json\njson.loads('{')");
    assert_eq!(exc.type_name(), "json.decoder.JSONDecodeError");
    python4r::with_gil(|py| {
        assert!(exc.is_instance_of::<PyValueError>(py));
        Ok(())
    })
    .unwrap();
}

#[test]
fn explicit_cause_implicit_context_and_suppression() {
    let ctx = Context::new();
    ctx.exec("class Low(Exception): pass\nclass Mid(Exception): pass")
        .unwrap();
    python4r::with_gil(|py| {
        // raise ... from: cause and context are the same exception.
        let exc = python_error(
            &ctx,
            "try:\n    raise Low('disk')\nexcept Low as e:\n    raise RuntimeError('save failed') from e",
        );
        let cause = exc.cause(py).expect("a cause");
        assert_eq!((cause.type_name(), cause.message()), ("Low", "disk"));
        assert_eq!(exc.context(py).unwrap().message(), "disk");
        assert!(exc.traceback().contains("direct cause"), "{}", exc.traceback());

        // Raised while handling: a context, no cause.
        let exc = python_error(&ctx, "try:\n    {}['k']\nexcept KeyError:\n    1 / 0");
        assert!(exc.cause(py).is_none());
        let context = exc.context(py).expect("a context");
        assert!(context.is_instance_of::<PyKeyError>(py));
        assert!(
            exc.traceback().contains("During handling"),
            "{}",
            exc.traceback()
        );

        // raise ... from None: no cause, the context is kept but the chain hides it.
        let exc = python_error(&ctx, "try:\n    {}['k']\nexcept KeyError:\n    raise ValueError('clean') from None");
        assert!(exc.cause(py).is_none());
        assert_eq!(exc.context(py).unwrap().type_name(), "KeyError");
        assert!(exc.chain(py).is_empty());

        // No chain at all.
        let exc = python_error(&ctx, "raise ValueError('alone')");
        assert!(exc.cause(py).is_none() && exc.context(py).is_none() && exc.chain(py).is_empty());
        Ok(())
    })
    .unwrap();
}

#[test]
fn long_chains_are_walked_in_order() {
    let ctx = Context::new();
    ctx.exec("class Low(Exception): pass\nclass Mid(Exception): pass")
        .unwrap();
    let code = "\
try:
    try:
        try:
            raise Low('l')
        except Low as e:
            raise Mid('m') from e
    except Mid:
        raise KeyError('k')
except KeyError as e:
    raise RuntimeError('top') from e";
    let exc = python_error(&ctx, code);
    python4r::with_gil(|py| {
        let chain = exc.chain(py);
        let names: Vec<_> = chain.iter().map(|e| e.type_name().to_owned()).collect();
        assert_eq!(names, ["KeyError", "Mid", "Low"]);
        // The same walk by hand: cause, then context, then cause.
        let key = exc.cause(py).unwrap();
        let mid = key.context(py).unwrap();
        let low = mid.cause(py).unwrap();
        assert_eq!(low.message(), "l");
        assert!(low.cause(py).is_none() && low.context(py).is_none());
        Ok(())
    })
    .unwrap();
}

#[test]
fn a_cyclic_chain_ends() {
    let code = "\
a = ValueError('a')
b = KeyError('b')
a.__context__ = b
b.__context__ = a
raise a";
    let exc = python_error(&Context::new(), code);
    python4r::with_gil(|py| {
        let names: Vec<_> = exc
            .chain(py)
            .iter()
            .map(|e| e.type_name().to_owned())
            .collect();
        assert_eq!(names, ["KeyError"]);
        Ok(())
    })
    .unwrap();
}

#[test]
fn exceptions_go_back_to_python_unchanged() {
    // Rust code that Python calls can hand python4r errors back with `?` (From<Error> for PyErr).
    let exc = python_error(&Context::new(), "raise KeyError('again')");
    let back: PyErr = Error::Python(Box::new(exc)).into();
    python4r::with_gil(|py| {
        assert!(back.is_instance_of::<PyKeyError>(py));
        assert_eq!(back.value(py).to_string(), "'again'");
        let conversion: PyErr = python4r::eval::<i64>("'x'").unwrap_err().into();
        assert!(conversion.is_instance_of::<python4r::pyo3::exceptions::PyTypeError>(py));
        let other: PyErr = Tensor::from_vec(vec![1u8], &[2]).unwrap_err().into();
        assert!(other.is_instance_of::<python4r::pyo3::exceptions::PyRuntimeError>(py));
        assert!(other.value(py).to_string().contains("shape mismatch"));
        Ok(())
    })
    .unwrap();
}

// ---- Every `Error` variant, with its message ----

#[test]
fn variant_python() {
    let err = Context::new()
        .exec("raise ValueError('bad value 7')")
        .unwrap_err();
    assert!(matches!(err, Error::Python(_)));
    assert_eq!(err.to_string(), "ValueError: bad value 7");
}

#[test]
fn variant_conversion() {
    let ctx = Context::new();
    ctx.exec("s = 'seven'").unwrap();
    let err = ctx.get::<i64>("s").unwrap_err();
    assert!(matches!(err, Error::Conversion { .. }));
    let msg = err.to_string();
    assert!(
        msg.starts_with("cannot convert Python variable `s` of type `str` to Rust `i64`"),
        "{msg}"
    );
    let err = ctx.eval::<Vec<u8>>("3.5").unwrap_err().to_string();
    assert!(
        err.starts_with("cannot convert a Python value of type `float`"),
        "{err}"
    );
}

#[test]
fn variant_undefined_variable() {
    let err = Context::new().get::<i64>("nowhere").unwrap_err();
    assert!(matches!(err, Error::UndefinedVariable { ref name } if name == "nowhere"));
    assert!(
        err.to_string()
            .starts_with("Python variable `nowhere` is not defined after running the code"),
        "{err}"
    );
}

#[test]
fn variant_already_initialized() {
    python4r::initialize().unwrap();
    let err = python4r::config::Config::default().apply().unwrap_err();
    assert!(matches!(err, Error::AlreadyInitialized));
    assert!(
        err.to_string()
            .starts_with("python4r is already initialised: apply the configuration before"),
        "{err}"
    );
}

#[test]
fn variant_context() {
    let err = python4r::context::delete("main").unwrap_err();
    assert!(matches!(err, Error::Context(_)));
    assert!(err.to_string().contains("main"), "{err}");
}

#[test]
fn variant_process() {
    let err =
        python4r::process::run_python(["-c", "import sys; sys.stderr.write('boom'); sys.exit(3)"])
            .unwrap_err();
    assert!(matches!(err, Error::Process { .. }));
    let msg = err.to_string();
    assert!(
        msg.contains("failed") && msg.contains('3') && msg.ends_with("boom"),
        "{msg}"
    );
}

#[test]
fn variant_io() {
    let err =
        python4r::process::pip_install_requirements("/nonexistent/python4r/req.txt").unwrap_err();
    assert!(matches!(err, Error::Io { .. }));
    assert_eq!(
        err.to_string(),
        "reading requirements file /nonexistent/python4r/req.txt: no such file"
    );
}

#[test]
fn variant_tensor_errors() {
    let err = Tensor::from_vec(vec![1.0f64, 2.0, 3.0], &[2, 2]).unwrap_err();
    assert!(matches!(err, Error::ShapeMismatch(_)));
    assert!(err.to_string().starts_with("shape mismatch: "), "{err}");
    assert!(err.to_string().contains('3'), "{err}");

    let err = Tensor::zeros(DType::Float64, &[usize::MAX, 2]).unwrap_err();
    assert!(matches!(err, Error::ShapeOverflow { .. }));
    assert_eq!(
        err.to_string(),
        format!(
            "shape [{}, 2] is too large: its element count or size in bytes overflows isize",
            usize::MAX
        )
    );

    let t = Tensor::from_vec(vec![1.0f64, 2.0], &[2]).unwrap();
    let err = t.to_vec::<f32>().unwrap_err();
    assert!(matches!(err, Error::DTypeMismatch { .. }));
    assert!(
        err.to_string()
            .starts_with("the tensor's dtype is float64, not float32"),
        "{err}"
    );

    let t = Tensor::from_vec((0..6i32).collect(), &[2, 3])
        .unwrap()
        .transpose();
    let err = t.as_slice::<i32>().unwrap_err();
    assert!(matches!(err, Error::Layout(_)));
    assert!(err.to_string().contains("contiguous"), "{err}");

    // numpy's dtypes that a tensor does not hold are an error naming the dtype (see
    // hostile_arrays).
    let err = python4r::with_gil(|py| {
        let arr = py.eval(
            c"__import__('numpy').zeros(2, dtype='clongdouble')",
            None,
            None,
        )?;
        Tensor::from_numpy(&arr)
    })
    .unwrap_err();
    assert!(matches!(err, Error::UnsupportedDType { .. }), "{err:?}");
    assert!(err.to_string().starts_with("unsupported dtype `"), "{err}");
}

#[test]
fn variant_interrupted() {
    let err = python4r::interrupt::with_timeout(std::time::Duration::from_millis(10), || {
        python4r::exec("while True: pass")
    })
    .unwrap_err();
    assert!(matches!(err, Error::Interrupted { .. }));
    assert!(
        err.to_string()
            .starts_with("the Python call was interrupted: timed out after 10ms"),
        "{err}"
    );
}

// ---- Start-up errors, in child processes ----

#[test]
fn variants_init_and_config() {
    let out = common::run_child("child_bad_config", &[("PYTHON4R_PATH_APPEND", "sideways")]);
    assert!(out.contains("child checked"), "{out}");
}

#[test]
#[ignore = "run by `variants_init_and_config` in a child process"]
fn child_bad_config() {
    let err = python4r::config::Config::from_env().unwrap_err();
    assert!(matches!(err, Error::Config(_)));
    assert_eq!(
        err.to_string(),
        "invalid configuration: PYTHON4R_PATH_APPEND is `sideways`; use `before`, `after` or `none`"
    );
    let err = python4r::initialize().unwrap_err();
    assert!(matches!(err, Error::Init(_)));
    assert_eq!(
        err.to_string(),
        "cannot start the embedded Python interpreter: invalid configuration: \
         PYTHON4R_PATH_APPEND is `sideways`; use `before`, `after` or `none`"
    );
    // Every later call reports the same, without panicking.
    assert!(matches!(python4r::exec("x = 1"), Err(Error::Init(_))));
    println!("child checked");
}

#[test]
fn variant_numpy_unavailable() {
    // A `numpy` package that fails to import, first on sys.path.
    let dir = std::env::temp_dir().join(format!("python4r-broken-numpy-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("numpy")).unwrap();
    std::fs::write(
        dir.join("numpy/__init__.py"),
        "raise ImportError('this numpy is broken on purpose')\n",
    )
    .unwrap();
    let out = common::run_child(
        "child_numpy_unavailable",
        &[("PYTHON4R_PATH", dir.to_str().unwrap())],
    );
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(out.contains("child checked"), "{out}");
}

#[test]
#[ignore = "run by `variant_numpy_unavailable` in a child process"]
fn child_numpy_unavailable() {
    // Python itself works.
    assert_eq!(python4r::eval::<i64>("1 + 1").unwrap(), 2);
    let t = Tensor::from_vec(vec![1.0f64], &[1]).unwrap();
    let err = python4r::with_gil(|py| t.to_numpy(py).map(drop)).unwrap_err();
    assert!(matches!(err, Error::NumpyUnavailable { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.starts_with("numpy is not importable by the embedded Python ("),
        "{msg}"
    );
    assert!(msg.contains("this numpy is broken on purpose"), "{msg}");
    assert!(msg.contains("-m pip install numpy"), "{msg}");
    // Through pyo3's conversion traits (`set`, `#[py_exec]` arguments) the error crosses
    // Python as an ImportError and comes back as the same variant.
    let err = python4r::set("t", &t).unwrap_err();
    assert!(matches!(err, Error::NumpyUnavailable { .. }), "{err:?}");
    assert_eq!(err.to_string(), msg);
    println!("child checked");
}
