use python4r::py_exec;

struct Opaque;

#[py_exec(code = "result = f(1.0)")]
fn call(f: &dyn Fn(Opaque) -> f64) -> f64;

fn main() {}
