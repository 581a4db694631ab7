//! [`Tensor`]: an n-dimensional array with a runtime [`DType`], whose memory numpy can share.
//!
//! # Sharing model
//!
//! A tensor is a view (dtype, shape, byte strides, byte offset) of a reference-counted *storage*.
//! A storage is either a Rust allocation (a `Vec<T>` taken over by [`Tensor::from_vec`]) or
//! memory owned by something else that the storage keeps alive: a numpy array, or a DLPack
//! producer's managed tensor. There is no global cache anywhere: every owner is held by whoever
//! uses the memory, and memory is freed when the last user, Rust or Python, lets go.
//!
//! | crossing | what happens | memory kept alive by |
//! |---|---|---|
//! | `&Tensor` → Python | ndarray over the same memory, `WRITEABLE` false | the array's `base`, a `python4r.TensorStorage` holding the storage |
//! | `&mut Tensor` → Python | storage made unique (copied if shared), ndarray over it, writable | as above |
//! | `&mut TensorViewMut` → Python | the parent's storage was made unique when the view was made; ndarray over the view's elements in it, writable | as above |
//! | after the `&mut` call | Python kept the array or a view: the tensor (the view's parent) moves to a copy; else it keeps its memory | |
//! | ndarray → `Tensor` | shares the array's memory, any layout | the tensor holds the array |
//! | view of an exported tensor → `Tensor` | shares that tensor's storage | the storage |
//! | byte-swapped ndarray → `Tensor` | native-order copy | |
//! | bfloat16 → Python (default) | float32 copy; after a `&mut` call its values are written back | the copy's `base` |
//! | [`Tensor::to_dlpack`] / [`Tensor::from_dlpack`] | DLPack capsule, read-only flag when shared | the capsule's deleter |
//!
//! # Soundness
//!
//! What safe Rust guarantees, whatever safe Rust code does:
//!
//! - **No use after free.** Every pointer a tensor or an exported array uses points into a
//!   storage that the tensor, or the array's base object, owns through an `Arc`. Python keeping
//!   an array after the tensor dropped (or Rust keeping a tensor after Python dropped the array)
//!   is the normal case, not a hazard: python4j's "memory considerations" 1 to 3 cannot happen.
//! - **No aliasing of `&mut`.** Rust writes tensor memory only through `&mut Tensor`
//!   ([`Tensor::as_mut_slice`], a `&mut` argument to Python) or a [`TensorViewMut`], which
//!   holds its parent `&mut`, and only after proving the storage unique: no other tensor, no
//!   live export (a strong count of one), not read-only, and not memory that Python may write.
//!   Otherwise it copies first (copy on write; for a view, the parent is copied once, when the
//!   view is made), so a tensor never changes under another tensor, a `&[T]` or an `ndarray`
//!   view. A `TensorViewMut` has no `Deref` to `Tensor`: a reachable `&mut Tensor` would let
//!   `*view = other` or `mem::replace` move shared storage out of the borrow. Views are never
//!   broadcasts, and a broadcast parent is copied first, so a view's elements never overlap.
//! - **`&[T]` and `ArrayView` never see writes.** [`Tensor::as_slice`] and
//!   [`Tensor::view_ndarray`] borrow memory only when nothing can write it while the borrow
//!   lives. Memory Python may still write (a writable numpy array shared with the tensor, a
//!   read-only array over memory that Python can still write through a writable base or by
//!   `setflags(write=True)` on the array owning it, or an array Python kept after a `&mut` call)
//!   is never borrowed: `as_slice` returns a private copy taken under the GIL at its first call,
//!   `view_ndarray` refuses. Rust-owned memory and numpy memory whose owner is immutable
//!   (`bytes`) are borrowed. `to_vec` and `get` always work: they copy under the GIL. One
//!   exception: inside a Rust function that Python called, arrays imported while it runs are
//!   borrowed in place as long as the thread holds the GIL and python4r has not run Python
//!   since (`held`; no Python code runs meanwhile, so nothing writes them); the borrow must not
//!   be kept across Python code run through pyo3 directly or a release of the GIL, which python4r
//!   cannot see.
//! - **No silent garbage.** A masked array with masked elements is refused (its data there is
//!   not a value); other ndarray subclasses (`np.matrix`, `np.memmap`) cross as their data.
//! - **Valid values only.** numpy's bool arrays may hold bytes other than 0 and 1; reads turn
//!   any nonzero byte into `true`, and a `&[bool]` is only handed out after every byte was checked.
//!   Slices are only handed out for memory aligned for `T`; unaligned or oddly strided numpy
//!   arrays are read element by element with unaligned loads.
//!
//! What Python code is trusted to respect, as with rust-numpy (whose borrow checking also cannot
//! see Python's own writes):
//!
//! - numpy's `WRITEABLE` flag. It belongs to one array object, and Python can get around it
//!   (`ctypes` pointers, `np.frombuffer` of a raw address, C extensions). python4r makes the
//!   ordinary ways fail: a read-only export's base exposes no buffer, so `setflags(write=True)`
//!   on it or on any of its views raises `ValueError`.
//! - Memory lifetimes. `ndarray.resize(refcheck=False)` frees an array's memory while views (and
//!   tensors) still point to it; python4r keeps a reference to every array it shares, so the
//!   default `refcheck=True` refuses.
//! - Concurrency. Python code runs under the GIL and python4r reads Python-writable memory under
//!   the GIL; numpy code that releases the GIL while writing an array that Rust is reading at the
//!   same moment (another thread) is a data race that no flag can prevent.
//! - Raw pointers. Addresses obtained in Python (`arr.ctypes.data`, a DLPack capsule opened by
//!   hand) carry no lifetime.
//!
//! The rule of thumb: **Rust's borrow rules become numpy's write flag**. A `&Tensor` is lent
//! read-only, a `&mut Tensor` writable for the duration of the call, and whatever Python keeps
//! afterwards is detached from the Rust tensor.
//!
//! # `&mut` calls and `after_call`
//!
//! "Python kept the array" means: when [`ToPythonMut::after_call`](crate::ToPythonMut::after_call)
//! runs, the exported array has references other than the caller's own (`obj`), or the storage
//! has holders other than the tensor and the array's base (a view's tensor). The caller should
//! therefore drop its other references (the input variable in the namespace, for instance) before
//! calling `after_call`; if it does not, the result is still correct, but the tensor moves to a
//! copy and its data address changes.

#[cfg(feature = "chrono")]
mod dates;
mod dlpack;
mod elements;
pub(crate) mod export_cache;
mod fmt;
pub(crate) mod held;
mod layout;
mod ndarray;
#[cfg(feature = "numpy")]
mod numpy;
mod storage;
mod view;
mod view_mut;

use std::sync::Arc;

pub use crate::dtype::{DType, Element};
pub use dlpack::DLPackTensor;
pub use view_mut::TensorViewMut;

use crate::dtype::{Scalar, with_element_type};
pub(crate) use layout::{Dims, c_strides, element_count};
pub(crate) use storage::Storage;

use crate::error::{Error, Result};

/// An n-dimensional array of one [`DType`], stored in reference-counted memory owned by Rust or by
/// a numpy array.
///
/// A `Tensor` is a view: storage, the byte offset of its first element, its shape, and its
/// strides **in bytes** (as numpy's `ndarray.strides`; they may be negative, zero for broadcast
/// axes, or not a multiple of the element size for arrays that came from numpy). Cloning a tensor
/// or taking a view ([`transpose`](Tensor::transpose), [`slice`](Tensor::slice),
/// [`flip`](Tensor::flip), [`broadcast_to`](Tensor::broadcast_to)) shares the storage; writing
/// through `&mut Tensor` first makes the storage unique (copy on write), so a tensor never changes
/// under another tensor that shares its storage.
///
/// # Example
///
/// ```
/// use python4r::{DType, Tensor};
///
/// let t = Tensor::from_vec(vec![1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0], &[2, 3])?;
/// assert_eq!(t.dtype(), DType::Float32);
/// assert_eq!(t.shape(), &[2, 3]);
/// assert_eq!(t.len(), 6);
///
/// let tt = t.transpose();
/// assert_eq!(tt.data_ptr(), t.data_ptr()); // a view, not a copy
/// assert!(!tt.is_contiguous());
/// assert_eq!(tt.to_vec::<f32>()?, vec![1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
/// assert_eq!(tt.cast(DType::Int64).to_vec::<i64>()?, vec![1, 4, 2, 5, 3, 6]);
/// # Ok::<(), python4r::Error>(())
/// ```
#[derive(Clone)]
pub struct Tensor {
    storage: storage::Shared,
    dtype: DType,
    shape: Dims<usize>,
    /// Byte strides.
    strides: Dims<isize>,
    /// Byte offset of the first element from the storage pointer.
    offset: isize,
    /// A private copy that `as_slice` hands out when Python may write the shared memory.
    snapshot: storage::Snapshot,
    /// The read-only numpy array last lent to Python, lent again when nothing else holds it.
    export: export_cache::ExportCache,
}

impl Tensor {
    /// A tensor of `shape` that takes `data` (row-major) without copying it.
    ///
    /// Fails with [`Error::ShapeMismatch`] if `data.len()` is not the product of `shape`, and with
    /// [`Error::ShapeOverflow`] if that product overflows.
    ///
    /// ```
    /// let data = vec![1i32, 2, 3, 4];
    /// let ptr = data.as_ptr() as *const u8;
    /// let t = python4r::Tensor::from_vec(data, &[2, 2])?;
    /// assert_eq!(t.data_ptr(), ptr); // moved, not copied
    /// assert!(python4r::Tensor::from_vec(vec![1i32, 2, 3], &[2, 2]).is_err());
    /// # Ok::<(), python4r::Error>(())
    /// ```
    #[inline]
    pub fn from_vec<T: Element>(data: Vec<T>, shape: &[usize]) -> Result<Tensor> {
        let len = data.len();
        Tensor::over_vec(Storage::from_vec(data), len, T::DTYPE, shape)
    }

    /// [`Tensor::from_vec`] after the element type is known: one function for every `T`, so
    /// that making a tensor runs the same few lines of code whatever its type.
    #[inline(never)]
    fn over_vec(storage: Storage, len: usize, dtype: DType, shape: &[usize]) -> Result<Tensor> {
        let n = match *shape {
            // One dimension (the common case) cannot overflow the count: `len` elements exist.
            [n] if n == len => n,
            _ => element_count(shape, dtype.size())?,
        };
        if n != len {
            return Err(Error::ShapeMismatch(format!(
                "shape {shape:?} holds {n} elements but the data has {len}"
            )));
        }
        Ok(Tensor::contiguous(
            storage::Shared::new(storage),
            dtype,
            shape,
        ))
    }

    /// A tensor of `shape` holding a copy of `data` (row-major).
    ///
    /// ```
    /// let t = python4r::Tensor::from_slice(&[true, false], &[2])?;
    /// assert_eq!(t.to_vec::<bool>()?, vec![true, false]);
    /// # Ok::<(), python4r::Error>(())
    /// ```
    pub fn from_slice<T: Element>(data: &[T], shape: &[usize]) -> Result<Tensor> {
        Tensor::from_vec(data.to_vec(), shape)
    }

    /// A 0-d tensor holding `value`.
    ///
    /// ```
    /// let t = python4r::Tensor::scalar(2.5f64);
    /// assert_eq!(t.ndim(), 0);
    /// assert_eq!(t.len(), 1);
    /// ```
    pub fn scalar<T: Element>(value: T) -> Tensor {
        Tensor::contiguous(
            storage::Shared::new(Storage::from_vec(vec![value])),
            T::DTYPE,
            &[],
        )
    }

    /// A tensor of zeros (`false` for `Bool`).
    ///
    /// ```
    /// use python4r::{DType, Tensor};
    /// let t = Tensor::zeros(DType::UInt8, &[2, 3])?;
    /// assert_eq!(t.to_vec::<u8>()?, vec![0; 6]);
    /// assert!(Tensor::zeros(DType::Float64, &[usize::MAX, 2]).is_err());
    /// # Ok::<(), python4r::Error>(())
    /// ```
    pub fn zeros(dtype: DType, shape: &[usize]) -> Result<Tensor> {
        Tensor::full(dtype, shape, Scalar::Int(0))
    }

    /// A tensor of ones (`true` for `Bool`).
    ///
    /// ```
    /// use python4r::{DType, Tensor};
    /// let t = Tensor::ones(DType::BFloat16, &[3])?;
    /// assert_eq!(t.to_vec::<half::bf16>()?, vec![half::bf16::ONE; 3]);
    /// # Ok::<(), python4r::Error>(())
    /// ```
    pub fn ones(dtype: DType, shape: &[usize]) -> Result<Tensor> {
        Tensor::full(dtype, shape, Scalar::Int(1))
    }

    fn full(dtype: DType, shape: &[usize], v: Scalar) -> Result<Tensor> {
        let n = element_count(shape, dtype.size())?;
        Ok(with_element_type!(dtype, T => {
            let mut data = elements::try_vec::<T>(n, shape)?;
            data.resize(n, T::from_scalar(v));
            Tensor::contiguous(storage::Shared::new(Storage::from_vec(data)), dtype, shape)
        }))
    }

    #[inline(always)]
    fn contiguous(storage: storage::Shared, dtype: DType, shape: &[usize]) -> Tensor {
        Tensor {
            storage,
            dtype,
            shape: layout::dims_from(shape),
            strides: c_strides(shape, dtype.size()),
            offset: 0,
            snapshot: storage::Snapshot::new(),
            export: Default::default(),
        }
    }

    /// A view over `storage`.
    ///
    /// # Safety
    /// Every element of the view (byte offsets `offset + Σ i_k·strides[k]`, `dtype.size()` bytes
    /// each) must lie in memory that `storage` keeps alive and readable.
    pub(crate) unsafe fn from_parts(
        storage: impl Into<storage::Shared>,
        dtype: DType,
        shape: Dims<usize>,
        strides: Dims<isize>,
        offset: isize,
    ) -> Tensor {
        debug_assert_eq!(shape.len(), strides.len());
        Tensor {
            storage: storage.into(),
            dtype,
            shape,
            strides,
            offset,
            snapshot: storage::Snapshot::new(),
            export: Default::default(),
        }
    }

    /// The element type.
    #[inline]
    pub fn dtype(&self) -> DType {
        self.dtype
    }

    /// The size of each axis.
    #[inline]
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The stride of each axis **in bytes**, as numpy's `ndarray.strides` (negative for reversed
    /// axes, 0 for broadcast axes).
    ///
    /// ```
    /// let t = python4r::Tensor::zeros(python4r::DType::Float32, &[2, 3])?;
    /// assert_eq!(t.strides(), &[12, 4]);
    /// assert_eq!(t.transpose().strides(), &[4, 12]);
    /// # Ok::<(), python4r::Error>(())
    /// ```
    #[inline]
    pub fn strides(&self) -> &[isize] {
        &self.strides
    }

    /// The number of axes (0 for a scalar).
    #[inline]
    pub fn ndim(&self) -> usize {
        self.shape.len()
    }

    /// The number of elements (1 for a 0-d tensor, 0 if an axis is empty).
    #[inline]
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// Whether the tensor has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The address of the first element, to see whether two tensors (or a tensor and a numpy
    /// array's `ctypes.data`) share memory. Never dereference it.
    #[inline]
    pub fn data_ptr(&self) -> *const u8 {
        self.storage.ptr().wrapping_offset(self.offset)
    }

    /// Whether `self` and `other` are views of the same storage.
    ///
    /// ```
    /// let t = python4r::Tensor::zeros(python4r::DType::Int8, &[4])?;
    /// assert!(t.transpose().shares_storage(&t));
    /// assert!(!t.cast(python4r::DType::Int16).shares_storage(&t));
    /// # Ok::<(), python4r::Error>(())
    /// ```
    pub fn shares_storage(&self, other: &Tensor) -> bool {
        Arc::ptr_eq(&self.storage, &other.storage)
    }

    #[inline]
    pub(crate) fn storage(&self) -> &Arc<Storage> {
        &self.storage
    }

    #[inline]
    pub(crate) fn offset(&self) -> isize {
        self.offset
    }
}

impl PartialEq for Tensor {
    /// Equal dtype, shape and elements (layout and storage do not matter; `NaN != NaN`).
    fn eq(&self, other: &Tensor) -> bool {
        if self.dtype != other.dtype || self.shape != other.shape {
            return false;
        }
        with_element_type!(self.dtype, T => {
            self.to_vec::<T>().ok() == other.to_vec::<T>().ok()
        })
    }
}

#[cfg(test)]
mod tests;
