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

use std::fmt;

use pyo3::conversion::FromPyObjectOwned;
use pyo3::prelude::*;
use pyo3::types::{
    PyBool, PyByteArray, PyBytes, PyDict, PyFloat, PyFrozenSet, PyInt, PyList, PySet, PyString,
    PyTuple,
};
use pyo3::{BoundObject, IntoPyObject};

use crate::error::{Error, Result};

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
            .map_err(|e| Error::from_pyerr(py, e.into()))
    }
}

/// A Rust value that Python may change in place: how `&mut T` arguments cross.
///
/// [`Tensor`](crate::Tensor)s are lent writable, over the same memory. A `Vec<T>` or a
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
    fn from_python(obj: &Bound<'_, PyAny>) -> Result<Self> {
        obj.extract::<T>().map_err(|e| {
            let err: PyErr = e.into();
            let py = obj.py();
            match err
                .get_type(py)
                .is_subclass_of::<pyo3::exceptions::PyTypeError>()
                .unwrap_or(false)
                || err
                    .get_type(py)
                    .is_subclass_of::<pyo3::exceptions::PyOverflowError>()
                    .unwrap_or(false)
                || err
                    .get_type(py)
                    .is_subclass_of::<pyo3::exceptions::PyValueError>()
                    .unwrap_or(false)
            {
                true => Error::conversion(
                    obj,
                    std::any::type_name::<T>(),
                    crate::error::exception_message(py, &err),
                ),
                // Anything else (an exception raised by the object's own methods) stays a
                // Python error.
                false => Error::from_pyerr(py, err),
            }
        })
    }
}

/// A dynamic Python value: heterogeneous, nested data in the order Python holds it.
///
/// Dicts keep their insertion order and may have keys of mixed types (`{"a": 1, 1: "a"}`).
///
/// # Example
///
/// ```
/// use python4r::Value;
///
/// let v: Value = python4r::eval("{'a': 1, 1: 'a', 'l': [1, 2.0, None]}")?;
/// assert_eq!(
///     v,
///     Value::Dict(vec![
///         (Value::from("a"), Value::Int(1)),
///         (Value::Int(1), Value::from("a")),
///         (Value::from("l"), Value::List(vec![Value::Int(1), Value::Float(2.0), Value::None])),
///     ])
/// );
/// assert_eq!(v.to_string(), "{'a': 1, 1: 'a', 'l': [1, 2.0, None]}");
/// # Ok::<(), python4r::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Value {
    /// `None`.
    None,
    /// `bool` (and `numpy.bool_`).
    Bool(bool),
    /// `int` within `i64` (and numpy integers); a larger `int` is a conversion error.
    Int(i64),
    /// `float` (and numpy floats).
    Float(f64),
    /// `str`.
    Str(String),
    /// `bytes` and `bytearray`.
    Bytes(Vec<u8>),
    /// `list`.
    List(Vec<Value>),
    /// `tuple`.
    Tuple(Vec<Value>),
    /// `set` and `frozenset` (in iteration order).
    Set(Vec<Value>),
    /// `dict`, in insertion order.
    Dict(Vec<(Value, Value)>),
    /// `numpy.ndarray` (subclasses too), sharing its memory.
    Tensor(crate::Tensor),
}

impl Value {
    /// The entry of a `Dict` under `key`, if this is a dict and has one.
    pub fn get(&self, key: &Value) -> Option<&Value> {
        match self {
            Value::Dict(items) => items.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
}

macro_rules! value_from {
    ($($t:ty => $variant:ident $(as $cast:ty)?),* $(,)?) => {$(
        impl From<$t> for Value {
            fn from(v: $t) -> Value { Value::$variant((v $(as $cast)?).into()) }
        }
    )*};
}
value_from!(bool => Bool, i8 => Int as i64, i16 => Int as i64, i32 => Int as i64, i64 => Int,
    u8 => Int as i64, u16 => Int as i64, u32 => Int as i64, f32 => Float as f64, f64 => Float,
    &str => Str, String => Str, Vec<u8> => Bytes);

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Value {
        v.map_or(Value::None, Into::into)
    }
}

impl fmt::Display for Value {
    /// Formats like Python's `repr` for these types.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn seq(
            f: &mut fmt::Formatter<'_>,
            open: &str,
            items: &[Value],
            close: &str,
        ) -> fmt::Result {
            f.write_str(open)?;
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{item}")?;
            }
            if open == "(" && items.len() == 1 {
                f.write_str(",")?;
            }
            f.write_str(close)
        }
        match self {
            Value::None => f.write_str("None"),
            Value::Bool(true) => f.write_str("True"),
            Value::Bool(false) => f.write_str("False"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) if x.is_finite() && x.fract() == 0.0 && x.abs() < 1e16 => {
                write!(f, "{x:.1}")
            }
            Value::Float(x) if x.is_nan() => f.write_str("nan"),
            Value::Float(x) if x.is_infinite() => {
                f.write_str(if *x > 0.0 { "inf" } else { "-inf" })
            }
            Value::Float(x) => write!(f, "{x}"),
            Value::Str(s) => write!(f, "'{}'", s.replace('\\', "\\\\").replace('\'', "\\'")),
            Value::Bytes(b) => write!(f, "b'{}'", b.escape_ascii()),
            Value::List(items) => seq(f, "[", items, "]"),
            Value::Tuple(items) => seq(f, "(", items, ")"),
            Value::Set(items) if items.is_empty() => f.write_str("set()"),
            Value::Set(items) => seq(f, "{", items, "}"),
            Value::Tensor(t) => write!(f, "{t}"),
            Value::Dict(items) => {
                f.write_str("{")?;
                for (i, (k, v)) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{k}: {v}")?;
                }
                f.write_str("}")
            }
        }
    }
}

impl<'py> IntoPyObject<'py> for &Value {
    type Target = PyAny;
    type Output = Bound<'py, PyAny>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        fn all<'py>(py: Python<'py>, items: &[Value]) -> PyResult<Vec<Bound<'py, PyAny>>> {
            items.iter().map(|v| v.into_pyobject(py)).collect()
        }
        Ok(match self {
            Value::None => py.None().into_bound(py),
            Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
            Value::Int(i) => i.into_pyobject(py)?.into_any(),
            Value::Float(x) => PyFloat::new(py, *x).into_any(),
            Value::Str(s) => PyString::new(py, s).into_any(),
            Value::Bytes(b) => PyBytes::new(py, b).into_any(),
            Value::List(items) => PyList::new(py, all(py, items)?)?.into_any(),
            Value::Tuple(items) => PyTuple::new(py, all(py, items)?)?.into_any(),
            Value::Set(items) => PySet::new(py, all(py, items)?)?.into_any(),
            #[cfg(feature = "numpy")]
            Value::Tensor(t) => t.into_pyobject(py)?.into_any(),
            #[cfg(not(feature = "numpy"))]
            Value::Tensor(_) => {
                return Err(pyo3::exceptions::PyTypeError::new_err(
                    "python4r was built without its `numpy` feature: tensors cannot cross to Python",
                ));
            }
            Value::Dict(items) => {
                let dict = PyDict::new(py);
                for (k, v) in items {
                    dict.set_item(k.into_pyobject(py)?, v.into_pyobject(py)?)?;
                }
                dict.into_any()
            }
        })
    }
}

impl<'py> IntoPyObject<'py> for Value {
    type Target = PyAny;
    type Output = Bound<'py, PyAny>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        (&self).into_pyobject(py)
    }
}

impl<'a, 'py> FromPyObject<'a, 'py> for Value {
    type Error = PyErr;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> PyResult<Value> {
        let obj = obj.to_owned();
        value_from_object(&obj)
    }
}

fn value_from_object(obj: &Bound<'_, PyAny>) -> PyResult<Value> {
    fn all(iter: impl Iterator<Item = PyResult<Value>>) -> PyResult<Vec<Value>> {
        iter.collect()
    }
    if obj.is_none() {
        return Ok(Value::None);
    }
    if let Ok(b) = obj.cast::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if obj.is_instance_of::<PyInt>() {
        return obj.extract::<i64>().map(Value::Int);
    }
    if let Ok(x) = obj.cast::<PyFloat>() {
        return Ok(Value::Float(x.value()));
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(Value::Str(s.to_str()?.to_owned()));
    }
    if let Ok(b) = obj.cast::<PyBytes>() {
        return Ok(Value::Bytes(b.as_bytes().to_vec()));
    }
    if let Ok(b) = obj.cast::<PyByteArray>() {
        return Ok(Value::Bytes(b.to_vec()));
    }
    if let Ok(l) = obj.cast::<PyList>() {
        return all(l.iter().map(|v| value_from_object(&v))).map(Value::List);
    }
    if let Ok(t) = obj.cast::<PyTuple>() {
        return all(t.iter().map(|v| value_from_object(&v))).map(Value::Tuple);
    }
    if let Ok(d) = obj.cast::<PyDict>() {
        let mut items = Vec::with_capacity(d.len());
        for (k, v) in d.iter() {
            items.push((value_from_object(&k)?, value_from_object(&v)?));
        }
        return Ok(Value::Dict(items));
    }
    if let Ok(s) = obj.cast::<PySet>() {
        return all(s.iter().map(|v| value_from_object(&v))).map(Value::Set);
    }
    if let Ok(s) = obj.cast::<PyFrozenSet>() {
        return all(s.iter().map(|v| value_from_object(&v))).map(Value::Set);
    }
    #[cfg(feature = "numpy")]
    if obj.cast::<numpy::PyUntypedArray>().is_ok() {
        return obj.extract::<crate::Tensor>().map(Value::Tensor);
    }
    // numpy scalars (np.float32(1.5), np.int32(3), np.bool_(True)): their Python value.
    let ty = obj.get_type();
    if ty.module().is_ok_and(|m| m == "numpy")
        && !ty.name().is_ok_and(|n| n == "ndarray")
        && obj.hasattr("item")?
    {
        let item = obj.call_method0("item")?;
        if !item.get_type().is(&ty) {
            return value_from_object(&item);
        }
    }
    Err(pyo3::exceptions::PyTypeError::new_err(format!(
        "python4r::Value has no variant for Python type `{}`",
        crate::error::type_name(&ty)
    )))
}
