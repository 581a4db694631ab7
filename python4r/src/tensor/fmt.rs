//! `Debug` and `Display` for [`Tensor`]: dtype, shape and values, elided when large, like numpy's
//! repr.

use std::fmt::{self, Write};

use super::{DType, Element, Scalar, Tensor, with_element_type};

/// Above this many elements, each long axis shows only its first and last `EDGE_ITEMS` entries
/// (numpy's `threshold` and `edgeitems`).
const THRESHOLD: usize = 1000;
const EDGE_ITEMS: usize = 3;

fn element_text(t: &Tensor, off: isize) -> String {
    let ptr = t.storage().ptr().wrapping_offset(off);
    with_element_type!(t.dtype(), T => {
        // SAFETY: `off` is the offset of an element of the view (computed from an in-bounds index).
        let v = unsafe { <T as Element>::read(ptr) };
        match v.to_scalar() {
            Scalar::Bool(b) => if b { "True" } else { "False" }.to_owned(),
            // half's Debug prints the f32 digits; the shortest f32 text reads better.
            Scalar::Float(x) if matches!(t.dtype(), DType::BFloat16 | DType::Float16) => {
                format!("{:?}", x as f32)
            }
            _ => format!("{v:?}"),
        }
    })
}

fn write_axis(
    t: &Tensor,
    f: &mut String,
    axis: usize,
    off: isize,
    indent: usize,
    elide: bool,
) -> fmt::Result {
    if axis == t.ndim() {
        f.push_str(&element_text(t, off));
        return Ok(());
    }
    let dim = t.shape()[axis];
    let stride = t.strides()[axis];
    f.push('[');
    let mut first = true;
    let mut i = 0;
    while i < dim {
        if !first {
            f.push(',');
            if axis + 1 == t.ndim() {
                f.push(' ');
            } else {
                let blank_lines = t.ndim() - axis - 1;
                for _ in 0..blank_lines {
                    f.push('\n');
                }
                write!(f, "{:width$}", "", width = indent + axis + 1)?;
            }
        }
        first = false;
        if elide && dim > 2 * EDGE_ITEMS && i == EDGE_ITEMS {
            f.push_str("...");
            i = dim - EDGE_ITEMS;
            continue;
        }
        write_axis(t, f, axis + 1, off + i as isize * stride, indent, elide)?;
        i += 1;
    }
    f.push(']');
    Ok(())
}

fn render(t: &Tensor, name: &str, strides: bool) -> Result<String, fmt::Error> {
    let mut s = format!("{name}(");
    let indent = s.len();
    let mut body = String::new();
    let mut run = || write_axis(t, &mut body, 0, t.offset(), indent, t.len() > THRESHOLD);
    if t.is_empty() {
        body.push_str(&"[".repeat(t.ndim().max(1)));
        body.push_str(&"]".repeat(t.ndim().max(1)));
    } else {
        let mut res = Ok(());
        t.storage().locked(&mut || res = run());
        res?;
    }
    s.push_str(&body);
    write!(s, ", dtype={}, shape={:?}", t.dtype(), t.shape())?;
    if strides {
        write!(s, ", strides={:?}", t.strides())?;
    }
    s.push(')');
    Ok(s)
}

/// numpy-like: `tensor([[1, 2], [3, 4]], dtype=int32, shape=[2, 2])`, with `...` for the middle of
/// long axes when the tensor has more than 1000 elements.
///
/// ```
/// let t = python4r::Tensor::from_vec(vec![1i32, 2, 3, 4], &[2, 2])?;
/// assert_eq!(t.to_string(), "tensor([[1, 2],\n        [3, 4]], dtype=int32, shape=[2, 2])");
/// # Ok::<(), python4r::Error>(())
/// ```
impl fmt::Display for Tensor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&render(self, "tensor", false)?)
    }
}

/// As `Display`, with the byte strides.
impl fmt::Debug for Tensor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&render(self, "Tensor", true)?)
    }
}

#[cfg(test)]
mod tests {
    use crate::{DType, Tensor};

    #[test]
    fn small_tensors_print_every_value() {
        let t = Tensor::from_vec(vec![1.5f32, 2.0, -3.25], &[3]).unwrap();
        assert_eq!(
            t.to_string(),
            "tensor([1.5, 2.0, -3.25], dtype=float32, shape=[3])"
        );
        assert_eq!(
            Tensor::scalar(true).to_string(),
            "tensor(True, dtype=bool, shape=[])"
        );
        let e = Tensor::zeros(DType::Int8, &[2, 0]).unwrap();
        assert_eq!(e.to_string(), "tensor([[]], dtype=int8, shape=[2, 0])");
        assert!(format!("{:?}", t).contains("strides=[4]"));
    }

    #[test]
    fn large_tensors_are_elided() {
        let t = Tensor::from_vec((0..2000i64).collect(), &[2000]).unwrap();
        assert_eq!(
            t.to_string(),
            "tensor([0, 1, 2, ..., 1997, 1998, 1999], dtype=int64, shape=[2000])"
        );
        let t = Tensor::zeros(DType::UInt8, &[100, 100])
            .unwrap()
            .transpose();
        let s = t.to_string();
        assert!(s.contains("...") && s.lines().count() == 7, "{s}");
    }
}
