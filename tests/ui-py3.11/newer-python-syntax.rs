use python4r::py_exec;

// Built for Python 3.11: `type` statements arrived in 3.12.
#[py_exec(code = "type Pair = tuple[int, int]\nresult = x")]
fn f(x: i64) -> i64;

fn main() {}
