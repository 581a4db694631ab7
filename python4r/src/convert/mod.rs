//! Conversions between Rust and Python values: the [`ToPython`], [`ToPythonMut`] and
//! [`FromPython`] traits, and the dynamic [`Value`].
//!
//! The traits build on pyo3's own conversion traits, so every type pyo3 converts crosses here
//! too:
//!
//! | Rust | Python |
//! |---|---|
//! | `bool` | `bool` (also from `numpy.bool_`) |
//! | `i8` … `i128`, `u8` … `u128`, `isize`, `usize` | `int` (also from numpy integers; out of range is an error, never a wrap) |
//! | `f32`, `f64` | `float` (also from numpy floats) |
//! | `&str`, `String` | `str` |
//! | `&[u8]`, `Vec<u8>` | `bytes` (also from `bytearray` and `memoryview`) |
//! | `Option<T>` | `None` or `T` |
//! | `Vec<T>`, `&[T]` | `list` (also from `tuple`) |
//! | `HashMap<K, V>`, `BTreeMap<K, V>` | `dict` |
//! | tuples of up to 12 elements | `tuple` |
//! | [`Value`] | any of the above, nested, with mixed-type dict keys, in order |
//! | `Py<PyAny>` | anything, passed through |
//! | `num_complex::Complex32`, `Complex64` (feature `num-complex`) | `complex` (also from numpy complex scalars) |
//! | `chrono::NaiveDate` (feature `chrono`) | `datetime.date` |
//! | `chrono::NaiveDateTime`, `DateTime<Utc>`, `DateTime<FixedOffset>` (feature `chrono`) | `datetime.datetime`, naive or aware (also from `numpy.datetime64`; `Option<_>` is `None` for `NaT`) |
//! | `chrono::NaiveTime` (feature `chrono`) | `datetime.time` |
//! | `chrono::TimeDelta` (feature `chrono`) | `datetime.timedelta` (also from `numpy.timedelta64`) |
//!
//! # Dates and times (feature `chrono`)
//!
//! pyo3's conversions carry microseconds, as Python's `datetime` does: a chrono value's
//! nanoseconds are truncated on the way to Python, and a `pandas.Timestamp` (a `datetime`
//! subclass) arrives without its nanoseconds; pass `ts.to_datetime64()` to keep them, since a
//! `numpy.datetime64` scalar is read exactly. numpy's dates have no time zone: a
//! `numpy.datetime64` becomes a `NaiveDateTime`, or a `DateTime<Utc>` when asked for one. A
//! `DateTime<FixedOffset>` takes a `datetime` with a fixed-offset `tzinfo`; [`Value`] takes any
//! aware `datetime` (a `zoneinfo` zone too), keeping the offset it has at that instant but not
//! the zone. Date *arrays* cross as tensors: see [`crate::datetime`].
//!
//! # A type of your own
//!
//! Implement pyo3's [`IntoPyObject`] for a reference to it (it then
//! [`ToPython`]) and [`FromPyObject`] (it then [`FromPython`]):
//!
//! ```
//! use python4r::pyo3::prelude::*;
//! use python4r::pyo3::types::PyTuple;
//! use python4r::pyo3::{Borrowed, IntoPyObject, FromPyObject, PyErr};
//!
//! #[derive(Debug, PartialEq)]
//! struct Point { x: f64, y: f64 }
//!
//! impl<'py> IntoPyObject<'py> for &Point {
//!     type Target = PyTuple;
//!     type Output = Bound<'py, PyTuple>;
//!     type Error = PyErr;
//!     fn into_pyobject(self, py: Python<'py>) -> Result<Self::Output, Self::Error> {
//!         PyTuple::new(py, [self.x, self.y])
//!     }
//! }
//!
//! impl<'a, 'py> FromPyObject<'a, 'py> for Point {
//!     type Error = PyErr;
//!     fn extract(obj: Borrowed<'a, 'py, PyAny>) -> Result<Self, Self::Error> {
//!         let (x, y): (f64, f64) = obj.extract()?;
//!         Ok(Point { x, y })
//!     }
//! }
//!
//! python4r::set("p", &Point { x: 1.0, y: 2.0 })?;
//! let moved: Point = python4r::eval("(p[0] + 1, p[1] * 2)")?;
//! assert_eq!(moved, Point { x: 2.0, y: 4.0 });
//! # Ok::<(), python4r::Error>(())
//! ```

mod value;

pub use value::Value;

use pyo3::conversion::FromPyObjectOwned;
use pyo3::prelude::*;
use pyo3::types::PyList;
use pyo3::{BoundObject, IntoPyObject};

use crate::error::{Error, Result};
use crate::pyerr;
#[cfg(feature = "numpy")]
use crate::tensor::{Tensor, TensorViewMut};

/// A Rust value that can be passed to Python (by reference).
///
/// Implemented for every type a reference to which implements pyo3's
/// [`IntoPyObject`]: see the [module documentation](self) for the list and for making a type of
/// your own passable.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be passed to Python",
    label = "this type has no conversion to Python",
    note = "implement pyo3's `IntoPyObject` for `&{Self}` (see python4r's `convert` module docs)"
)]
pub trait ToPython {
    /// Converts the value to a Python object.
    fn to_python<'py>(&self, py: Python<'py>) -> Result<Bound<'py, PyAny>>;
}

impl<T> ToPython for T
where
    T: ?Sized,
    for<'a, 'py> &'a T: IntoPyObject<'py>,
{
    // The caller's location names the call site of conversion warnings (bfloat16 copies).
    #[track_caller]
    fn to_python<'py>(&self, py: Python<'py>) -> Result<Bound<'py, PyAny>> {
        self.into_pyobject(py)
            .map(|obj| obj.into_any().into_bound())
            .map_err(|e| pyerr::from_conversion_error(py, e))
    }
}

/// A Rust value that Python may change in place: how `&mut T` arguments cross.
///
/// [`Tensor`]s are lent writable, over the same memory. A `Vec<T>` or a
/// [`Value`] crosses as a `list` (or `dict`) whose contents are read back into the Rust value
/// after the call.
pub trait ToPythonMut {
    /// Converts the value for a call that may change it.
    fn to_python_mut<'py>(&mut self, py: Python<'py>) -> Result<Bound<'py, PyAny>>;

    /// Runs after the Python code returned, with the object [`to_python_mut`] made: reads back
    /// what Python changed, or stops sharing what Python kept.
    ///
    /// [`to_python_mut`]: ToPythonMut::to_python_mut
    fn after_call<'py>(&mut self, obj: &Bound<'py, PyAny>) -> Result<()>;
}

impl<T> ToPythonMut for Vec<T>
where
    T: ToPython + FromPython,
{
    fn to_python_mut<'py>(&mut self, py: Python<'py>) -> Result<Bound<'py, PyAny>> {
        let items = self
            .iter()
            .map(|item| item.to_python(py))
            .collect::<Result<Vec<_>>>()?;
        PyList::new(py, items)
            .map(|l| l.into_any())
            .map_err(|e| Error::from_pyerr(py, e))
    }

    fn after_call<'py>(&mut self, obj: &Bound<'py, PyAny>) -> Result<()> {
        let list = obj
            .cast::<PyList>()
            .map_err(|e| Error::from_pyerr(obj.py(), e.into()))?;
        *self = list
            .iter()
            .map(|item| T::from_python(&item))
            .collect::<Result<Vec<_>>>()?;
        Ok(())
    }
}

impl ToPythonMut for Value {
    fn to_python_mut<'py>(&mut self, py: Python<'py>) -> Result<Bound<'py, PyAny>> {
        self.to_python(py)
    }

    fn after_call<'py>(&mut self, obj: &Bound<'py, PyAny>) -> Result<()> {
        *self = Value::from_python(obj)?;
        Ok(())
    }
}

/// A Rust value that can be made from a Python object.
///
/// Implemented for every type that implements pyo3's [`FromPyObject`]
/// without borrowing from the object. A failure is an [`Error::Conversion`] naming the Rust type
/// expected and the Python type found.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be returned from Python",
    label = "this type has no conversion from Python",
    note = "implement pyo3's `FromPyObject` for `{Self}` (see python4r's `convert` module docs)"
)]
pub trait FromPython: Sized {
    /// Converts a Python object.
    fn from_python(obj: &Bound<'_, PyAny>) -> Result<Self>;
}

impl<T> FromPython for T
where
    T: for<'py> FromPyObjectOwned<'py>,
{
    #[inline]
    fn from_python(obj: &Bound<'_, PyAny>) -> Result<Self> {
        match obj.extract::<T>() {
            Ok(value) => Ok(value),
            Err(e) => not_extracted(obj, e),
        }
    }
}

/// The error path of [`FromPython::from_python`], out of line: the call path stays small.
#[cold]
#[inline(never)]
fn not_extracted<T, E: Into<PyErr>>(obj: &Bound<'_, PyAny>, error: E) -> Result<T>
where
    T: for<'py> FromPyObjectOwned<'py>,
{
    // numpy's date scalars, which pyo3's chrono conversions refuse.
    #[cfg(feature = "chrono")]
    if let Some(value) = crate::time_values::from_numpy_scalar::<T>(obj) {
        return value;
    }
    Err(extraction_error(obj, std::any::type_name::<T>(), error))
}

/// The error of extracting `expected` from `obj`: python4r's own error as it is; a Python
/// `TypeError`, `OverflowError` or `ValueError` (the value does not fit the type) as an
/// [`Error::Conversion`]; any other exception (raised by the object's own methods) as it is.
pub(crate) fn extraction_error<E: Into<PyErr>>(
    obj: &Bound<'_, PyAny>,
    expected: &str,
    error: E,
) -> Error {
    let py = obj.py();
    let err = match pyerr::as_error(error) {
        Ok(error) => return error,
        Err(err) => err,
    };
    let ty = err.get_type(py);
    let does_not_fit = ty
        .is_subclass_of::<pyo3::exceptions::PyTypeError>()
        .unwrap_or(false)
        || ty
            .is_subclass_of::<pyo3::exceptions::PyOverflowError>()
            .unwrap_or(false)
        || ty
            .is_subclass_of::<pyo3::exceptions::PyValueError>()
            .unwrap_or(false);
    if does_not_fit {
        Error::conversion(obj, expected, pyerr::exception_message(py, &err))
    } else {
        Error::from_pyerr(py, err)
    }
}

/// A `&mut Tensor` crosses writable, over the same memory: in-place changes in Python
/// (`x *= 2`) change the tensor at the same address. It takes a whole tensor, not a view of
/// one: for a column of `big`, pass a [`TensorViewMut`] (`&mut big.index_axis_mut(1, 0)?`).
///
/// Before the call the storage is made unique (copied if another tensor or a live export shares
/// it). After the call, if Python kept the array or a view of it, the tensor moves to a copy so
/// that Python's later writes cannot reach it. A bfloat16 tensor crosses as a float32 copy whose
/// values are written back (unless ml_dtypes is enabled).
#[cfg(feature = "numpy")]
impl ToPythonMut for Tensor {
    #[track_caller]
    fn to_python_mut<'py>(&mut self, py: Python<'py>) -> Result<Bound<'py, PyAny>> {
        self.to_numpy_mut(py)
    }

    fn after_call<'py>(&mut self, obj: &Bound<'py, PyAny>) -> Result<()> {
        self.after_numpy_call(obj)
    }
}

/// A `&mut TensorViewMut` crosses as a writable array over its parent's memory, at the same
/// address: in-place changes in Python (`np.sqrt(x, out=x)`) change the parent.
///
/// The parent's storage was made unique when the view was made. After the call, if Python kept
/// the array or a view of it, the parent moves to a copy (with the same layout, so the view stays
/// valid), so that Python's later writes cannot reach it. A bfloat16 view crosses as a float32
/// copy whose values are written back (unless ml_dtypes is enabled).
///
/// ```
/// use python4r::{Tensor, TensorViewMut, py_exec};
///
/// #[py_exec(code = "import numpy as np\nnp.sqrt(x, out=x)")]
/// fn sqrt_in_place(x: &mut TensorViewMut<'_>);
///
/// let mut big = Tensor::from_vec(vec![1.0f64, 4.0, 2.0, 9.0], &[2, 2])?;
/// let ptr = big.data_ptr();
/// sqrt_in_place(&mut big.index_axis_mut(1, 1)?);
/// assert_eq!(big.to_vec::<f64>()?, vec![1.0, 2.0, 2.0, 3.0]);
/// assert_eq!(big.data_ptr(), ptr);
/// # Ok::<(), python4r::Error>(())
/// ```
#[cfg(feature = "numpy")]
impl ToPythonMut for TensorViewMut<'_> {
    #[track_caller]
    fn to_python_mut<'py>(&mut self, py: Python<'py>) -> Result<Bound<'py, PyAny>> {
        self.to_numpy_mut(py)
    }

    fn after_call<'py>(&mut self, obj: &Bound<'py, PyAny>) -> Result<()> {
        self.after_numpy_call(obj)
    }
}
