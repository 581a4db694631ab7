//! Image-like data: a height × width × channels `u8` tensor normalised to `f32` in numpy.

use python4r::{Tensor, py_exec};

/// Scales each channel to zero mean and unit variance, as a network's input layer expects.
#[py_exec(
    code = r#"
    pixels = image.astype(np.float32) / 255.0
    mean = pixels.mean(axis=(0, 1), keepdims=True)
    std = pixels.std(axis=(0, 1), keepdims=True) + 1e-6
    result = (pixels - mean) / std
"#,
    setup = "import numpy as np"
)]
fn normalise(image: &Tensor) -> python4r::Result<Tensor>;

fn main() -> python4r::Result<()> {
    let (height, width) = (4, 6);
    // A gradient in red, a checkerboard in green, a constant blue.
    let mut data = Vec::with_capacity(height * width * 3);
    for y in 0..height {
        for x in 0..width {
            data.push((x * 255 / (width - 1)) as u8);
            data.push(if (x + y) % 2 == 0 { 255 } else { 0 });
            data.push(128);
        }
    }
    let image = Tensor::from_vec(data, &[height, width, 3])?;
    let input = normalise(&image)?;
    println!(
        "image: {:?} {:?}, first pixel {:?}",
        image.dtype(),
        image.shape(),
        &image.to_vec::<u8>()?[..3]
    );
    println!("normalised: {:?} {:?}", input.dtype(), input.shape());
    let values = input.to_vec::<f32>()?;
    for (channel, name) in ["red", "green", "blue"].iter().enumerate() {
        let c: Vec<f32> = values.iter().skip(channel).step_by(3).copied().collect();
        let mean = c.iter().sum::<f32>() / c.len() as f32;
        println!(
            "{name:>5}: mean {mean:+.3}, min {:+.3}, max {:+.3}",
            c.iter().cloned().fold(f32::MAX, f32::min),
            c.iter().cloned().fold(f32::MIN, f32::max)
        );
    }
    Ok(())
}
