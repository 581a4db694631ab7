//! From a tensor to numpy: the descriptor of each dtype, the array over a tensor's memory, and the
//! keeper object that holds the memory alive for as long as Python holds the array.

use std::ffi::{c_int, c_void};
use std::ptr;
use std::sync::Arc;
use std::sync::atomic::{AtomicPtr, Ordering};

use numpy::PyUntypedArray;
use numpy::npyffi::{NPY_ARRAY_WRITEABLE, PY_ARRAY_API, PyArrayObject, npy_intp};
use numpy::{PyArrayDescr, PyArrayDescrMethods, PyUntypedArrayMethods};
use pyo3::Borrowed;
use pyo3::ffi;
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
        return Ok(descr);
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
    wrap_with(t, py, writable, descr(py, t.dtype())?)
}

/// [`wrap`] with `t`'s descriptor found already.
fn wrap_with<'py>(
    t: &Tensor,
    py: Python<'py>,
    writable: bool,
    descr: Bound<'py, PyArrayDescr>,
) -> Result<Bound<'py, PyAny>> {
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
/// crossed before. Inlined into the one caller, which is out of line.
#[inline]
pub(super) fn lend<'py>(t: &Tensor, py: Python<'py>) -> Result<Bound<'py, PyAny>> {
    let bytes = t.len().saturating_mul(t.dtype().size());
    if bytes <= LIMIT
        && let Some(descr) = types::builtin_descr(py, t.dtype())
    {
        return t.export.lend(
            py,
            |kept, descr| lendable_again(t, kept, descr),
            || wrap_with(t, py, false, descr),
        );
    }
    wrap(t, py, false)
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

/// A keeper: the `base` object of an array python4r exports, holding a reference to the
/// tensor's storage, so the memory lives as long as the array or any numpy view of it, however
/// long Python keeps them. Its type, `python4r.TensorStorage`, exposes no buffer, so numpy
/// refuses `setflags(write=True)` on a read-only export.
///
/// One is made and freed on every call that lends a fresh tensor: a type of python4r's own
/// (rather than a capsule, or a `#[pyclass]`) is a pointer comparison to recognise, and its
/// objects are kept for reuse on a short free list instead of going back to Python's allocator.
#[repr(C)]
struct KeeperObject {
    ob_base: ffi::PyObject,
    /// `Arc::into_raw` of the storage reference the keeper owns; null in an object Python made
    /// by calling the type (it holds nothing).
    storage: *const Storage,
}

/// `python4r.TensorStorage`, made once (leaked: python4r never finalises the interpreter).
static KEEPER_TYPE: AtomicPtr<ffi::PyTypeObject> = AtomicPtr::new(ptr::null_mut());

/// The keeper type, made at the first export.
#[inline]
fn keeper_type(py: Python<'_>) -> Result<*mut ffi::PyTypeObject> {
    let ty = KEEPER_TYPE.load(Ordering::Acquire);
    if ty.is_null() {
        return make_keeper_type(py);
    }
    Ok(ty)
}

#[cold]
fn make_keeper_type(py: Python<'_>) -> Result<*mut ffi::PyTypeObject> {
    let mut slots = [
        ffi::PyType_Slot {
            slot: ffi::Py_tp_dealloc,
            pfunc: release_keeper as *mut c_void,
        },
        ffi::PyType_Slot {
            slot: ffi::Py_tp_doc,
            pfunc: c"The memory of a python4r tensor, held for as long as an array uses it."
                .as_ptr()
                .cast_mut()
                .cast::<c_void>(),
        },
        ffi::PyType_Slot::default(),
    ];
    // Python 3.10 and later refuse `TensorStorage()`; 3.9 makes an empty one, which holds
    // nothing and is never taken for a keeper (see `keeper_storage`).
    #[cfg(Py_3_10)]
    let flags = ffi::Py_TPFLAGS_DEFAULT | ffi::Py_TPFLAGS_DISALLOW_INSTANTIATION;
    #[cfg(not(Py_3_10))]
    let flags = ffi::Py_TPFLAGS_DEFAULT;
    let mut spec = ffi::PyType_Spec {
        name: c"python4r.TensorStorage".as_ptr(),
        basicsize: size_of::<KeeperObject>() as c_int,
        itemsize: 0,
        flags: flags as std::ffi::c_uint,
        slots: slots.as_mut_ptr(),
    };
    // SAFETY: the GIL is held (`py`); the spec and its slots are valid for the call (CPython
    // copies what it keeps; the name and doc are static).
    let ty = unsafe { ffi::PyType_FromSpec(&mut spec) };
    if ty.is_null() {
        return Err(Error::from_pyerr(py, PyErr::fetch(py)));
    }
    // Under the GIL nothing else can make one meanwhile; without it, a thread that lost the
    // race keeps the first type (its own stays alive, unused: a type is never freed here).
    match KEEPER_TYPE.compare_exchange(
        ptr::null_mut(),
        ty.cast(),
        Ordering::AcqRel,
        Ordering::Acquire,
    ) {
        Ok(_) => Ok(ty.cast()),
        Err(first) => Ok(first),
    }
}

/// Keepers freed and kept for reuse: memory from `PyObject_Malloc`, sized for a
/// `KeeperObject`, with no live object in it. Touched only with the GIL held, so not at all
/// without a GIL.
#[cfg(not(Py_GIL_DISABLED))]
struct FreeKeepers {
    len: usize,
    slots: [*mut KeeperObject; FreeKeepers::CAPACITY],
}

#[cfg(not(Py_GIL_DISABLED))]
impl FreeKeepers {
    const CAPACITY: usize = 8;
}

#[cfg(not(Py_GIL_DISABLED))]
struct GilCell(std::cell::UnsafeCell<FreeKeepers>);

// SAFETY: the free list is only reached through `free_keepers`, whose callers hold the GIL, so
// one thread at a time; the pointers it holds are plain memory, owned by the list.
#[cfg(not(Py_GIL_DISABLED))]
unsafe impl Sync for GilCell {}

#[cfg(not(Py_GIL_DISABLED))]
static FREE_KEEPERS: GilCell = GilCell(std::cell::UnsafeCell::new(FreeKeepers {
    len: 0,
    slots: [ptr::null_mut(); FreeKeepers::CAPACITY],
}));

/// The free list.
///
/// # Safety
/// The caller holds the GIL, and drops the reference before anything that could run Python code
/// (and so reach this list again).
#[cfg(not(Py_GIL_DISABLED))]
#[inline]
unsafe fn free_keepers<'a>() -> &'a mut FreeKeepers {
    // SAFETY: the caller's contract: one user at a time, for a span with no reentry.
    unsafe { &mut *FREE_KEEPERS.0.get() }
}

/// A new keeper of `storage` (see [`KeeperObject`]).
#[inline]
fn keeper<'py>(py: Python<'py>, storage: &Arc<Storage>) -> Result<Bound<'py, PyAny>> {
    let ty = keeper_type(py)?;
    // SAFETY: the GIL is held (`py`); the reference to the list ends before any call below.
    #[cfg(not(Py_GIL_DISABLED))]
    let memory = unsafe {
        let free = free_keepers();
        if free.len > 0 {
            free.len -= 1;
            free.slots[free.len]
        } else {
            ffi::PyObject_Malloc(size_of::<KeeperObject>()).cast::<KeeperObject>()
        }
    };
    // SAFETY: as above.
    #[cfg(Py_GIL_DISABLED)]
    let memory = unsafe { ffi::PyObject_Malloc(size_of::<KeeperObject>()).cast::<KeeperObject>() };
    if memory.is_null() {
        let error = pyo3::exceptions::PyMemoryError::new_err(
            "out of memory for the object that keeps an exported tensor's memory alive",
        );
        return Err(Error::from_pyerr(py, error));
    }
    // SAFETY: `memory` is `PyObject_Malloc` memory for a `KeeperObject` with no object in it;
    // `PyObject_Init` makes it a live object of the keeper type (type, reference count of one,
    // a reference to the heap type), and the storage reference it owns from now on is given
    // back by `release_keeper` when the object is freed.
    unsafe {
        (*memory).storage = Arc::into_raw(Arc::clone(storage));
        let object = ffi::PyObject_Init(memory.cast::<ffi::PyObject>(), ty);
        Ok(Bound::from_owned_ptr(py, object))
    }
}

/// The `tp_dealloc` of keepers: releases its reference to the storage and keeps the object's
/// memory for the next keeper (or frees it when the free list is full).
unsafe extern "C" fn release_keeper(object: *mut ffi::PyObject) {
    // SAFETY: Python calls this once, with the GIL, when a keeper's last reference goes; it
    // is an object of the keeper type (a heap type, whose instances own a reference to it,
    // given back here). Its memory came from `PyObject_Malloc` (ours, or CPython's generic
    // allocation when 3.9 made an empty one). Everything is read before the memory is handed
    // on; the storage goes last, since dropping it may release Python objects (more keepers).
    // Dropping a storage never unwinds (it frees memory, or drops a Python object or a DLPack
    // owner, whose deleter is C).
    unsafe {
        let keeper = object.cast::<KeeperObject>();
        let storage = (*keeper).storage;
        let ty = ffi::Py_TYPE(object);
        #[cfg(not(Py_GIL_DISABLED))]
        {
            let free = free_keepers();
            if free.len < FreeKeepers::CAPACITY {
                free.slots[free.len] = keeper;
                free.len += 1;
            } else {
                ffi::PyObject_Free(object.cast::<c_void>());
            }
        }
        #[cfg(Py_GIL_DISABLED)]
        ffi::PyObject_Free(object.cast::<c_void>());
        ffi::Py_DecRef(ty.cast::<ffi::PyObject>());
        if !storage.is_null() {
            drop(Arc::from_raw(storage));
        }
    }
}

/// The storage a keeper holds, if `obj` is one.
#[inline]
pub(super) fn keeper_storage(obj: &Borrowed<'_, '_, PyAny>) -> Option<Arc<Storage>> {
    let raw = obj.as_ptr();
    // SAFETY: `obj` is a live object (GIL held); this only reads it. An object of the keeper
    // type holds its storage reference for as long as it lives, so taking one more
    // (`increment_strong_count`) is sound.
    unsafe {
        let ty = KEEPER_TYPE.load(Ordering::Acquire);
        if ty.is_null() || ffi::Py_TYPE(raw) != ty {
            return None;
        }
        let storage = (*raw.cast::<KeeperObject>()).storage;
        if storage.is_null() {
            return None;
        }
        Arc::increment_strong_count(storage);
        Some(Arc::from_raw(storage))
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
