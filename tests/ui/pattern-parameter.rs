use python4r::py_exec;

#[py_exec(code = "result = a + b")]
fn f((a, b): (i64, i64)) -> i64;

fn main() {}
