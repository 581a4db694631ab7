//! Rough per-call cost of `#[py_exec]` functions (run with `--ignored --nocapture`, ideally in
//! `--release`): the function fast path against the module-frame path.

use python4r::py_exec;
use std::time::Instant;

#[py_exec(code = "result = x + 1")]
fn fast_path(x: i64) -> i64;

#[py_exec(code = "global y\nresult = x + 1")]
fn module_frame(x: i64) -> i64;

fn per_call(f: fn(i64) -> i64) -> f64 {
    const CALLS: i64 = 100_000;
    f(0);
    python4r::with_gil(|_py| {
        let start = Instant::now();
        for i in 0..CALLS {
            assert_eq!(f(i), i + 1);
        }
        Ok(start.elapsed().as_nanos() as f64 / CALLS as f64)
    })
    .unwrap()
}

#[test]
#[ignore = "timing, not a check"]
fn call_cost() {
    println!("fast path: {:.0} ns/call", per_call(fast_path));
    println!("module frame: {:.0} ns/call", per_call(module_frame));
}
