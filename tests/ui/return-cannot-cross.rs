use python4r::py_exec;

struct Opaque;

#[py_exec(code = "result = x")]
fn f(x: i64) -> Opaque;

fn main() {}
