use python4r::py_exec;

#[py_exec(code = "reslt = x * 2")]
fn f(x: i64) -> i64;

fn main() {}
