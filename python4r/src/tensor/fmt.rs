//! `Debug` and `Display` for [`Tensor`]: dtype, shape and values, elided when large, like numpy's
//! repr.

use std::fmt::{self, Write};

use super::Tensor;
use crate::datetime::DateText;
use crate::dtype::{DType, Element, Scalar, with_element_type};

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
            Scalar::Complex(re, im) => complex_text(re, im, t.dtype() == DType::Complex64),
            // numpy's repr: dates quoted, durations as counts, `NaT` quoted.
            Scalar::Time(count, unit) => match t.dtype() {
                DType::DateTime64(_) => format!("'{}'", DateText(count, unit)),
                _ if count == i64::MIN => "'NaT'".to_owned(),
                _ => count.to_string(),
            },
            _ => format!("{v:?}"),
        }
    })
}

/// `1.5+2.0j`, `0.0-1.0j`: numpy's form, with Rust's shortest float text (of `f32` for
/// `complex64`).
fn complex_text(re: f64, im: f64, single: bool) -> String {
    let sign = if im.is_sign_negative() && !im.is_nan() {
        '-'
    } else {
        '+'
    };
    if single {
        format!("{:?}{sign}{:?}j", re as f32, im.abs() as f32)
    } else {
        format!("{re:?}{sign}{:?}j", im.abs())
    }
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

pub(super) fn render(t: &Tensor, name: &str, strides: bool) -> Result<String, fmt::Error> {
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

    #[test]
    fn complex_and_time_values_print_as_numpy() {
        use crate::datetime::{DateTime64, TimeDelta64, units::*};
        use num_complex::{Complex32, Complex64};
        let z = Tensor::from_vec(
            vec![Complex64::new(1.5, 2.0), Complex64::new(0.0, -1.0)],
            &[2],
        );
        assert_eq!(
            z.unwrap().to_string(),
            "tensor([1.5+2.0j, 0.0-1.0j], dtype=complex128, shape=[2])"
        );
        let z = Tensor::scalar(Complex32::new(0.1, 0.0));
        assert_eq!(z.to_string(), "tensor(0.1+0.0j, dtype=complex64, shape=[])");
        let d = Tensor::from_vec(vec![DateTime64::<Days>::new(1), DateTime64::NAT], &[2]);
        assert_eq!(
            d.unwrap().to_string(),
            "tensor(['1970-01-02', 'NaT'], dtype=datetime64[D], shape=[2])"
        );
        let d = Tensor::from_vec(
            vec![TimeDelta64::<Milliseconds>::new(1), TimeDelta64::NAT],
            &[2],
        );
        assert_eq!(
            d.unwrap().to_string(),
            "tensor([1, 'NaT'], dtype=timedelta64[ms], shape=[2])"
        );
    }
}
