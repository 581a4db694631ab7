use python4r::py_exec;

#[py_exec(code = r#"
    y = x +
    result = y
"#)]
fn f(x: f64) -> f64;

fn main() {}
