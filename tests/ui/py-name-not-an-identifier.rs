use python4r::py_exec;

#[py_exec(code = "result = len(X)")]
fn rows(#[py(name = "X matrix")] x: Vec<f64>) -> usize;

fn main() {}
