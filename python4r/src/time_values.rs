//! Dates and times as single values (feature `chrono`): numpy's `datetime64` and `timedelta64`
//! scalars as `chrono` values (pyo3's chrono conversions refuse them), Python's `datetime`
//! objects as [`Value`](crate::Value)s, and their Python-like text.
//!
//! A `numpy.datetime64` scalar becomes a [`NaiveDateTime`] (or `DateTime<Utc>`, `NaiveDate`),
//! nanoseconds kept; a `numpy.timedelta64` a [`TimeDelta`]; `NaT` is `None` where the Rust
//! type is an `Option`, else an error. `pandas.Timestamp` is a `datetime.datetime` subclass
//! whose extra nanoseconds pyo3 (and so python4r) does not read: it arrives truncated to
//! microseconds (pass `ts.to_datetime64()` to keep them).

use chrono::{
    DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, Timelike, Utc,
};
use pyo3::prelude::*;
use pyo3::types::{IntoPyDict, PyDate, PyDateTime, PyDelta, PyTime, PyTzInfoAccess};

use crate::datetime::{TimeUnit, naive_datetime, time_delta};
use crate::error::{Error, Result};

/// A numpy date or duration scalar, read as its count and unit.
struct NumpyTime {
    datetime: bool,
    count: i64,
    unit: TimeUnit,
}

const NAT: i64 = i64::MIN;

/// `obj` read as a numpy `datetime64` or `timedelta64` scalar, or `None` if it is not one.
///
/// A unit python4r does not have (`ps`, a multiple such as `15m`, the generic unit of `NaT`)
/// is converted to nanoseconds by numpy first.
fn numpy_time(obj: &Bound<'_, PyAny>) -> Option<Result<NumpyTime>> {
    let ty = obj.get_type();
    let datetime = match ty.name().ok()?.to_str().ok()? {
        "datetime64" => true,
        "timedelta64" => false,
        _ => return None,
    };
    if !ty.module().is_ok_and(|m| m == "numpy") {
        return None;
    }
    let py = obj.py();
    let read = || -> PyResult<NumpyTime> {
        let mut obj = obj.clone();
        let code: String = obj.getattr("dtype")?.getattr("str")?.extract()?;
        let unit = code
            .split_once('[')
            .and_then(|(_, unit)| unit.strip_suffix(']'))
            .and_then(TimeUnit::from_code);
        let unit = match unit {
            Some(unit) => unit,
            None => {
                let ns = if datetime { "M8[ns]" } else { "m8[ns]" };
                obj = obj.call_method1("astype", (ns,))?;
                TimeUnit::Nanosecond
            }
        };
        let count: i64 = obj.call_method1("view", ("i8",))?.extract()?;
        Ok(NumpyTime {
            datetime,
            count,
            unit,
        })
    };
    Some(read().map_err(|e| Error::from_pyerr(py, e)))
}

/// An [`Error::Conversion`] of `obj` to `expected`.
fn refused(obj: &Bound<'_, PyAny>, expected: &str, reason: impl Into<String>) -> Error {
    Error::conversion(obj, expected, reason)
}

impl NumpyTime {
    /// The date and time, `None` for `NaT`.
    fn datetime(&self, obj: &Bound<'_, PyAny>, expected: &str) -> Result<Option<NaiveDateTime>> {
        if !self.datetime {
            return Err(refused(
                obj,
                expected,
                "a numpy.timedelta64 is a duration, not a date: ask for a chrono::TimeDelta",
            ));
        }
        if self.count == NAT {
            return Ok(None);
        }
        naive_datetime(self.count, self.unit)
            .map(Some)
            .ok_or_else(|| {
                refused(
                    obj,
                    expected,
                    "the date is outside chrono's range (about ±262,000 years)",
                )
            })
    }

    /// The duration, `None` for `NaT`.
    fn time_delta(&self, obj: &Bound<'_, PyAny>, expected: &str) -> Result<Option<TimeDelta>> {
        if self.datetime {
            return Err(refused(
                obj,
                expected,
                "a numpy.datetime64 is a date, not a duration: ask for a chrono::NaiveDateTime",
            ));
        }
        if self.count == NAT {
            return Ok(None);
        }
        if self.unit.nanoseconds().is_none() {
            return Err(refused(
                obj,
                expected,
                format!(
                    "a timedelta64[{}] counts calendar {}, which have no fixed length: convert \
                     it in Python first (`x.astype('timedelta64[D]')` uses numpy's average \
                     lengths)",
                    self.unit,
                    self.unit.plural()
                ),
            ));
        }
        time_delta(self.count, self.unit)
            .map(Some)
            .ok_or_else(|| refused(obj, expected, "the duration is outside chrono's range"))
    }
}

/// `value` as a `T` that has the same type (type ids equal).
fn same<V, T>(value: V) -> T {
    assert!(typeid::of::<V>() == typeid::of::<T>());
    let value = std::mem::ManuallyDrop::new(value);
    // SAFETY: `V` and `T` are the same type: their type ids are equal, and the types this is
    // called with (chrono values and `Option`s of them) have no lifetime parameters that the
    // ids could erase. The original is never dropped (`ManuallyDrop`): the value is moved.
    unsafe { std::mem::transmute_copy::<V, T>(&value) }
}

/// `obj` as a `T`, when `obj` is a numpy `datetime64` or `timedelta64` scalar and `T` is one of
/// the chrono types python4r reads them as (`NaiveDateTime`, `DateTime<Utc>`, `NaiveDate`,
/// `TimeDelta`, or an `Option` of one, which is `None` for `NaT`); else `None`.
///
/// Called when pyo3's own conversion of `obj` to `T` failed.
pub(crate) fn from_numpy_scalar<T>(obj: &Bound<'_, PyAny>) -> Option<Result<T>> {
    let expected = std::any::type_name::<T>();
    let nat = || {
        refused(
            obj,
            expected,
            "it is NaT (not a time), which has no value: ask for an Option, which is None for NaT",
        )
    };
    macro_rules! targets {
        ($($ty:ty => |$t:ident| $convert:expr;)*) => {$(
            if typeid::of::<T>() == typeid::of::<$ty>() {
                let converted = numpy_time(obj)?.and_then(|$t| $convert);
                return Some(converted.map(same::<$ty, T>));
            }
            if typeid::of::<T>() == typeid::of::<Option<$ty>>() {
                let converted = numpy_time(obj)?.and_then(|$t| match $t.count {
                    NAT => Ok(None),
                    _ => $convert.map(Some),
                });
                return Some(converted.map(same::<Option<$ty>, T>));
            }
        )*};
    }
    targets! {
        NaiveDateTime => |t| t.datetime(obj, expected)?.ok_or_else(nat);
        DateTime<Utc> => |t| t.datetime(obj, expected)?.map(|d| d.and_utc()).ok_or_else(nat);
        NaiveDate => |t| t.datetime(obj, expected)?.map(|d| d.date()).ok_or_else(nat);
        TimeDelta => |t| t.time_delta(obj, expected)?.ok_or_else(nat);
    }
    None
}

/// A [`Value`](crate::Value)'s date or time, from Python's `datetime` objects and numpy's
/// scalars; `None` if `obj` is none of these.
pub(crate) enum TimeValue {
    Date(NaiveDate),
    NaiveDateTime(NaiveDateTime),
    DateTime(DateTime<FixedOffset>),
    Time(NaiveTime),
    TimeDelta(TimeDelta),
    /// numpy's `NaT`.
    NotATime,
}

/// `obj` as a [`TimeValue`], if it is a `datetime.date`, `datetime.datetime`, `datetime.time`,
/// `datetime.timedelta`, or a numpy `datetime64` or `timedelta64` scalar.
pub(crate) fn time_value(obj: &Bound<'_, PyAny>) -> Option<Result<TimeValue>> {
    const EXPECTED: &str = "python4r::Value";
    let py = obj.py();
    let err = |e: PyErr| Error::from_pyerr(py, e);
    // A datetime is a date too: look at it first.
    if let Ok(dt) = obj.cast::<PyDateTime>() {
        if dt.get_tzinfo().is_none() {
            return Some(obj.extract().map(TimeValue::NaiveDateTime).map_err(err));
        }
        return Some(aware_datetime(dt).map(TimeValue::DateTime));
    }
    if obj.cast::<PyDate>().is_ok() {
        return Some(obj.extract().map(TimeValue::Date).map_err(err));
    }
    if let Ok(time) = obj.cast::<PyTime>() {
        if time.get_tzinfo().is_some() {
            return Some(Err(refused(
                obj,
                EXPECTED,
                "a datetime.time with a tzinfo has no Rust value (a time zone needs a date to \
                 mean an offset): combine it with a date, or drop the tzinfo",
            )));
        }
        return Some(obj.extract().map(TimeValue::Time).map_err(err));
    }
    if obj.cast::<PyDelta>().is_ok() {
        return Some(obj.extract().map(TimeValue::TimeDelta).map_err(err));
    }
    let numpy = numpy_time(obj)?;
    Some(numpy.and_then(|t| {
        if t.count == NAT {
            Ok(TimeValue::NotATime)
        } else if t.datetime {
            Ok(TimeValue::NaiveDateTime(
                t.datetime(obj, EXPECTED)?.expect("not NaT"),
            ))
        } else {
            Ok(TimeValue::TimeDelta(
                t.time_delta(obj, EXPECTED)?.expect("not NaT"),
            ))
        }
    }))
}

/// An aware `datetime.datetime` with the offset its zone has at that instant (any `tzinfo`,
/// `zoneinfo` included, unlike pyo3's `DateTime<FixedOffset>`, which takes fixed offsets only).
fn aware_datetime(dt: &Bound<'_, PyDateTime>) -> Result<DateTime<FixedOffset>> {
    let py = dt.py();
    let err = |e: PyErr| Error::from_pyerr(py, e);
    let offset: TimeDelta = dt
        .call_method0("utcoffset")
        .and_then(|o| o.extract())
        .map_err(err)?;
    let local: NaiveDateTime = [("tzinfo", py.None())]
        .into_py_dict(py)
        .and_then(|kwargs| dt.call_method("replace", (), Some(&kwargs)))
        .and_then(|naive| naive.extract())
        .map_err(err)?;
    let offset = i32::try_from(offset.num_seconds())
        .ok()
        .and_then(FixedOffset::east_opt)
        .ok_or_else(|| {
            refused(
                dt.as_any(),
                "python4r::Value",
                "its UTC offset is not within a day",
            )
        })?;
    local
        .and_local_timezone(offset)
        .single()
        .ok_or_else(|| refused(dt.as_any(), "python4r::Value", "the date is out of range"))
}

/// Python's `repr` of a `datetime.date`: `datetime.date(2024, 1, 2)`.
pub(crate) fn repr_date(d: &NaiveDate) -> String {
    format!("datetime.date({}, {}, {})", d.year(), d.month(), d.day())
}

/// The fields of a time after the hour and minute, as Python's `repr` shows them: the second
/// unless it and the microsecond are 0, the microsecond unless it is 0.
fn time_fields(t: &NaiveTime) -> String {
    let micro = t.nanosecond() % 1_000_000_000 / 1_000;
    let mut s = format!("{}, {}", t.hour(), t.minute());
    if t.second() != 0 || micro != 0 {
        s += &format!(", {}", t.second());
    }
    if micro != 0 {
        s += &format!(", {micro}");
    }
    s
}

/// Python's `repr` of a naive `datetime.datetime`: `datetime.datetime(2024, 1, 2, 3, 4)`.
pub(crate) fn repr_naive_datetime(dt: &NaiveDateTime) -> String {
    format!(
        "datetime.datetime({}, {}, {}, {})",
        dt.year(),
        dt.month(),
        dt.day(),
        time_fields(&dt.time())
    )
}

/// Python's `repr` of an aware `datetime.datetime` with a fixed-offset `tzinfo`.
pub(crate) fn repr_datetime(dt: &DateTime<FixedOffset>) -> String {
    let local = repr_naive_datetime(&dt.naive_local());
    let seconds = dt.offset().local_minus_utc();
    let tz = if seconds == 0 {
        "datetime.timezone.utc".to_owned()
    } else {
        format!(
            "datetime.timezone({})",
            repr_time_delta(&TimeDelta::seconds(seconds.into()))
        )
    };
    format!("{}, tzinfo={tz})", &local[..local.len() - 1])
}

/// Python's `repr` of a `datetime.time`: `datetime.time(13, 45)`.
pub(crate) fn repr_time(t: &NaiveTime) -> String {
    format!("datetime.time({})", time_fields(t))
}

/// Python's `repr` of a `datetime.timedelta`: `datetime.timedelta(days=-1, seconds=5)`, with
/// Python's normal form (seconds and microseconds non-negative).
pub(crate) fn repr_time_delta(d: &TimeDelta) -> String {
    let micros = i128::from(d.num_seconds()) * 1_000_000 + i128::from(d.subsec_nanos() / 1_000);
    let (days, rest) = (
        micros.div_euclid(86_400_000_000),
        micros.rem_euclid(86_400_000_000),
    );
    let (seconds, micros) = (rest / 1_000_000, rest % 1_000_000);
    let mut parts = Vec::new();
    for (name, v) in [
        ("days", days),
        ("seconds", seconds),
        ("microseconds", micros),
    ] {
        if v != 0 {
            parts.push(format!("{name}={v}"));
        }
    }
    if parts.is_empty() {
        parts.push("0".to_owned());
    }
    format!("datetime.timedelta({})", parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reprs_are_pythons() {
        let d = NaiveDate::from_ymd_opt(2024, 1, 2).unwrap();
        assert_eq!(repr_date(&d), "datetime.date(2024, 1, 2)");
        let dt = d.and_hms_micro_opt(3, 4, 0, 5).unwrap();
        assert_eq!(
            repr_naive_datetime(&dt),
            "datetime.datetime(2024, 1, 2, 3, 4, 0, 5)"
        );
        assert_eq!(
            repr_naive_datetime(&d.and_hms_opt(0, 0, 0).unwrap()),
            "datetime.datetime(2024, 1, 2, 0, 0)"
        );
        let aware = dt
            .and_local_timezone(FixedOffset::east_opt(7200).unwrap())
            .unwrap();
        assert_eq!(
            repr_datetime(&aware),
            "datetime.datetime(2024, 1, 2, 3, 4, 0, 5, \
             tzinfo=datetime.timezone(datetime.timedelta(seconds=7200)))"
        );
        assert_eq!(
            repr_time(&NaiveTime::from_hms_opt(13, 45, 1).unwrap()),
            "datetime.time(13, 45, 1)"
        );
        assert_eq!(
            repr_time_delta(&(TimeDelta::seconds(5) - TimeDelta::days(1))),
            "datetime.timedelta(days=-1, seconds=5)"
        );
        assert_eq!(repr_time_delta(&TimeDelta::zero()), "datetime.timedelta(0)");
    }
}
