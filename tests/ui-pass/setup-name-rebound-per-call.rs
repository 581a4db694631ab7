//! Rebinding a `setup` name listed in `per_call` does not warn, even under `deny(deprecated)`.
#![deny(deprecated)]

use python4r::py_exec;

#[py_exec(setup = "calls = 0", per_call = ["calls"], code = "calls += 1\nresult = calls")]
fn count_calls() -> i64;

fn main() {
    let _ = count_calls;
}
