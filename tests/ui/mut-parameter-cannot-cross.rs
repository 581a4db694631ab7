use python4r::py_exec;

#[py_exec(code = "x += 1")]
fn f(x: &mut i64);

fn main() {}
