//! [`Value`]: a dynamic Python value, its `Display` in Python's own notation, and its
//! conversions from and to Python objects.

use std::fmt;

use pyo3::IntoPyObject;
use pyo3::prelude::*;
use pyo3::types::{
    PyBool, PyByteArray, PyBytes, PyComplex, PyComplexMethods, PyDict, PyFloat, PyFrozenSet, PyInt,
    PyList, PySet, PyString, PyTuple,
};

use super::extraction_error;
use crate::error::{Error, Result};
use crate::pyerr::type_name;
use crate::tensor::Tensor;
#[cfg(feature = "chrono")]
use crate::time_values;

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
