use python4r::py_exec;

#[py_exec(code = "xs = xs + [1]")]
fn append_one(xs: &mut Vec<i64>);

fn main() {}
