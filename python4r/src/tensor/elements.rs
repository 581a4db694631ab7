//! Element access: reading (`to_vec`, `get`, `as_slice`), writing (`as_mut_slice`, copy on
//! write), copying and casting.

use std::sync::{Arc, Mutex};

use super::{DType, Element, Tensor, held};
use crate::dtype::{read_scalar, write_scalar};
use crate::error::{Error, Result};
use crate::warning;

/// An empty `Vec` with room for `n` elements, or [`Error::AllocationFailed`] instead of the
/// process-wide abort of a failed allocation.
pub(crate) fn try_vec<T>(n: usize, shape: &[usize]) -> Result<Vec<T>> {
    let mut v = Vec::new();
    v.try_reserve_exact(n)
        .map_err(|_| Error::AllocationFailed {
            shape: shape.to_vec(),
            bytes: n.saturating_mul(size_of::<T>()),
        })?;
    Ok(v)
}

/// An error unless `T` is the element type of `dtype`.
pub(crate) fn dtype_check<T: Element>(dtype: DType) -> Result<()> {
    if T::DTYPE == dtype {
        Ok(())
    } else {
        Err(Error::DTypeMismatch {
            requested: T::DTYPE,
            actual: dtype,
        })
    }
}

/// Says once per pair of dtypes that a cast drops imaginary parts, as numpy's `ComplexWarning`.
fn warn_complex_cast(from: DType, to: DType) {
    static SEEN: Mutex<Vec<(DType, DType)>> = Mutex::new(Vec::new());
    let mut seen = SEEN.lock().unwrap_or_else(|e| e.into_inner());
    if !seen.contains(&(from, to)) {
        seen.push((from, to));
        drop(seen);
        warning::warn(format_args!(
            "casting a {from} tensor to {to} discards the imaginary parts (as numpy's \
             ComplexWarning says); cast `t.real()?` instead to say that is what you mean"
        ));
    }
}

impl Tensor {
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
        let off = self.offset_of(index)?;
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
    /// while it is borrowed; see the [module docs](crate::tensor).
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
        let ptr = if self.storage.python_may_write() && !held::reads_in_place(&self.storage) {
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
        // and memory Python may write was replaced by the private snapshot above, unless this
        // thread holds the GIL inside a Rust function Python called, before any Python runs
        // (`held`: the slice must not be held across Python code, see the guide). Bytes are
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
        !self.storage.read_only() && !self.storage.python_may_write() && self.storage.is_sole()
    }

    /// Makes the storage unique and writable from Rust, copying (to C order) if it is shared.
    pub(crate) fn make_unique(&mut self) {
        self.snapshot = super::storage::Snapshot::new();
        // A kept export shares the storage: released now under the GIL, else (deferred) the
        // storage stays shared and is copied below.
        self.export.clear();
        if self.has_overlapping_elements() || !self.is_uniquely_writable() {
            *self = self.to_contiguous_copy();
        }
    }

    /// A C-contiguous copy in new Rust-owned storage.
    pub(crate) fn to_contiguous_copy(&self) -> Tensor {
        super::with_element_type!(self.dtype, T => {
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
    /// Complex numbers cast to a real dtype keep their real part, as numpy does; the first time
    /// this happens python4r says so (a warning, like numpy's `ComplexWarning`). Dates and
    /// durations cast to another unit as numpy's `astype` does (see [`crate::datetime`]), and to
    /// numbers as their counts (`NaT` is `i64::MIN`).
    ///
    /// ```
    /// use python4r::{DType, Tensor, datetime::TimeUnit, num_complex::Complex64};
    /// let t = Tensor::from_vec(vec![-1.5f32, 0.0, 300.0], &[3])?;
    /// assert_eq!(t.cast(DType::Int16).to_vec::<i16>()?, vec![-1, 0, 300]);
    /// assert_eq!(t.cast(DType::Bool).to_vec::<bool>()?, vec![true, false, true]);
    /// let z = Tensor::from_vec(vec![Complex64::new(1.5, -2.0)], &[1])?;
    /// assert_eq!(z.cast(DType::Float64).to_vec::<f64>()?, vec![1.5]); // the real part
    /// let ns = Tensor::from_vec(vec![1_500_000_000i64], &[1])?.cast(DType::DateTime64(TimeUnit::Nanosecond));
    /// assert_eq!(ns.cast(DType::DateTime64(TimeUnit::Second)).to_string(),
    ///            "tensor(['1970-01-01T00:00:01'], dtype=datetime64[s], shape=[1])");
    /// # Ok::<(), python4r::Error>(())
    /// ```
    pub fn cast(&self, dtype: DType) -> Tensor {
        if dtype == self.dtype {
            return self.clone();
        }
        if self.dtype.is_complex() && !dtype.is_complex() && dtype != DType::Bool {
            warn_complex_cast(self.dtype, dtype);
        }
        let out =
            Tensor::zeros(dtype, &self.shape).expect("same element count, smaller or checked size");
        let dst = out.data_ptr().cast_mut();
        let (src_ty, base, step) = (self.dtype, self.storage.ptr(), dtype.size());
        let mut i = 0usize;
        self.storage.locked(&mut || {
            i = 0;
            self.for_each_offset(|off| {
                // SAFETY: `off` is an element of the view; `dst` is the fresh, unshared, contiguous
                // storage of `out` with room for every element of the view in `dtype`.
                unsafe {
                    let v = read_scalar(src_ty, base.offset(off));
                    write_scalar(dtype, dst.add(i * step), v);
                }
                i += 1;
            });
        });
        out
    }

    /// Overwrites every element with `src`'s (same shape), cast to this tensor's dtype, in place
    /// when the storage is unique.
    #[cfg_attr(not(feature = "numpy"), allow(dead_code))]
    pub(crate) fn assign(&mut self, src: &Tensor) -> Result<()> {
        if src.shape() != self.shape() {
            return Err(Error::ShapeMismatch(format!(
                "cannot assign a tensor of shape {:?} to one of shape {:?}",
                src.shape(),
                self.shape()
            )));
        }
        let src = src.cast(self.dtype()).to_contiguous();
        self.make_unique();
        let size = self.dtype().size();
        let (base, src_ptr) = (self.storage.ptr(), src.data_ptr());
        let mut i = 0;
        self.for_each_offset(|off| {
            // SAFETY: `self`'s storage is unique (`make_unique`), `off` is one of its elements,
            // and `src` is a distinct contiguous tensor with the same number of elements.
            unsafe { std::ptr::copy_nonoverlapping(src_ptr.add(i * size), base.offset(off), size) };
            i += 1;
        });
        Ok(())
    }
}
