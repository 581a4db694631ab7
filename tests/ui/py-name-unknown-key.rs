use python4r::py_exec;

#[py_exec(code = "result = len(X)")]
fn rows(#[py(nmae = "X")] x: Vec<f64>) -> usize;

fn main() {}
