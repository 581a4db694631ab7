#![deny(deprecated)]

use python4r::py_exec;

#[py_exec(setup = "total = 0", code = r#"
def add(x):
    global total
    total = total + x
add(n)
result = total
"#)]
fn running_total(n: i64) -> i64;

fn main() {}
