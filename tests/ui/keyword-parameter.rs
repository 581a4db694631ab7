use python4r::py_exec;

#[py_exec(code = "result = 1")]
fn f(lambda: i64) -> i64;

fn main() {}
