use python4r::py_exec;

#[py_exec(code = "result = x\nyield result")]
fn f(x: i64) -> i64;

fn main() {}
