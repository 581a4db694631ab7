//! Many Rust threads calling Python at once: `#[py_exec]` functions, the dynamic API and tensor
//! round trips give correct results without deadlock, also while another thread sleeps inside
//! Python, and with `#[py_exec]` functions called from Rust code that Python called (nested).

mod common;

use std::sync::{Arc, Barrier, mpsc};
use std::time::Duration;

use python4r::pyo3::prelude::*;
use python4r::pyo3::types::{PyCFunction, PyDict, PyTuple};
use python4r::{Context, Tensor, py_exec};

/// A hang becomes a failure after this long; nothing else in these tests depends on time.
const WATCHDOG: Duration = Duration::from_secs(600);

#[py_exec(code = "result = a * 3 + b")]
fn mix(a: i64, b: i64) -> i64;

#[py_exec(code = "result = arr * 2.0")]
fn double(arr: &Tensor) -> Tensor;

#[py_exec(code = "result = callback(x) + 1")]
fn call_back(callback: &Py<PyAny>, x: i64) -> python4r::Result<i64>;

#[py_exec(
    code = "import time\nstarted.set()\nnaps = 0\nwhile not stop.is_set():\n    time.sleep(0.01)\n    naps += 1\nresult = naps"
)]
fn sleep_until(started: &Py<PyAny>, stop: &Py<PyAny>) -> i64;

/// Runs `body` on its own thread and fails if it has not finished after [`WATCHDOG`].
fn with_watchdog(name: &str, body: impl FnOnce() + Send + 'static) {
    let (done_tx, done_rx) = mpsc::channel();
    let runner = std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(move || {
            body();
            let _ = done_tx.send(());
        })
        .unwrap();
    match done_rx.recv_timeout(WATCHDOG) {
        Ok(()) => runner.join().unwrap(),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            // The body panicked: report its panic.
            std::panic::resume_unwind(runner.join().unwrap_err())
        }
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("`{name}` did not finish within {WATCHDOG:?}: deadlock")
        }
    }
}

/// A Python callable that calls the `#[py_exec]` function `mix` from Rust: Python → Rust →
/// Python.
fn nested_callback() -> Py<PyAny> {
    python4r::with_gil(|py| {
        let f = PyCFunction::new_closure(
            py,
            Some(c"rust_mix"),
            None,
            |args: &Bound<'_, PyTuple>, _kwargs: Option<&Bound<'_, PyDict>>| -> PyResult<i64> {
                let x: i64 = args.get_item(0)?.extract()?;
                Ok(mix(x, x))
            },
        )?;
        Ok(f.into_any().unbind())
    })
    .unwrap()
}

/// One thread's share of the work: `calls` calls cycling through every kind, each checked.
fn worker(thread: i64, calls: i64, callback: &Py<PyAny>) -> i64 {
    let ctx = Context::new();
    let main_var = format!("per_thread_{thread}");
    let tensor = Tensor::from_vec((0..6).map(|i| (i + thread) as f64).collect(), &[2, 3]).unwrap();
    for i in 0..calls {
        match i % 6 {
            0 => assert_eq!(mix(i, thread), i * 3 + thread),
            1 => {
                let out = ctx
                    .exec_io("c = a - b", &[("a", &i), ("b", &thread)], &["c"])
                    .unwrap();
                assert_eq!(out.get::<i64>("c").unwrap(), i - thread);
            }
            2 => {
                let doubled = double(&tensor);
                let want: Vec<f64> = (0..6).map(|k| 2.0 * (k + thread) as f64).collect();
                assert_eq!(doubled.to_vec::<f64>().unwrap(), want);
                assert_eq!(doubled.shape(), &[2, 3]);
            }
            3 => {
                // The shared main context, one variable per thread.
                python4r::set(&main_var, &i).unwrap();
                let back: i64 = python4r::eval(&format!("{main_var} * 2")).unwrap();
                assert_eq!(back, i * 2);
            }
            4 => assert_eq!(call_back(callback, i).unwrap(), i * 4 + 1),
            _ => {
                let t: Tensor = ctx
                    .eval(&format!(
                        "__import__('numpy').full((3,), {i}, dtype='int32')"
                    ))
                    .unwrap();
                assert_eq!(t.to_vec::<i32>().unwrap(), vec![i as i32; 3]);
            }
        }
    }
    calls
}

/// Runs `threads` workers of `calls` calls each, while one more thread sleeps in Python.
fn hammer(threads: i64, calls: i64) {
    with_watchdog("hammer", move || {
        let callback = nested_callback();
        let (started, stop) = python4r::with_gil(|py| {
            let threading = py.import("threading")?;
            Ok((
                threading.call_method0("Event")?.unbind(),
                threading.call_method0("Event")?.unbind(),
            ))
        })
        .unwrap();
        let sleeper = {
            let (started, stop) =
                python4r::with_gil(|py| Ok((started.clone_ref(py), stop.clone_ref(py)))).unwrap();
            std::thread::spawn(move || sleep_until(&started, &stop))
        };
        // The workers start once the sleeper is inside `time.sleep`'s loop.
        python4r::with_gil(|py| Ok(started.bind(py).call_method0("wait").map(drop)?)).unwrap();

        let done: i64 = std::thread::scope(|scope| {
            let workers: Vec<_> = (0..threads)
                .map(|t| {
                    let callback = &callback;
                    scope.spawn(move || worker(t, calls, callback))
                })
                .collect();
            workers.into_iter().map(|w| w.join().unwrap()).sum()
        });
        assert_eq!(done, threads * calls, "every call ran and was checked");
        python4r::with_gil(|py| Ok(stop.bind(py).call_method0("set").map(drop)?)).unwrap();
        // It slept the whole time and wakes up to the stop: no deadlock with the workers.
        sleeper.join().unwrap();
    });
}

#[test]
fn eight_threads_ten_thousand_calls_each() {
    hammer(8, 10_000);
}

#[py_exec(code = "result = [callback(v) for v in values]")]
fn map_in_python(callback: &Py<PyAny>, values: Vec<i64>) -> Vec<i64>;

#[test]
fn py_exec_called_from_rust_called_from_python() {
    with_watchdog("nested", || {
        let callback = nested_callback();
        assert_eq!(call_back(&callback, 5).unwrap(), 21);
        // Two levels: Python → Rust → py_exec (Python) → Rust → py_exec.
        let outer = python4r::with_gil(|py| {
            let inner = callback.clone_ref(py);
            let f = PyCFunction::new_closure(
                py,
                Some(c"rust_outer"),
                None,
                move |args: &Bound<'_, PyTuple>,
                      _kw: Option<&Bound<'_, PyDict>>|
                      -> PyResult<i64> {
                    let x: i64 = args.get_item(0)?.extract()?;
                    Ok(call_back(&inner, x)?)
                },
            )?;
            Ok(f.into_any().unbind())
        })
        .unwrap();
        assert_eq!(map_in_python(&outer, vec![1, 2, 3]), vec![5, 9, 13]);
        // From several threads at once.
        std::thread::scope(|scope| {
            for t in 0..4 {
                let outer = &outer;
                scope.spawn(move || {
                    for i in 0..200 {
                        assert_eq!(map_in_python(outer, vec![i, t]), vec![4 * i + 1, 4 * t + 1]);
                    }
                });
            }
        });
    });
}

#[test]
fn errors_in_nested_calls_reach_the_outer_caller() {
    with_watchdog("nested errors", || {
        let failing = python4r::with_gil(|py| {
            let f = PyCFunction::new_closure(
                py,
                Some(c"rust_fails"),
                None,
                |_args: &Bound<'_, PyTuple>, _kw: Option<&Bound<'_, PyDict>>| -> PyResult<i64> {
                    match python4r::exec("raise KeyError('inner')") {
                        Err(python4r::Error::Python(exc)) => Err(exc.into_pyerr()),
                        other => panic!("expected a KeyError, got {other:?}"),
                    }
                },
            )?;
            Ok(f.into_any().unbind())
        })
        .unwrap();
        let err = call_back(&failing, 1).unwrap_err();
        let exc = err.python_exception().unwrap();
        assert_eq!(exc.type_name(), "KeyError");
        assert_eq!(exc.message(), "'inner'");
        assert_eq!(mix(1, 1), 4, "still usable");
    });
}

/// The first crossings of a process, made by many threads at once: python4r looks numpy's types
/// up on the first one, and rust-numpy's own first lookup releases the GIL while it waits, so a
/// thread that waited for python4r's lookup holding the GIL would deadlock with the thread doing
/// it. Each round is a fresh process (a child), since only a process's first crossing races.
#[test]
fn first_crossings_from_many_threads_do_not_deadlock() {
    for round in 0..4 {
        let child = common::spawn_child("child_first_crossings_race", &[]);
        assert_eq!(child.code, Some(0), "round {round}: {child:#?}");
        assert_eq!(child.value("sums"), "8", "round {round}");
    }
}

#[test]
#[ignore = "run by first_crossings_from_many_threads_do_not_deadlock in a child process"]
fn child_first_crossings_race() {
    python4r::initialize().unwrap();
    let start = Arc::new(Barrier::new(8));
    let threads: Vec<_> = (0..8)
        .map(|i| {
            let start = Arc::clone(&start);
            std::thread::spawn(move || {
                let t = Tensor::from_vec(vec![i as f64; 4], &[4]).unwrap();
                start.wait();
                double(&t).to_vec::<f64>().unwrap()
            })
        })
        .collect();
    let mut right = 0;
    for (i, thread) in threads.into_iter().enumerate() {
        if thread.join().unwrap() == vec![2.0 * i as f64; 4] {
            right += 1;
        }
    }
    common::report("sums", right);
}
