use python4r::py_exec;

#[py_exec(code = "result = x", ouput = "y")]
fn f(x: f64) -> f64;

fn main() {}
