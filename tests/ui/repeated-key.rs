use python4r::py_exec;

#[py_exec(code = "result = x", code = "result = 2 * x")]
fn f(x: f64) -> f64;

fn main() {}
