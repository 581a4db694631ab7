//! Rust functions called from Python bodies (issue 13, part 1): closures lent to `#[py_exec]`
//! functions, their soundness rules, errors and panics, tensors passed to them, and the dynamic
//! API (`set_function`, `add_module`).

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};

use common::{report, skip, spawn_child};
use python4r::{Error, Tensor, py_exec};

fn have_scipy() -> bool {
    let found = python4r::exec("import scipy").is_ok();
    if !found {
        skip(
            "scipy is not importable by the embedded Python (the workspace declares it in [package.metadata.python4r])",
        );
    }
    found
}

#[py_exec(code = "from scipy.optimize import minimize_scalar\nresult = minimize_scalar(f).x")]
fn argmin(f: &dyn Fn(f64) -> f64) -> f64;

#[test]
fn scipy_minimises_a_rust_closure() {
    if !have_scipy() {
        return;
    }
    assert!((argmin(&|x| (x - 3.0) * (x - 3.0)) - 3.0).abs() < 1e-6);
    // A closure borrowing from the stack.
    let centre = 1.5;
    assert!((argmin(&|x| (x - centre).powi(2)) - centre).abs() < 1e-6);
}

#[py_exec(
    code = "from scipy.integrate import solve_ivp\nresult = solve_ivp(rhs, (0.0, 1.0), y0, rtol=1e-10, atol=1e-12).y[:, -1].copy()"
)]
fn integrate(rhs: &dyn Fn(f64, &Tensor) -> Tensor, y0: Vec<f64>) -> Vec<f64>;

#[py_exec(
    code = "from scipy.integrate import solve_ivp\nresult = solve_ivp(rhs, (0.0, 1.0), y0, rtol=1e-10, atol=1e-12).y[:, -1].copy()"
)]
fn integrate_vec(rhs: impl Fn(f64, Vec<f64>) -> Vec<f64>, y0: Vec<f64>) -> Vec<f64>;

#[test]
fn solve_ivp_over_a_rust_right_hand_side() {
    if !have_scipy() {
        return;
    }
    // y' = -y, from 1: e^-1 at t = 1; y' = 2, from 0: 2.
    let rhs = |_t: f64, y: &Tensor| -> Tensor {
        let y = y.to_vec::<f64>().unwrap();
        Tensor::from_vec(vec![-y[0], 2.0], &[2]).unwrap()
    };
    let end = integrate(&rhs, vec![1.0, 0.0]);
    assert!((end[0] - (-1.0f64).exp()).abs() < 1e-8, "{end:?}");
    assert!((end[1] - 2.0).abs() < 1e-8, "{end:?}");
    let end = integrate_vec(|_t, y| vec![-y[0], 2.0], vec![1.0, 0.0]);
    assert!((end[0] - (-1.0f64).exp()).abs() < 1e-8, "{end:?}");
}

#[py_exec(code = "result = sum(f(float(i)) for i in range(n))")]
fn sum_of(f: &dyn Fn(f64) -> f64, n: i64) -> f64;

#[py_exec(code = "result = f(a, b)")]
fn call2(f: &dyn Fn(i64, String) -> String, a: i64, b: &str) -> String;

#[py_exec(code = "f()")]
fn call_unit(f: &mut dyn FnMut());

#[py_exec(code = "result = f((1.0, 2.0), {'k': [1, 2]})")]
fn call_tuple(f: &dyn Fn((f64, f64), python4r::Value) -> (f64, python4r::Value)) -> (f64, String);

#[test]
fn values_cross_both_ways() {
    let (sum, text) = call_tuple(&|(a, b), v| (a + b, python4r::Value::from(format!("{v:?}"))));
    assert_eq!(sum, 3.0);
    assert!(text.contains('k'), "{text}");
    assert_eq!(sum_of(&|x| x * 2.0, 4), 12.0);
    assert_eq!(call2(&|n, s| s.repeat(n as usize), 3, "ab"), "ababab");
    let mut count = 0;
    call_unit(&mut || count += 1);
    assert_eq!(count, 1);
}

#[py_exec(code = "import __main__\n__main__.kept = f\nresult = f(1.0)")]
fn keep(f: &dyn Fn(f64) -> f64) -> f64;

#[test]
fn a_callable_kept_after_the_call_raises_runtime_error() {
    let offset = String::from("held");
    assert_eq!(keep(&|x| x + offset.len() as f64), 5.0);
    drop(offset);
    let err = python4r::exec("import __main__\n__main__.kept(1.0)").unwrap_err();
    let exc = err.python_exception().expect("a Python exception");
    assert_eq!(exc.type_name(), "RuntimeError");
    assert!(
        exc.message().contains("the Rust function `f` is gone"),
        "{err}"
    );
}

#[py_exec(code = "
import threading
out = []
def run():
    try:
        out.append(f(2.0))
    except RuntimeError as e:
        out.append(str(e))
t = threading.Thread(target=run)
t.start()
t.join()
result = out[0]
")]
fn from_another_thread(f: &dyn Fn(f64) -> f64) -> python4r::Value;

#[py_exec(code = "
import threading
out = []
t = threading.Thread(target=lambda: out.append(f(2.0)))
t.start()
t.join()
result = out[0]
")]
fn from_another_thread_sync(f: &(dyn Fn(f64) -> f64 + Sync)) -> f64;

#[test]
fn only_a_sync_function_may_be_called_from_another_thread() {
    let refused = from_another_thread(&|x| x * 10.0);
    let python4r::Value::Str(message) = refused else {
        panic!("expected the RuntimeError's message, got {refused:?}");
    };
    assert!(message.contains("called from another thread"), "{message}");
    assert_eq!(from_another_thread_sync(&|x| x * 10.0), 20.0);
}

#[py_exec(code = "result = f(1)")]
fn call_mut(f: &mut dyn FnMut(i64) -> i64) -> python4r::Result<i64>;

#[py_exec(code = "result = g(x)")]
fn call_g(g: &dyn Fn(i64) -> python4r::Result<i64>, x: i64) -> python4r::Result<i64>;

#[test]
fn an_fn_mut_called_reentrantly_raises() {
    let mut calls = 0;
    let outer = call_mut(&mut |x| {
        calls += 1;
        x + 1
    });
    assert_eq!(outer.unwrap(), 2);
    assert_eq!(calls, 1);

    // Python calls `f`, which runs Python that calls the same `f` again.
    let err = reentrant().unwrap_err();
    assert!(err.to_string().contains("was still running"), "{err}");
}

#[py_exec(code = "
def inner(x):
    return f(x)
import __main__
__main__._reenter = inner
result = f(1)
")]
fn reenter_mut(f: &mut dyn FnMut(i64) -> python4r::Result<i64>) -> python4r::Result<i64>;

fn reentrant() -> python4r::Result<i64> {
    reenter_mut(&mut |x| {
        // Python, from inside `f`, calls `f` again.
        python4r::eval::<i64>(&format!("_reenter({x})"))
    })
}

#[py_exec(code = "
try:
    f(1)
    result = 'no error'
except Exception as e:
    result = type(e).__name__ + ': ' + str(e)
")]
fn catches(f: &dyn Fn(i64) -> python4r::Result<i64>) -> String;

#[test]
fn an_err_is_a_python_exception_and_uncaught_comes_back_as_it_was() {
    let caught = catches(&|_| Err(Error::Config("bad setting".into())));
    assert!(caught.starts_with("RuntimeError"), "{caught}");
    assert!(caught.contains("bad setting"), "{caught}");
    let err = call_g(&|_| Err(Error::Config("no luck".into())), 1).unwrap_err();
    assert!(
        matches!(&err, Error::Config(m) if m == "no luck"),
        "{err:?}"
    );
    assert_eq!(call_g(&|x| Ok(x * 3), 2).unwrap(), 6);
    // A conversion error of an argument is a TypeError naming the function.
    let err = call_g_str().unwrap_err();
    assert!(
        err.to_string()
            .contains("argument 1 of the Rust function `g`"),
        "{err}"
    );
}

#[py_exec(code = "result = g('not a number')")]
fn call_g_text(g: &dyn Fn(i64) -> i64) -> python4r::Result<i64>;

fn call_g_str() -> python4r::Result<i64> {
    call_g_text(&|x| x)
}

#[py_exec(code = "
try:
    f(1.0)
except BaseException as e:
    caught = type(e).__name__
try:
    f(1.0)
except RuntimeError as e:
    again = str(e)
result = 0.0
")]
fn swallow_panic(f: &dyn Fn(f64) -> f64) -> f64;

#[test]
#[ignore = "run in a child process by the test without `child_`"]
fn child_panic() {
    let payload = std::panic::catch_unwind(|| {
        swallow_panic(&|_| std::panic::panic_any(42_u32));
    })
    .unwrap_err();
    report(
        "payload",
        payload.downcast_ref::<u32>().copied().unwrap_or(0),
    );
    let payload = std::panic::catch_unwind(|| {
        sum_of(&|_| panic!("boom in Rust"), 3);
    })
    .unwrap_err();
    report(
        "message",
        payload.downcast_ref::<&str>().copied().unwrap_or("?"),
    );
    // Python still works afterwards.
    report("after", python4r::eval::<i64>("1 + 1").unwrap());
}

#[test]
fn a_panic_resumes_with_its_payload_even_if_python_caught_it() {
    let child = spawn_child("child_panic", &[]);
    assert_eq!(child.code, Some(0), "{child:#?}");
    assert_eq!(child.value("payload"), "42");
    assert_eq!(child.value("message"), "boom in Rust");
    assert_eq!(child.value("after"), "2");
    assert!(
        !child.stderr.contains("PyO3 is resuming a panic"),
        "{}",
        child.stderr
    );
}

#[py_exec(code = "
import numpy as np
a = np.arange(6.0)
result = f(a, a.ctypes.data)
")]
fn pass_array(f: &dyn Fn(&Tensor, usize) -> bool) -> bool;

#[py_exec(code = "
import numpy as np
a = np.arange(6.0)
result = f(a, a.ctypes.data)
")]
fn pass_array_then_python(f: &dyn Fn(&Tensor, usize) -> bool) -> bool;

#[test]
fn arrays_reach_the_closure_without_a_copy_and_read_in_place() {
    let same = pass_array(&|t, address| {
        assert_eq!(t.data_ptr() as usize, address);
        let slice = t.as_slice::<f64>().unwrap();
        assert_eq!(slice, [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
        let view = t.view_ndarray::<f64>();
        assert!(view.is_ok(), "{view:?}");
        assert_eq!(slice.as_ptr() as usize, address);
        true
    });
    assert!(same);
    // Without the GIL (pyo3's `detach`), today's rule: a private copy.
    let copied = pass_array(&|t, address| {
        python4r::with_gil(|py| {
            Ok(py.detach(|| {
                t.as_slice::<f64>().unwrap().as_ptr() as usize != address
                    && t.view_ndarray::<f64>().is_err()
            }))
        })
        .unwrap()
    });
    assert!(copied);
    // Once Python runs again, today's rule: a private copy.
    let copied = pass_array_then_python(&|t, address| {
        python4r::exec("pass").unwrap();
        t.as_slice::<f64>().unwrap().as_ptr() as usize != address
            && t.view_ndarray::<f64>().is_err()
    });
    assert!(copied);
}

#[test]
fn the_dynamic_api_binds_closures() {
    let ctx = python4r::Context::new();
    ctx.set_function("add", |a: i64, b: i64| a + b).unwrap();
    assert_eq!(ctx.eval::<i64>("add(2, 3)").unwrap(), 5);
    let miscounted = ctx.eval::<i64>("add(2)").unwrap_err().to_string();
    assert!(
        miscounted.contains("TypeError")
            && miscounted.contains("the Rust function `add` takes 2 arguments, but 1 were given"),
        "{miscounted}"
    );
    let mistyped = ctx.eval::<i64>("add(2, 'x')").unwrap_err().to_string();
    assert!(
        mistyped.contains("TypeError")
            && mistyped.contains("argument 2 of the Rust function `add`"),
        "{mistyped}"
    );
    ctx.set_function("check", |x: f64| -> python4r::Result<f64> {
        if x < 0.0 {
            Err(Error::Config("negative".into()))
        } else {
            Ok(x.sqrt())
        }
    })
    .unwrap();
    assert_eq!(ctx.eval::<f64>("check(4.0)").unwrap(), 2.0);
    ctx.exec("try:\n    check(-1.0)\nexcept RuntimeError as e:\n    m = str(e)")
        .unwrap();
    assert!(ctx.get::<String>("m").unwrap().contains("negative"));
    static CALLS: AtomicUsize = AtomicUsize::new(0);
    python4r::set_function("tick", || {
        CALLS.fetch_add(1, Ordering::SeqCst);
    })
    .unwrap();
    assert!(python4r::eval::<python4r::Value>("tick()").unwrap() == python4r::Value::None);
    assert_eq!(CALLS.load(Ordering::SeqCst), 1);
    ctx.set_function("norm", |t: Tensor| {
        t.to_vec::<f64>().unwrap().iter().sum::<f64>()
    })
    .unwrap();
    assert_eq!(
        ctx.eval::<f64>("norm(__import__('numpy').ones(4))")
            .unwrap(),
        4.0
    );
    // A panic raises python4r.RustPanic, which `except Exception` does not catch.
    ctx.set_function("bad", |_: i64| -> i64 { panic!("no") })
        .unwrap();
    let err = ctx
        .exec("try:\n    bad(1)\nexcept Exception:\n    pass")
        .unwrap_err();
    assert_eq!(
        err.python_exception().unwrap().type_name(),
        "python4r.RustPanic"
    );
}

#[python4r::pyo3::pymodule]
mod rust_kernels {
    use python4r::pyo3::prelude::*;

    #[pyfunction]
    fn dot(a: Vec<f64>, b: Vec<f64>) -> f64 {
        a.iter().zip(&b).map(|(x, y)| x * y).sum()
    }
}

#[test]
fn a_rust_module_is_importable_after_start() {
    python4r::exec("x = 1").unwrap();
    python4r::add_module(|py| python4r::pyo3::wrap_pymodule!(rust_kernels)(py)).unwrap();
    let v: f64 = python4r::eval("__import__('rust_kernels').dot([1.0, 2.0], [3.0, 4.0])").unwrap();
    assert_eq!(v, 11.0);
}

#[py_exec(code = "
import threading, time
started = threading.Event()
def run():
    started.set()
    f(0.0)
threading.Thread(target=run, daemon=True).start()
started.wait()
time.sleep(0.05)
")]
fn leave_a_call_running(f: &(dyn Fn(f64) -> f64 + Sync));

#[test]
fn the_end_of_the_call_waits_for_calls_in_flight_on_other_threads() {
    use std::sync::atomic::AtomicBool;
    use std::time::Duration;
    let finished = AtomicBool::new(false);
    leave_a_call_running(&|x| {
        // Lets the GIL go while it works, so the lender reaches its end meanwhile.
        python4r::with_gil(|py| {
            py.detach(|| std::thread::sleep(Duration::from_millis(300)));
            Ok(())
        })
        .unwrap();
        finished.store(true, Ordering::SeqCst);
        x
    });
    assert!(
        finished.load(Ordering::SeqCst),
        "returned while a call was in flight"
    );
}
