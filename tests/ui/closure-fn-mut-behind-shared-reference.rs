use python4r::py_exec;

#[py_exec(code = "result = f(1.0)")]
fn call(f: &dyn FnMut(f64) -> f64) -> f64;

fn main() {}
