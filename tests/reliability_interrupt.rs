//! Stopping long-running Python from Rust: an `Interrupter` fired from another thread once the
//! loop has said it started, `with_timeout`, and python4r staying usable afterwards.

use std::sync::mpsc;
use std::time::Duration;

use python4r::interrupt::{Interrupter, with_timeout};
use python4r::pyo3::prelude::*;
use python4r::pyo3::types::{PyCFunction, PyDict, PyTuple};
use python4r::{Context, Error, py_exec};

/// A hang becomes a failure after this long; nothing else in these tests depends on time.
const WATCHDOG: Duration = Duration::from_secs(300);

/// Runs `body` on its own thread and fails if it has not finished after [`WATCHDOG`].
fn with_watchdog<R: Send + 'static>(body: impl FnOnce() -> R + Send + 'static) -> R {
    let (tx, rx) = mpsc::channel();
    let runner = std::thread::spawn(move || {
        let _ = tx.send(body());
    });
    match rx.recv_timeout(WATCHDOG) {
        Ok(r) => {
            runner.join().unwrap();
            r
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            std::panic::resume_unwind(runner.join().unwrap_err())
        }
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("no result within {WATCHDOG:?}"),
    }
}

/// A fresh `threading.Event`.
fn event() -> Py<PyAny> {
    python4r::with_gil(|py| Ok(py.import("threading")?.call_method0("Event")?.unbind())).unwrap()
}

/// Waits (GIL released) until `event` is set.
fn wait(event: &Py<PyAny>) {
    python4r::with_gil(|py| Ok(event.bind(py).call_method0("wait").map(drop)?)).unwrap();
}

/// Spawns a thread that waits for `started`, then interrupts; returns whether it signalled a
/// running call.
fn interrupt_when_started(
    interrupter: &Interrupter,
    started: &Py<PyAny>,
) -> std::thread::JoinHandle<bool> {
    let handle = interrupter.clone();
    let started = python4r::with_gil(|py| Ok(started.clone_ref(py))).unwrap();
    std::thread::spawn(move || {
        wait(&started);
        handle.interrupt()
    })
}

fn assert_interrupted(err: &Error, reason: &str) {
    match err {
        Error::Interrupted {
            reason: got,
            traceback,
        } => {
            assert!(got.contains(reason), "reason {got:?}");
            assert!(
                traceback.contains("python4r.Interrupted"),
                "the traceback names the exception: {traceback}"
            );
        }
        other => panic!("expected Error::Interrupted, got {other:?}"),
    }
    assert!(
        err.to_string().contains("interrupted") && err.to_string().contains(reason),
        "{err}"
    );
}

#[test]
fn infinite_loop_is_stopped_from_another_thread() {
    with_watchdog(|| {
        let ctx = Context::new();
        let started = event();
        ctx.set("started", &started).unwrap();
        let interrupter = Interrupter::new();
        let stopper = interrupt_when_started(&interrupter, &started);
        let err = interrupter
            .run(|| ctx.exec("n = 0\nstarted.set()\nwhile True:\n    n += 1"))
            .unwrap_err();
        assert!(stopper.join().unwrap(), "the call was running");
        assert_interrupted(&err, "Interrupter::interrupt was called");
        if let Error::Interrupted { traceback, .. } = &err {
            assert!(traceback.contains("File \"<string>\""), "{traceback}");
        }
        assert!(interrupter.is_interrupted());
        // Usable afterwards, on this thread and in this context, with no stray exception.
        assert!(ctx.get::<i64>("n").unwrap() >= 0);
        for _ in 0..100 {
            assert_eq!(ctx.eval::<i64>("sum(range(10))").unwrap(), 45);
        }
        assert_eq!(python4r::eval::<i64>("2 ** 10").unwrap(), 1024);
    });
}

#[test]
fn except_exception_does_not_swallow_it_but_finally_runs() {
    with_watchdog(|| {
        let ctx = Context::new();
        let started = event();
        ctx.set("started", &started).unwrap();
        ctx.exec("log = []").unwrap();
        let interrupter = Interrupter::new();
        let stopper = interrupt_when_started(&interrupter, &started);
        // (`n += 1` first: Python 3.10 and earlier never check for the exception at a jump back
        // to a `try:`, see the module docs of `python4r::interrupt`.)
        let code = "try:\n    started.set()\n    n = 0\n    while True:\n        n += 1\n        try:\n            pass\n        except Exception:\n            log.append('caught')\nfinally:\n    log.append('finally')";
        let err = interrupter.run(|| ctx.exec(code)).unwrap_err();
        stopper.join().unwrap();
        assert_interrupted(&err, "Interrupter::interrupt");
        assert_eq!(ctx.get::<Vec<String>>("log").unwrap(), vec!["finally"]);
    });
}

#[test]
fn code_that_catches_base_exception_can_handle_it() {
    with_watchdog(|| {
        let ctx = Context::new();
        let started = event();
        ctx.set("started", &started).unwrap();
        let interrupter = Interrupter::new();
        let stopper = interrupt_when_started(&interrupter, &started);
        let code = "try:\n    started.set()\n    while True:\n        pass\nexcept BaseException as e:\n    caught = f'{type(e).__module__}.{type(e).__name__}'";
        interrupter.run(|| ctx.exec(code)).unwrap();
        stopper.join().unwrap();
        assert_eq!(ctx.get::<String>("caught").unwrap(), "python4r.Interrupted");
    });
}

#[test]
fn with_timeout_stops_a_loop_and_returns_results_in_time() {
    with_watchdog(|| {
        let err = with_timeout(Duration::from_millis(50), || {
            python4r::exec("while True:\n    pass")
        })
        .unwrap_err();
        assert_interrupted(&err, "timed out after 50ms");
        let ok = with_timeout(Duration::from_secs(120), || {
            python4r::eval::<i64>("sum(range(100))")
        })
        .unwrap();
        assert_eq!(ok, 4950);
        // Errors of the code itself are not interruptions.
        let err = with_timeout(Duration::from_secs(120), || python4r::exec("1 / 0")).unwrap_err();
        assert_eq!(
            err.python_exception().unwrap().type_name(),
            "ZeroDivisionError"
        );
    });
}

#[py_exec(code = "started.set()\nwhile True:\n    pass")]
fn spin_forever(started: &Py<PyAny>) -> python4r::Result<()>;

#[py_exec(code = "started.set()\nwhile True:\n    pass")]
fn spin_forever_panics(started: &Py<PyAny>);

#[test]
fn py_exec_functions_are_interruptible() {
    with_watchdog(|| {
        let started = event();
        let interrupter = Interrupter::new();
        let stopper = interrupt_when_started(&interrupter, &started);
        let err = interrupter.run(|| spin_forever(&started)).unwrap_err();
        stopper.join().unwrap();
        assert_interrupted(&err, "Interrupter::interrupt");

        // Without a `Result` return, the function panics with the interruption's message.
        let started = event();
        let interrupter = Interrupter::new();
        let stopper = interrupt_when_started(&interrupter, &started);
        let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            interrupter.run(|| {
                spin_forever_panics(&started);
                Ok(())
            })
        }))
        .unwrap_err();
        stopper.join().unwrap();
        let msg = panic.downcast_ref::<String>().cloned().unwrap_or_default();
        assert!(msg.contains("interrupted"), "{msg}");
        assert_eq!(python4r::eval::<i64>("3 * 3").unwrap(), 9);
    });
}

#[test]
fn an_interrupt_before_the_call_stops_it_at_once() {
    let interrupter = Interrupter::new();
    assert!(!interrupter.interrupt(), "nothing was running");
    let mut ran = false;
    let err = interrupter
        .run(|| {
            ran = true;
            Ok(())
        })
        .unwrap_err();
    assert!(!ran);
    assert_interrupted_without_traceback(&err);
}

fn assert_interrupted_without_traceback(err: &Error) {
    assert!(
        matches!(err, Error::Interrupted { reason, .. } if reason.contains("Interrupter::interrupt")),
        "{err:?}"
    );
}

#[test]
fn a_late_interrupt_never_reaches_later_code() {
    with_watchdog(|| {
        let interrupter = Interrupter::new();
        let (asked_tx, asked_rx) = mpsc::channel::<()>();
        let (fired_tx, fired_rx) = mpsc::channel::<bool>();
        let handle = interrupter.clone();
        let stopper = std::thread::spawn(move || {
            asked_rx.recv().unwrap();
            fired_tx.send(handle.interrupt()).unwrap();
        });
        // The request arrives while the closure runs Rust code only: it is pending for this
        // thread, and `run` must drop it when the closure returns.
        let value = interrupter
            .run(|| {
                asked_tx.send(()).unwrap();
                assert!(fired_rx.recv().unwrap(), "delivered to a running `run`");
                Ok(7)
            })
            .unwrap();
        assert_eq!(value, 7);
        stopper.join().unwrap();
        for i in 0..1000 {
            python4r::exec(&format!("late_{} = {i}", i % 3)).unwrap();
        }
        assert_eq!(python4r::eval::<i64>("late_0 + 1").unwrap(), 1000);
    });
}

#[test]
fn a_pending_interrupt_hits_the_next_python_code_of_the_run() {
    with_watchdog(|| {
        let interrupter = Interrupter::new();
        let handle = interrupter.clone();
        let err = interrupter
            .run(|| {
                // Interrupt from another thread while this one runs no Python code.
                std::thread::scope(|s| s.spawn(|| handle.interrupt()).join().unwrap());
                python4r::exec("x = [i for i in range(10)]\ny = 1")
            })
            .unwrap_err();
        assert_interrupted_without_traceback(&err);
    });
}

#[test]
fn only_the_interrupted_thread_stops() {
    with_watchdog(|| {
        let started = event();
        let interrupter = Interrupter::new();
        let stopper = interrupt_when_started(&interrupter, &started);
        let bystander = std::thread::spawn(|| {
            let ctx = Context::new();
            let mut total = 0;
            for i in 0..2000 {
                total += ctx.eval::<i64>(&format!("{i} % 7")).unwrap();
            }
            total
        });
        let err = interrupter.run(|| spin_forever(&started)).unwrap_err();
        stopper.join().unwrap();
        assert!(matches!(err, Error::Interrupted { .. }));
        let expected: i64 = (0..2000).map(|i| i % 7).sum();
        assert_eq!(bystander.join().unwrap(), expected);
    });
}

#[test]
fn one_interrupter_stops_calls_on_several_threads() {
    with_watchdog(|| {
        let interrupter = Interrupter::new();
        let events: Vec<_> = (0..3).map(|_| event()).collect();
        let runners: Vec<_> = events
            .iter()
            .map(|e| {
                let e = python4r::with_gil(|py| Ok(e.clone_ref(py))).unwrap();
                let interrupter = interrupter.clone();
                std::thread::spawn(move || interrupter.run(|| spin_forever(&e)))
            })
            .collect();
        for e in &events {
            wait(e);
        }
        assert!(interrupter.interrupt());
        for r in runners {
            assert!(matches!(r.join().unwrap(), Err(Error::Interrupted { .. })));
        }
    });
}

#[test]
fn nested_runs_keep_the_outer_request() {
    with_watchdog(|| {
        let outer = Interrupter::new();
        let inner = Interrupter::new();
        let started = event();
        let stopper = interrupt_when_started(&outer, &started);
        let result = outer.run(|| {
            // The inner run is hit by the outer request; the outer request stays pending after
            // the inner run ends, so the outer code stops too.
            let inner_err = inner.run(|| spin_forever(&started)).unwrap_err();
            assert!(
                matches!(&inner_err, Error::Interrupted { reason, .. } if reason.contains("Interrupter::interrupt")),
                "{inner_err:?}"
            );
            python4r::exec("while True:\n    pass")
        });
        stopper.join().unwrap();
        assert!(
            matches!(result, Err(Error::Interrupted { .. })),
            "{result:?}"
        );
        assert!(!inner.is_interrupted());
        assert_eq!(python4r::eval::<i64>("1").unwrap(), 1);
    });
}

#[test]
fn interruption_crosses_rust_code_that_python_called() {
    with_watchdog(|| {
        // Python → Rust → Python (stopped) → back through Rust as `python4r.Interrupted`.
        let started = event();
        let started_for_rust = python4r::with_gil(|py| Ok(started.clone_ref(py))).unwrap();
        let rust = python4r::with_gil(move |py| {
            let f = PyCFunction::new_closure(
                py,
                Some(c"rust_spins"),
                None,
                move |_a: &Bound<'_, PyTuple>, _k: Option<&Bound<'_, PyDict>>| -> PyResult<()> {
                    Ok(spin_forever(&started_for_rust)?)
                },
            )?;
            Ok(f.into_any().unbind())
        })
        .unwrap();
        let ctx = Context::new();
        ctx.set("rust_spins", &rust).unwrap();
        ctx.exec("log = []").unwrap();
        let interrupter = Interrupter::new();
        let stopper = interrupt_when_started(&interrupter, &started);
        let err = interrupter
            .run(|| {
                ctx.exec("try:\n    rust_spins()\nexcept Exception:\n    log.append('swallowed')")
            })
            .unwrap_err();
        stopper.join().unwrap();
        assert!(matches!(err, Error::Interrupted { .. }), "{err:?}");
        assert!(ctx.get::<Vec<String>>("log").unwrap().is_empty());
    });
}
