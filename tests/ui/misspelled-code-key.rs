use python4r::py_exec;

#[py_exec(cod = "result = 1")]
fn one() -> i64;

fn main() {}
