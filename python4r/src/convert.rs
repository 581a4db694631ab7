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

use std::fmt;

use pyo3::conversion::FromPyObjectOwned;
use pyo3::prelude::*;
use pyo3::types::{
    PyBool, PyByteArray, PyBytes, PyComplex, PyComplexMethods, PyDict, PyFloat, PyFrozenSet, PyInt,
    PyList, PySet, PyString, PyTuple,
};
use pyo3::{BoundObject, IntoPyObject};

use crate::error::{Error, Result};
use crate::pyerr::{self, type_name};
use crate::tensor::Tensor;
#[cfg(feature = "numpy")]
use crate::tensor::TensorViewMut;
#[cfg(feature = "chrono")]
use crate::time_values;

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
fn extraction_error<E: Into<PyErr>>(obj: &Bound<'_, PyAny>, expected: &str, error: E) -> Error {
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
///
/// let z: Value = python4r::eval("complex(1, -2)")?;
/// assert_eq!(z, Value::Complex(python4r::num_complex::Complex64::new(1.0, -2.0)));
/// assert_eq!(z.to_string(), "(1-2j)");
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
    Tensor(Tensor),
    /// `complex` (and numpy complex scalars).
    Complex(num_complex::Complex64),
    /// `datetime.date`.
    #[cfg(feature = "chrono")]
    Date(chrono::NaiveDate),
    /// A naive `datetime.datetime` (microseconds), and `numpy.datetime64` (nanoseconds; `NaT`
    /// is [`Value::None`]).
    #[cfg(feature = "chrono")]
    NaiveDateTime(chrono::NaiveDateTime),
    /// An aware `datetime.datetime`, with the UTC offset its zone has at that instant (the zone
    /// itself is not kept: it goes back to Python as a `datetime.timezone` of that offset).
    #[cfg(feature = "chrono")]
    DateTime(chrono::DateTime<chrono::FixedOffset>),
    /// A naive `datetime.time` (one with a `tzinfo` is refused).
    #[cfg(feature = "chrono")]
    Time(chrono::NaiveTime),
    /// `datetime.timedelta`, and `numpy.timedelta64` of a fixed unit (`NaT` is
    /// [`Value::None`]).
    #[cfg(feature = "chrono")]
    TimeDelta(chrono::TimeDelta),
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
    &str => Str, String => Str, Vec<u8> => Bytes, num_complex::Complex64 => Complex);

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
            Value::Complex(z) => f.write_str(&complex_repr(z.re, z.im)),
            #[cfg(feature = "chrono")]
            Value::Date(d) => f.write_str(&time_values::repr_date(d)),
            #[cfg(feature = "chrono")]
            Value::NaiveDateTime(dt) => f.write_str(&time_values::repr_naive_datetime(dt)),
            #[cfg(feature = "chrono")]
            Value::DateTime(dt) => f.write_str(&time_values::repr_datetime(dt)),
            #[cfg(feature = "chrono")]
            Value::Time(t) => f.write_str(&time_values::repr_time(t)),
            #[cfg(feature = "chrono")]
            Value::TimeDelta(d) => f.write_str(&time_values::repr_time_delta(d)),
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

/// Python's `repr` of a complex number: `(1+2j)`, `2j`, `(1.5-0j)`, `(1e+300+nanj)`.
fn complex_repr(re: f64, im: f64) -> String {
    let sign = if im.is_sign_negative() && !im.is_nan() {
        "-"
    } else {
        "+"
    };
    if re == 0.0 && !re.is_sign_negative() {
        format!("{}j", float_repr(im))
    } else {
        format!("({}{sign}{}j)", float_repr(re), float_repr(im.abs()))
    }
}

/// Python's `repr` of a float as a part of a complex number (no `.0` on whole numbers): the
/// shortest digits that round-trip, in exponent form below 1e-4 and from 1e16 on.
fn float_repr(x: f64) -> String {
    if x.is_nan() {
        return "nan".to_owned();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.to_owned();
    }
    let sign = if x.is_sign_negative() { "-" } else { "" };
    if x == 0.0 {
        return format!("{sign}0");
    }
    // Rust's `{:e}` gives the shortest round-trip digits: `1.2345e-7`.
    let text = format!("{:e}", x.abs());
    let (mantissa, exp) = text.split_once('e').expect("`{:e}` has an exponent");
    let exp: i32 = exp.parse().expect("an integer exponent");
    let digits = mantissa.replace('.', "");
    if !(-4..16).contains(&exp) {
        let exp_sign = if exp < 0 { '-' } else { '+' };
        return format!("{sign}{mantissa}e{exp_sign}{:02}", exp.abs());
    }
    if exp < 0 {
        return format!("{sign}0.{}{digits}", "0".repeat((-exp - 1) as usize));
    }
    let whole = exp as usize + 1;
    if digits.len() <= whole {
        format!("{sign}{digits}{}", "0".repeat(whole - digits.len()))
    } else {
        format!("{sign}{}.{}", &digits[..whole], &digits[whole..])
    }
}

impl<'py> IntoPyObject<'py> for &Value {
    type Target = PyAny;
    type Output = Bound<'py, PyAny>;
    type Error = Error;

    fn into_pyobject(self, py: Python<'py>) -> Result<Bound<'py, PyAny>> {
        fn all<'py>(py: Python<'py>, items: &[Value]) -> Result<Vec<Bound<'py, PyAny>>> {
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
            Value::Complex(z) => PyComplex::from_doubles(py, z.re, z.im).into_any(),
            #[cfg(feature = "chrono")]
            Value::Date(d) => d.into_pyobject(py)?.into_any(),
            #[cfg(feature = "chrono")]
            Value::NaiveDateTime(dt) => dt.into_pyobject(py)?.into_any(),
            #[cfg(feature = "chrono")]
            Value::DateTime(dt) => dt.into_pyobject(py)?.into_any(),
            #[cfg(feature = "chrono")]
            Value::Time(t) => t.into_pyobject(py)?.into_any(),
            #[cfg(feature = "chrono")]
            Value::TimeDelta(d) => d.into_pyobject(py)?.into_any(),
            #[cfg(feature = "numpy")]
            Value::Tensor(t) => t.into_pyobject(py)?.into_any(),
            #[cfg(not(feature = "numpy"))]
            Value::Tensor(_) => {
                return Err(Error::Config(
                    "python4r was built without its `numpy` feature: tensors cannot cross to \
                     Python; enable the feature"
                        .to_owned(),
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
    type Error = Error;

    fn into_pyobject(self, py: Python<'py>) -> Result<Bound<'py, PyAny>> {
        (&self).into_pyobject(py)
    }
}

impl<'a, 'py> FromPyObject<'a, 'py> for Value {
    type Error = Error;

    fn extract(obj: Borrowed<'a, 'py, PyAny>) -> Result<Value> {
        let obj = obj.to_owned();
        value_from_object(&obj)
    }
}

fn value_from_object(obj: &Bound<'_, PyAny>) -> Result<Value> {
    fn all(iter: impl Iterator<Item = Result<Value>>) -> Result<Vec<Value>> {
        iter.collect()
    }
    if obj.is_none() {
        return Ok(Value::None);
    }
    if let Ok(b) = obj.cast::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if obj.is_instance_of::<PyInt>() {
        return obj
            .extract::<i64>()
            .map(Value::Int)
            .map_err(|e| extraction_error(obj, "python4r::Value", e));
    }
    if let Ok(x) = obj.cast::<PyFloat>() {
        return Ok(Value::Float(x.value()));
    }
    if let Ok(z) = obj.cast::<PyComplex>() {
        return Ok(Value::Complex(num_complex::Complex64::new(
            z.real(),
            z.imag(),
        )));
    }
    if let Ok(s) = obj.cast::<PyString>() {
        let text = s
            .to_str()
            .map_err(|e| extraction_error(obj, "python4r::Value", e))?;
        return Ok(Value::Str(text.to_owned()));
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
        return Tensor::from_numpy(obj).map(Value::Tensor);
    }
    #[cfg(feature = "chrono")]
    if let Some(value) = time_values::time_value(obj) {
        use time_values::TimeValue;
        return Ok(match value? {
            TimeValue::Date(d) => Value::Date(d),
            TimeValue::NaiveDateTime(dt) => Value::NaiveDateTime(dt),
            TimeValue::DateTime(dt) => Value::DateTime(dt),
            TimeValue::Time(t) => Value::Time(t),
            TimeValue::TimeDelta(d) => Value::TimeDelta(d),
            TimeValue::NotATime => Value::None,
        });
    }
    // numpy scalars (np.float32(1.5), np.int32(3), np.bool_(True)): their Python value. Not
    // dates, whose `item()` is an int for nanoseconds: they are values with `chrono` only.
    let ty = obj.get_type();
    let is_time = ty
        .name()
        .is_ok_and(|n| n == "datetime64" || n == "timedelta64");
    if ty.module().is_ok_and(|m| m == "numpy")
        && !ty.name().is_ok_and(|n| n == "ndarray")
        && !is_time
        && obj.hasattr("item")?
    {
        let item = obj.call_method0("item")?;
        if !item.get_type().is(&ty) {
            return value_from_object(&item);
        }
    }
    let mut reason = format!(
        "python4r::Value has no variant for Python type `{}`",
        type_name(&ty)
    );
    if cfg!(not(feature = "chrono"))
        && (ty.module().is_ok_and(|m| m == "datetime")
            || ty
                .name()
                .is_ok_and(|n| n == "datetime64" || n == "timedelta64"))
    {
        reason.push_str(": dates and times are values with python4r's `chrono` feature");
    }
    Err(Error::conversion(obj, "python4r::Value", reason))
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

#[cfg(test)]
mod tests {
    use super::{complex_repr, float_repr};

    #[test]
    fn reprs_are_pythons() {
        // Python's `repr(complex(x, 0))` parts, checked against CPython 3.11.
        let cases = [
            (1.0, "1"),
            (1.5, "1.5"),
            (1e15, "1000000000000000"),
            (1e16, "1e+16"),
            (1.25e-5, "1.25e-05"),
            (0.0001, "0.0001"),
            (123.456, "123.456"),
            (-0.0, "-0"),
            (1e300, "1e+300"),
        ];
        for (x, text) in cases {
            assert_eq!(float_repr(x), text, "{x}");
        }
        assert_eq!(complex_repr(0.0, -1.0), "-1j");
        assert_eq!(complex_repr(1.0, f64::NAN), "(1+nanj)");
    }
}
