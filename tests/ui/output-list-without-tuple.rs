use python4r::py_exec;

#[py_exec(code = "q, r = divmod(a, b)", output = ["q", "r"])]
fn f(a: i64, b: i64) -> i64;

fn main() {}
