#![deny(deprecated)]

use python4r::py_exec;

#[py_exec(setup = "calls = 0", code = "calls += 1\nresult = calls")]
fn count_calls() -> i64;

fn main() {}
