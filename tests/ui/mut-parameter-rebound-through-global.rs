use python4r::py_exec;

#[py_exec(code = r#"
def reset():
    global xs
    xs = []
reset()
"#)]
fn clear(xs: &mut Vec<i64>);

fn main() {}
