use python4r::py_exec;

#[py_exec(setup = "import (math", code = "result = x")]
fn f(x: f64) -> f64;

fn main() {}
