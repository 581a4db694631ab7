//! [`Scalar`]: one element value of any dtype, the common ground of casts and printing.

use crate::datetime::TimeUnit;

/// One element value of any dtype, used to cast and print.
#[derive(Clone, Copy, Debug, PartialEq)]
#[doc(hidden)]
pub enum Scalar {
    Float(f64),
    Int(i128),
    Bool(bool),
    /// Real and imaginary parts.
    Complex(f64, f64),
    /// A date or duration count (`i64::MIN` is `NaT`) and its unit.
    Time(i64, TimeUnit),
}

impl Scalar {
    /// As numpy casts to a real float: a complex number keeps its real part (the caller warns),
    /// a date or duration is its count (`NaT` included, as numpy).
    pub(crate) fn as_f64(self) -> f64 {
        match self {
            Scalar::Float(v) | Scalar::Complex(v, _) => v,
            Scalar::Int(v) => v as f64,
            Scalar::Bool(b) => f64::from(u8::from(b)),
            Scalar::Time(count, _) => count as f64,
        }
    }

    pub(crate) fn as_i128(self) -> i128 {
        match self {
            // `as` saturates and maps NaN to 0; numpy leaves these cases undefined.
            Scalar::Float(v) | Scalar::Complex(v, _) => v as i128,
            Scalar::Int(v) => v,
            Scalar::Bool(b) => i128::from(b),
            Scalar::Time(count, _) => i128::from(count),
        }
    }

    pub(crate) fn as_bool(self) -> bool {
        match self {
            Scalar::Float(v) => v != 0.0,
            Scalar::Int(v) => v != 0,
            Scalar::Bool(b) => b,
            Scalar::Complex(re, im) => re != 0.0 || im != 0.0,
            Scalar::Time(count, _) => count != 0,
        }
    }

    pub(crate) fn as_complex(self) -> (f64, f64) {
        match self {
            Scalar::Complex(re, im) => (re, im),
            other => (other.as_f64(), 0.0),
        }
    }

    /// As numpy casts to a date or duration: a count (floats truncated, `NaN` is `NaT`), or a
    /// count of another unit converted by `convert`.
    pub(crate) fn as_time(
        self,
        unit: TimeUnit,
        convert: fn(i64, TimeUnit, TimeUnit) -> i64,
    ) -> i64 {
        match self {
            Scalar::Time(count, from) => convert(count, from, unit),
            Scalar::Float(v) | Scalar::Complex(v, _) if v.is_nan() => i64::MIN,
            Scalar::Float(v) | Scalar::Complex(v, _) => v as i64,
            // Integer casts wrap, as numpy's `astype` does.
            Scalar::Int(v) => v as i64,
            Scalar::Bool(b) => i64::from(b),
        }
    }
}
