use python4r::py_exec;

#[py_exec(code = "result = x")]
fn f(x: i64) -> i64 {
    x + 1
}

fn main() {}
