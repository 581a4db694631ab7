//! `chrono` values from and to counts.

use chrono::{DateTime, NaiveDateTime, TimeDelta, TimeZone};

use super::{DateTime64, NAT, TimeDelta64, TimeUnit, Unit};

const SECOND: i128 = 1_000_000_000;

/// The date and time of a count, or `None` for `NaT` or a date outside chrono's range.
pub(crate) fn naive_datetime(count: i64, unit: TimeUnit) -> Option<NaiveDateTime> {
    if count == NAT {
        return None;
    }
    let nanos = super::datetime_to_nanos(count, unit);
    let secs = i64::try_from(nanos.div_euclid(SECOND)).ok()?;
    let sub = nanos.rem_euclid(SECOND) as u32;
    DateTime::from_timestamp(secs, sub).map(|t| t.naive_utc())
}

/// The count of `unit` of `value` (floored), or `None` if it does not fit.
pub(crate) fn datetime_count(value: NaiveDateTime, unit: TimeUnit) -> Option<i64> {
    let utc = value.and_utc();
    let nanos = i128::from(utc.timestamp()) * SECOND + i128::from(utc.timestamp_subsec_nanos());
    let count = super::datetime_from_nanos(nanos, unit);
    i64::try_from(count).ok().filter(|&c| c != NAT)
}

/// The duration of a count, or `None` for `NaT`, a calendar unit or a duration outside
/// chrono's range.
pub(crate) fn time_delta(count: i64, unit: TimeUnit) -> Option<TimeDelta> {
    if count == NAT {
        return None;
    }
    let nanos = i128::from(count) * i128::from(unit.nanoseconds()?);
    let secs = i64::try_from(nanos.div_euclid(SECOND)).ok()?;
    TimeDelta::new(secs, nanos.rem_euclid(SECOND) as u32)
}

/// The count of `unit` of `value` (floored), or `None` for a calendar unit or if it does
/// not fit.
pub(crate) fn time_delta_count(value: TimeDelta, unit: TimeUnit) -> Option<i64> {
    let nanos = i128::from(value.num_seconds()) * SECOND + i128::from(value.subsec_nanos());
    let count = nanos.div_euclid(i128::from(unit.nanoseconds()?));
    i64::try_from(count).ok().filter(|&c| c != NAT)
}

impl<U: Unit> DateTime64<U> {
    /// The date and time, or `None` for `NaT` (and for a date beyond chrono's range of
    /// ±262,000 years, which only coarse units reach). Exact, nanoseconds included.
    ///
    /// ```
    /// use python4r::chrono::NaiveDate;
    /// use python4r::datetime::{DateTime64, units::{Months, Nanoseconds}};
    /// let t = DateTime64::<Nanoseconds>::new(1_700_000_000_123_456_789);
    /// let expected = NaiveDate::from_ymd_opt(2023, 11, 14).unwrap().and_hms_nano_opt(22, 13, 20, 123_456_789);
    /// assert_eq!(t.to_chrono(), expected);
    /// assert_eq!(DateTime64::<Months>::new(1).to_chrono(), NaiveDate::from_ymd_opt(1970, 2, 1).unwrap().and_hms_opt(0, 0, 0));
    /// assert_eq!(DateTime64::<Months>::NAT.to_chrono(), None);
    /// ```
    pub fn to_chrono(self) -> Option<NaiveDateTime> {
        naive_datetime(self.count(), U::UNIT)
    }

    /// The count of `U` of `value`, floored to the unit as numpy's casts do (noon is day
    /// `n` in days); `None` if it does not fit an `i64` of `U` (years beyond 2262 in
    /// nanoseconds).
    ///
    /// ```
    /// use python4r::chrono::NaiveDate;
    /// use python4r::datetime::{DateTime64, units::{Days, Nanoseconds}};
    /// let noon = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap().and_hms_opt(12, 0, 0).unwrap();
    /// assert_eq!(DateTime64::<Days>::from_chrono(noon).unwrap().to_string(), "2024-01-01");
    /// let far = NaiveDate::from_ymd_opt(3000, 1, 1).unwrap().and_hms_opt(0, 0, 0).unwrap();
    /// assert!(DateTime64::<Nanoseconds>::from_chrono(far).is_none());
    /// ```
    pub fn from_chrono(value: NaiveDateTime) -> Option<Self> {
        datetime_count(value, U::UNIT).map(Self::new)
    }

    /// The count of `U` of a zone-aware date and time's UTC instant (the zone is not
    /// kept), floored; `None` if it does not fit.
    ///
    /// ```
    /// use python4r::chrono::DateTime;
    /// use python4r::datetime::{DateTime64, units::Minutes};
    /// let paris = DateTime::parse_from_rfc3339("2024-06-01T14:30:00+02:00").unwrap();
    /// assert_eq!(DateTime64::<Minutes>::from_chrono_utc(&paris).unwrap().to_string(), "2024-06-01T12:30");
    /// ```
    pub fn from_chrono_utc<Tz: TimeZone>(value: &DateTime<Tz>) -> Option<Self> {
        Self::from_chrono(value.naive_utc())
    }
}

impl<U: Unit> TimeDelta64<U> {
    /// The duration, or `None` for `NaT`, for the calendar units (`Y`, `M`: no fixed
    /// length) and beyond chrono's range. Exact, nanoseconds included.
    ///
    /// ```
    /// use python4r::chrono::TimeDelta;
    /// use python4r::datetime::{TimeDelta64, units::{Microseconds, Months}};
    /// assert_eq!(TimeDelta64::<Microseconds>::new(-1_500_000).to_chrono(), Some(TimeDelta::milliseconds(-1500)));
    /// assert_eq!(TimeDelta64::<Months>::new(1).to_chrono(), None);
    /// ```
    pub fn to_chrono(self) -> Option<TimeDelta> {
        time_delta(self.count(), U::UNIT)
    }

    /// The count of `U` in `value`, floored to the unit; `None` for the calendar units or
    /// if it does not fit.
    ///
    /// ```
    /// use python4r::chrono::TimeDelta;
    /// use python4r::datetime::{TimeDelta64, units::Seconds};
    /// assert_eq!(TimeDelta64::<Seconds>::from_chrono(TimeDelta::milliseconds(-1500)).unwrap().count(), -2);
    /// ```
    pub fn from_chrono(value: TimeDelta) -> Option<Self> {
        time_delta_count(value, U::UNIT).map(Self::new)
    }
}
