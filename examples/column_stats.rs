//! Column statistics of a matrix: numpy computes the mean and standard deviation of each column,
//! returned as a tuple of tensors.

use python4r::{Tensor, py_exec};

#[py_exec(code = r#"
    mean = matrix.mean(axis=0)
    std = matrix.std(axis=0)
"#, output = ["mean", "std"])]
fn column_stats(matrix: &Tensor) -> python4r::Result<(Tensor, Tensor)>;

fn main() -> python4r::Result<()> {
    // Three measurements (rows) of four sensors (columns).
    let readings = vec![
        20.5_f64, 101.2, 0.31, 7.0, //
        21.0, 100.8, 0.29, 7.5, //
        19.9, 101.5, 0.35, 6.5,
    ];
    let matrix = Tensor::from_vec(readings, &[3, 4])?;
    let (mean, std) = column_stats(&matrix)?;
    println!("matrix = {matrix}");
    for (column, (m, s)) in mean
        .to_vec::<f64>()?
        .iter()
        .zip(std.to_vec::<f64>()?)
        .enumerate()
    {
        println!("column {column}: mean {m:8.3}, std {s:.4}");
    }
    // The transposed view crosses without a copy too: statistics of the rows.
    let (row_mean, _) = column_stats(&matrix.transpose())?;
    println!("row means = {row_mean}");
    Ok(())
}
