use python4r::py_exec;

#[py_exec(code = "if x < 0:\n    return 0\nresult = x")]
fn f(x: i64) -> i64;

fn main() {}
