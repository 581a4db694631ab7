//! The README's first example: a Rust function whose body is Python, with a tensor crossing to
//! numpy and back without a copy.

use python4r::{Tensor, py_exec};

/// Doubles every element, in numpy.
#[py_exec(code = "result = arr * 2.0")]
fn double(arr: &Tensor) -> Tensor;

fn main() -> python4r::Result<()> {
    let x = Tensor::from_vec(vec![1.0_f64, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3])?;
    let y = double(&x);
    println!("x = {x}");
    println!("double(x) = {y}");
    assert_eq!(y.to_vec::<f64>()?, vec![2.0, 4.0, 6.0, 8.0, 10.0, 12.0]);
    Ok(())
}
