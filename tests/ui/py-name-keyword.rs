use python4r::py_exec;

#[py_exec(code = "result = len(xs)")]
fn size(#[py(name = "lambda")] xs: Vec<f64>) -> usize;

fn main() {}
