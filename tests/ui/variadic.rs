use python4r::py_exec;

#[py_exec(code = "result = x")]
fn f(x: i64, rest: ...) -> i64;

fn main() {}
