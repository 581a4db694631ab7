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
//! | after the `&mut` call | Python kept the array or a view: the tensor moves to a copy; else it keeps its memory | |
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
//!   ([`Tensor::as_mut_slice`], a `&mut` argument to Python), and only after proving the storage
//!   unique: no other tensor, no live export (`Arc::get_mut`), not read-only, and not memory that
//!   Python may write. Otherwise it copies first (copy on write), so a tensor never changes under
//!   another tensor, a `&[T]` or an `ndarray` view.
//! - **`&[T]` and `ArrayView` never see writes.** [`Tensor::as_slice`] and
//!   [`Tensor::view_ndarray`] borrow memory only when nothing can write it while the borrow
//!   lives. Memory Python may still write (a writable numpy array shared with the tensor, a
//!   read-only array over memory that Python can still write through a writable base or by
//!   `setflags(write=True)` on the array owning it, or an array Python kept after a `&mut` call)
//!   is never borrowed: `as_slice` returns a private copy taken under the GIL at its first call,
//!   `view_ndarray` refuses. Rust-owned memory and numpy memory whose owner is immutable
//!   (`bytes`) are borrowed. `to_vec` and `get` always work: they copy under the GIL.
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

mod dlpack;
mod dtype;
mod fmt;
mod ndarray;
#[cfg(feature = "numpy")]
mod numpy;
mod storage;

use std::sync::{Arc, OnceLock};

pub use dlpack::DLPackTensor;
pub use dtype::{DType, Element};
pub(crate) use dtype::{Scalar, read_scalar, write_scalar};
pub(crate) use storage::Storage;

use crate::{Error, Result};

/// Runs `$body` with `$t` bound to the Rust element type of `$dtype`.
macro_rules! with_element_type {
    ($dtype:expr, $t:ident => $body:expr) => {
        match $dtype {
            $crate::DType::Float64 => {
                type $t = f64;
                $body
            }
            $crate::DType::Float32 => {
                type $t = f32;
                $body
            }
            $crate::DType::BFloat16 => {
                type $t = ::half::bf16;
                $body
            }
            $crate::DType::Float16 => {
                type $t = ::half::f16;
                $body
            }
            $crate::DType::Int64 => {
                type $t = i64;
                $body
            }
            $crate::DType::Int32 => {
                type $t = i32;
                $body
            }
            $crate::DType::Int16 => {
                type $t = i16;
                $body
            }
            $crate::DType::Int8 => {
                type $t = i8;
                $body
            }
            $crate::DType::UInt64 => {
                type $t = u64;
                $body
            }
            $crate::DType::UInt32 => {
                type $t = u32;
                $body
            }
            $crate::DType::UInt16 => {
                type $t = u16;
                $body
            }
            $crate::DType::UInt8 => {
                type $t = u8;
                $body
            }
            $crate::DType::Bool => {
                type $t = bool;
                $body
            }
        }
    };
}
pub(crate) use with_element_type;

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
    storage: Arc<Storage>,
    dtype: DType,
    shape: Dims<usize>,
    /// Byte strides.
    strides: Dims<isize>,
    /// Byte offset of the first element from the storage pointer.
    offset: isize,
    /// A private copy that `as_slice` hands out when Python may write the shared memory.
    snapshot: OnceLock<Arc<Storage>>,
}

/// Shape or strides: inline up to four dimensions, so that making a tensor (one from numpy on
/// every call, say) allocates no more than it must.
pub(crate) type Dims<T> = smallvec::SmallVec<[T; 4]>;

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
    let mut strides: Dims<isize> = smallvec::smallvec![0isize; shape.len()];
    let mut acc = itemsize as isize;
    for (s, &d) in strides.iter_mut().zip(shape).rev() {
        *s = acc;
        acc = acc.wrapping_mul(d.max(1) as isize);
    }
    strides
}

/// An empty `Vec` with room for `n` elements, or [`Error::AllocationFailed`] instead of the
/// process-wide abort of a failed allocation.
fn try_vec<T>(n: usize, shape: &[usize]) -> Result<Vec<T>> {
    let mut v = Vec::new();
    v.try_reserve_exact(n)
        .map_err(|_| Error::AllocationFailed {
            shape: shape.to_vec(),
            bytes: n.saturating_mul(size_of::<T>()),
        })?;
    Ok(v)
}

fn dtype_check<T: Element>(dtype: DType) -> Result<()> {
    if T::DTYPE == dtype {
        Ok(())
    } else {
        Err(Error::DTypeMismatch {
            requested: T::DTYPE,
            actual: dtype,
        })
    }
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
    pub fn from_vec<T: Element>(data: Vec<T>, shape: &[usize]) -> Result<Tensor> {
        let n = element_count(shape, size_of::<T>())?;
        if n != data.len() {
            return Err(Error::ShapeMismatch(format!(
                "shape {shape:?} holds {n} elements but the data has {}",
                data.len()
            )));
        }
        Ok(Tensor::contiguous(
            Arc::new(Storage::from_vec(data)),
            T::DTYPE,
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
        Tensor::contiguous(Arc::new(Storage::from_vec(vec![value])), T::DTYPE, &[])
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
            let mut data = try_vec::<T>(n, shape)?;
            data.resize(n, T::from_scalar(v));
            Tensor::contiguous(Arc::new(Storage::from_vec(data)), dtype, shape)
        }))
    }

    fn contiguous(storage: Arc<Storage>, dtype: DType, shape: &[usize]) -> Tensor {
        Tensor {
            storage,
            dtype,
            shape: Dims::from_slice(shape),
            strides: c_strides(shape, dtype.size()),
            offset: 0,
            snapshot: OnceLock::new(),
        }
    }

    /// A view over `storage`.
    ///
    /// # Safety
    /// Every element of the view (byte offsets `offset + Σ i_k·strides[k]`, `dtype.size()` bytes
    /// each) must lie in memory that `storage` keeps alive and readable.
    pub(crate) unsafe fn from_parts(
        storage: Arc<Storage>,
        dtype: DType,
        shape: Dims<usize>,
        strides: Dims<isize>,
        offset: isize,
    ) -> Tensor {
        debug_assert_eq!(shape.len(), strides.len());
        Tensor {
            storage,
            dtype,
            shape,
            strides,
            offset,
            snapshot: OnceLock::new(),
        }
    }

    /// The element type.
    pub fn dtype(&self) -> DType {
        self.dtype
    }

    /// The size of each axis.
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
    pub fn strides(&self) -> &[isize] {
        &self.strides
    }

    /// The number of axes (0 for a scalar).
    pub fn ndim(&self) -> usize {
        self.shape.len()
    }

    /// The number of elements (1 for a 0-d tensor, 0 if an axis is empty).
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// Whether the tensor has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

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
        let mut expected = self.dtype.size() as isize;
        for (&d, &s) in self.shape.iter().zip(&self.strides).rev() {
            if d != 1 && s != expected {
                return false;
            }
            expected *= d as isize;
        }
        true
    }

    /// The address of the first element, to see whether two tensors (or a tensor and a numpy
    /// array's `ctypes.data`) share memory. Never dereference it.
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

    pub(crate) fn storage(&self) -> &Arc<Storage> {
        &self.storage
    }

    pub(crate) fn offset(&self) -> isize {
        self.offset
    }

    /// Calls `f` with the byte offset (from the storage pointer) of every element, in row-major
    /// order.
    pub(crate) fn for_each_offset(&self, mut f: impl FnMut(isize)) {
        if self.is_empty() {
            return;
        }
        let nd = self.ndim();
        let mut index = vec![0usize; nd];
        let mut off = self.offset;
        loop {
            f(off);
            let mut axis = nd;
            loop {
                if axis == 0 {
                    return;
                }
                axis -= 1;
                index[axis] += 1;
                off += self.strides[axis];
                if index[axis] < self.shape[axis] {
                    break;
                }
                off -= self.strides[axis] * self.shape[axis] as isize;
                index[axis] = 0;
            }
        }
    }

    /// The elements in logical row-major order, whatever the layout; an error if `T` is not the
    /// dtype.
    ///
    /// ```
    /// let t = python4r::Tensor::from_vec(vec![1u16, 2, 3, 4], &[2, 2])?;
    /// assert_eq!(t.flip(1)?.to_vec::<u16>()?, vec![2, 1, 4, 3]);
    /// assert!(t.to_vec::<i16>().is_err());
    /// # Ok::<(), python4r::Error>(())
    /// ```
    pub fn to_vec<T: Element>(&self) -> Result<Vec<T>> {
        dtype_check::<T>(self.dtype)?;
        let mut out: Vec<T> = try_vec(self.len(), &self.shape)?;
        let base = self.storage.ptr();
        self.storage.locked(&mut || {
            out.clear();
            if self.is_contiguous() && T::DTYPE != DType::Bool {
                let n = self.len();
                // SAFETY: the view is contiguous, so its `n` elements are the `n * size_of::<T>()`
                // bytes from `data_ptr`, which the storage keeps alive (a `from_parts` invariant);
                // `out` has room for `n` elements; any bytes are a valid value of the numeric
                // types (bool takes the other path).
                unsafe {
                    std::ptr::copy_nonoverlapping(
                        self.data_ptr(),
                        out.as_mut_ptr().cast::<u8>(),
                        n * size_of::<T>(),
                    );
                    out.set_len(n);
                }
            } else {
                // SAFETY: every offset visited is an element of the view, inside the storage.
                self.for_each_offset(|off| out.push(unsafe { T::read(base.offset(off)) }));
            }
        });
        Ok(out)
    }

    /// One element, by index; an error if `T` is not the dtype or the index is out of bounds.
    ///
    /// ```
    /// let t = python4r::Tensor::from_vec(vec![1i64, 2, 3, 4, 5, 6], &[2, 3])?;
    /// assert_eq!(t.get::<i64>(&[1, 0])?, 4);
    /// assert_eq!(t.transpose().get::<i64>(&[2, 1])?, 6);
    /// # Ok::<(), python4r::Error>(())
    /// ```
    pub fn get<T: Element>(&self, index: &[usize]) -> Result<T> {
        dtype_check::<T>(self.dtype)?;
        if index.len() != self.ndim() || index.iter().zip(&self.shape).any(|(&i, &d)| i >= d) {
            return Err(Error::ShapeMismatch(format!(
                "index {index:?} is out of bounds for shape {:?}",
                self.shape
            )));
        }
        let off = self.offset
            + index
                .iter()
                .zip(&self.strides)
                .map(|(&i, &s)| i as isize * s)
                .sum::<isize>();
        let mut v = None;
        self.storage.locked(&mut || {
            // SAFETY: the index is in bounds, so the offset is an element of the view.
            v = Some(unsafe { T::read(self.storage.ptr().offset(off)) })
        });
        Ok(v.expect("locked runs its closure"))
    }

    /// The elements as a slice, without copying; only for C-contiguous tensors.
    ///
    /// Errors: `T` is not the dtype, the tensor is not C-contiguous (use
    /// [`to_contiguous`](Tensor::to_contiguous) or [`to_vec`](Tensor::to_vec)), the memory is not
    /// aligned for `T` (possible for arrays from numpy), or a `Bool` tensor from numpy holds bytes
    /// other than 0 and 1.
    ///
    /// When the memory is owned by a numpy array that Python code may still write, the slice is
    /// of a private copy taken (under the GIL) at the first call, because a `&[T]` must not change
    /// while it is borrowed; see the module docs.
    ///
    /// ```
    /// let t = python4r::Tensor::from_vec(vec![1.5f64, 2.5], &[2])?;
    /// assert_eq!(t.as_slice::<f64>()?, &[1.5, 2.5]);
    /// assert!(t.as_slice::<f32>().is_err());
    /// # Ok::<(), python4r::Error>(())
    /// ```
    pub fn as_slice<T: Element>(&self) -> Result<&[T]> {
        dtype_check::<T>(self.dtype)?;
        if !self.is_contiguous() {
            return Err(Error::Layout(format!(
                "as_slice needs a C-contiguous tensor, but shape {:?} has byte strides {:?}: \
                 use to_vec(), or to_contiguous() first",
                self.shape, self.strides
            )));
        }
        let n = self.len();
        if n == 0 {
            return Ok(&[]);
        }
        let ptr = if self.storage.python_may_write() {
            let snap = self.snapshot.get_or_init(|| {
                let copy = self.to_contiguous_copy();
                Arc::clone(&copy.storage)
            });
            snap.ptr().cast_const()
        } else {
            self.data_ptr()
        };
        if !(ptr as usize).is_multiple_of(align_of::<T>()) {
            return Err(Error::Layout(format!(
                "as_slice::<{}> needs memory aligned to {} bytes, but the data is at {ptr:p} \
                 (an unaligned numpy array): use to_vec()",
                std::any::type_name::<T>(),
                align_of::<T>()
            )));
        }
        // SAFETY: `ptr` points to `n` contiguous elements kept alive by `self.storage` (or the
        // snapshot) for as long as `&self`, and it is aligned. Nothing writes them while the
        // borrow lives: Rust writes only through `&mut Tensor` after making the storage unique,
        // and memory Python may write was replaced by the private snapshot above. Bytes are
        // checked below before the slice is returned as `[bool]`.
        let bytes = unsafe { std::slice::from_raw_parts(ptr, n * size_of::<T>()) };
        if !T::valid_bytes(bytes) {
            return Err(Error::Layout(
                "as_slice::<bool> found bytes other than 0 and 1 (numpy allows them in bool \
                 arrays): use to_vec::<bool>(), which reads any nonzero byte as true"
                    .to_owned(),
            ));
        }
        // SAFETY: as above; the bytes are valid values of `T` (checked for bool, any bytes for the
        // numeric types).
        Ok(unsafe { std::slice::from_raw_parts(ptr.cast::<T>(), n) })
    }

    /// The elements as a mutable slice: copies first if the storage is shared (with another
    /// tensor or a live numpy array), not C-contiguous, not aligned, or read-only.
    ///
    /// ```
    /// let mut a = python4r::Tensor::from_vec(vec![1u8, 2, 3], &[3])?;
    /// let b = a.clone();
    /// a.as_mut_slice::<u8>()?[0] = 9;
    /// assert_eq!(a.to_vec::<u8>()?, vec![9, 2, 3]);
    /// assert_eq!(b.to_vec::<u8>()?, vec![1, 2, 3]); // copy on write
    /// # Ok::<(), python4r::Error>(())
    /// ```
    pub fn as_mut_slice<T: Element>(&mut self) -> Result<&mut [T]> {
        dtype_check::<T>(self.dtype)?;
        self.make_unique();
        if !self.is_contiguous() || !(self.data_ptr() as usize).is_multiple_of(align_of::<T>()) {
            *self = self.to_contiguous_copy();
        }
        let n = self.len();
        if n == 0 {
            return Ok(&mut []);
        }
        if T::DTYPE == DType::Bool {
            // SAFETY: unique, writable storage; n contiguous bytes of the view.
            let bytes = unsafe { std::slice::from_raw_parts_mut(self.data_ptr().cast_mut(), n) };
            bytes.iter_mut().for_each(|b| *b = u8::from(*b != 0));
        }
        // SAFETY: `make_unique` made this tensor the only holder of Rust-writable storage (no
        // other tensor, no live export, nothing Python may write), so `&mut self` excludes every
        // other access for the borrow; the `n` elements are contiguous, aligned, inside the
        // storage, and valid values of `T` (bool bytes normalised above).
        Ok(unsafe { std::slice::from_raw_parts_mut(self.data_ptr().cast_mut().cast::<T>(), n) })
    }

    /// Whether Rust may write this tensor's memory in place right now.
    pub(crate) fn is_uniquely_writable(&mut self) -> bool {
        !self.storage.read_only()
            && !self.storage.python_may_write()
            && Arc::get_mut(&mut self.storage).is_some()
    }

    /// Makes the storage unique and writable from Rust, copying (to C order) if it is shared.
    pub(crate) fn make_unique(&mut self) {
        self.snapshot = OnceLock::new();
        // A broadcast view (stride 0 over more than one element) shows one memory location at
        // several indices: writing it through numpy would change all of them at once.
        let overlapping = self
            .shape
            .iter()
            .zip(self.strides.iter())
            .any(|(&n, &s)| n > 1 && s == 0);
        if overlapping || !self.is_uniquely_writable() {
            *self = self.to_contiguous_copy();
        }
    }

    /// A C-contiguous copy in new Rust-owned storage.
    pub(crate) fn to_contiguous_copy(&self) -> Tensor {
        with_element_type!(self.dtype, T => {
            let data = self.to_vec::<T>().expect("the dtype matches");
            Tensor::from_vec(data, &self.shape).expect("the shape matches")
        })
    }

    /// This tensor if it is C-contiguous (sharing the storage), else a C-contiguous copy.
    ///
    /// ```
    /// let t = python4r::Tensor::from_vec(vec![1i8, 2, 3, 4], &[2, 2])?;
    /// assert!(t.to_contiguous().shares_storage(&t));
    /// let c = t.transpose().to_contiguous();
    /// assert!(c.is_contiguous() && !c.shares_storage(&t));
    /// assert_eq!(c.as_slice::<i8>()?, &[1, 3, 2, 4]);
    /// # Ok::<(), python4r::Error>(())
    /// ```
    pub fn to_contiguous(&self) -> Tensor {
        if self.is_contiguous() {
            self.clone()
        } else {
            self.to_contiguous_copy()
        }
    }

    /// The elements converted to `dtype` (numpy's `astype`: floats truncate toward zero when
    /// cast to integers, integers wrap, nonzero is `true`). Casting to the same dtype shares the
    /// storage.
    ///
    /// ```
    /// use python4r::{DType, Tensor};
    /// let t = Tensor::from_vec(vec![-1.5f32, 0.0, 300.0], &[3])?;
    /// assert_eq!(t.cast(DType::Int16).to_vec::<i16>()?, vec![-1, 0, 300]);
    /// assert_eq!(t.cast(DType::Bool).to_vec::<bool>()?, vec![true, false, true]);
    /// # Ok::<(), python4r::Error>(())
    /// ```
    pub fn cast(&self, dtype: DType) -> Tensor {
        if dtype == self.dtype {
            return self.clone();
        }
        let n = self.len();
        let mut out =
            Tensor::zeros(dtype, &self.shape).expect("same element count, smaller or checked size");
        if n == 0 {
            return out;
        }
        let dst = out.data_ptr().cast_mut();
        let (src_ty, dst_ty, base) = (self.dtype, dtype, self.storage.ptr());
        let step = dtype.size();
        let mut i = 0usize;
        self.storage.locked(&mut || {
            i = 0;
            self.for_each_offset(|off| {
                // SAFETY: `off` is an element of the view; `dst` is the fresh, unshared, contiguous
                // storage of `out` with room for `n` elements of `dtype`.
                unsafe {
                    let v = read_scalar(src_ty, base.offset(off));
                    write_scalar(dst_ty, dst.add(i * step), v);
                }
                i += 1;
            });
        });
        out.snapshot = OnceLock::new();
        out
    }

    /// The view with the axes reversed (numpy's `.T`).
    pub fn transpose(&self) -> Tensor {
        let mut t = self.clone();
        t.shape.reverse();
        t.strides.reverse();
        t.snapshot = OnceLock::new();
        t
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
        let mut t = self.clone();
        t.shape = axes.iter().map(|&a| self.shape[a]).collect();
        t.strides = axes.iter().map(|&a| self.strides[a]).collect();
        t.snapshot = OnceLock::new();
        Ok(t)
    }

    fn check_axis(&self, axis: usize) -> Result<()> {
        if axis < self.ndim() {
            Ok(())
        } else {
            Err(Error::ShapeMismatch(format!(
                "axis {axis} is out of range for a tensor with {} axes",
                self.ndim()
            )))
        }
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
        let mut t = self.clone();
        let count = (range.end - range.start).div_ceil(step);
        if count > 0 {
            t.offset += range.start as isize * self.strides[axis];
        }
        t.shape[axis] = count;
        t.strides[axis] *= step as isize;
        t.snapshot = OnceLock::new();
        Ok(t)
    }

    /// The view with `axis` reversed (a negative stride; numpy's `np.flip(a, axis)`).
    pub fn flip(&self, axis: usize) -> Result<Tensor> {
        self.check_axis(axis)?;
        let mut t = self.clone();
        let dim = self.shape[axis];
        if dim > 0 {
            t.offset += (dim as isize - 1) * self.strides[axis];
        }
        t.strides[axis] = -self.strides[axis];
        t.snapshot = OnceLock::new();
        Ok(t)
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
        let mut t = self.clone();
        t.shape = Dims::from_slice(shape);
        t.strides = strides;
        t.snapshot = OnceLock::new();
        Ok(t)
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
        let mut t = self.clone();
        t.offset += index as isize * self.strides[axis];
        t.shape.remove(axis);
        t.strides.remove(axis);
        t.snapshot = OnceLock::new();
        Ok(t)
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
        let mut t = self.to_contiguous();
        t.strides = c_strides(shape, self.dtype.size());
        t.shape = Dims::from_slice(shape);
        t.snapshot = OnceLock::new();
        Ok(t)
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
