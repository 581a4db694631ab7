//! What every crossing asks numpy, asked once: numpy usable, its `ndarray` type object, and the
//! built-in descriptor of each dtype numpy has itself (one object per process, so a descriptor
//! is recognised by its address).

use std::sync::atomic::{AtomicBool, Ordering};

use numpy::PyArrayDescr;
use numpy::npyffi::{self, NpyTypes};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;

use super::super::dlpack::install_gil_lock;
use crate::dtype::{DType, with_element_type};
use crate::error::Result;
use crate::interpreter;

/// Set once numpy was found usable (it stays usable: the module is never unloaded).
static READY: AtomicBool = AtomicBool::new(false);

/// `Ok` when numpy is usable: [`Error::NumpyDisabled`](crate::Error::NumpyDisabled) or
/// [`Error::NumpyUnavailable`](crate::Error::NumpyUnavailable) otherwise. One atomic load once it
/// was.
#[inline]
pub(super) fn ready() -> Result<()> {
    if READY.load(Ordering::Acquire) {
        return Ok(());
    }
    interpreter::ensure_numpy()?;
    install_gil_lock();
    READY.store(true, Ordering::Release);
    Ok(())
}

/// The addresses of numpy's `ndarray` type object and of the built-in descriptors, by dtype.
struct Known {
    ndarray: usize,
    descrs: Vec<(usize, DType)>,
}

/// A `PyOnceLock`, not a `std` one: the first lookup can release the GIL (rust-numpy loads its
/// C API through pyo3's own once-lock, which detaches while it waits), so a thread that blocked
/// here holding the GIL would deadlock with the thread initialising; `PyOnceLock` waits
/// detached.
static KNOWN: PyOnceLock<Known> = PyOnceLock::new();

#[inline]
fn known(py: Python<'_>) -> &'static Known {
    match KNOWN.get(py) {
        Some(known) => known,
        None => learn(py),
    }
}

#[cold]
fn learn(py: Python<'_>) -> &'static Known {
    KNOWN.get_or_init(py, || {
        // SAFETY: numpy's C API is loaded (`ready` ran before any caller); the type object is
        // static in numpy's module, which is never unloaded.
        let ndarray = unsafe { npyffi::get_type_object(py, NpyTypes::PyArray_Type) } as usize;
        let descrs = DType::ALL
            .into_iter()
            .filter(|d| !matches!(d.numpy_kind(), b'V' | b'M' | b'm'))
            .map(|d| {
                // rust-numpy's descriptor of a built-in type is numpy's own singleton
                // (`PyArray_DescrFromType`), alive as long as numpy.
                let descr = with_element_type!(d, T => numpy::dtype::<T>(py));
                (descr.as_ptr() as usize, d)
            })
            .collect();
        Known { ndarray, descrs }
    })
}

/// numpy's `ndarray` type object.
#[inline]
pub(super) fn ndarray_type(py: Python<'_>) -> *mut pyo3::ffi::PyTypeObject {
    known(py).ndarray as *mut pyo3::ffi::PyTypeObject
}

/// The dtype of `obj` if it is exactly a `numpy.ndarray` (not a subclass) whose descriptor is
/// numpy's built-in one of a dtype (one look-up for both).
#[inline]
pub(super) fn exact_ndarray_dtype(py: Python<'_>, obj: *mut pyo3::ffi::PyObject) -> Option<DType> {
    let known = known(py);
    // SAFETY: `obj` is a live object (the GIL is held by the caller); this reads its type, and
    // for an ndarray its descriptor, as numpy's PyArray_DESCR does.
    unsafe {
        if pyo3::ffi::Py_TYPE(obj) as usize != known.ndarray {
            return None;
        }
        let descr = (*obj.cast::<npyffi::PyArrayObject>()).fields.descr as usize;
        known
            .descrs
            .iter()
            .find(|(address, _)| *address == descr)
            .map(|&(_, dtype)| dtype)
    }
}

/// The address of numpy's built-in descriptor of `dtype`, if it has one.
#[inline]
pub(super) fn builtin_descr_address(py: Python<'_>, dtype: DType) -> Option<usize> {
    known(py)
        .descrs
        .iter()
        .find(|(_, d)| *d == dtype)
        .map(|&(address, _)| address)
}

/// A new reference to the built-in descriptor of `dtype`, if numpy has one.
#[inline]
pub(super) fn builtin_descr<'py>(
    py: Python<'py>,
    dtype: DType,
) -> Option<Bound<'py, PyArrayDescr>> {
    let address = builtin_descr_address(py, dtype)?;
    // SAFETY: the descriptor is numpy's singleton, alive as long as numpy; `from_borrowed_ptr`
    // takes the new reference the caller receives (the GIL is held).
    Some(unsafe {
        Bound::from_borrowed_ptr(py, address as *mut pyo3::ffi::PyObject).cast_into_unchecked()
    })
}
