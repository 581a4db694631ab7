//! Reading and writing the elements a [`TensorViewMut`] sees: copies out, borrowed slices and
//! `ndarray` views, and in-place writes into the parent's memory.

use ndarray::{ArrayViewD, ArrayViewMutD, Axis};

use super::TensorViewMut;
use crate::error::{Error, Result};
use crate::tensor::elements::dtype_check;
use crate::tensor::{DType, Element, Tensor};

impl TensorViewMut<'_> {
    /// The elements in logical row-major order; an error if `T` is not the dtype.
    ///
    /// ```
    /// let mut t = python4r::Tensor::from_vec(vec![1i8, 2, 3, 4], &[2, 2])?;
    /// let column = t.index_axis_mut(1, 1)?;
    /// assert_eq!(column.to_vec::<i8>()?, vec![2, 4]);
    /// assert_eq!(column.get::<i8>(&[1])?, 4);
    /// # Ok::<(), python4r::Error>(())
    /// ```
    pub fn to_vec<T: Element>(&self) -> Result<Vec<T>> {
        self.peek().to_vec()
    }

    /// One element, by index; see [`Tensor::get`].
    pub fn get<T: Element>(&self, index: &[usize]) -> Result<T> {
        self.peek().get(index)
    }

    /// A copy of the viewed elements as a new tensor (C order) that shares nothing with the
    /// parent.
    ///
    /// ```
    /// let mut t = python4r::Tensor::from_vec(vec![1u16, 2, 3, 4], &[2, 2])?;
    /// let column = t.index_axis_mut(1, 1)?.to_tensor();
    /// assert_eq!(column.to_vec::<u16>()?, vec![2, 4]);
    /// assert!(!column.shares_storage(&t));
    /// # Ok::<(), python4r::Error>(())
    /// ```
    pub fn to_tensor(&self) -> Tensor {
        self.peek().to_contiguous_copy()
    }

    /// An error unless Rust may hand out references into the parent's memory: true for every
    /// view (its constructors made the storage unique and Rust-owned), checked anyway.
    fn check_borrowable(&self) -> Result<()> {
        if self.parent.storage().python_may_write() {
            return Err(Error::Layout(
                "Python may still write this view's memory: read it with to_vec()".to_owned(),
            ));
        }
        Ok(())
    }

    /// An error unless the view is C-contiguous and aligned for `T`.
    fn check_slice<T: Element>(&self, what: &str) -> Result<()> {
        dtype_check::<T>(self.dtype())?;
        self.check_borrowable()?;
        if !self.is_contiguous() {
            return Err(Error::Layout(format!(
                "{what} needs a C-contiguous view, but shape {:?} has byte strides {:?}: use \
                 view_ndarray_mut(), or set() and to_vec()",
                self.shape, self.strides
            )));
        }
        if !self.is_empty() && !(self.data_ptr() as usize).is_multiple_of(align_of::<T>()) {
            return Err(Error::Layout(format!(
                "{what} needs memory aligned for the element type: use to_vec() and set()"
            )));
        }
        Ok(())
    }

    /// The elements as a slice of the parent's memory, for a C-contiguous view (a row, a
    /// range of rows); errors as [`Tensor::as_slice`], and for any other layout.
    ///
    /// ```
    /// let mut t = python4r::Tensor::from_vec(vec![1i32, 2, 3, 4], &[2, 2])?;
    /// assert_eq!(t.index_axis_mut(0, 1)?.as_slice::<i32>()?, &[3, 4]);
    /// assert!(t.index_axis_mut(1, 1)?.as_slice::<i32>().is_err()); // a column is strided
    /// # Ok::<(), python4r::Error>(())
    /// ```
    pub fn as_slice<T: Element>(&self) -> Result<&[T]> {
        self.check_slice::<T>("as_slice")?;
        let n = self.len();
        if n == 0 {
            return Ok(&[]);
        }
        // SAFETY: `n` contiguous, aligned elements of the parent's storage, which the parent
        // (borrowed for `'a`, outliving `&self`) keeps alive. Nothing writes them while `&self`
        // is borrowed: the storage is unique (made so by the constructor; no tensor, export or
        // Python object shares it, checked above for Python), and every writer goes through
        // `&mut self`.
        let bytes = unsafe { std::slice::from_raw_parts(self.data_ptr(), n * size_of::<T>()) };
        if !T::valid_bytes(bytes) {
            return Err(Error::Layout(
                "as_slice::<bool> found bytes other than 0 and 1: use to_vec::<bool>()".to_owned(),
            ));
        }
        // SAFETY: as above; the bytes are valid values of `T` (checked for bool).
        Ok(unsafe { std::slice::from_raw_parts(self.data_ptr().cast::<T>(), n) })
    }

    /// The elements as a mutable slice of the parent's memory, for a C-contiguous, aligned
    /// view; unlike [`Tensor::as_mut_slice`] it never copies (a copy would not be the
    /// parent's memory), so other layouts are an error: use
    /// [`view_ndarray_mut`](TensorViewMut::view_ndarray_mut) for them.
    ///
    /// ```
    /// let mut t = python4r::Tensor::from_vec(vec![1.0f32, 2.0, 3.0, 4.0], &[2, 2])?;
    /// t.index_axis_mut(0, 0)?.as_mut_slice::<f32>()?.copy_from_slice(&[9.0, 8.0]);
    /// assert_eq!(t.to_vec::<f32>()?, vec![9.0, 8.0, 3.0, 4.0]);
    /// # Ok::<(), python4r::Error>(())
    /// ```
    pub fn as_mut_slice<T: Element>(&mut self) -> Result<&mut [T]> {
        self.check_slice::<T>("as_mut_slice")?;
        let n = self.len();
        if n == 0 {
            return Ok(&mut []);
        }
        let ptr = self.data_ptr().cast_mut();
        if T::DTYPE == DType::Bool {
            // SAFETY: `n` contiguous bytes of the unique storage, written through `&mut self`.
            let bytes = unsafe { std::slice::from_raw_parts_mut(ptr, n) };
            bytes.iter_mut().for_each(|b| *b = u8::from(*b != 0));
        }
        // SAFETY: `n` contiguous, aligned elements of the parent's unique, Rust-writable storage
        // (see `as_slice`); `&mut self` borrows the view, which borrows the parent `&mut`, so
        // no other access exists for the slice's lifetime; the bytes are valid `T`s (bool
        // normalised above).
        Ok(unsafe { std::slice::from_raw_parts_mut(ptr.cast::<T>(), n) })
    }

    /// An `ndarray` view of the elements, any strides (errors as [`Tensor::view_ndarray`]).
    ///
    /// ```
    /// let mut t = python4r::Tensor::from_vec((0..6i32).collect(), &[2, 3])?;
    /// let view = t.transpose_mut();
    /// assert_eq!(view.view_ndarray::<i32>()?.sum(), 15);
    /// # Ok::<(), python4r::Error>(())
    /// ```
    pub fn view_ndarray<T: Element>(&self) -> Result<ArrayViewD<'_, T>> {
        self.check_borrowable()?;
        let view = self.peek();
        let (ptr, dims, inverted) = crate::tensor::ndarray::raw_view::<T>(&view)?;
        // SAFETY: `raw_view` checked dtype, alignment, strides and bool bytes; the elements are
        // the parent's, alive for `&self`, and nothing writes them meanwhile (see `as_slice`).
        let mut array = unsafe { ArrayViewD::from_shape_ptr(dims, ptr.cast::<T>()) };
        for axis in inverted {
            array.invert_axis(Axis(axis));
        }
        Ok(array)
    }

    /// A mutable `ndarray` view of the elements in the parent's memory, any strides (a
    /// column, a transpose), without a copy; errors as [`Tensor::view_ndarray`].
    ///
    /// ```
    /// let mut big = python4r::Tensor::from_vec((0..6).map(f64::from).collect(), &[2, 3])?;
    /// let mut column = big.index_axis_mut(1, 2)?;
    /// column.view_ndarray_mut::<f64>()?.mapv_inplace(|v| v * 10.0);
    /// assert_eq!(big.to_vec::<f64>()?, vec![0.0, 1.0, 20.0, 3.0, 4.0, 50.0]);
    /// # Ok::<(), python4r::Error>(())
    /// ```
    pub fn view_ndarray_mut<T: Element>(&mut self) -> Result<ArrayViewMutD<'_, T>> {
        self.check_borrowable()?;
        let view = self.peek();
        let (ptr, dims, inverted) = crate::tensor::ndarray::raw_view::<T>(&view)?;
        drop(view);
        // SAFETY: `raw_view` checked dtype, alignment, strides and bool bytes. The elements do
        // not overlap (views are permutations, sub-ranges and reversals of the parent, which
        // `make_unique` made free of broadcast axes); they are in the parent's unique,
        // Rust-writable storage, and `&mut self` excludes every other access while the array
        // view lives.
        let mut array = unsafe { ArrayViewMutD::from_shape_ptr(dims, ptr.cast_mut().cast::<T>()) };
        for axis in inverted {
            array.invert_axis(Axis(axis));
        }
        Ok(array)
    }

    /// Writes one element; an error if `T` is not the dtype or the index is out of bounds.
    ///
    /// ```
    /// let mut t = python4r::Tensor::zeros(python4r::DType::Bool, &[2, 2])?;
    /// t.index_axis_mut(1, 1)?.set(&[0], true)?;
    /// assert_eq!(t.to_vec::<bool>()?, vec![false, true, false, false]);
    /// # Ok::<(), python4r::Error>(())
    /// ```
    pub fn set<T: Element>(&mut self, index: &[usize], value: T) -> Result<()> {
        dtype_check::<T>(self.dtype())?;
        let off = self.peek().offset_of(index)?;
        // SAFETY: the index is in bounds, so `off` is an element of the view, inside the
        // parent's unique, Rust-writable storage; `&mut self` excludes any other access.
        unsafe {
            std::ptr::write_unaligned(self.parent.storage().ptr().offset(off).cast::<T>(), value)
        };
        Ok(())
    }

    /// Writes `value` into every element; an error if `T` is not the dtype.
    ///
    /// ```
    /// let mut t = python4r::Tensor::zeros(python4r::DType::Float64, &[2, 2])?;
    /// t.index_axis_mut(0, 0)?.fill(1.5f64)?;
    /// assert!(t.index_axis_mut(0, 1)?.fill(1.5f32).is_err()); // not the dtype
    /// assert_eq!(t.to_vec::<f64>()?, vec![1.5, 1.5, 0.0, 0.0]);
    /// # Ok::<(), python4r::Error>(())
    /// ```
    pub fn fill<T: Element>(&mut self, value: T) -> Result<()> {
        dtype_check::<T>(self.dtype())?;
        let base = self.parent.storage().ptr();
        self.peek().for_each_offset(|off| {
            // SAFETY: `off` is an element of the view, inside the parent's unique,
            // Rust-writable storage; `&mut self` excludes any other access.
            unsafe { std::ptr::write_unaligned(base.offset(off).cast::<T>(), value) }
        });
        Ok(())
    }

    /// Writes `src`'s elements (same shape, cast to this view's dtype as
    /// [`Tensor::cast`] does) into the view.
    ///
    /// ```
    /// use python4r::Tensor;
    /// let mut img = Tensor::zeros(python4r::DType::UInt8, &[2, 3])?;
    /// let row = Tensor::from_vec(vec![1.9f64, 2.0, 300.0], &[3])?;
    /// img.index_axis_mut(0, 1)?.assign(&row)?;
    /// assert_eq!(img.to_vec::<u8>()?, vec![0, 0, 0, 1, 2, 44]);
    /// # Ok::<(), python4r::Error>(())
    /// ```
    pub fn assign(&mut self, src: &Tensor) -> Result<()> {
        if src.shape() != self.shape() {
            return Err(Error::ShapeMismatch(format!(
                "cannot assign a tensor of shape {:?} to a view of shape {:?}",
                src.shape(),
                self.shape()
            )));
        }
        // `src` cannot share the parent's storage (it is unique), so this reads no element
        // that the loop below writes.
        let src = src.cast(self.dtype()).to_contiguous();
        let size = self.dtype().size();
        let (base, src_ptr) = (self.parent.storage().ptr(), src.data_ptr());
        let mut i = 0;
        self.peek().for_each_offset(|off| {
            // SAFETY: `off` is an element of the view in the parent's unique storage; `src` is
            // a distinct contiguous tensor with as many elements.
            unsafe { std::ptr::copy_nonoverlapping(src_ptr.add(i * size), base.offset(off), size) };
            i += 1;
        });
        Ok(())
    }

    /// The parent tensor, for the crossing to Python.
    #[cfg_attr(not(feature = "numpy"), allow(dead_code))]
    pub(crate) fn parent(&mut self) -> &mut Tensor {
        self.parent
    }
}
