//! From numpy to a tensor: which numpy dtypes a tensor holds, which arrays Python can still
//! write, and ndarray subclasses.

use numpy::npyffi::{self, NPY_ARRAY_WRITEABLE};
use numpy::{PyArrayDescr, PyArrayDescrMethods, PyUntypedArray, PyUntypedArrayMethods};
use pyo3::prelude::*;

use std::ptr::NonNull;

use pyo3::Borrowed;

use super::export::keeper_storage;
use super::{py_err, types};
use crate::datetime::TimeUnit;
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::tensor::held;
use crate::tensor::layout::{dims_from, within};
use crate::tensor::storage::Foreign;
use crate::tensor::{Dims, Storage, Tensor};

/// The dtype of a numpy dtype, if a tensor can hold it.
pub(super) fn dtype_of(descr: &Bound<'_, PyArrayDescr>) -> Option<DType> {
    if descr.has_fields() || descr.has_subarray() {
        return None;
    }
    let (kind, size) = (descr.kind(), descr.itemsize());
    if kind == b'M' || kind == b'm' {
        return DType::from_numpy_kind_and_unit(kind, time_unit_of(descr)?);
    }
    if kind != b'V' {
        return DType::from_numpy_kind(kind, size);
    }
    // A dtype numpy only has through ml_dtypes: its type object says which.
    let ty = descr.typeobj();
    let module = ty.module().ok()?.to_string();
    let name = ty.name().ok()?.to_string();
    DType::ALL.into_iter().find(|d| {
        d.numpy_kind() == b'V'
            && d.size() == size
            && d.numpy_name() == name
            && module.starts_with("ml_dtypes")
    })
}

/// The unit of a `datetime64` or `timedelta64` descriptor (`'<M8[ns]'`), if python4r has it:
/// not the generic unit, not a multiple (`[15m]`), not `ps`, `fs` or `as`.
pub(super) fn time_unit_of(descr: &Bound<'_, PyArrayDescr>) -> Option<TimeUnit> {
    let text = descr.getattr("str").ok()?.extract::<String>().ok()?;
    let unit = text.split_once('[')?.1.strip_suffix(']')?;
    TimeUnit::from_code(unit)
}

/// How to convert an array of numpy dtype kind `kind` into something that crosses.
pub(super) fn conversion_hint(kind: u8) -> &'static str {
    match kind {
        b'U' | b'S' => {
            "strings cross as `Vec<String>` (or `Vec<Vec<u8>>` for bytes): return `a.tolist()`"
        }
        b'c' => {
            "complex numbers cross as complex64 and complex128: \
             `a.astype(np.complex128)` (or pass the parts, `a.real` and `a.imag`)"
        }
        b'M' => {
            "dates cross in one of the units listed, without a multiple: \
             `a.astype('datetime64[ns]')` (a date without a unit, `datetime64`, has no values \
             but NaT: give it one)"
        }
        b'm' => {
            "durations cross in one of the units listed, without a multiple: \
             `a.astype('timedelta64[ns]')`"
        }
        b'O' => {
            "an object array has no fixed element type: return `a.tolist()` (a `Vec<T>`/`Value`)"
        }
        b'V' => {
            "a structured or raw-bytes array has no one element type: pass each field as its own \
             array (`a['x']`)"
        }
        _ => "convert it to one of these first, e.g. with `.astype(np.float64)`",
    }
}

/// Whether Python code can write an imported array's memory by ordinary means, even if the
/// array itself is read-only: through a writable array or buffer in its base chain, or with
/// `setflags(write=True)` on an array that owns its memory. Only memory whose ultimate owner is
/// immutable (`bytes`) is safe to lend as `&[T]` without a copy.
pub(super) fn python_can_write(arr: &Bound<'_, PyUntypedArray>, writable: bool) -> bool {
    if writable {
        return true;
    }
    let mut cur = arr.clone().into_any();
    // A chain this long is not made by ordinary code: assume it can be written.
    for _ in 0..64 {
        let Ok(base) = cur.getattr("base") else {
            return true;
        };
        if base.is_none() {
            // An array that owns its memory can be made writable again.
            return true;
        }
        if let Ok(array) = base.cast::<PyUntypedArray>() {
            // SAFETY: `array` is a live ndarray (GIL held); this reads its flags as numpy's
            // PyArray_FLAGS does.
            let flags = unsafe { (*array.as_array_ptr()).fields.flags };
            if flags & NPY_ARRAY_WRITEABLE != 0 {
                return true;
            }
            cur = base;
            continue;
        }
        if base.is_instance_of::<pyo3::types::PyBytes>() {
            return false;
        }
        if let Ok(view) = base.cast::<pyo3::types::PyMemoryView>() {
            let readonly = view
                .getattr("readonly")
                .and_then(|r| r.extract::<bool>())
                .unwrap_or(false);
            if !readonly {
                return true;
            }
            match view.getattr("obj") {
                Ok(obj) if obj.is_instance_of::<pyo3::types::PyBytes>() => return false,
                Ok(obj) if !obj.is_none() => {
                    // Another buffer owner behind the view: it decides.
                    cur = obj;
                    if cur.is_instance_of::<PyUntypedArray>() {
                        continue;
                    }
                    return true;
                }
                _ => return true,
            }
        }
        // Any other owner (bytearray, mmap, a C extension's object): it may write.
        return true;
    }
    true
}

/// For an ndarray subclass: refuses a masked array that has masked elements (their data is not
/// meaningful), and gives the plain ndarray over the same memory for the others.
pub(super) fn plain_array<'py>(
    arr: Bound<'py, PyUntypedArray>,
) -> Result<Bound<'py, PyUntypedArray>> {
    let py = arr.py();
    // SAFETY: `arr` is a live object (GIL held) and numpy's C API is loaded (`ready` ran);
    // the check compares its type with numpy's ndarray type.
    let exact = unsafe { npyffi::PyArray_CheckExact(py, arr.as_ptr()) } != 0;
    if exact {
        return Ok(arr);
    }
    let ma = py.import("numpy.ma").map_err(py_err(py))?;
    let masked_array = ma.getattr("MaskedArray").map_err(py_err(py))?;
    if !arr.is_instance(&masked_array).map_err(py_err(py))? {
        return Ok(arr); // np.matrix, np.memmap, user subclasses: their data is the data.
    }
    let masked: usize = ma
        .call_method1("count_masked", (&arr,))
        .and_then(|n| n.extract())
        .map_err(py_err(py))?;
    if masked > 0 {
        return Err(unsupported(
            arr.as_any(),
            format!(
                "a masked array with {masked} masked element(s) has no value for them: fill them \
                 first (`a.filled(fill_value)`), or pass `a.data` to use the raw data underneath"
            ),
        ));
    }
    let data = arr.getattr("data").map_err(py_err(py))?;
    data.cast_into::<PyUntypedArray>()
        .map_err(|e| py_err(py)(e.into()))
}

pub(super) fn unsupported(obj: &Bound<'_, PyAny>, what: String) -> Error {
    Error::conversion(obj, "python4r::Tensor", what)
}

/// The fast lane of [`Tensor::from_numpy`](crate::Tensor::from_numpy): a plain `ndarray` (not a
/// subclass) of a dtype whose descriptor is numpy's built-in one (so native byte order), read
/// straight from the array's fields. `None` for anything else, which takes the general path.
///
/// An array that owns its memory (numpy's result of a call) is the per-call case and stays
/// inline; an array with a base goes out of line. A tensor comes as `Some(Ok(_))`: the `Result`
/// [`Tensor::from_numpy`] returns, so that the 128-byte tensor is written in place, not built as
/// an `Option` and copied into a `Result`.
#[inline]
pub(super) fn from_exact_array(obj: &Bound<'_, PyAny>) -> Option<Result<Tensor>> {
    let py = obj.py();
    let raw = obj.as_ptr();
    let dtype = types::exact_ndarray_dtype(py, raw)?;
    // SAFETY: `obj` is a live ndarray (its type is exactly numpy's) and the GIL is held: this
    // reads its fields as numpy's PyArray_* macros do.
    let fields = unsafe { &(*raw.cast::<npyffi::PyArrayObject>()).fields };
    let (shape, strides) = dims_of(fields)?;
    if !fields.base.is_null() {
        return exported_view(py, fields, dtype, shape, strides).map(Ok);
    }
    let ptr = NonNull::new(fields.data.cast::<u8>()).unwrap_or(NonNull::dangling());
    let writable = fields.flags & NPY_ARRAY_WRITEABLE != 0;
    let bytes = shape.iter().product::<usize>().saturating_mul(dtype.size());
    let owner = Foreign::python(obj.clone().unbind(), bytes);
    // SAFETY: numpy guarantees the array's elements (data + Σ i·strides) are valid memory for as
    // long as the array lives, and the storage holds a reference to the array (see
    // `Tensor::from_numpy`). An array that owns its memory can be made writable again by Python
    // (`setflags`), whatever its flag says now: Python may write it.
    let storage = held::shared(unsafe { Storage::foreign(ptr, owner, !writable, true) });
    // SAFETY: as above: every element is at `ptr + Σ i·strides`, offset 0.
    Some(Ok(unsafe {
        Tensor::from_parts(storage, dtype, shape, strides, 0)
    }))
}

/// The shape and byte strides of an array, from its fields.
#[inline]
fn dims_of(fields: &npyffi::PyArrayObject_fields) -> Option<(Dims<usize>, Dims<isize>)> {
    let nd = usize::try_from(fields.nd).ok()?;
    if nd == 0 {
        return Some((Dims::new(), Dims::new()));
    }
    // SAFETY: a live array's `dimensions` and `strides` point at `nd` values each; numpy's
    // dimensions are non-negative `npy_intp`s, with the same bits as `usize`s.
    let (shape, strides) = unsafe {
        (
            std::slice::from_raw_parts(fields.dimensions.cast::<usize>(), nd),
            std::slice::from_raw_parts(fields.strides.cast_const(), nd),
        )
    };
    Some((dims_from(shape), dims_from(strides)))
}

/// The fast lane for an array with a base: an export of python4r's itself (`result = arr`)
/// shares its storage; any other view takes the general path (`None`), which decides who can
/// write its memory.
#[inline(never)]
fn exported_view(
    py: Python<'_>,
    fields: &npyffi::PyArrayObject_fields,
    dtype: DType,
    shape: Dims<usize>,
    strides: Dims<isize>,
) -> Option<Tensor> {
    // SAFETY: a non-null base is a live object the array holds a reference to (GIL held).
    let base = unsafe { Borrowed::from_ptr(py, fields.base) };
    let storage = keeper_storage(&base)?;
    let offset = (fields.data as isize).wrapping_sub(storage.ptr() as isize);
    let inside = storage
        .bytes()
        .is_none_or(|bytes| within(bytes, offset, &shape, &strides, dtype.size()));
    // SAFETY: the array's memory is the keeper's storage's (it is the array's base) and for
    // Rust-owned storage every element was checked to lie inside it.
    inside.then(|| unsafe { Tensor::from_parts(storage, dtype, shape, strides, offset) })
}
