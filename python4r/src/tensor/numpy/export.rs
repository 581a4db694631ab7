//! From a tensor to numpy: the descriptor of each dtype, the array over a tensor's memory, and the
//! keeper object that holds the memory alive for as long as Python holds the array.

use std::ffi::{c_int, c_void};
use std::ptr;
use std::sync::Arc;

use numpy::PyUntypedArray;
use numpy::npyffi::{NPY_ARRAY_WRITEABLE, PY_ARRAY_API, PyArrayObject, npy_intp};
use numpy::{PyArrayDescr, PyArrayDescrMethods, PyUntypedArrayMethods};
use pyo3::Borrowed;
use pyo3::prelude::*;

use super::{py_err, types};
use crate::datetime::{DateTime64, TimeDelta64, TimeUnit, Unit, time_unit_table};
use crate::dtype::{DType, with_element_type};
use crate::error::{Error, Result};
use crate::tensor::export_cache::LIMIT;
use crate::tensor::{Storage, Tensor};

/// rust-numpy's (cached) descriptor of `datetime64[unit]` or `timedelta64[unit]`: python4r's
/// unit markers have rust-numpy's names.
macro_rules! numpy_time_descr {
    (
        ({ $unit:expr, $py:expr, $generic:ident })
        $($uv:ident => $marker:ident, $code:literal, $plural:literal, $nanos:literal,
            $class:ident $(($months:literal))?, $doc:literal;)*
    ) => {
        match $unit {
            $(TimeUnit::$uv => {
                numpy::dtype::<numpy::datetime::$generic<numpy::datetime::units::$marker>>($py)
            })*
        }
    };
}

// SAFETY: a `DateTime64<U>` is a `repr(transparent)` `i64` count of `U` since the epoch, which
// is what numpy's `datetime64[U]` (the descriptor returned) stores; it holds no Python object.
unsafe impl<U: Unit> numpy::Element for DateTime64<U> {
    const IS_COPY: bool = true;

    fn get_dtype(py: Python<'_>) -> Bound<'_, PyArrayDescr> {
        time_unit_table!([numpy_time_descr] { U::UNIT, py, Datetime })
    }

    fn clone_ref(&self, _py: Python<'_>) -> Self {
        *self
    }
}

// SAFETY: as `DateTime64`: a `repr(transparent)` `i64` count, numpy's `timedelta64[U]`.
unsafe impl<U: Unit> numpy::Element for TimeDelta64<U> {
    const IS_COPY: bool = true;

    fn get_dtype(py: Python<'_>) -> Bound<'_, PyArrayDescr> {
        time_unit_table!([numpy_time_descr] { U::UNIT, py, Timedelta })
    }

    fn clone_ref(&self, _py: Python<'_>) -> Self {
        *self
    }
}

pub(super) fn descr<'py>(py: Python<'py>, dtype: DType) -> Result<Bound<'py, PyArrayDescr>> {
    if let Some(descr) = types::builtin_descr(py, dtype) {
        // SAFETY: a new reference to numpy's descriptor of `dtype`.
        return Ok(unsafe { Bound::from_owned_ptr(py, descr).cast_into_unchecked() });
    }
    if dtype.numpy_kind() == b'V' {
        // Straight from ml_dtypes: rust-numpy's own `bf16` dtype panics unless it is imported.
        let class = py
            .import("ml_dtypes")
            .and_then(|m| m.getattr(dtype.numpy_name()))
            .map_err(py_err(py))?;
        return PyArrayDescr::new(py, class).map_err(py_err(py));
    }
    Ok(with_element_type!(dtype, T => numpy::dtype::<T>(py)))
}

/// An ndarray over `t`'s memory, whose base holds `t`'s storage.
pub(super) fn wrap<'py>(t: &Tensor, py: Python<'py>, writable: bool) -> Result<Bound<'py, PyAny>> {
    let descr = descr(py, t.dtype())?;
    let base = keeper(py, t.storage())?;
    // numpy copies the dimensions and strides it is given: the tensor's own serve (a `usize`
    // dimension of a valid shape fits `npy_intp`, which is an `isize` as the strides are).
    let dims = t.shape().as_ptr().cast::<npy_intp>().cast_mut();
    let strides = t.strides().as_ptr().cast::<npy_intp>().cast_mut();
    let flags = if writable { NPY_ARRAY_WRITEABLE } else { 0 };
    // SAFETY: numpy is imported (`ready`). The dims and strides describe exactly the tensor's
    // elements (numpy reads `ndim` of each and copies them; it never writes through the
    // pointers), which lie in memory that `t.storage()` keeps alive; `base` holds that storage
    // and becomes the array's base, so the memory outlives the array and all its views.
    // `PyArray_NewFromDescr` steals `descr`, `PyArray_SetBaseObject` steals `base` (even when it
    // fails). The array is writable only when the caller made the storage unique (`&mut`).
    unsafe {
        let ty = types::ndarray_type(py);
        let arr = PY_ARRAY_API.PyArray_NewFromDescr(
            py,
            ty,
            descr.into_dtype_ptr(),
            t.ndim() as c_int,
            dims,
            strides,
            t.data_ptr().cast_mut().cast::<c_void>(),
            flags,
            ptr::null_mut(),
        );
        let arr = Bound::from_owned_ptr_or_err(py, arr).map_err(py_err(py))?;
        if PY_ARRAY_API.PyArray_SetBaseObject(
            py,
            arr.as_ptr().cast::<PyArrayObject>(),
            base.into_ptr(),
        ) < 0
        {
            return Err(Error::from_pyerr(py, PyErr::fetch(py)));
        }
        Ok(arr)
    }
}

/// A read-only array over `t`'s memory, as a `&Tensor` crosses, when `t` kept one from its last
/// crossing that can be lent again (see [`export_cache`](crate::tensor::export_cache)): the
/// per-call path of the same tensor passed again, inlined into the caller; [`lend`] does the rest.
#[inline]
pub(super) fn lend_kept<'py>(t: &Tensor, py: Python<'py>) -> Option<Bound<'py, PyAny>> {
    t.export
        .lend_kept(py, |array, descr| lendable_again(t, array, descr))
}

/// A read-only array over `t`'s memory, as a `&Tensor` crosses: the one `t` kept from its last
/// crossing when it can be lent again, else a new one, kept for next time when `t` is small and
/// crossed before.
#[inline(never)]
pub(super) fn lend<'py>(t: &Tensor, py: Python<'py>) -> Result<Bound<'py, PyAny>> {
    let bytes = t.len().saturating_mul(t.dtype().size());
    if bytes > LIMIT || types::builtin_descr_address(py, t.dtype()).is_none() {
        return wrap(t, py, false);
    }
    t.export.lend(
        py,
        |kept, descr| lendable_again(t, kept, descr),
        || wrap(t, py, false),
    )
}

/// Whether the kept `array` can be lent again for `t`: nothing but the cache holds it, and it
/// still describes `t`'s elements read-only, with the descriptor `descr` it was made with.
#[inline]
fn lendable_again(t: &Tensor, array: *mut pyo3::ffi::PyObject, descr: usize) -> bool {
    // SAFETY: `array` is a live ndarray made by `wrap` (GIL held). Its reference count and
    // fields are read as numpy's and CPython's macros read them; `nd` dims and strides follow
    // the pointers. A count of one is the cache's own reference: no Python code can reach the
    // array, so nothing can change it while it is lent again.
    unsafe {
        if pyo3::ffi::Py_REFCNT(array) != 1 {
            return false;
        }
        let fields = &(*array.cast::<PyArrayObject>()).fields;
        let nd = t.ndim();
        if fields.flags & NPY_ARRAY_WRITEABLE != 0
            || fields.descr as usize != descr
            || fields.data.cast::<u8>().cast_const() != t.data_ptr()
            || usize::try_from(fields.nd) != Ok(nd)
        {
            return false;
        }
        if nd == 0 {
            return true;
        }
        let dims = std::slice::from_raw_parts(fields.dimensions, nd);
        let strides = std::slice::from_raw_parts(fields.strides, nd);
        dims.iter().zip(t.shape()).all(|(&d, &s)| d as usize == s)
            && strides.iter().zip(t.strides()).all(|(&a, &b)| a == b)
    }
}

/// What marks a capsule as a keeper: the address of this static (its capsule context), one per
/// process, so no other capsule can pass for a keeper. Keepers have no name: a name is compared
/// with `strcmp` on every access.
static KEEPER: u8 = 0;

fn keeper_mark() -> *mut c_void {
    ptr::addr_of!(KEEPER).cast_mut().cast::<c_void>()
}

/// The `base` object of an array python4r exports: a capsule holding a reference to the tensor's
/// storage, so the memory lives as long as the array or any numpy view of it, however long
/// Python keeps them. It exposes no buffer, so numpy refuses `setflags(write=True)` on a
/// read-only export. (A capsule costs a fraction of what a `#[pyclass]` object costs to make and
/// free, on every call that lends a tensor.)
fn keeper<'py>(py: Python<'py>, storage: &Arc<Storage>) -> Result<Bound<'py, PyAny>> {
    let raw = Arc::into_raw(Arc::clone(storage));
    // SAFETY: the GIL is held (`py`). `raw` is a strong reference that the capsule owns from
    // now on: `release_keeper` (its destructor, called once when the capsule is freed) gives
    // it back. A NULL name is allowed.
    let capsule = unsafe {
        pyo3::ffi::PyCapsule_New(
            raw.cast_mut().cast::<c_void>(),
            ptr::null(),
            Some(release_keeper),
        )
    };
    // SAFETY: a non-null capsule is a live capsule; setting its context cannot fail then.
    if capsule.is_null() || unsafe { pyo3::ffi::PyCapsule_SetContext(capsule, keeper_mark()) } != 0
    {
        // SAFETY: without a capsule the reference is still ours to release; with one whose
        // context could not be set (impossible for a live capsule), the capsule would release
        // it in its destructor, so give the capsule up instead.
        unsafe {
            if capsule.is_null() {
                drop(Arc::from_raw(raw));
            } else {
                pyo3::ffi::Py_DecRef(capsule);
            }
        }
        return Err(Error::from_pyerr(py, PyErr::fetch(py)));
    }
    // SAFETY: a new reference to a live object.
    Ok(unsafe { Bound::from_owned_ptr(py, capsule) })
}

/// The destructor of a keeper: releases its reference to the storage.
unsafe extern "C" fn release_keeper(capsule: *mut pyo3::ffi::PyObject) {
    // SAFETY: Python calls this once, with the GIL, for a capsule made by `keeper`, whose pointer
    // is the `Arc::into_raw` of a storage reference it owns. Dropping a storage never unwinds
    // (it frees memory, or drops a Python object or a DLPack owner, whose deleter is C).
    unsafe {
        let ptr = pyo3::ffi::PyCapsule_GetPointer(capsule, ptr::null());
        if !ptr.is_null() {
            drop(Arc::from_raw(ptr.cast::<Storage>()));
        }
    }
}

/// The storage a keeper holds, if `obj` is one.
pub(super) fn keeper_storage(obj: &Borrowed<'_, '_, PyAny>) -> Option<Arc<Storage>> {
    let raw = obj.as_ptr();
    // SAFETY: `obj` is a live object (GIL held); these only read it. A capsule whose context is
    // `keeper_mark()` was made by `keeper`, so its pointer is a storage reference that lives as
    // long as the capsule: taking one more (`increment_strong_count`) is sound.
    unsafe {
        if pyo3::ffi::PyCapsule_CheckExact(raw) == 0
            || pyo3::ffi::PyCapsule_GetContext(raw) != keeper_mark()
        {
            return None;
        }
        let ptr = pyo3::ffi::PyCapsule_GetPointer(raw, ptr::null()).cast::<Storage>();
        if ptr.is_null() {
            return None;
        }
        Arc::increment_strong_count(ptr);
        Some(Arc::from_raw(ptr))
    }
}

/// The Rust storage behind `arr`, if it is (a numpy view of) an array python4r exported.
///
/// Follows the arrays' `base` pointers directly (numpy's `PyArray_BASE`): an attribute look-up
/// per link would cost more than the rest of a small call.
pub(super) fn exported_storage(arr: &Bound<'_, PyAny>) -> Option<Arc<Storage>> {
    let py = arr.py();
    let mut cur = arr.as_ptr();
    loop {
        // SAFETY: `cur` is `arr` or a base of it: `arr` (alive for this call) holds a strong
        // reference to its base, which holds its own, and so on; nothing here runs Python code
        // that could change a base. The GIL is held (`py`).
        let array = unsafe { Borrowed::from_ptr(py, cur) };
        let array = array.cast::<PyUntypedArray>().ok()?;
        // SAFETY: `array` is a live ndarray; reading its base is what PyArray_BASE does.
        let base = unsafe { (*array.as_array_ptr()).fields.base };
        if base.is_null() {
            return None;
        }
        // SAFETY: a non-null base is a live object the array holds a reference to.
        let base_obj = unsafe { Borrowed::from_ptr(py, base) };
        if let Some(storage) = keeper_storage(&base_obj) {
            return Some(storage);
        }
        cur = base;
    }
}
