//! Views: tensors over the same storage with another shape, strides or offset (numpy's `.T`,
//! slicing, `np.flip`, broadcasting, indexing one axis, reshaping).
//!
//! Every view is made by [`Tensor::view`], which keeps the storage and starts without the private
//! `as_slice` snapshot of the tensor it came from.

use super::{DType, Dims, Tensor, c_strides, element_count};
use crate::error::{Error, Result};

impl Tensor {
    /// The view of the same storage with `shape`, byte `strides` and byte `offset`.
    ///
    /// Callers only make views whose elements are elements of `self`'s storage (a permutation,
    /// a sub-range, a reversal or a repetition of `self`'s), which is what keeps
    /// [`Tensor::from_parts`]'s invariant.
    pub(super) fn view(&self, shape: Dims<usize>, strides: Dims<isize>, offset: isize) -> Tensor {
        self.view_of(self.dtype, shape, strides, offset)
    }

    /// As [`view`](Tensor::view), of elements of `dtype`: callers also keep every element of
    /// the view inside an element of `self` (a complex number's part).
    fn view_of(
        &self,
        dtype: DType,
        shape: Dims<usize>,
        strides: Dims<isize>,
        offset: isize,
    ) -> Tensor {
        debug_assert_eq!(shape.len(), strides.len());
        Tensor {
            storage: self.storage.clone(),
            dtype,
            shape,
            strides,
            offset,
            snapshot: super::storage::Snapshot::new(),
            export: Default::default(),
        }
    }

    /// The real parts of a complex tensor, as a view (numpy's `a.real`): `float32` for
    /// `complex64`, `float64` for `complex128`. An error for other dtypes.
    ///
    /// ```
    /// use python4r::{DType, Tensor, num_complex::Complex64};
    /// let z = Tensor::from_vec(vec![Complex64::new(1.0, 2.0), Complex64::new(3.0, -4.0)], &[2])?;
    /// let re = z.real()?;
    /// assert_eq!((re.dtype(), re.strides()), (DType::Float64, &[16isize][..]));
    /// assert!(re.shares_storage(&z));
    /// assert_eq!(re.to_vec::<f64>()?, vec![1.0, 3.0]);
    /// assert_eq!(z.imag()?.to_vec::<f64>()?, vec![2.0, -4.0]);
    /// # Ok::<(), python4r::Error>(())
    /// ```
    pub fn real(&self) -> Result<Tensor> {
        self.complex_part(0)
    }

    /// The imaginary parts of a complex tensor, as a view (numpy's `a.imag`); see
    /// [`real`](Tensor::real).
    pub fn imag(&self) -> Result<Tensor> {
        self.complex_part(1)
    }

    fn complex_part(&self, index: isize) -> Result<Tensor> {
        // The part of a complex dtype is the float of half its size.
        let part = DType::ALL
            .into_iter()
            .find(|d| self.dtype.is_complex() && d.is_float() && 2 * d.size() == self.dtype.size())
            .ok_or(Error::DTypeMismatch {
                requested: DType::Complex128,
                actual: self.dtype,
            })?;
        let offset = self.offset + index * part.size() as isize;
        Ok(self.view_of(part, self.shape.clone(), self.strides.clone(), offset))
    }

    /// The view with the axes reversed (numpy's `.T`).
    pub fn transpose(&self) -> Tensor {
        let shape = self.shape.iter().rev().copied().collect();
        let strides = self.strides.iter().rev().copied().collect();
        self.view(shape, strides, self.offset)
    }

    /// The view with the axes in the order `axes` (numpy's `transpose(axes)`).
    ///
    /// ```
    /// let t = python4r::Tensor::zeros(python4r::DType::Int32, &[2, 3, 4])?;
    /// assert_eq!(t.permute(&[2, 0, 1])?.shape(), &[4, 2, 3]);
    /// assert!(t.permute(&[0, 0, 1]).is_err());
    /// # Ok::<(), python4r::Error>(())
    /// ```
    pub fn permute(&self, axes: &[usize]) -> Result<Tensor> {
        let mut seen = vec![false; self.ndim()];
        if axes.len() != self.ndim()
            || axes
                .iter()
                .any(|&a| a >= seen.len() || std::mem::replace(&mut seen[a], true))
        {
            return Err(Error::ShapeMismatch(format!(
                "axes {axes:?} are not a permutation of the {} axes",
                self.ndim()
            )));
        }
        let shape = axes.iter().map(|&a| self.shape[a]).collect();
        let strides = axes.iter().map(|&a| self.strides[a]).collect();
        Ok(self.view(shape, strides, self.offset))
    }

    /// The view of `start..end` along `axis`, every `step`-th element (numpy's
    /// `a[:, start:end:step]`).
    ///
    /// ```
    /// let t = python4r::Tensor::from_vec((0..10i32).collect(), &[10])?;
    /// assert_eq!(t.slice(0, 1..8, 3)?.to_vec::<i32>()?, vec![1, 4, 7]);
    /// # Ok::<(), python4r::Error>(())
    /// ```
    pub fn slice(&self, axis: usize, range: std::ops::Range<usize>, step: usize) -> Result<Tensor> {
        self.check_axis(axis)?;
        let dim = self.shape[axis];
        if range.start > range.end || range.end > dim || step == 0 {
            return Err(Error::ShapeMismatch(format!(
                "slice {range:?} with step {step} does not fit axis {axis} of size {dim}"
            )));
        }
        let count = (range.end - range.start).div_ceil(step);
        let mut offset = self.offset;
        if count > 0 {
            offset += range.start as isize * self.strides[axis];
        }
        let mut shape = self.shape.clone();
        let mut strides = self.strides.clone();
        shape[axis] = count;
        strides[axis] *= step as isize;
        Ok(self.view(shape, strides, offset))
    }

    /// The view with `axis` reversed (a negative stride; numpy's `np.flip(a, axis)`).
    pub fn flip(&self, axis: usize) -> Result<Tensor> {
        self.check_axis(axis)?;
        let dim = self.shape[axis];
        let mut offset = self.offset;
        if dim > 0 {
            offset += (dim as isize - 1) * self.strides[axis];
        }
        let mut strides = self.strides.clone();
        strides[axis] = -self.strides[axis];
        Ok(self.view(self.shape.clone(), strides, offset))
    }

    /// The view broadcast to `shape` by numpy's rules (stride 0 on repeated axes).
    ///
    /// ```
    /// let t = python4r::Tensor::from_vec(vec![1u8, 2, 3], &[3])?;
    /// let b = t.broadcast_to(&[2, 3])?;
    /// assert_eq!(b.strides(), &[0, 1]);
    /// assert_eq!(b.to_vec::<u8>()?, vec![1, 2, 3, 1, 2, 3]);
    /// # Ok::<(), python4r::Error>(())
    /// ```
    pub fn broadcast_to(&self, shape: &[usize]) -> Result<Tensor> {
        let err = || {
            Error::ShapeMismatch(format!(
                "cannot broadcast shape {:?} to {shape:?}",
                self.shape
            ))
        };
        if shape.len() < self.ndim() {
            return Err(err());
        }
        element_count(shape, self.dtype.size())?;
        let lead = shape.len() - self.ndim();
        let mut strides: Dims<isize> = smallvec::smallvec![0isize; shape.len()];
        for (k, &d) in shape.iter().enumerate().skip(lead) {
            let (od, os) = (self.shape[k - lead], self.strides[k - lead]);
            strides[k] = if od == d {
                os
            } else if od == 1 {
                0
            } else {
                return Err(err());
            };
        }
        Ok(self.view(Dims::from_slice(shape), strides, self.offset))
    }

    /// The sub-tensor at `index` along `axis`, with that axis removed (numpy's `a[:, i]`).
    ///
    /// ```
    /// let t = python4r::Tensor::from_vec(vec![1i16, 2, 3, 4, 5, 6], &[2, 3])?;
    /// assert_eq!(t.index_axis(1, 2)?.to_vec::<i16>()?, vec![3, 6]);
    /// # Ok::<(), python4r::Error>(())
    /// ```
    pub fn index_axis(&self, axis: usize, index: usize) -> Result<Tensor> {
        self.check_axis(axis)?;
        if index >= self.shape[axis] {
            return Err(Error::ShapeMismatch(format!(
                "index {index} is out of bounds for axis {axis} of size {}",
                self.shape[axis]
            )));
        }
        let offset = self.offset + index as isize * self.strides[axis];
        let mut shape = self.shape.clone();
        let mut strides = self.strides.clone();
        shape.remove(axis);
        strides.remove(axis);
        Ok(self.view(shape, strides, offset))
    }

    /// The same elements in a new shape: a view when the tensor is C-contiguous, else a copy.
    ///
    /// ```
    /// let t = python4r::Tensor::from_vec((0..6u32).collect(), &[6])?;
    /// let r = t.reshape(&[3, 2])?;
    /// assert!(r.shares_storage(&t));
    /// assert!(t.reshape(&[4, 2]).is_err());
    /// # Ok::<(), python4r::Error>(())
    /// ```
    pub fn reshape(&self, shape: &[usize]) -> Result<Tensor> {
        let n = element_count(shape, self.dtype.size())?;
        if n != self.len() {
            return Err(Error::ShapeMismatch(format!(
                "cannot reshape {} elements of shape {:?} into shape {shape:?}",
                self.len(),
                self.shape
            )));
        }
        let contiguous = self.to_contiguous();
        let strides = c_strides(shape, self.dtype.size());
        Ok(contiguous.view(Dims::from_slice(shape), strides, contiguous.offset))
    }
}
