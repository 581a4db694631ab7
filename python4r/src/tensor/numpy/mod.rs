//! The zero-copy NumPy bridge: [`Tensor`] to and from `numpy.ndarray` over the same memory.

mod export;
mod import;
mod types;

use std::collections::HashSet;
use std::panic::Location;
use std::ptr::NonNull;
use std::sync::{Arc, Mutex};

use export::{exported_storage, lend, lend_kept, wrap};
use import::{conversion_hint, dtype_of, plain_array, python_can_write, unsupported};
use numpy::npyffi::NPY_ARRAY_WRITEABLE;
use numpy::{PyArrayDescrMethods, PyUntypedArray, PyUntypedArrayMethods};
use pyo3::prelude::*;
use pyo3::{Borrowed, IntoPyObject};
use types::ready;

use super::held;
use super::layout::within;
use super::{DType, Dims, Storage, Tensor, TensorViewMut};
use crate::config::{self, Bf16Mode};
use crate::error::{Error, Result};
use crate::warning;

pub(super) fn py_err(py: Python<'_>) -> impl Fn(PyErr) -> Error + '_ {
    move |e| Error::from_pyerr(py, e)
}

/// Whether bfloat16 crosses zero-copy as `ml_dtypes.bfloat16` (opt-in, and importable).
pub(super) fn ml_dtypes_enabled(py: Python<'_>) -> bool {
    config::current().is_some_and(|c| c.bf16 == Bf16Mode::MlDtypes)
        && py.import("ml_dtypes").is_ok()
}

/// Logs that a bfloat16 tensor crossed as a float32 copy, once per call site.
pub(super) fn warn_bf16_cast(at: &'static Location<'static>) {
    type CallSites = HashSet<(&'static str, u32, u32)>;
    static SEEN: Mutex<Option<CallSites>> = Mutex::new(None);
    let mut seen = SEEN.lock().unwrap_or_else(|e| e.into_inner());
    if seen
        .get_or_insert_with(HashSet::new)
        .insert((at.file(), at.line(), at.column()))
    {
        warning::warn(format_args!(
            "a bfloat16 tensor is passed to Python as a float32 copy at {at} (numpy has no \
             bfloat16); set PYTHON4R_BF16=ml_dtypes (with ml_dtypes installed) to pass it \
             without a copy"
        ));
    }
}

impl Tensor {
    /// A read-only `numpy.ndarray` over this tensor's memory (no copy), as a `&Tensor` argument
    /// crosses.
    ///
    /// The array's base object holds the storage, so the array stays valid however long Python
    /// keeps it. A bfloat16 tensor crosses as a float32 copy (a warning is logged once per call
    /// site), or without a copy as `ml_dtypes.bfloat16` with `PYTHON4R_BF16=ml_dtypes`.
    ///
    /// # Errors
    /// [`Error::NumpyDisabled`] or [`Error::NumpyUnavailable`] when numpy cannot be used.
    ///
    /// # Example
    ///
    /// ```
    /// use python4r::Tensor;
    /// use python4r::pyo3::prelude::*;
    /// let t = Tensor::from_vec(vec![1.0f32, 2.0, 3.0, 4.0], &[2, 2])?;
    /// python4r::with_gil(|py| {
    ///     let arr = t.transpose().to_numpy(py)?;
    ///     let ptr: usize = arr.getattr("ctypes")?.getattr("data")?.extract()?;
    ///     assert_eq!(ptr, t.data_ptr() as usize); // the same memory
    ///     assert!(!arr.getattr("flags")?.getattr("writeable")?.extract::<bool>()?);
    ///     assert_eq!(arr.call_method0("tolist")?.extract::<Vec<Vec<f32>>>()?, [[1.0, 3.0], [2.0, 4.0]]);
    ///     Ok(())
    /// })?;
    /// # Ok::<(), python4r::Error>(())
    /// ```
    #[track_caller]
    #[inline]
    pub fn to_numpy<'py>(&self, py: Python<'py>) -> Result<Bound<'py, PyAny>> {
        // A kept array means numpy was ready and the dtype is numpy's own.
        match lend_kept(self, py) {
            Some(array) => Ok(array),
            None => self.to_new_numpy(py, Location::caller()),
        }
    }

    /// [`Tensor::to_numpy`] when the tensor has no kept array to lend again.
    #[inline(never)]
    fn to_new_numpy<'py>(
        &self,
        py: Python<'py>,
        at: &'static Location<'static>,
    ) -> Result<Bound<'py, PyAny>> {
        ready()?;
        if self.dtype() == DType::BFloat16 && !ml_dtypes_enabled(py) {
            warn_bf16_cast(at);
            return wrap(&self.cast(DType::Float32), py, false);
        }
        lend(self, py)
    }

    /// A tensor sharing the memory of a `numpy.ndarray` (any of the [`DType`]s, any layout), or a
    /// 0-d tensor from a numpy scalar. The tensor keeps the array alive.
    ///
    /// An array that is a view of a tensor python4r exported shares that tensor's storage.
    /// Byte-swapped arrays are copied to native order (correct values, not shared).
    ///
    /// # Errors
    /// [`Error::UnsupportedDType`] naming the dtype for unsupported dtypes (object, strings,
    /// structured, `longdouble`, `clongdouble`, dates in `ps`, `fs`, `as`, a multiple of a unit or
    /// no unit), with how to convert them; [`Error::Conversion`] for objects that are not numpy
    /// arrays or scalars;
    /// [`Error::NumpyDisabled`] / [`Error::NumpyUnavailable`] when numpy cannot be used.
    ///
    /// # Example
    ///
    /// ```
    /// use python4r::{DType, Tensor};
    /// python4r::exec("import numpy as np\na = np.arange(6, dtype=np.int16).reshape(2, 3)[:, ::-1]")?;
    /// let t: Tensor = python4r::get("a")?;
    /// assert_eq!((t.dtype(), t.shape()), (DType::Int16, &[2usize, 3][..]));
    /// assert_eq!(t.strides(), &[6, -2]);
    /// assert_eq!(t.to_vec::<i16>()?, vec![2, 1, 0, 5, 4, 3]);
    /// assert_eq!(t.data_ptr() as usize, python4r::eval::<usize>("a.ctypes.data")?);
    ///
    /// let dates: Tensor = python4r::eval("np.array(['2024-01-01', 'NaT'], dtype='datetime64[s]')")?;
    /// assert_eq!(dates.dtype(), DType::DateTime64(python4r::datetime::TimeUnit::Second));
    /// # Ok::<(), python4r::Error>(())
    /// ```
    #[inline]
    pub fn from_numpy(obj: &Bound<'_, PyAny>) -> Result<Tensor> {
        ready()?;
        match import::from_exact_array(obj) {
            Some(done) => done,
            None => Tensor::from_any_array(obj),
        }
    }

    /// [`Tensor::from_numpy`] for what its fast lane does not take: subclasses, numpy scalars,
    /// views, byte-swapped arrays, dtypes numpy only has through packages or by unit.
    #[inline(never)]
    fn from_any_array(obj: &Bound<'_, PyAny>) -> Result<Tensor> {
        let py = obj.py();
        let arr = match obj.cast::<PyUntypedArray>() {
            Ok(arr) => arr.clone(),
            Err(_) => {
                let np = py.import("numpy").map_err(py_err(py))?;
                let generic = np.getattr("generic").map_err(py_err(py))?;
                if !obj.is_instance(&generic).map_err(py_err(py))? {
                    return Err(unsupported(
                        obj,
                        "expected a numpy.ndarray or numpy scalar".into(),
                    ));
                }
                let arr = np.call_method1("asarray", (obj,)).map_err(py_err(py))?;
                arr.cast_into::<PyUntypedArray>()
                    .map_err(|e| py_err(py)(e.into()))?
            }
        };
        let arr = plain_array(arr)?;
        let descr = arr.dtype();
        let Some(dtype) = dtype_of(&descr) else {
            let name = descr
                .str()
                .map(|s| s.to_string())
                .unwrap_or_else(|_| "?".into());
            return Err(Error::UnsupportedDType {
                dtype: name,
                variable: None,
                reason: format!(
                    "numpy arrays of this dtype do not cross as a Tensor, which holds {}; {}",
                    DType::names(),
                    conversion_hint(descr.kind())
                ),
            });
        };
        if descr.is_native_byteorder() == Some(false) {
            // Byte-swapped: copy to native order rather than misread.
            let native = descr
                .call_method1("newbyteorder", ("=",))
                .map_err(py_err(py))?;
            let copy = arr.call_method1("astype", (native,)).map_err(py_err(py))?;
            return Tensor::from_numpy(&copy);
        }
        let raw = arr.as_array_ptr();
        // SAFETY: `raw` is the live array object `arr` (the GIL is held); reading its data
        // pointer and flags is what numpy's own PyArray_DATA / PyArray_FLAGS macros do.
        let (data, flags) = unsafe { ((*raw).fields.data.cast::<u8>(), (*raw).fields.flags) };
        let writable = flags & NPY_ARRAY_WRITEABLE != 0;
        let shape = Dims::from_slice(arr.shape());
        let strides = Dims::from_slice(arr.strides());
        if let Some(storage) = exported_storage(arr.as_any()) {
            let offset = (data as isize).wrapping_sub(storage.ptr() as isize);
            let inside = storage
                .bytes()
                .is_none_or(|bytes| within(bytes, offset, &shape, &strides, dtype.size()));
            if inside {
                // SAFETY: the array is a numpy view of memory python4r exported from `storage`
                // (found through its base chain), and for Rust-owned storage every element was
                // checked to lie inside it; `storage` keeps that memory alive.
                return Ok(unsafe { Tensor::from_parts(storage, dtype, shape, strides, offset) });
            }
        }
        let ptr = NonNull::new(data).unwrap_or(NonNull::dangling());
        // The storage holds the array itself: memory numpy owns lives as long as it does.
        let owner = arr.clone().into_any().unbind();
        // SAFETY: numpy guarantees the array's elements (data + Σ i·strides) are valid memory
        // for as long as the array lives, and the storage holds a reference to the array.
        // Python code is trusted not to free it behind numpy's back (`resize(refcheck=False)`,
        // see the module docs).
        let may_write = python_can_write(&arr, writable);
        let storage = held::shared(unsafe { Storage::foreign(ptr, owner, !writable, may_write) });
        // SAFETY: as above: every element is at `ptr + Σ i·strides`, offset 0.
        Ok(unsafe { Tensor::from_parts(storage, dtype, shape, strides, 0) })
    }
}

/// A `&Tensor` crosses as a read-only `numpy.ndarray` over the same memory
/// ([`Tensor::to_numpy`]).
impl<'py> IntoPyObject<'py> for &Tensor {
    type Target = PyAny;
    type Output = Bound<'py, PyAny>;
    type Error = Error;

    #[track_caller]
    fn into_pyobject(self, py: Python<'py>) -> Result<Bound<'py, PyAny>> {
        self.to_numpy(py)
    }
}

/// As `&Tensor`.
impl<'py> IntoPyObject<'py> for Tensor {
    type Target = PyAny;
    type Output = Bound<'py, PyAny>;
    type Error = Error;

    #[track_caller]
    fn into_pyobject(self, py: Python<'py>) -> Result<Bound<'py, PyAny>> {
        self.to_numpy(py)
    }
}

/// A numpy array or scalar becomes a tensor sharing its memory ([`Tensor::from_numpy`]).
impl<'a, 'py> FromPyObject<'a, 'py> for Tensor {
    type Error = Error;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> Result<Tensor> {
        Tensor::from_numpy(&obj)
    }
}

impl Tensor {
    /// A writable `numpy.ndarray` over this tensor's memory, as a `&mut Tensor` argument crosses:
    /// in-place changes in Python (`x *= 2`) change the tensor at the same address.
    ///
    /// The storage is made unique first (copied if another tensor or a live export shares it).
    /// A bfloat16 tensor crosses as a float32 copy whose values [`after_numpy_call`] writes back
    /// (unless ml_dtypes is enabled).
    ///
    /// [`after_numpy_call`]: Tensor::after_numpy_call
    #[track_caller]
    pub(crate) fn to_numpy_mut<'py>(&mut self, py: Python<'py>) -> Result<Bound<'py, PyAny>> {
        let at = Location::caller();
        ready()?;
        if self.dtype() == DType::BFloat16 && !ml_dtypes_enabled(py) {
            warn_bf16_cast(at);
            return wrap(&self.cast(DType::Float32), py, true);
        }
        self.make_unique();
        self.storage().set_python_may_write(true);
        wrap(self, py, true)
    }

    /// After a call that had `obj` (made by [`to_numpy_mut`](Tensor::to_numpy_mut)): if Python
    /// kept the array or a view of it, the tensor moves to a copy so that Python's later writes
    /// cannot reach it; a cast copy's values are written back.
    pub(crate) fn after_numpy_call(&mut self, obj: &Bound<'_, PyAny>) -> Result<()> {
        match after_lending(obj, self.storage(), self.shape(), "tensor")? {
            AfterLending::CastCopy(result) => self.assign(&result),
            AfterLending::Kept => {
                *self = self.to_contiguous_copy();
                Ok(())
            }
            AfterLending::Released => {
                self.storage().set_python_may_write(false);
                Ok(())
            }
        }
    }
}

/// What became of an array lent writable for a `&mut` crossing, once the call is over.
enum AfterLending {
    /// It was a cast copy (bfloat16 as float32): Python's values, to write back.
    CastCopy(Tensor),
    /// Python kept it, or a view of it: the Rust side must move to a copy.
    Kept,
    /// Nothing but the caller holds it: the memory is Rust's alone again.
    Released,
}

/// Which [`AfterLending`] the array `obj`, lent over `storage` with `shape`, is in (`what`
/// names the Rust side in the error of a changed shape).
fn after_lending(
    obj: &Bound<'_, PyAny>,
    storage: &Arc<Storage>,
    shape: &[usize],
    what: &str,
) -> Result<AfterLending> {
    if !exported_storage(obj).is_some_and(|s| Arc::ptr_eq(&s, storage)) {
        let result = Tensor::from_numpy(obj)?;
        if result.shape() != shape {
            return Err(Error::ShapeMismatch(format!(
                "Python changed the shape of a `&mut` {what} from {shape:?} to {:?}",
                result.shape()
            )));
        }
        return Ok(AfterLending::CastCopy(result));
    }
    // `obj` is held once by the caller; any other reference is Python keeping the array (a
    // variable, a list, a view's base). The storage is held by its tensor and by the array's
    // base; any other holder is a view that kept it, or a tensor made from one.
    // SAFETY: `obj` is a live object (the GIL is held through its `Bound`).
    let refs = unsafe { pyo3::ffi::Py_REFCNT(obj.as_ptr()) };
    Ok(if refs > 1 || Arc::strong_count(storage) > 2 {
        AfterLending::Kept
    } else {
        AfterLending::Released
    })
}

impl TensorViewMut<'_> {
    /// A writable `numpy.ndarray` over the view's elements in the parent's memory, as a
    /// `&mut TensorViewMut` argument crosses. The parent's storage is already unique (the view's
    /// constructors made it so). A bfloat16 view crosses as a float32 copy whose values
    /// [`after_numpy_call`](TensorViewMut::after_numpy_call) writes back (unless ml_dtypes is
    /// enabled).
    #[track_caller]
    pub(crate) fn to_numpy_mut<'py>(&mut self, py: Python<'py>) -> Result<Bound<'py, PyAny>> {
        let at = Location::caller();
        ready()?;
        let view = self.shared();
        if view.dtype() == DType::BFloat16 && !ml_dtypes_enabled(py) {
            warn_bf16_cast(at);
            return wrap(&view.cast(DType::Float32), py, true);
        }
        let arr = wrap(&view, py, true)?;
        self.parent().storage().set_python_may_write(true);
        Ok(arr)
    }

    /// After a call that had `obj` (made by [`to_numpy_mut`](TensorViewMut::to_numpy_mut)): if
    /// Python kept the array or a view of it, the parent moves to a copy of its storage with
    /// the same layout (so this view stays valid), and Python's later writes reach only the old
    /// memory; a cast copy's values are written back.
    pub(crate) fn after_numpy_call(&mut self, obj: &Bound<'_, PyAny>) -> Result<()> {
        let shape: Dims<usize> = self.shape().iter().copied().collect();
        match after_lending(obj, self.parent().storage(), &shape, "tensor view")? {
            AfterLending::CastCopy(result) => self.assign(&result),
            AfterLending::Kept => {
                self.parent().detach_keeping_layout();
                Ok(())
            }
            AfterLending::Released => {
                self.parent().storage().set_python_may_write(false);
                Ok(())
            }
        }
    }
}
