use python4r::py_exec;

#[py_exec(code = "count = 0\ndef bump():\n    nonlocal count\n    count += 1\nbump()\nresult = count")]
fn f() -> i64;

fn main() {}
