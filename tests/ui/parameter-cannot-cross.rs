use python4r::py_exec;

struct Opaque;

#[py_exec(code = "result = 1")]
fn f(x: Opaque) -> i64;

fn main() {}
