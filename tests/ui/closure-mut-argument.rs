use python4r::py_exec;

#[py_exec(code = "result = f([1.0])")]
fn call(f: &dyn Fn(&mut Vec<f64>) -> f64) -> f64;

fn main() {}
