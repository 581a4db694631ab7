//! Date and duration tensors as `chrono` values (feature `chrono`): `NaT` is `None`.

use chrono::{NaiveDateTime, TimeDelta};

use super::{DType, Tensor};
use crate::datetime::{TimeUnit, datetime_count, naive_datetime, time_delta, time_delta_count};
use crate::error::{Error, Result};

impl Tensor {
    /// The counts of a date or duration tensor, in logical order.
    fn counts(&self, what: &str, kind: fn(TimeUnit) -> DType) -> Result<(Vec<i64>, TimeUnit)> {
        match self.dtype().time_unit() {
            Some(unit) if self.dtype() == kind(unit) => {
                Ok((self.cast(DType::Int64).to_vec::<i64>()?, unit))
            }
            _ => Err(Error::DateTime(format!(
                "{what} needs a {} tensor, but this one is {}: cast it first \
                 (`cast(DType::{:?})`)",
                kind(TimeUnit::Nanosecond)
                    .numpy_name()
                    .replace("[ns]", "[unit]"),
                self.dtype(),
                kind(TimeUnit::Nanosecond),
            ))),
        }
    }

    /// The dates and times of a `datetime64` tensor (any unit), exact to the nanosecond, in
    /// logical row-major order; `NaT` is `None`.
    ///
    /// Errors: the tensor holds no dates ([`Error::DateTime`]), or a date is beyond chrono's
    /// range (about ±262,000 years, reachable with coarse units only).
    ///
    /// ```
    /// use python4r::{Tensor, chrono::NaiveDate};
    /// python4r::exec("import numpy as np\nd = np.array(['2024-02-29T12:00:00.000000001', 'NaT'], dtype='datetime64[ns]')")?;
    /// let t: Tensor = python4r::get("d")?;
    /// let noon = NaiveDate::from_ymd_opt(2024, 2, 29).unwrap().and_hms_nano_opt(12, 0, 0, 1).unwrap();
    /// assert_eq!(t.to_datetimes()?, vec![Some(noon), None]);
    /// # Ok::<(), python4r::Error>(())
    /// ```
    pub fn to_datetimes(&self) -> Result<Vec<Option<NaiveDateTime>>> {
        let (counts, unit) = self.counts("to_datetimes", DType::DateTime64)?;
        counts
            .into_iter()
            .map(|c| match (c, naive_datetime(c, unit)) {
                (i64::MIN, _) => Ok(None),
                (_, Some(dt)) => Ok(Some(dt)),
                (_, None) => Err(Error::DateTime(format!(
                    "the datetime64[{unit}] count {c} is beyond chrono's range of dates"
                ))),
            })
            .collect()
    }

    /// A `datetime64[unit]` tensor of `shape` holding `values` (row-major; `None` is `NaT`),
    /// each floored to the unit as numpy's casts do.
    ///
    /// Errors: a value does not fit an `i64` count of the unit (years beyond 2262 in
    /// nanoseconds), or the shape does not fit the values.
    ///
    /// ```
    /// use python4r::{DType, Tensor, chrono::NaiveDate, datetime::TimeUnit};
    /// let day = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap().and_hms_opt(18, 30, 0);
    /// let t = Tensor::from_datetimes(&[day, None], &[2], TimeUnit::Day)?;
    /// assert_eq!(t.dtype(), DType::DateTime64(TimeUnit::Day));
    /// assert_eq!(t.to_string(), "tensor(['2024-01-01', 'NaT'], dtype=datetime64[D], shape=[2])");
    /// # Ok::<(), python4r::Error>(())
    /// ```
    pub fn from_datetimes(
        values: &[Option<NaiveDateTime>],
        shape: &[usize],
        unit: TimeUnit,
    ) -> Result<Tensor> {
        let counts = values
            .iter()
            .map(|v| match v {
                None => Ok(i64::MIN),
                Some(dt) => datetime_count(*dt, unit).ok_or_else(|| {
                    Error::DateTime(format!(
                        "{dt} does not fit a datetime64[{unit}] (an i64 count of {} since \
                         1970): use a coarser unit",
                        unit.plural()
                    ))
                }),
            })
            .collect::<Result<Vec<i64>>>()?;
        Ok(Tensor::from_vec(counts, shape)?.cast(DType::DateTime64(unit)))
    }

    /// The durations of a `timedelta64` tensor of a fixed unit (`W` and finer), exact to the
    /// nanosecond, in logical row-major order; `NaT` is `None`.
    ///
    /// Errors: the tensor holds no durations, its unit is `Y` or `M` (no fixed length: cast it
    /// to days first, by numpy's average lengths), or a duration is beyond chrono's range.
    ///
    /// ```
    /// use python4r::{Tensor, chrono::TimeDelta};
    /// let t: Tensor = python4r::eval("__import__('numpy').array([90, -1, 'NaT'], dtype='timedelta64[s]')")?;
    /// assert_eq!(t.to_timedeltas()?, vec![Some(TimeDelta::seconds(90)), Some(TimeDelta::seconds(-1)), None]);
    /// # Ok::<(), python4r::Error>(())
    /// ```
    pub fn to_timedeltas(&self) -> Result<Vec<Option<TimeDelta>>> {
        let (counts, unit) = self.counts("to_timedeltas", DType::TimeDelta64)?;
        if unit.nanoseconds().is_none() {
            return Err(Error::DateTime(format!(
                "a timedelta64[{unit}] counts calendar {}, which have no fixed length: cast it \
                 to a fixed unit first (`cast(DType::TimeDelta64(TimeUnit::Day))` uses numpy's \
                 average lengths)",
                unit.plural()
            )));
        }
        counts
            .into_iter()
            .map(|c| match (c, time_delta(c, unit)) {
                (i64::MIN, _) => Ok(None),
                (_, Some(d)) => Ok(Some(d)),
                (_, None) => Err(Error::DateTime(format!(
                    "the timedelta64[{unit}] count {c} is beyond chrono's range of durations"
                ))),
            })
            .collect()
    }

    /// A `timedelta64[unit]` tensor of `shape` holding `values` (row-major; `None` is `NaT`),
    /// each floored to the unit.
    ///
    /// Errors: `unit` is `Y` or `M` (no fixed length), a value does not fit an `i64` count of
    /// the unit, or the shape does not fit the values.
    ///
    /// ```
    /// use python4r::{Tensor, chrono::TimeDelta, datetime::TimeUnit};
    /// let t = Tensor::from_timedeltas(&[Some(TimeDelta::milliseconds(1500))], &[1], TimeUnit::Second)?;
    /// assert_eq!(t.to_string(), "tensor([1], dtype=timedelta64[s], shape=[1])");
    /// assert!(Tensor::from_timedeltas(&[None], &[1], TimeUnit::Month).is_err());
    /// # Ok::<(), python4r::Error>(())
    /// ```
    pub fn from_timedeltas(
        values: &[Option<TimeDelta>],
        shape: &[usize],
        unit: TimeUnit,
    ) -> Result<Tensor> {
        if unit.nanoseconds().is_none() {
            return Err(Error::DateTime(format!(
                "a timedelta64[{unit}] counts calendar {}, which have no fixed length: use a \
                 fixed unit (`TimeUnit::Day` or finer, or `Week`)",
                unit.plural()
            )));
        }
        let counts = values
            .iter()
            .map(|v| match v {
                None => Ok(i64::MIN),
                Some(d) => time_delta_count(*d, unit).ok_or_else(|| {
                    Error::DateTime(format!(
                        "{d} does not fit a timedelta64[{unit}] (an i64 count of {}): use a \
                         coarser unit",
                        unit.plural()
                    ))
                }),
            })
            .collect::<Result<Vec<i64>>>()?;
        Ok(Tensor::from_vec(counts, shape)?.cast(DType::TimeDelta64(unit)))
    }
}
