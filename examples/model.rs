//! A stateful model: `setup` fits a least-squares model with numpy once; every call predicts.

use python4r::{Tensor, py_exec};

#[py_exec(
    setup = r#"
import numpy as np
rng = np.random.default_rng(7)
# Training data: y = 3 x0 - 2 x1 + 0.5, with a little noise.
X = rng.normal(size=(200, 2))
y = 3 * X[:, 0] - 2 * X[:, 1] + 0.5 + rng.normal(scale=0.01, size=200)
A = np.hstack([X, np.ones((200, 1))])
coef, *_ = np.linalg.lstsq(A, y, rcond=None)
"#,
    code = "result = features @ coef[:2] + coef[2]\nfitted = coef.tolist()",
    output = ["result", "fitted"]
)]
fn predict(features: &Tensor) -> python4r::Result<(Tensor, Vec<f64>)>;

fn main() -> python4r::Result<()> {
    let batch = Tensor::from_vec(vec![1.0_f64, 0.0, 0.0, 1.0, 2.0, 2.0], &[3, 2])?;
    let (predictions, fitted) = predict(&batch)?;
    println!("fitted coefficients: {fitted:.3?} (true: [3, -2, 0.5])");
    for (row, p) in predictions.to_vec::<f64>()?.iter().enumerate() {
        println!("prediction for row {row}: {p:.3}");
    }
    // The model is fitted once: a second call reuses it.
    let (again, _) = predict(&batch)?;
    assert_eq!(again.to_vec::<f64>()?, predictions.to_vec::<f64>()?);
    Ok(())
}
