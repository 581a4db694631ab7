//! Hostile Python code: every kind of exception becomes an error (none aborts or exits the
//! process), broken exception objects still give a readable error, and Rust panics inside
//! conversions or callbacks leave python4r usable.

use std::panic::{AssertUnwindSafe, catch_unwind};

use python4r::pyo3::prelude::*;
use python4r::pyo3::types::{PyCFunction, PyDict, PyTuple};
use python4r::pyo3::{Borrowed, IntoPyObject};
use python4r::{Context, Error, py_exec};

/// python4r still works, from this thread and from a new one (the GIL is free).
fn assert_usable() {
    assert_eq!(python4r::eval::<i64>("40 + 2").unwrap(), 42);
    let other = std::thread::spawn(|| python4r::eval::<i64>("6 * 7").unwrap());
    assert_eq!(other.join().unwrap(), 42);
    // SAFETY: Python is initialised; PyGILState_Check only reads this thread's state.
    let held = unsafe { python4r::pyo3::ffi::PyGILState_Check() };
    assert_eq!(held, 0, "no GIL left held by this thread");
}

fn exception(code: &str) -> python4r::PyException {
    match Context::new().exec(code) {
        Err(Error::Python(exc)) => *exc,
        other => panic!("expected a Python exception from {code:?}, got {other:?}"),
    }
}

#[test]
fn every_base_exception_is_an_error() {
    let cases = [
        ("import sys\nsys.exit(3)", "SystemExit", "3"),
        ("raise SystemExit('bye')", "SystemExit", "bye"),
        ("exit()", "SystemExit", "None"),
        ("raise KeyboardInterrupt", "KeyboardInterrupt", ""),
        ("raise GeneratorExit", "GeneratorExit", ""),
        ("raise MemoryError('fake')", "MemoryError", "fake"),
        ("bytearray(1 << 60)", "MemoryError", ""),
        (
            "class Fatal(BaseException): pass\nraise Fatal('custom')",
            "Fatal",
            "custom",
        ),
        ("import _thread\n_thread.exit()", "SystemExit", ""),
    ];
    for (code, type_name, message) in cases {
        let exc = exception(code);
        assert_eq!(exc.type_name(), type_name, "{code}");
        assert_eq!(exc.message(), message, "{code}");
    }
    assert_usable();
}

#[test]
fn system_exit_in_every_entry_point() {
    #[py_exec(code = "raise SystemExit(2)")]
    fn exits() -> python4r::Result<()>;
    let err = exits().unwrap_err();
    assert_eq!(err.python_exception().unwrap().type_name(), "SystemExit");
    let err = python4r::eval::<i64>("exit(5)").unwrap_err();
    assert_eq!(err.python_exception().unwrap().message(), "5");
    let err = python4r::exec_io("import sys\nsys.exit()", &[], &["x"]).unwrap_err();
    assert_eq!(err.python_exception().unwrap().type_name(), "SystemExit");
    // Raised while converting a value.
    python4r::exec("class Exiting:\n    def __index__(self):\n        raise SystemExit(9)\nexiting = Exiting()").unwrap();
    let err = python4r::get::<i64>("exiting").unwrap_err();
    assert!(
        err.to_string().contains("SystemExit") || err.to_string().contains('9'),
        "{err}"
    );
    assert_usable();
}

#[test]
fn recursion_error_and_recovery() {
    let exc = exception("def f(n):\n    return f(n + 1)\nf(0)");
    assert_eq!(exc.type_name(), "RecursionError");
    assert!(exc.message().contains("recursion"), "{}", exc.message());
    // The traceback is long but bounded and readable.
    assert!(exc.traceback().contains("in f"));
    // A recursive __repr__ in an exception message.
    let exc = exception(
        "class R:\n    def __repr__(self):\n        return repr(self)\nraise ValueError(R())",
    );
    assert_eq!(exc.type_name(), "ValueError");
    assert!(!exc.message().is_empty());
    // Deep but legal recursion still works afterwards.
    let depth: i64 =
        python4r::eval("(lambda f: f(f, 200))(lambda f, n: 0 if n == 0 else 1 + f(f, n - 1))")
            .unwrap();
    assert_eq!(depth, 200);
    assert_usable();
}

#[test]
fn broken_exception_objects_still_give_an_error() {
    // __str__ raises, __str__ returns a non-string, __str__ raises a BaseException.
    for body in [
        "raise RuntimeError('no')",
        "return 42",
        "raise SystemExit(1)",
        "raise KeyboardInterrupt",
        "return self.__str__()",
    ] {
        let code = format!(
            "class Bad(Exception):\n    def __str__(self):\n        {body}\nraise Bad('payload')"
        );
        let exc = exception(&code);
        assert_eq!(exc.type_name(), "Bad", "{body}");
        assert!(
            exc.message().contains("str() failed"),
            "{body}: {}",
            exc.message()
        );
        assert!(!exc.traceback().is_empty());
    }
    // A metaclass whose __qualname__ and __module__ are not strings.
    let exc = exception(
        "class Meta(type):\n    @property\n    def __module__(cls):\n        raise RuntimeError('no module')\nclass Odd(Exception, metaclass=Meta): pass\nraise Odd('x')",
    );
    assert!(exc.type_name().contains("Odd"), "{}", exc.type_name());
    assert_usable();
}

#[test]
fn lone_surrogates_everywhere() {
    let exc = exception("raise ValueError('bad \\udcff byte')");
    // Written as the Python escape, so the message says which code point it was.
    assert_eq!(exc.message(), "bad \\udcff byte");
    // Only a surrogate, in a user exception's message and in its traceback's last line.
    let exc = exception("class Odd(Exception): pass\nraise Odd('\\udfff')");
    assert_eq!(exc.message(), "\\udfff");
    assert!(
        exc.traceback().ends_with("Odd: \\udfff"),
        "{}",
        exc.traceback()
    );
    // As a value converted to a Rust String.
    let err = python4r::eval::<String>("'a\\udcffb'").unwrap_err();
    assert!(matches!(err, Error::Conversion { .. }), "{err:?}");
    assert!(err.to_string().contains("surrogate"), "{err}");
    // Raised by a `#[py_exec]` function without Result: a panic message, not an abort.
    #[py_exec(code = "raise ValueError('\\udcff')")]
    fn raises_surrogate();
    let panic = catch_unwind(raises_surrogate).unwrap_err();
    let msg = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(msg.contains("ValueError"), "{msg}");
    assert_usable();
}

#[test]
fn sabotaged_traceback_module_still_gives_errors() {
    // Formatting the traceback uses Python's `traceback` module; code that breaks it must not
    // break error reporting.
    python4r::exec(
        "import sys, traceback\n_saved_tb = sys.modules['traceback']\nsys.modules['traceback'] = None",
    )
    .unwrap();
    let err = python4r::exec("raise KeyError('still reported')");
    python4r::exec("import sys\nsys.modules['traceback'] = _saved_tb").unwrap();
    let exc = match err {
        Err(Error::Python(exc)) => exc,
        other => panic!("{other:?}"),
    };
    assert_eq!(exc.type_name(), "KeyError");
    assert_eq!(exc.traceback(), "KeyError: 'still reported'");
    assert_usable();
}

#[test]
fn huge_messages_and_tracebacks() {
    let exc = exception("raise ValueError('x' * 10_000_000)");
    assert_eq!(exc.message().len(), 10_000_000);
    assert_usable();
}

// ---- Rust panics ----

/// A type whose conversion to Python panics.
struct PanicsToPython;

impl<'py> IntoPyObject<'py> for &PanicsToPython {
    type Target = PyAny;
    type Output = Bound<'py, PyAny>;
    type Error = PyErr;
    fn into_pyobject(self, _py: Python<'py>) -> Result<Self::Output, Self::Error> {
        panic!("IntoPyObject panicked on purpose")
    }
}

/// A type whose conversion from Python panics.
#[derive(Debug)]
struct PanicsFromPython;

impl<'a, 'py> FromPyObject<'a, 'py> for PanicsFromPython {
    type Error = PyErr;
    fn extract(_obj: Borrowed<'a, 'py, PyAny>) -> Result<Self, Self::Error> {
        panic!("FromPyObject panicked on purpose")
    }
}

fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_default()
}

#[py_exec(code = "result = 1")]
fn takes_panicky(value: &PanicsToPython) -> i64;

#[py_exec(code = "result = 1")]
fn returns_panicky() -> PanicsFromPython;

#[py_exec(code = "result = x + 1")]
fn plain(x: i64) -> i64;

#[test]
fn panicking_conversions_leave_python4r_usable() {
    for round in 0..3 {
        let p = catch_unwind(|| python4r::set("p", &PanicsToPython)).unwrap_err();
        assert!(panic_message(p).contains("IntoPyObject panicked"));
        let p = catch_unwind(|| python4r::get::<PanicsFromPython>("__name__")).unwrap_err();
        assert!(panic_message(p).contains("FromPyObject panicked"));
        let p = catch_unwind(|| takes_panicky(&PanicsToPython)).unwrap_err();
        assert!(panic_message(p).contains("IntoPyObject panicked"));
        let p = catch_unwind(returns_panicky).unwrap_err();
        assert!(panic_message(p).contains("FromPyObject panicked"));
        // The same `#[py_exec]` functions and others still work.
        assert_eq!(plain(round), round + 1);
        let p = catch_unwind(returns_panicky).unwrap_err();
        assert!(panic_message(p).contains("FromPyObject panicked"));
        assert_usable();
    }
}

#[test]
fn panics_inside_with_gil_and_gil_guards_release_the_lock() {
    let p = catch_unwind(|| {
        python4r::with_gil(|_py| -> python4r::Result<()> { panic!("inside with_gil") })
    })
    .unwrap_err();
    assert_eq!(panic_message(p), "inside with_gil");
    assert_usable();
    let p = catch_unwind(|| {
        let outer = python4r::Gil::acquire().unwrap();
        let _inner = python4r::Gil::acquire().unwrap();
        let _ = outer.python();
        panic!("holding two guards")
    })
    .unwrap_err();
    assert_eq!(panic_message(p), "holding two guards");
    assert_usable();
}

fn panicking_callback() -> Py<PyAny> {
    python4r::with_gil(|py| {
        let f = PyCFunction::new_closure(
            py,
            Some(c"rust_panics"),
            None,
            |_a: &Bound<'_, PyTuple>, _k: Option<&Bound<'_, PyDict>>| -> PyResult<i64> {
                panic!("callback panicked on purpose")
            },
        )?;
        Ok(f.into_any().unbind())
    })
    .unwrap()
}

#[test]
fn a_panic_in_rust_code_that_python_called_never_crosses_ffi() {
    // pyo3 catches the panic at the FFI boundary and raises `PanicException` in Python; when
    // it reaches python4r, pyo3 resumes the panic on the Rust side, so the caller sees an
    // ordinary Rust panic.
    let ctx = Context::new();
    ctx.set("rust_panics", &panicking_callback()).unwrap();
    for _ in 0..3 {
        let p = catch_unwind(AssertUnwindSafe(|| ctx.exec("rust_panics()"))).unwrap_err();
        assert!(panic_message(p).contains("callback panicked on purpose"));
        assert_usable();
    }
    // Python code that catches it (it is a BaseException) goes on; the panic stays in Python.
    ctx.exec("try:\n    rust_panics()\nexcept BaseException as e:\n    caught = type(e).__name__")
        .unwrap();
    assert_eq!(ctx.get::<String>("caught").unwrap(), "PanicException");
    assert_usable();
}

#[py_exec(code = "result = callback(n + 1) + 1")]
fn recurse_via_rust(callback: &Py<PyAny>, n: i64) -> python4r::Result<i64>;

#[test]
fn unbounded_recursion_through_rust_is_a_recursion_error_not_a_stack_overflow() {
    // Python → Rust → Python → …: Python's recursion limit does not see the Rust frames in
    // between, so python4r checks the stack itself. Run on a thread with a small stack to make
    // it quick; the main thread's 8 MiB behaves the same, later.
    let run = || {
        let ctx = Context::new();
        let inner = ctx.clone();
        let f = python4r::with_gil(move |py| {
            let f = PyCFunction::new_closure(
                py,
                Some(c"again"),
                None,
                move |a: &Bound<'_, PyTuple>, _k: Option<&Bound<'_, PyDict>>| -> PyResult<i64> {
                    let n: i64 = a.get_item(0)?.extract()?;
                    Ok(inner.eval::<i64>(&format!("again({}) + 1", n + 1))?)
                },
            )?;
            Ok(f.into_any().unbind())
        })
        .unwrap();
        ctx.set("again", &f).unwrap();
        let exc = match ctx.eval::<i64>("again(0)") {
            Err(Error::Python(exc)) => exc,
            other => panic!("expected a RecursionError, got {other:?}"),
        };
        assert_eq!(exc.type_name(), "RecursionError");
        assert!(
            exc.message().contains("maximum recursion depth"),
            "{}",
            exc.message()
        );
        // The same through a `#[py_exec]` function.
        let err = recurse_via_rust(&f, 0).unwrap_err();
        assert_eq!(
            err.python_exception().unwrap().type_name(),
            "RecursionError"
        );
        // Legal depth still works.
        assert_eq!(ctx.eval::<i64>("(lambda: 5)()").unwrap(), 5);
    };
    on_a_small_stack(run);
    run();
    assert_usable();
}

/// Runs `run` on a thread with a 1 MiB stack (quick to exhaust) and waits for it.
fn on_a_small_stack(run: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new()
        .stack_size(1 << 20)
        .spawn(run)
        .unwrap()
        .join()
        .unwrap();
}

#[py_exec(code = "result = callback(callback, n + 1) + 1")]
fn recurse_with_token(py: Python<'_>, callback: &Py<PyAny>, n: i64) -> python4r::Result<i64>;

#[test]
fn unbounded_recursion_through_a_function_given_the_token_is_a_recursion_error() {
    // A `#[py_exec]` function that takes the `Python<'_>` token skips `with_gil`, not the stack
    // check: Python → Rust (with its token) → Python → … fails the same way, on a small stack.
    let run = || {
        let err = python4r::with_gil(|py| {
            let again = PyCFunction::new_closure(
                py,
                Some(c"again"),
                None,
                |a: &Bound<'_, PyTuple>, _k: Option<&Bound<'_, PyDict>>| -> PyResult<i64> {
                    let me = a.get_item(0)?.unbind();
                    let n: i64 = a.get_item(1)?.extract()?;
                    Ok(recurse_with_token(a.py(), &me, n)?)
                },
            )
            .map_err(|e| Error::from_pyerr(py, e))?;
            Ok(recurse_with_token(py, &again.into_any().unbind(), 0))
        })
        .unwrap()
        .unwrap_err();
        assert_eq!(
            err.python_exception().map(|e| e.type_name().to_owned()),
            Some("RecursionError".to_owned()),
            "{err}"
        );
        // Legal depth still works.
        assert_eq!(python4r::eval::<i64>("(lambda: 5)()").unwrap(), 5);
    };
    on_a_small_stack(run);
    assert_usable();
}
