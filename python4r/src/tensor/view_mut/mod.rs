//! [`TensorViewMut`]: a view that writes into its parent tensor's memory.
//!
//! `Tensor` values never alias mutably (copy on write). A `TensorViewMut` is how a part of a
//! tensor is changed in place: it borrows its parent `&mut`, and its constructors first make the
//! parent's storage unique, so the copy, if one is needed, happens on the parent, once; after
//! that, no other tensor, export or Python object can see the memory while the view lives.

mod access;

use std::fmt;

use super::{DType, Dims, Tensor};
use crate::dtype::with_element_type;
use crate::error::Result;

/// A writable view of part of a tensor (a column, a slice, the transpose), whose writes change
/// the parent in place: numpy's `big[:, 1]` as the target of an assignment.
///
/// Made by [`Tensor::view_mut`], [`index_axis_mut`](Tensor::index_axis_mut),
/// [`slice_mut`](Tensor::slice_mut), [`transpose_mut`](Tensor::transpose_mut),
/// [`permute_mut`](Tensor::permute_mut) and [`flip_mut`](Tensor::flip_mut) (there is no
/// writable broadcast: its elements would alias). These first make the parent's storage unique
/// (copying it if another tensor or a live export shares it), so the copy happens on the parent,
/// once, and every later write through a view lands in the parent's memory.
///
/// It holds the parent `&mut` and has no `Deref` to [`Tensor`]: a `&mut Tensor` reachable
/// from a view would let `*view = other` or `mem::replace` move shared storage out of the
/// borrow. Read it with [`to_vec`](TensorViewMut::to_vec), [`get`](TensorViewMut::get),
/// [`as_slice`](TensorViewMut::as_slice), [`view_ndarray`](TensorViewMut::view_ndarray),
/// or copy it out with [`to_tensor`](TensorViewMut::to_tensor); write it with
/// [`set`](TensorViewMut::set), [`fill`](TensorViewMut::fill),
/// [`assign`](TensorViewMut::assign), [`as_mut_slice`](TensorViewMut::as_mut_slice) and
/// [`view_ndarray_mut`](TensorViewMut::view_ndarray_mut).
///
/// As a `#[py_exec]` parameter `x: &mut TensorViewMut<'_>`, it reaches Python as a writable
/// `numpy.ndarray` over the parent's memory; if Python keeps that array, the parent moves to
/// its own copy after the call, as a `&mut Tensor` does. A `&mut Tensor` parameter does not
/// take a view: `&mut big.index_axis(1, 0)?` is a temporary tensor sharing `big`'s storage,
/// which copy on write detaches before Python writes it, so `big` does not change.
///
/// # Example
///
/// ```
/// use python4r::Tensor;
///
/// let mut big = Tensor::from_vec(vec![1.0f64, 4.0, 2.0, 9.0, 3.0, 16.0], &[3, 2])?;
/// let ptr = big.data_ptr();
/// let mut column = big.index_axis_mut(1, 1)?;
/// for i in 0..3 {
///     let v: f64 = column.get(&[i])?;
///     column.set(&[i], v.sqrt())?;
/// }
/// assert_eq!(big.to_vec::<f64>()?, vec![1.0, 2.0, 2.0, 3.0, 3.0, 4.0]);
/// assert_eq!(big.data_ptr(), ptr); // in place
/// # Ok::<(), python4r::Error>(())
/// ```
///
/// The parent cannot be used while the view lives, nor can two views coexist:
///
/// ```compile_fail,E0499
/// let mut big = python4r::Tensor::zeros(python4r::DType::Float32, &[2, 2])?;
/// let a = big.index_axis_mut(0, 0)?;
/// let b = big.index_axis_mut(0, 1)?; // error: `big` is already borrowed mutably
/// drop((a, b));
/// # Ok::<(), python4r::Error>(())
/// ```
///
/// ```compile_fail,E0308
/// let mut big = python4r::Tensor::zeros(python4r::DType::Float32, &[2, 2])?;
/// let mut view = big.view_mut();
/// let other: &mut python4r::Tensor = &mut view; // error: no `DerefMut` to `Tensor`
/// # Ok::<(), python4r::Error>(())
/// ```
pub struct TensorViewMut<'a> {
    parent: &'a mut Tensor,
    shape: Dims<usize>,
    /// Byte strides.
    strides: Dims<isize>,
    /// Byte offset of the first element from the parent's storage pointer.
    offset: isize,
}

impl Tensor {
    /// A writable view of the parent whose geometry `make` computes from the parent (through
    /// one of `Tensor`'s own views), after making the parent's storage unique and Rust-owned.
    fn writable_view(
        &mut self,
        make: impl Fn(&Tensor) -> Result<Tensor>,
    ) -> Result<TensorViewMut<'_>> {
        make(self)?; // Refuse a bad axis or range before copying anything.
        self.make_unique();
        if self.storage().bytes().is_none() {
            // Foreign memory is never unique and writable today; if it ever is, own a copy, so
            // that `detach_keeping_layout` can copy it at the same offsets.
            *self = self.to_contiguous_copy();
        }
        let view = make(self)?;
        let (shape, strides, offset) = (view.shape, view.strides, view.offset);
        Ok(TensorViewMut {
            parent: self,
            shape,
            strides,
            offset,
        })
    }

    /// A writable view of the whole tensor (see [`TensorViewMut`]): the storage is made unique
    /// first (copied if shared), and stays this tensor's memory.
    ///
    /// ```
    /// let mut t = python4r::Tensor::from_vec(vec![1u8, 2, 3], &[3])?;
    /// let shared = t.clone();
    /// t.view_mut().fill(7u8)?; // copies `t` once, then writes the copy
    /// assert_eq!((t.to_vec::<u8>()?, shared.to_vec::<u8>()?), (vec![7; 3], vec![1, 2, 3]));
    /// # Ok::<(), python4r::Error>(())
    /// ```
    pub fn view_mut(&mut self) -> TensorViewMut<'_> {
        self.writable_view(|t| Ok(t.clone()))
            .expect("the whole tensor is a valid view")
    }

    /// A writable view of the sub-tensor at `index` along `axis` (numpy's `a[:, i]` as an
    /// assignment target); see [`Tensor::index_axis`] and [`TensorViewMut`].
    ///
    /// ```
    /// let mut t = python4r::Tensor::from_vec(vec![1i32, 2, 3, 4], &[2, 2])?;
    /// t.index_axis_mut(1, 0)?.fill(0i32)?;
    /// assert_eq!(t.to_vec::<i32>()?, vec![0, 2, 0, 4]);
    /// # Ok::<(), python4r::Error>(())
    /// ```
    pub fn index_axis_mut(&mut self, axis: usize, index: usize) -> Result<TensorViewMut<'_>> {
        self.writable_view(|t| t.index_axis(axis, index))
    }

    /// A writable view of `start..end` along `axis`, every `step`-th element; see
    /// [`Tensor::slice`] and [`TensorViewMut`].
    ///
    /// ```
    /// let mut t = python4r::Tensor::from_vec((0..6i64).collect(), &[6])?;
    /// t.slice_mut(0, 1..6, 2)?.fill(-1i64)?;
    /// assert_eq!(t.to_vec::<i64>()?, vec![0, -1, 2, -1, 4, -1]);
    /// # Ok::<(), python4r::Error>(())
    /// ```
    pub fn slice_mut(
        &mut self,
        axis: usize,
        range: std::ops::Range<usize>,
        step: usize,
    ) -> Result<TensorViewMut<'_>> {
        self.writable_view(|t| t.slice(axis, range.clone(), step))
    }

    /// A writable view with the axes reversed; see [`Tensor::transpose`] and
    /// [`TensorViewMut`].
    ///
    /// ```
    /// let mut t = python4r::Tensor::zeros(python4r::DType::UInt8, &[2, 3])?;
    /// t.transpose_mut().set(&[2, 0], 5u8)?;
    /// assert_eq!(t.get::<u8>(&[0, 2])?, 5);
    /// # Ok::<(), python4r::Error>(())
    /// ```
    pub fn transpose_mut(&mut self) -> TensorViewMut<'_> {
        self.writable_view(|t| Ok(t.transpose()))
            .expect("the transpose is a valid view")
    }

    /// A writable view with the axes in the order `axes`; see [`Tensor::permute`].
    ///
    /// ```
    /// let mut t = python4r::Tensor::zeros(python4r::DType::Float64, &[2, 3])?;
    /// t.permute_mut(&[1, 0])?.set(&[2, 1], 1.0f64)?;
    /// assert_eq!(t.get::<f64>(&[1, 2])?, 1.0);
    /// # Ok::<(), python4r::Error>(())
    /// ```
    pub fn permute_mut(&mut self, axes: &[usize]) -> Result<TensorViewMut<'_>> {
        self.writable_view(|t| t.permute(axes))
    }

    /// A writable view with `axis` reversed; see [`Tensor::flip`].
    ///
    /// ```
    /// let mut t = python4r::Tensor::from_vec(vec![1i16, 2, 3], &[3])?;
    /// let reversed = python4r::Tensor::from_vec(vec![1i16, 2, 3], &[3])?;
    /// t.flip_mut(0)?.assign(&reversed)?;
    /// assert_eq!(t.to_vec::<i16>()?, vec![3, 2, 1]);
    /// # Ok::<(), python4r::Error>(())
    /// ```
    pub fn flip_mut(&mut self, axis: usize) -> Result<TensorViewMut<'_>> {
        self.writable_view(|t| t.flip(axis))
    }

    /// Moves this tensor to a copy of its storage with the same layout (same offsets and
    /// strides), so that whatever else holds the old storage (an array Python kept) no longer
    /// reaches it, and views computed from this tensor's geometry stay valid.
    #[cfg_attr(not(feature = "numpy"), allow(dead_code))]
    pub(crate) fn detach_keeping_layout(&mut self) {
        let storage = if self.dtype() == DType::Bool {
            self.storage().duplicate::<u8>()
        } else {
            with_element_type!(self.dtype(), T => self.storage().duplicate::<T>())
        };
        match storage {
            Some(storage) => {
                // SAFETY: the copy has every byte of the old storage at the same offset, so the
                // elements of this tensor (inside the old storage) are inside the copy.
                *self = unsafe {
                    Tensor::from_parts(
                        storage,
                        self.dtype(),
                        self.shape.clone(),
                        self.strides.clone(),
                        self.offset(),
                    )
                };
            }
            None => unreachable!("views are only made of Rust-owned storage"),
        }
    }
}

impl<'a> TensorViewMut<'a> {
    /// This view as a `Tensor` sharing the parent's storage, for reading only: it never
    /// escapes, so the storage is unique again when it drops.
    fn peek(&self) -> Tensor {
        self.parent
            .view(self.shape.clone(), self.strides.clone(), self.offset)
    }

    /// The view of this view whose geometry `make` computes.
    fn narrowed(self, make: impl FnOnce(&Tensor) -> Result<Tensor>) -> Result<TensorViewMut<'a>> {
        let view = make(&self.peek())?;
        let (shape, strides, offset) = (view.shape, view.strides, view.offset);
        Ok(TensorViewMut {
            parent: self.parent,
            shape,
            strides,
            offset,
        })
    }

    /// A shorter-lived view of the same elements, to narrow it while keeping this one.
    ///
    /// ```
    /// let mut t = python4r::Tensor::zeros(python4r::DType::Int8, &[2, 2])?;
    /// let mut all = t.view_mut();
    /// all.reborrow().index_axis_mut(0, 1)?.fill(1i8)?;
    /// all.reborrow().transpose_mut().set(&[1, 0], 5i8)?;
    /// assert_eq!(all.to_vec::<i8>()?, vec![0, 5, 1, 1]);
    /// # Ok::<(), python4r::Error>(())
    /// ```
    pub fn reborrow(&mut self) -> TensorViewMut<'_> {
        TensorViewMut {
            parent: self.parent,
            shape: self.shape.clone(),
            strides: self.strides.clone(),
            offset: self.offset,
        }
    }

    /// The sub-view at `index` along `axis`; see [`Tensor::index_axis`].
    ///
    /// ```
    /// let mut t = python4r::Tensor::zeros(python4r::DType::Float32, &[2, 3, 4])?;
    /// t.index_axis_mut(0, 1)?.index_axis_mut(1, 2)?.fill(1.0f32)?;
    /// assert_eq!(t.get::<f32>(&[1, 0, 2])?, 1.0);
    /// assert_eq!(t.cast(python4r::DType::Float64).to_vec::<f64>()?.iter().sum::<f64>(), 3.0);
    /// # Ok::<(), python4r::Error>(())
    /// ```
    pub fn index_axis_mut(self, axis: usize, index: usize) -> Result<TensorViewMut<'a>> {
        self.narrowed(|t| t.index_axis(axis, index))
    }

    /// The sub-view of `start..end` along `axis`, every `step`-th element; see
    /// [`Tensor::slice`].
    ///
    /// ```
    /// let mut t = python4r::Tensor::zeros(python4r::DType::Int64, &[2, 4])?;
    /// t.index_axis_mut(0, 1)?.slice_mut(0, 0..4, 3)?.fill(1i64)?;
    /// assert_eq!(t.to_vec::<i64>()?, vec![0, 0, 0, 0, 1, 0, 0, 1]);
    /// # Ok::<(), python4r::Error>(())
    /// ```
    pub fn slice_mut(
        self,
        axis: usize,
        range: std::ops::Range<usize>,
        step: usize,
    ) -> Result<TensorViewMut<'a>> {
        self.narrowed(|t| t.slice(axis, range, step))
    }

    /// The view with the axes reversed; see [`Tensor::transpose`].
    ///
    /// ```
    /// let mut t = python4r::Tensor::zeros(python4r::DType::Int8, &[2, 3, 4])?;
    /// let v = t.slice_mut(2, 0..2, 1)?.transpose_mut();
    /// assert_eq!(v.shape(), &[2, 3, 2]);
    /// # Ok::<(), python4r::Error>(())
    /// ```
    pub fn transpose_mut(self) -> TensorViewMut<'a> {
        self.narrowed(|t| Ok(t.transpose()))
            .expect("the transpose is a valid view")
    }

    /// The view with the axes in the order `axes`; see [`Tensor::permute`].
    ///
    /// ```
    /// let mut t = python4r::Tensor::zeros(python4r::DType::Int8, &[2, 3, 4])?;
    /// assert_eq!(t.view_mut().permute_mut(&[2, 0, 1])?.shape(), &[4, 2, 3]);
    /// # Ok::<(), python4r::Error>(())
    /// ```
    pub fn permute_mut(self, axes: &[usize]) -> Result<TensorViewMut<'a>> {
        self.narrowed(|t| t.permute(axes))
    }

    /// The view with `axis` reversed; see [`Tensor::flip`].
    ///
    /// ```
    /// let mut t = python4r::Tensor::from_vec(vec![0u8; 3], &[3])?;
    /// t.view_mut().flip_mut(0)?.set(&[0], 9u8)?;
    /// assert_eq!(t.to_vec::<u8>()?, vec![0, 0, 9]);
    /// # Ok::<(), python4r::Error>(())
    /// ```
    pub fn flip_mut(self, axis: usize) -> Result<TensorViewMut<'a>> {
        self.narrowed(|t| t.flip(axis))
    }

    /// The element type (the parent's).
    ///
    /// ```
    /// let mut t = python4r::Tensor::zeros(python4r::DType::UInt32, &[2, 3])?;
    /// let column = t.index_axis_mut(1, 0)?;
    /// assert_eq!(column.dtype(), python4r::DType::UInt32);
    /// assert_eq!((column.shape(), column.ndim(), column.len()), (&[2usize][..], 1, 2));
    /// assert!(!column.is_empty() && !column.is_contiguous());
    /// # Ok::<(), python4r::Error>(())
    /// ```
    pub fn dtype(&self) -> DType {
        self.parent.dtype()
    }

    /// The size of each axis.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The stride of each axis in bytes, as [`Tensor::strides`].
    ///
    /// ```
    /// let mut t = python4r::Tensor::zeros(python4r::DType::Int16, &[2, 3])?;
    /// assert_eq!(t.index_axis_mut(1, 0)?.strides(), &[6]);
    /// # Ok::<(), python4r::Error>(())
    /// ```
    pub fn strides(&self) -> &[isize] {
        &self.strides
    }

    /// The number of axes.
    pub fn ndim(&self) -> usize {
        self.shape.len()
    }

    /// The number of elements.
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// Whether the view has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the elements are in row-major order without gaps.
    pub fn is_contiguous(&self) -> bool {
        self.peek().is_contiguous()
    }

    /// The address of the first element (inside the parent's memory). Never dereference it.
    ///
    /// ```
    /// let mut t = python4r::Tensor::zeros(python4r::DType::Float32, &[2, 3])?;
    /// let start = t.data_ptr();
    /// assert_eq!(t.index_axis_mut(0, 1)?.data_ptr(), start.wrapping_add(12));
    /// # Ok::<(), python4r::Error>(())
    /// ```
    pub fn data_ptr(&self) -> *const u8 {
        self.parent.storage().ptr().wrapping_offset(self.offset)
    }

    /// This view as a tensor sharing the parent's storage, for the crossing to Python.
    #[cfg_attr(not(feature = "numpy"), allow(dead_code))]
    pub(crate) fn shared(&self) -> Tensor {
        self.peek()
    }
}

/// As the viewed tensor: `tensor([...], dtype=..., shape=[...])`.
impl fmt::Display for TensorViewMut<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.peek(), f)
    }
}

/// As the viewed tensor's `Debug`, named `TensorViewMut`.
impl fmt::Debug for TensorViewMut<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&super::fmt::render(&self.peek(), "TensorViewMut", true)?)
    }
}
