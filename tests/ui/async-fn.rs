use python4r::py_exec;

#[py_exec(code = "result = x")]
async fn f(x: i64) -> i64;

fn main() {}
