//! Where a tensor's elements are: shape and byte-stride arithmetic, contiguity, bounds, and
//! visiting every element's offset.

use super::Tensor;
use crate::error::{Error, Result};

/// Shape or strides: inline up to four dimensions, so that making a tensor (one from numpy on
/// every call, say) allocates no more than it must.
pub(crate) type Dims<T> = smallvec::SmallVec<[T; 4]>;

/// `values` as dimensions. Up to four are copied as four words, each read or zero: a copy of a
/// slice whose length the compiler does not know is a call to `memcpy`, more than a few words
/// cost on a path that runs on every call.
#[inline]
pub(crate) fn dims_from<T: Copy + Default>(values: &[T]) -> Dims<T> {
    if values.len() <= 4 {
        let at = |i: usize| values.get(i).copied().unwrap_or_default();
        return Dims::from_buf_and_len([at(0), at(1), at(2), at(3)], values.len());
    }
    Dims::from_slice(values)
}

/// Number of elements of `shape`, or an error if it (or its size in bytes) overflows `isize`.
pub(crate) fn element_count(shape: &[usize], itemsize: usize) -> Result<usize> {
    let overflow = || Error::ShapeOverflow {
        shape: shape.to_vec(),
    };
    let n = shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(overflow)?;
    match n.checked_mul(itemsize) {
        Some(bytes) if bytes <= isize::MAX as usize => Ok(n),
        _ => Err(overflow()),
    }
}

/// Row-major (C order) byte strides of `shape`.
pub(crate) fn c_strides(shape: &[usize], itemsize: usize) -> Dims<isize> {
    if let [_] = shape {
        return smallvec::smallvec![itemsize as isize];
    }
    let mut strides: Dims<isize> = smallvec::smallvec![0isize; shape.len()];
    let mut acc = itemsize as isize;
    for (s, &d) in strides.iter_mut().zip(shape).rev() {
        *s = acc;
        acc = acc.wrapping_mul(d.max(1) as isize);
    }
    strides
}

/// Whether every element (`itemsize` bytes at `offset + Σ i·stride`) lies in `0..bytes`.
#[cfg_attr(not(feature = "numpy"), allow(dead_code))]
pub(crate) fn within(
    bytes: usize,
    offset: isize,
    shape: &[usize],
    strides: &[isize],
    itemsize: usize,
) -> bool {
    if shape.contains(&0) {
        return true;
    }
    let (mut lo, mut hi) = (offset, offset);
    for (&d, &s) in shape.iter().zip(strides) {
        let span = s * (d as isize - 1);
        if span < 0 {
            lo += span;
        } else {
            hi += span;
        }
    }
    lo >= 0
        && hi >= 0
        && (hi as usize)
            .checked_add(itemsize)
            .is_some_and(|end| end <= bytes)
}

impl Tensor {
    /// Whether the elements are stored in row-major (C) order without gaps.
    ///
    /// ```
    /// let t = python4r::Tensor::zeros(python4r::DType::Int8, &[2, 2])?;
    /// assert!(t.is_contiguous());
    /// assert!(!t.transpose().is_contiguous());
    /// # Ok::<(), python4r::Error>(())
    /// ```
    pub fn is_contiguous(&self) -> bool {
        if self.is_empty() {
            return true;
        }
        let mut expected = self.dtype().size() as isize;
        for (&d, &s) in self.shape().iter().zip(self.strides()).rev() {
            if d != 1 && s != expected {
                return false;
            }
            expected *= d as isize;
        }
        true
    }

    /// Whether a stride-0 axis shows one memory location at several indices (a broadcast view):
    /// writing it would change all of them at once.
    pub(crate) fn has_overlapping_elements(&self) -> bool {
        self.shape()
            .iter()
            .zip(self.strides())
            .any(|(&n, &s)| n > 1 && s == 0)
    }

    /// The byte offset (from the storage pointer) of the element at `index`, or an error if the
    /// index does not fit the shape.
    pub(crate) fn offset_of(&self, index: &[usize]) -> Result<isize> {
        if index.len() != self.ndim() || index.iter().zip(self.shape()).any(|(&i, &d)| i >= d) {
            return Err(Error::ShapeMismatch(format!(
                "index {index:?} is out of bounds for shape {:?}",
                self.shape()
            )));
        }
        Ok(self.offset()
            + index
                .iter()
                .zip(self.strides())
                .map(|(&i, &s)| i as isize * s)
                .sum::<isize>())
    }

    /// Calls `f` with the byte offset (from the storage pointer) of every element, in row-major
    /// order.
    pub(crate) fn for_each_offset(&self, mut f: impl FnMut(isize)) {
        if self.is_empty() {
            return;
        }
        let (shape, strides) = (self.shape(), self.strides());
        let nd = shape.len();
        let mut index: Dims<usize> = smallvec::smallvec![0usize; nd];
        let mut off = self.offset();
        loop {
            f(off);
            let mut axis = nd;
            loop {
                if axis == 0 {
                    return;
                }
                axis -= 1;
                index[axis] += 1;
                off += strides[axis];
                if index[axis] < shape[axis] {
                    break;
                }
                off -= strides[axis] * shape[axis] as isize;
                index[axis] = 0;
            }
        }
    }

    /// An error unless `axis` is one of the tensor's axes.
    pub(crate) fn check_axis(&self, axis: usize) -> Result<()> {
        if axis < self.ndim() {
            Ok(())
        } else {
            Err(Error::ShapeMismatch(format!(
                "axis {axis} is out of range for a tensor with {} axes",
                self.ndim()
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_of_strided_views() {
        assert!(within(24, 0, &[2, 3], &[12, 4], 4));
        assert!(!within(20, 0, &[2, 3], &[12, 4], 4));
        assert!(within(24, 20, &[2, 3], &[-12, -4], 4));
        assert!(!within(24, 16, &[2, 3], &[-12, -4], 4));
        assert!(
            within(0, 1 << 40, &[0, 3], &[12, 4], 4),
            "empty views fit anywhere"
        );
    }

    #[test]
    fn dimensions_of_every_length_are_copied_whole() {
        let values: Vec<isize> = (1..=7).map(|i| i * -3).collect();
        for n in 0..=values.len() {
            let dims = dims_from(&values[..n]);
            assert_eq!(&dims[..], &values[..n], "{n} dimensions");
            assert_eq!(dims.spilled(), n > 4, "{n} dimensions inline up to four");
        }
    }
}
