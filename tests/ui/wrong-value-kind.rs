use python4r::py_exec;

#[py_exec(code = 42)]
fn f(x: f64) -> f64;

fn main() {}
