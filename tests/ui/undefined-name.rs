use python4r::py_exec;

#[py_exec(code = "result = arrr * 2")]
fn f(arr: i64) -> i64;

fn main() {}
