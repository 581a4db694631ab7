use python4r::py_exec;

#[py_exec(crate = "my crate", code = "result = 1")]
fn one() -> i64;

fn main() {}
