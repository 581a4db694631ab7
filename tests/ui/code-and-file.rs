use python4r::py_exec;

#[py_exec(code = "result = x", file = "script.py")]
fn f(x: f64) -> f64;

fn main() {}
