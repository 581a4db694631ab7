use python4r::py_exec;

#[py_exec(code = "result = x")]
fn f<T>(x: T) -> T;

fn main() {}
