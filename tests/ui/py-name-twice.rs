use python4r::py_exec;

#[py_exec(code = "result = X + y")]
fn add(#[py(name = "X")] x: f64, #[py(name = "X")] y: f64) -> f64;

fn main() {}
