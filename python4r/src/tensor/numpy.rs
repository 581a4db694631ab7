//! The zero-copy NumPy bridge: [`Tensor`] to and from `numpy.ndarray` over the same memory.

use std::collections::HashSet;
use std::ffi::{c_int, c_void};
use std::panic::Location;
use std::ptr::{self, NonNull};
use std::sync::{Arc, Mutex};

use numpy::npyffi::{self, NPY_ARRAY_WRITEABLE, NpyTypes, PY_ARRAY_API, PyArrayObject, npy_intp};
use numpy::{PyArrayDescr, PyArrayDescrMethods, PyUntypedArray, PyUntypedArrayMethods};
use pyo3::exceptions::{PyImportError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::{Borrowed, IntoPyObject};

use super::dlpack::install_gil_lock;
use super::{DType, Storage, Tensor};
use crate::config::Bf16Mode;
use crate::{Error, Result, ToPythonMut};

/// The `base` object of every array python4r exports: it holds the tensor's storage, so the
/// memory lives as long as the array or any numpy view of it, however long Python keeps them.
///
/// It exposes no buffer, so numpy refuses `setflags(write=True)` on a read-only export.
#[pyclass(frozen, name = "TensorStorage", module = "python4r")]
pub(crate) struct TensorStorage {
    storage: Arc<Storage>,
}

#[pymethods]
impl TensorStorage {
    fn __repr__(&self) -> String {
        format!("<python4r tensor storage at {:p}>", self.storage.ptr())
    }
}

fn ready(py: Python<'_>) -> Result<()> {
    Error::check_numpy(py)?;
    install_gil_lock();
    Ok(())
}

fn py_err(py: Python<'_>) -> impl Fn(PyErr) -> Error + '_ {
    move |e| Error::from_pyerr(py, e)
}

/// Whether bfloat16 crosses zero-copy as `ml_dtypes.bfloat16` (opt-in, and importable).
fn ml_dtypes_enabled(py: Python<'_>) -> bool {
    crate::config::current().is_some_and(|c| c.get_bf16() == Bf16Mode::MlDtypes)
        && py.import("ml_dtypes").is_ok()
}

/// Logs that a bfloat16 tensor crossed as a float32 copy, once per call site.
fn warn_bf16_cast(at: &'static Location<'static>) {
    type CallSites = HashSet<(&'static str, u32, u32)>;
    static SEEN: Mutex<Option<CallSites>> = Mutex::new(None);
    let mut seen = SEEN.lock().unwrap_or_else(|e| e.into_inner());
    if seen
        .get_or_insert_with(HashSet::new)
        .insert((at.file(), at.line(), at.column()))
    {
        log::warn!(
            "a bfloat16 tensor is passed to Python as a float32 copy at {at} (numpy has no \
             bfloat16); set PYTHON4R_BF16=ml_dtypes (with ml_dtypes installed) to pass it \
             without a copy"
        );
    }
}

fn descr<'py>(py: Python<'py>, dtype: DType) -> Result<Bound<'py, PyArrayDescr>> {
    Ok(match dtype {
        DType::Float64 => numpy::dtype::<f64>(py),
        DType::Float32 => numpy::dtype::<f32>(py),
        DType::Float16 => numpy::dtype::<half::f16>(py),
        DType::Int64 => numpy::dtype::<i64>(py),
        DType::Int32 => numpy::dtype::<i32>(py),
        DType::Int16 => numpy::dtype::<i16>(py),
        DType::Int8 => numpy::dtype::<i8>(py),
        DType::UInt64 => numpy::dtype::<u64>(py),
        DType::UInt32 => numpy::dtype::<u32>(py),
        DType::UInt16 => numpy::dtype::<u16>(py),
        DType::UInt8 => numpy::dtype::<u8>(py),
        DType::Bool => numpy::dtype::<bool>(py),
        DType::BFloat16 => {
            // Straight from ml_dtypes: rust-numpy's own `bf16` dtype panics unless it is imported.
            let bf16 = py
                .import("ml_dtypes")
                .and_then(|m| m.getattr("bfloat16"))
                .map_err(py_err(py))?;
            PyArrayDescr::new(py, bf16).map_err(py_err(py))?
        }
    })
}

/// An ndarray over `t`'s memory, whose base holds `t`'s storage.
fn wrap<'py>(t: &Tensor, py: Python<'py>, writable: bool) -> Result<Bound<'py, PyAny>> {
    let descr = descr(py, t.dtype())?;
    let base = Bound::new(
        py,
        TensorStorage {
            storage: Arc::clone(t.storage()),
        },
    )
    .map_err(py_err(py))?;
    // Most tensors have few dimensions: describe them without allocating.
    const ON_STACK: usize = 8;
    let (mut dims_stack, mut strides_stack) =
        ([0 as npy_intp; ON_STACK], [0 as npy_intp; ON_STACK]);
    let (mut dims_heap, mut strides_heap) = (Vec::new(), Vec::new());
    let (dims, strides) = if t.ndim() <= ON_STACK {
        (&mut dims_stack[..t.ndim()], &mut strides_stack[..t.ndim()])
    } else {
        dims_heap.resize(t.ndim(), 0);
        strides_heap.resize(t.ndim(), 0);
        (&mut dims_heap[..], &mut strides_heap[..])
    };
    for (dim, &d) in dims.iter_mut().zip(t.shape()) {
        *dim = d as npy_intp;
    }
    for (stride, &s) in strides.iter_mut().zip(t.strides()) {
        *stride = s as npy_intp;
    }
    let flags = if writable { NPY_ARRAY_WRITEABLE } else { 0 };
    // SAFETY: numpy is imported (`ready`). The dims and strides describe exactly the tensor's
    // elements, which lie in memory that `t.storage()` keeps alive; `base` holds that storage
    // and becomes the array's base, so the memory outlives the array and all its views.
    // `PyArray_NewFromDescr` steals `descr`, `PyArray_SetBaseObject` steals `base` (even when it
    // fails). The array is writable only when the caller made the storage unique (`&mut`).
    unsafe {
        let ty = npyffi::get_type_object(py, NpyTypes::PyArray_Type);
        let arr = PY_ARRAY_API.PyArray_NewFromDescr(
            py,
            ty,
            descr.into_dtype_ptr(),
            t.ndim() as c_int,
            dims.as_mut_ptr(),
            strides.as_mut_ptr(),
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

/// The dtype of a numpy dtype, if a tensor can hold it.
fn dtype_of(descr: &Bound<'_, PyArrayDescr>) -> Option<DType> {
    if descr.has_fields() || descr.has_subarray() {
        return None;
    }
    Some(match (descr.kind(), descr.itemsize()) {
        (b'f', 8) => DType::Float64,
        (b'f', 4) => DType::Float32,
        (b'f', 2) => DType::Float16,
        (b'i', 8) => DType::Int64,
        (b'i', 4) => DType::Int32,
        (b'i', 2) => DType::Int16,
        (b'i', 1) => DType::Int8,
        (b'u', 8) => DType::UInt64,
        (b'u', 4) => DType::UInt32,
        (b'u', 2) => DType::UInt16,
        (b'u', 1) => DType::UInt8,
        (b'b', 1) => DType::Bool,
        (b'V', 2) => {
            let ty = descr.typeobj();
            let module = ty.module().ok()?.to_string();
            let name = ty.name().ok()?.to_string();
            if module.starts_with("ml_dtypes") && name == "bfloat16" {
                DType::BFloat16
            } else {
                return None;
            }
        }
        _ => return None,
    })
}

/// The Rust storage behind `arr`, if it is (a numpy view of) an array python4r exported.
///
/// Follows the arrays' `base` pointers directly (numpy's `PyArray_BASE`): an attribute look-up
/// per link would cost more than the rest of a small call.
fn exported_storage(arr: &Bound<'_, PyAny>) -> Option<Arc<Storage>> {
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
        if let Ok(owner) = base_obj.cast::<TensorStorage>() {
            return Some(Arc::clone(&owner.get().storage));
        }
        cur = base;
    }
}

/// Whether every element (`itemsize` bytes at `offset + Σ i·stride`) lies in `0..bytes`.
fn within(
    bytes: usize,
    offset: isize,
    shape: &[usize],
    strides: &[isize],
    itemsize: usize,
) -> bool {
    if shape.contains(&0) {
        return true;
    }
    let (mut lo, mut hi) = (offset, offset);
    for (&d, &s) in shape.iter().zip(strides) {
        let span = s * (d as isize - 1);
        if span < 0 {
            lo += span;
        } else {
            hi += span;
        }
    }
    lo >= 0
        && hi >= 0
        && (hi as usize)
            .checked_add(itemsize)
            .is_some_and(|end| end <= bytes)
}

/// Whether Python code can write an imported array's memory by ordinary means, even if the
/// array itself is read-only: through a writable array or buffer in its base chain, or with
/// `setflags(write=True)` on an array that owns its memory. Only memory whose ultimate owner is
/// immutable (`bytes`) is safe to lend as `&[T]` without a copy.
fn python_can_write(arr: &Bound<'_, PyUntypedArray>, writable: bool) -> bool {
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
fn plain_array<'py>(arr: Bound<'py, PyUntypedArray>) -> Result<Bound<'py, PyUntypedArray>> {
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

fn unsupported(obj: &Bound<'_, PyAny>, what: String) -> Error {
    Error::conversion(obj, "python4r::Tensor", what)
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
    pub fn to_numpy<'py>(&self, py: Python<'py>) -> Result<Bound<'py, PyAny>> {
        let at = Location::caller();
        ready(py)?;
        if self.dtype() == DType::BFloat16 && !ml_dtypes_enabled(py) {
            warn_bf16_cast(at);
            return wrap(&self.cast(DType::Float32), py, false);
        }
        wrap(self, py, false)
    }

    /// A tensor sharing the memory of a `numpy.ndarray` (any of the 13 dtypes, any layout), or a
    /// 0-d tensor from a numpy scalar. The tensor keeps the array alive.
    ///
    /// An array that is a view of a tensor python4r exported shares that tensor's storage.
    /// Byte-swapped arrays are copied to native order (correct values, not shared).
    ///
    /// # Errors
    /// [`Error::Conversion`] naming the dtype for unsupported dtypes (complex, object, strings,
    /// datetimes, structured) and for objects that are not numpy arrays or scalars;
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
    /// # Ok::<(), python4r::Error>(())
    /// ```
    pub fn from_numpy(obj: &Bound<'_, PyAny>) -> Result<Tensor> {
        let py = obj.py();
        ready(py)?;
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
            return Err(unsupported(
                obj,
                format!(
                    "numpy dtype `{name}` is not supported: a Tensor holds float64, float32, \
                     bfloat16 (ml_dtypes), float16, int64, int32, int16, int8, uint64, uint32, \
                     uint16, uint8 or bool; convert it first, e.g. with `.astype(np.float64)`"
                ),
            ));
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
        let shape = super::Dims::from_slice(arr.shape());
        let strides = super::Dims::from_slice(arr.strides());
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
        let storage = unsafe { Storage::foreign(ptr, owner, !writable, may_write) };
        // SAFETY: as above: every element is at `ptr + Σ i·strides`, offset 0.
        Ok(unsafe { Tensor::from_parts(Arc::new(storage), dtype, shape, strides, 0) })
    }

    /// Overwrites every element with `src`'s (same shape), cast to this tensor's dtype, in place
    /// when the storage is unique.
    fn assign(&mut self, src: &Tensor) -> Result<()> {
        if src.shape() != self.shape() {
            return Err(Error::ShapeMismatch(format!(
                "Python changed the shape of a `&mut` tensor from {:?} to {:?}",
                self.shape(),
                src.shape()
            )));
        }
        let src = src.cast(self.dtype()).to_contiguous();
        self.make_unique();
        let (dtype, size) = (self.dtype(), self.dtype().size());
        let (base, src_ptr) = (self.storage().ptr(), src.data_ptr());
        let mut i = 0;
        self.for_each_offset(|off| {
            // SAFETY: `self`'s storage is unique (`make_unique`), `off` is one of its elements,
            // and `src` is a distinct contiguous tensor with the same number of elements.
            unsafe { ptr::copy_nonoverlapping(src_ptr.add(i * size), base.offset(off), size) };
            i += 1;
        });
        let _ = dtype;
        Ok(())
    }
}

/// A `&Tensor` crosses as a read-only `numpy.ndarray` over the same memory
/// ([`Tensor::to_numpy`]).
impl<'py> IntoPyObject<'py> for &Tensor {
    type Target = PyAny;
    type Output = Bound<'py, PyAny>;
    type Error = PyErr;

    #[track_caller]
    fn into_pyobject(self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.to_numpy(py).map_err(into_pyerr)
    }
}

/// As `&Tensor`.
impl<'py> IntoPyObject<'py> for Tensor {
    type Target = PyAny;
    type Output = Bound<'py, PyAny>;
    type Error = PyErr;

    #[track_caller]
    fn into_pyobject(self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        (&self).into_pyobject(py)
    }
}

/// A numpy array or scalar becomes a tensor sharing its memory ([`Tensor::from_numpy`]).
impl<'a, 'py> FromPyObject<'a, 'py> for Tensor {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Tensor> {
        Tensor::from_numpy(&obj).map_err(into_pyerr)
    }
}

/// Turns a bridge error into the Python exception pyo3's traits carry: `TypeError` for values
/// that cannot convert (python4r reports it as [`Error::Conversion`] naming the variable),
/// `ImportError` when numpy is unusable.
fn into_pyerr(err: Error) -> PyErr {
    match err {
        Error::Python(exc) => exc.into_pyerr(),
        Error::Conversion { reason, .. } => PyTypeError::new_err(reason),
        e @ (Error::NumpyDisabled | Error::NumpyUnavailable { .. }) => {
            let exception = PyImportError::new_err(e.to_string());
            crate::error::carry(e, exception)
        }
        e => PyValueError::new_err(e.to_string()),
    }
}

/// A `&mut Tensor` crosses writable, over the same memory: in-place changes in Python
/// (`x *= 2`) change the tensor at the same address.
///
/// Before the call the storage is made unique (copied if another tensor or a live export shares
/// it). After the call, if Python kept the array or a view of it, the tensor moves to a copy so
/// that Python's later writes cannot reach it. A bfloat16 tensor crosses as a float32 copy whose
/// values are written back (unless ml_dtypes is enabled).
impl ToPythonMut for Tensor {
    #[track_caller]
    fn to_python_mut<'py>(&mut self, py: Python<'py>) -> Result<Bound<'py, PyAny>> {
        let at = Location::caller();
        ready(py)?;
        if self.dtype() == DType::BFloat16 && !ml_dtypes_enabled(py) {
            warn_bf16_cast(at);
            return wrap(&self.cast(DType::Float32), py, true);
        }
        self.make_unique();
        self.storage().set_python_may_write(true);
        wrap(self, py, true)
    }

    fn after_call<'py>(&mut self, obj: &Bound<'py, PyAny>) -> Result<()> {
        let shares = exported_storage(obj).is_some_and(|s| Arc::ptr_eq(&s, self.storage()));
        if !shares {
            // A cast copy (bfloat16 as float32): write Python's result back.
            let result = Tensor::from_numpy(obj)?;
            return self.assign(&result);
        }
        // `obj` is held once by the caller; any other reference is Python keeping the array
        // (a variable, a list, a view's base). Any other holder of the storage is a view that
        // kept it, or a tensor made from one.
        // SAFETY: `obj` is a live object (the GIL is held through its `Bound`).
        let refs = unsafe { pyo3::ffi::Py_REFCNT(obj.as_ptr()) };
        let kept = refs > 1 || Arc::strong_count(self.storage()) > 2;
        if kept {
            *self = self.to_contiguous_copy();
        } else {
            self.storage().set_python_may_write(false);
        }
        Ok(())
    }
}
