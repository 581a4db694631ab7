//! Every closure form a `#[py_exec]` parameter may take compiles without warnings.
#![deny(warnings)]

use python4r::{Tensor, py_exec};

#[py_exec(code = "result = f(g(1.0))")]
fn two(f: &dyn Fn(f64) -> f64, g: &(dyn Fn(f64) -> f64 + Sync)) -> f64;

#[py_exec(code = "f(1, 'a', [1.0])")]
fn unit(f: &mut dyn FnMut(i64, &str, &[f64]));

#[py_exec(code = "result = f(x)")]
fn owned(f: impl Fn(&Tensor) -> python4r::Result<Tensor>, x: &Tensor) -> python4r::Result<Tensor>;

#[py_exec(code = "result = f()")]
fn owned_mut(f: impl FnMut() -> (i64, String)) -> (i64, String);

#[allow(dead_code)]
fn calls(x: &Tensor) -> python4r::Result<Tensor> {
    let _ = owned_mut(|| (1, String::new()));
    owned(|t| Ok(t.clone()), x)
}

fn main() {
    let _ = two;
    let _ = unit;
}
