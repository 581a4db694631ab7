//! Conversions between [`Tensor`] and `ndarray` arrays (the `ndarray` that rust-numpy uses,
//! re-exported as `python4r::ndarray`).

use ndarray::{Array, ArrayD, ArrayView, ArrayViewD, Axis, Dimension, IxDyn, ShapeBuilder};

use super::elements::dtype_check;
use super::{Element, Storage, Tensor};
use crate::error::{Error, Result};

/// Moves an owned array into a tensor without copying, whatever its layout (C order, Fortran
/// order, or the result of slicing in place).
///
/// ```
/// use python4r::{Tensor, ndarray::array};
/// let a = array![[1.0f64, 2.0], [3.0, 4.0]].reversed_axes();
/// let ptr = a.as_ptr() as *const u8;
/// let t = Tensor::from(a);
/// assert_eq!(t.data_ptr(), ptr);
/// assert_eq!(t.to_vec::<f64>()?, vec![1.0, 3.0, 2.0, 4.0]);
/// # Ok::<(), python4r::Error>(())
/// ```
impl<T: Element, D: Dimension> From<Array<T, D>> for Tensor {
    fn from(array: Array<T, D>) -> Tensor {
        let size = size_of::<T>() as isize;
        let shape = super::Dims::from_slice(array.shape());
        let strides: super::Dims<isize> = array.strides().iter().map(|&s| s * size).collect();
        let (data, offset) = array.into_raw_vec_and_offset();
        let offset = offset.unwrap_or(0) as isize * size;
        // SAFETY: an owned ndarray array's elements all lie inside its `Vec`, at `offset` plus
        // the (byte-scaled) strides; the storage now owns that `Vec`.
        unsafe { Tensor::from_parts(Storage::from_vec(data), T::DTYPE, shape, strides, offset) }
    }
}

/// Copies the viewed elements (in logical order) into a new C-contiguous tensor.
///
/// ```
/// use python4r::{Tensor, ndarray::array};
/// let a = array![[1u8, 2], [3, 4]];
/// let t = Tensor::from(a.t());
/// assert_eq!(t.to_vec::<u8>()?, vec![1, 3, 2, 4]);
/// # Ok::<(), python4r::Error>(())
/// ```
impl<T: Element, D: Dimension> From<ArrayView<'_, T, D>> for Tensor {
    fn from(view: ArrayView<'_, T, D>) -> Tensor {
        let shape = view.shape().to_vec();
        Tensor::from_vec(view.iter().copied().collect(), &shape).expect("an ndarray shape is valid")
    }
}

/// Copies the tensor into an owned dynamic-dimensional array; an error if `T` is not the dtype.
impl<T: Element> TryFrom<&Tensor> for ArrayD<T> {
    type Error = Error;
    fn try_from(t: &Tensor) -> Result<ArrayD<T>> {
        t.to_ndarray()
    }
}

impl Tensor {
    /// A copy as an owned `ndarray` array (C order); an error if `T` is not the dtype.
    ///
    /// ```
    /// let t = python4r::Tensor::from_vec(vec![1i32, 2, 3, 4, 5, 6], &[2, 3])?;
    /// let a = t.transpose().to_ndarray::<i32>()?;
    /// assert_eq!(a.shape(), &[3, 2]);
    /// assert_eq!(a[[2, 1]], 6);
    /// # Ok::<(), python4r::Error>(())
    /// ```
    pub fn to_ndarray<T: Element>(&self) -> Result<ArrayD<T>> {
        let data = self.to_vec::<T>()?;
        Ok(ArrayD::from_shape_vec(IxDyn(self.shape()), data)
            .expect("to_vec gives shape-many elements"))
    }

    /// A zero-copy `ndarray` view of the same memory, with the same (possibly negative or zero)
    /// strides.
    ///
    /// Errors when `T` is not the dtype, and when a borrow would not be sound or not expressible:
    /// memory not aligned for `T` or strides that are not a multiple of the element size (some
    /// numpy arrays), bool bytes other than 0 and 1, or memory that Python code may still write
    /// (a tensor sharing a writable numpy array): use [`to_ndarray`](Tensor::to_ndarray) then.
    ///
    /// ```
    /// let t = python4r::Tensor::from_vec(vec![1u16, 2, 3, 4], &[2, 2])?;
    /// let flipped = t.flip(0)?;
    /// let v = flipped.view_ndarray::<u16>()?;
    /// assert_eq!(v[[0, 1]], 4);
    /// assert_eq!(v.as_ptr() as *const u8, flipped.data_ptr());
    /// # Ok::<(), python4r::Error>(())
    /// ```
    pub fn view_ndarray<T: Element>(&self) -> Result<ArrayViewD<'_, T>> {
        let (ptr, dims, inverted) = raw_view::<T>(self)?;
        // SAFETY: `raw_view` checked that the elements are those of the view (same memory,
        // axes re-oriented), aligned, and valid values of `T`; the storage keeps them alive for
        // the borrow of `self`, and nothing writes them during it: Rust writes only through
        // `&mut Tensor` on unique storage, and memory Python may write was refused (unless this
        // thread holds the GIL inside a Rust function Python called, before any Python runs:
        // `held`).
        let mut view = unsafe { ArrayViewD::from_shape_ptr(dims, ptr.cast::<T>()) };
        for axis in inverted {
            view.invert_axis(Axis(axis));
        }
        Ok(view)
    }
}

/// What an `ndarray` view of `t` needs: the lowest element's address, the shape with
/// non-negative element strides, and the axes to invert afterwards; an error when `T` is not
/// the dtype or the view would not be sound or expressible (see [`Tensor::view_ndarray`]).
pub(super) fn raw_view<T: Element>(
    t: &Tensor,
) -> Result<(*const u8, ndarray::StrideShape<IxDyn>, Vec<usize>)> {
    dtype_check::<T>(t.dtype())?;
    let size = size_of::<T>() as isize;
    let layout_err = |why: &str| {
        Error::Layout(format!(
            "cannot view this tensor (shape {:?}, byte strides {:?}) as an ndarray without \
             copying: {why}; use to_ndarray() to copy",
            t.shape(),
            t.strides()
        ))
    };
    if t.storage().python_may_write() && !super::held::reads_in_place(t.storage()) {
        return Err(layout_err("Python code may still write its memory"));
    }
    if t.is_empty() {
        let dims = IxDyn(t.shape()).strides(IxDyn(&vec![0; t.ndim()]));
        return Ok((
            std::ptr::NonNull::<T>::dangling().as_ptr().cast(),
            dims,
            Vec::new(),
        ));
    }
    if !(t.data_ptr() as usize).is_multiple_of(align_of::<T>())
        || t.strides().iter().any(|s| s % size != 0)
    {
        return Err(layout_err("it is not aligned for the element type"));
    }
    if T::DTYPE == super::DType::Bool {
        let mut valid = true;
        let base = t.storage().ptr();
        // SAFETY: each offset is an element of the view, one readable byte.
        t.for_each_offset(|off| valid &= unsafe { *base.offset(off) } <= 1);
        if !valid {
            return Err(layout_err("it holds bool bytes other than 0 and 1"));
        }
    }
    // ndarray wants non-negative strides from the lowest address: start there and invert the
    // reversed axes afterwards.
    let mut ptr = t.data_ptr();
    let mut strides = Vec::with_capacity(t.ndim());
    let mut inverted = Vec::new();
    for (axis, (&d, &s)) in t.shape().iter().zip(t.strides()).enumerate() {
        if s < 0 {
            ptr = ptr.wrapping_offset(s * (d as isize - 1));
            inverted.push(axis);
        }
        strides.push((s.unsigned_abs()) / size as usize);
    }
    Ok((ptr, IxDyn(t.shape()).strides(IxDyn(&strides)), inverted))
}
