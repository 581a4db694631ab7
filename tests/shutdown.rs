//! `python4r::shutdown()` and the exit hook: Python's exit steps run once, in CPython's order,
//! whether the program calls `shutdown`, returns from `main`, or exits from inside Python; later
//! calls fail clearly; nothing deadlocks or hangs.
//!
//! Shutting down acts on the whole process, so each case runs in a child process (this binary,
//! re-run on one ignored `child_*` test) and the parent checks how it ended and what it printed.

mod common;

use std::sync::mpsc;

use common::{report, spawn_child};
use python4r::pyo3::prelude::*;
use python4r::pyo3::types::PyCFunction;
use python4r::{Error, Gil, Tensor};

/// Registers an `atexit` handler that prints `atexit handler ran`, and starts a non-daemon
/// Python thread that prints `non-daemon thread ended` after a short sleep.
const HANDLER_AND_THREAD: &str = r#"
import atexit, threading, time
def slow():
    time.sleep(0.3)
    print("non-daemon thread ended", flush=True)
threading.Thread(target=slow).start()
atexit.register(print, "atexit handler ran", flush=True)
"#;

fn position(haystack: &str, needle: &str) -> usize {
    haystack
        .find(needle)
        .unwrap_or_else(|| panic!("`{needle}` is not in:\n{haystack}"))
}

#[test]
#[ignore = "run in a child process by the test without `child_`"]
fn child_explicit() {
    python4r::exec(HANDLER_AND_THREAD).unwrap();
    let from_numpy: Tensor = python4r::eval("__import__('numpy').arange(3.0)").unwrap();
    python4r::shutdown().unwrap();
    println!("shutdown returned");
    python4r::shutdown().unwrap();

    let err = python4r::eval::<i64>("1 + 1").unwrap_err();
    assert!(matches!(err, Error::ShutDown), "{err:?}");
    report("error", &err);
    let err = std::thread::spawn(|| Gil::acquire().map(drop).unwrap_err())
        .join()
        .unwrap();
    assert!(matches!(err, Error::ShutDown), "{err:?}");
    // The interpreter is not torn down: what Rust holds stays readable and droppable.
    assert_eq!(from_numpy.to_vec::<f64>().unwrap(), [0.0, 1.0, 2.0]);
    drop(from_numpy);
    report("done", true);
}

#[test]
fn shutdown_runs_the_exit_steps_once_in_order_and_later_calls_fail() {
    let child = spawn_child("child_explicit", &[]);
    assert_eq!(child.code, Some(0), "{child:#?}");
    assert_eq!(child.value("done"), "true");
    let out = &child.stdout;
    assert!(
        position(out, "non-daemon thread ended") < position(out, "atexit handler ran"),
        "threads are waited for before the atexit handlers:\n{out}"
    );
    assert!(position(out, "atexit handler ran") < position(out, "shutdown returned"));
    assert_eq!(out.matches("atexit handler ran").count(), 1, "{out}");
    let error = child.value("error");
    assert!(error.starts_with("python4r is shut down"), "{error}");
    assert!(
        error.contains("make every Python call before shutting down"),
        "{error}"
    );
}

#[test]
#[ignore = "run in a child process by the test without `child_`"]
fn child_at_exit() {
    python4r::exec(HANDLER_AND_THREAD).unwrap();
    // No flush: without the exit steps, Python's buffer of a redirected stdout is lost.
    python4r::exec("print('printed by Python without a flush')").unwrap();
}

#[test]
fn at_exit_the_exit_steps_run_and_python_output_is_flushed() {
    let child = spawn_child("child_at_exit", &[("PYTHONUNBUFFERED", None)]);
    assert_eq!(child.code, Some(0), "{child:#?}");
    let out = &child.stdout;
    assert!(out.contains("printed by Python without a flush"), "{out}");
    assert!(position(out, "non-daemon thread ended") < position(out, "atexit handler ran"));
    assert_eq!(child.stderr, "", "nothing to warn about");
}

#[test]
#[ignore = "run in a child process by the test without `child_`"]
fn child_exit_inside_python() {
    python4r::exec(HANDLER_AND_THREAD).unwrap();
    python4r::with_gil(|py| {
        let exit = PyCFunction::new_closure(py, None, None, |_args, _kwargs| -> PyResult<()> {
            std::process::exit(7)
        })?;
        let ns = python4r::pyo3::types::PyDict::new(py);
        ns.set_item("rust_exit", exit)?;
        py.run(c"def nested():\n    rust_exit()\nnested()", Some(&ns), None)?;
        Ok(())
    })
    .unwrap();
    unreachable!("the callback exits");
}

#[test]
fn exit_called_from_inside_a_python_call_runs_the_exit_steps() {
    let child = spawn_child("child_exit_inside_python", &[]);
    assert_eq!(child.code, Some(7), "the exit status is kept:\n{child:#?}");
    assert!(
        position(&child.stdout, "non-daemon thread ended")
            < position(&child.stdout, "atexit handler ran")
    );
}

#[test]
#[ignore = "run in a child process by the test without `child_`"]
fn child_gil_never_released() {
    python4r::exec(HANDLER_AND_THREAD).unwrap();
    let (held, wait) = mpsc::channel();
    std::thread::spawn(move || {
        let _gil = Gil::acquire().unwrap();
        held.send(()).unwrap();
        loop {
            std::thread::park();
        }
    });
    wait.recv().unwrap();
}

#[test]
fn a_thread_holding_the_gil_for_ever_delays_exit_by_the_timeout_only() {
    let child = spawn_child(
        "child_gil_never_released",
        &[("PYTHON4R_EXIT_TIMEOUT", Some("1"))],
    );
    assert_eq!(child.code, Some(0), "{child:#?}");
    assert!(
        child
            .stderr
            .contains("Python's exit handlers did not finish within 1s"),
        "{child:#?}"
    );
    assert!(child.stderr.contains("python4r::shutdown()"), "{child:#?}");
    assert!(!child.stdout.contains("atexit handler ran"), "{child:#?}");
}

#[test]
#[ignore = "run in a child process by the test without `child_`"]
fn child_threads_still_calling() {
    python4r::exec(HANDLER_AND_THREAD).unwrap();
    let (started, wait) = mpsc::channel();
    for _ in 0..2 {
        let started = started.clone();
        std::thread::spawn(move || {
            let mut calls = 0_u64;
            let err = loop {
                match python4r::eval::<i64>("sum(range(100))") {
                    Ok(_) => calls += 1,
                    Err(err) => break err,
                }
                if calls == 1 {
                    started.send(()).unwrap();
                }
            };
            assert!(matches!(err, Error::ShutDown), "{err:?}");
        });
    }
    wait.recv().unwrap();
    wait.recv().unwrap();
}

#[test]
fn threads_still_calling_python_at_exit_do_not_stop_the_exit_steps() {
    let child = spawn_child("child_threads_still_calling", &[]);
    assert_eq!(child.code, Some(0), "{child:#?}");
    assert!(child.stdout.contains("atexit handler ran"), "{child:#?}");
    assert_eq!(child.stderr, "", "{child:#?}");
}

#[test]
#[ignore = "run in a child process by the test without `child_`"]
fn child_reentrant() {
    python4r::with_gil(|py| {
        // An exit handler written in Rust: python4r calls work inside the handlers, and a
        // shutdown asked for there is the one already running.
        let handler = PyCFunction::new_closure(py, None, None, |_args, _kwargs| {
            python4r::shutdown().expect("shutdown inside a handler");
            let sum: i64 = python4r::eval("sum(range(5))").expect("a call inside a handler");
            report("inside_handler", sum);
            PyResult::Ok(())
        })?;
        py.import("atexit")?.call_method1("register", (handler,))?;
        Ok(())
    })
    .unwrap();
    // From inside a call: the handlers run here, and the enclosing code goes on afterwards.
    python4r::with_gil(|py| {
        python4r::shutdown()?;
        report("after_shutdown_inside_call", py.eval(c"6 * 7", None, None)?);
        Ok(())
    })
    .unwrap();
    let err = python4r::exec("pass").unwrap_err();
    assert!(matches!(err, Error::ShutDown), "{err:?}");
    report("done", true);
}

#[test]
fn shutdown_from_inside_a_call_and_from_an_exit_handler() {
    let child = spawn_child("child_reentrant", &[]);
    assert_eq!(child.code, Some(0), "{child:#?}");
    assert_eq!(child.value("inside_handler"), "10");
    assert_eq!(child.value("after_shutdown_inside_call"), "42");
    assert_eq!(child.value("done"), "true");
    assert_eq!(child.report.matches("inside_handler").count(), 1, "once");
}

#[test]
#[ignore = "run in a child process by the test without `child_`"]
fn child_concurrent() {
    python4r::exec(
        "import atexit, time\n\
         def handler():\n    time.sleep(0.5)\n    print('atexit handler ran', flush=True)\n\
         atexit.register(handler)",
    )
    .unwrap();
    let first = std::thread::spawn(python4r::shutdown);
    // Once the first shutdown has begun, python4r calls fail; this thread then holds the GIL
    // (through pyo3, which python4r cannot refuse) while it asks for a shutdown too: it must
    // give the GIL up while it waits, or the handler never finishes.
    while python4r::eval::<i64>("1").is_ok() {
        std::thread::yield_now();
    }
    let second = Python::attach(|_| python4r::shutdown());
    report("second", format!("{second:?}"));
    report("first", format!("{:?}", first.join().unwrap()));
}

#[test]
fn two_threads_shutting_down_at_once_run_the_handlers_once() {
    let child = spawn_child("child_concurrent", &[]);
    assert_eq!(child.code, Some(0), "{child:#?}");
    assert_eq!(child.value("first"), "Ok(())");
    assert_eq!(child.value("second"), "Ok(())");
    assert_eq!(
        child.stdout.matches("atexit handler ran").count(),
        1,
        "{child:#?}"
    );
}

#[test]
#[ignore = "run in a child process by the test without `child_`"]
fn child_never_started() {
    python4r::shutdown().unwrap();
    let err = python4r::eval::<i64>("1").unwrap_err();
    assert!(matches!(err, Error::ShutDown), "{err:?}");
    // SAFETY: Py_IsInitialized may be called at any time.
    report("initialized", unsafe {
        python4r::pyo3::ffi::Py_IsInitialized()
    });
}

#[test]
fn shutdown_before_python_started_only_refuses_later_calls() {
    let child = spawn_child("child_never_started", &[]);
    assert_eq!(child.code, Some(0), "{child:#?}");
    assert_eq!(child.value("initialized"), "0", "Python was not started");
}

#[test]
#[ignore = "run in a child process by the test without `child_`"]
fn child_timeout_zero() {
    python4r::exec("import atexit\natexit.register(print, 'atexit handler ran', flush=True)")
        .unwrap();
}

#[test]
fn an_exit_timeout_of_zero_skips_the_exit_steps() {
    let child = spawn_child(
        "child_timeout_zero",
        &[("PYTHON4R_EXIT_TIMEOUT", Some("0"))],
    );
    assert_eq!(child.code, Some(0), "{child:#?}");
    assert!(!child.stdout.contains("atexit handler ran"), "{child:#?}");
}
