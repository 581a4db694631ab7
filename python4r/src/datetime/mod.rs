//! numpy's dates and durations as tensor elements: [`DateTime64<U>`] and [`TimeDelta64<U>`],
//! `i64` counts of a [`TimeUnit`], laid out as numpy's `datetime64[unit]` and
//! `timedelta64[unit]`, so date arrays cross without a copy.
//!
//! # Decisions
//!
//! - **Units.** The units are the rows of one table (`time_unit_table!`): numpy's `Y`, `M`, `W`,
//!   `D`, `h`, `m`, `s`, `ms`, `us` and `ns`. `W` and finer are fixed lengths. `Y` and `M` are
//!   calendar units: a `datetime64[M]` counts months since 1970-01, which converts exactly to
//!   the first instant of that month, but a `timedelta64[M]` ("3 months") has no fixed length,
//!   so it never converts to a `chrono::TimeDelta`; casting it to another unit uses numpy's
//!   average lengths (a year is 365.2425 days, a month a twelfth of that), as numpy does. numpy's
//!   `ps`, `fs` and `as`, multiples (`datetime64[15m]`) and the generic unit (`datetime64`
//!   without one) are refused with a hint to cast (`a.astype('datetime64[ns]')`): they are
//!   below chrono's precision, or carry no unit at all.
//! - **NaT** is the count `i64::MIN`, as in numpy. It compares unequal to everything, itself
//!   included (numpy's rule, like `NaN`), and converts to `None`.
//! - **Precision.** Counts are exact; conversions to chrono keep nanoseconds. Converting to a
//!   coarser unit floors, as numpy's casts do (`-1 ns` is `-1 s`), and a count that does not fit
//!   the target saturates to the largest value (never turning into `NaT`).
//! - **Time zones.** numpy's `datetime64` has none: a count is a *naive* date and time on the
//!   proleptic Gregorian calendar, counted from 1970-01-01T00:00. It converts to
//!   `chrono::NaiveDateTime`; read it as UTC (`.and_utc()`) when it came from a time stamp,
//!   as pandas does. A zone-aware chrono value is stored as its UTC instant
//!   (`DateTime64::from_chrono_utc`): the zone itself is not kept.
//!
//! # Example
//!
//! ```
//! use python4r::datetime::{DateTime64, TimeDelta64, TimeUnit, units::{Days, Seconds}};
//!
//! let day = DateTime64::<Days>::new(19_723); // days since 1970-01-01
//! assert_eq!(day.to_string(), "2024-01-01");
//! let noon = day.to_unit::<Seconds>().count() + 12 * 3600;
//! assert_eq!(DateTime64::<Seconds>::new(noon).to_string(), "2024-01-01T12:00:00");
//! assert!(DateTime64::<Days>::NAT.is_nat() && DateTime64::<Days>::NAT != DateTime64::<Days>::NAT);
//! assert_eq!(TimeDelta64::<Seconds>::new(90).to_string(), "90 seconds");
//! assert_eq!(TimeUnit::Nanosecond.code(), "ns");
//! ```

use std::cmp::Ordering;
use std::fmt;
use std::marker::PhantomData;

/// Calls `$callback! { ($($args)*) rows }` with every row of the time-unit table.
///
/// A row is `Variant => Marker, "numpy code", "plural name", average length in nanoseconds,
/// class, "doc";` where the class is `fixed`, or `calendar(n)` for a unit of `n` months (its
/// average length is numpy's: 365.2425 days a year).
macro_rules! time_unit_table {
    ($callback:ident $($args:tt)*) => {
        $crate::datetime::time_unit_table! { [$callback] $($args)* }
    };
    ([$($callback:tt)*] $($args:tt)*) => {
        $($callback)*! {
            ($($args)*)
            Year => Years, "Y", "years", 31_556_952_000_000_000, calendar(12),
                "Calendar years (numpy's `Y`): a date is the first instant of its year.";
            Month => Months, "M", "months", 2_629_746_000_000_000, calendar(1),
                "Calendar months (numpy's `M`): a date is the first instant of its month.";
            Week => Weeks, "W", "weeks", 604_800_000_000_000, fixed,
                "Weeks of 7 days (numpy's `W`), counted from Thursday 1970-01-01.";
            Day => Days, "D", "days", 86_400_000_000_000, fixed, "Days (numpy's `D`).";
            Hour => Hours, "h", "hours", 3_600_000_000_000, fixed, "Hours (numpy's `h`).";
            Minute => Minutes, "m", "minutes", 60_000_000_000, fixed, "Minutes (numpy's `m`).";
            Second => Seconds, "s", "seconds", 1_000_000_000, fixed, "Seconds (numpy's `s`).";
            Millisecond => Milliseconds, "ms", "milliseconds", 1_000_000, fixed,
                "Milliseconds (numpy's `ms`).";
            Microsecond => Microseconds, "us", "microseconds", 1_000, fixed,
                "Microseconds (numpy's `us`).";
            Nanosecond => Nanoseconds, "ns", "nanoseconds", 1, fixed,
                "Nanoseconds (numpy's `ns`).";
        }
    };
}
pub(crate) use time_unit_table;

macro_rules! define_time_unit {
    (
        ()
        $($unit:ident => $marker:ident, $code:literal, $plural:literal, $nanos:literal,
            $class:ident $(($months:literal))?, $doc:literal;)*
    ) => {
        /// The unit of a [`DateTime64`] or [`TimeDelta64`] count, as numpy names it in
        /// `datetime64[unit]`.
        ///
        /// # Example
        ///
        /// ```
        /// use python4r::datetime::TimeUnit;
        /// assert_eq!(TimeUnit::from_code("us"), Some(TimeUnit::Microsecond));
        /// assert_eq!(TimeUnit::Day.nanoseconds(), Some(86_400_000_000_000));
        /// assert_eq!(TimeUnit::Month.nanoseconds(), None); // not a fixed length
        /// ```
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum TimeUnit {
            $(#[doc = $doc] $unit,)*
        }

        impl TimeUnit {
            /// Every unit, coarsest first.
            ///
            /// ```
            /// use python4r::datetime::TimeUnit;
            /// assert_eq!(TimeUnit::ALL.map(|u| u.code()).join(" "), "Y M W D h m s ms us ns");
            /// ```
            pub const ALL: [TimeUnit; [$($code),*].len()] = [$(TimeUnit::$unit),*];

            /// numpy's code for the unit: `"Y"`, `"M"`, ..., `"ns"`.
            ///
            /// ```
            /// assert_eq!(python4r::datetime::TimeUnit::Minute.code(), "m");
            /// ```
            pub const fn code(self) -> &'static str {
                match self {
                    $(TimeUnit::$unit => $code,)*
                }
            }

            /// The English plural (`"milliseconds"`), as numpy prints a `timedelta64`.
            ///
            /// ```
            /// assert_eq!(python4r::datetime::TimeUnit::Microsecond.plural(), "microseconds");
            /// ```
            pub const fn plural(self) -> &'static str {
                match self {
                    $(TimeUnit::$unit => $plural,)*
                }
            }

            /// The length of one unit in nanoseconds, or `None` for the calendar units (`Y`,
            /// `M`), which have none.
            ///
            /// ```
            /// use python4r::datetime::TimeUnit;
            /// assert_eq!(TimeUnit::Week.nanoseconds(), Some(7 * 86_400 * 1_000_000_000));
            /// assert_eq!(TimeUnit::Year.nanoseconds(), None);
            /// ```
            pub const fn nanoseconds(self) -> Option<i64> {
                match self {
                    $(TimeUnit::$unit => define_time_unit!(@fixed $class, $nanos),)*
                }
            }

            /// numpy's length of one unit in nanoseconds, an average for the calendar units.
            const fn average_nanoseconds(self) -> i128 {
                match self {
                    $(TimeUnit::$unit => $nanos,)*
                }
            }

            /// The number of months in one unit, for the calendar units.
            const fn calendar_months(self) -> Option<i128> {
                match self {
                    $(TimeUnit::$unit => define_time_unit!(@months $class $(, $months)?),)*
                }
            }
        }

        /// Marker types naming a [`TimeUnit`] in the type of an element:
        /// `DateTime64<units::Nanoseconds>`. Their names are rust-numpy's.
        ///
        /// ```
        /// use python4r::datetime::{TimeUnit, Unit, units::Milliseconds};
        /// assert_eq!(<Milliseconds as Unit>::UNIT, TimeUnit::Millisecond);
        /// ```
        pub mod units {
            $(
                #[doc = $doc]
                #[derive(Debug)]
                pub enum $marker {}
                impl super::sealed::Sealed for $marker {}
                impl super::Unit for $marker {
                    const UNIT: super::TimeUnit = super::TimeUnit::$unit;
                }
            )*
        }
    };
    (@fixed fixed, $nanos:literal) => { Some($nanos) };
    (@fixed calendar, $nanos:literal) => { None };
    (@months fixed) => { None };
    (@months calendar, $months:literal) => { Some($months) };
}

mod sealed {
    pub trait Sealed {}
}

/// A marker type naming a [`TimeUnit`] (see [`units`]); sealed.
///
/// ```
/// use python4r::datetime::{TimeUnit, Unit, units::Days};
/// fn unit_of<U: Unit>() -> TimeUnit { U::UNIT }
/// assert_eq!(unit_of::<Days>(), TimeUnit::Day);
/// ```
pub trait Unit: Send + Sync + 'static + sealed::Sealed {
    /// The unit this type names.
    const UNIT: TimeUnit;
}

time_unit_table!(define_time_unit);

impl TimeUnit {
    /// The unit numpy writes as `code` (`"ns"`), if python4r supports it.
    ///
    /// ```
    /// use python4r::datetime::TimeUnit;
    /// assert_eq!(TimeUnit::from_code("D"), Some(TimeUnit::Day));
    /// assert_eq!(TimeUnit::from_code("ps"), None); // below nanoseconds
    /// ```
    pub fn from_code(code: &str) -> Option<TimeUnit> {
        TimeUnit::ALL.into_iter().find(|u| u.code() == code)
    }
}

impl fmt::Display for TimeUnit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// numpy's "not a time", the count of `NaT`.
const NAT: i64 = i64::MIN;
const DAY_NS: i128 = 86_400_000_000_000;

/// A count that does not fit `i64` saturates, never becoming `NaT`.
fn saturate(v: i128) -> i64 {
    v.clamp(i128::from(NAT) + 1, i128::from(i64::MAX)) as i64
}

/// Days from 1970-01-01 to `y-m-d` (proleptic Gregorian; Howard Hinnant's `days_from_civil`).
fn days_from_civil(y: i128, m: i128, d: i128) -> i128 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The `(year, month, day)` of `days` since 1970-01-01 (Hinnant's `civil_from_days`).
fn civil_from_days(days: i128) -> (i128, i128, i128) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i128::from(m <= 2), m, d)
}

/// Nanoseconds since 1970-01-01T00:00 of the date `count` units after it.
fn datetime_to_nanos(count: i64, unit: TimeUnit) -> i128 {
    match unit.calendar_months() {
        Some(months) => {
            let months = i128::from(count) * months;
            days_from_civil(months.div_euclid(12) + 1970, months.rem_euclid(12) + 1, 1) * DAY_NS
        }
        None => i128::from(count) * unit.average_nanoseconds(),
    }
}

/// The count of `unit` of the date `nanos` after 1970-01-01T00:00, floored.
fn datetime_from_nanos(nanos: i128, unit: TimeUnit) -> i128 {
    match unit.calendar_months() {
        Some(months) => {
            let (y, m, _) = civil_from_days(nanos.div_euclid(DAY_NS));
            ((y - 1970) * 12 + m - 1).div_euclid(months)
        }
        None => nanos.div_euclid(unit.average_nanoseconds()),
    }
}

/// numpy's cast of a `datetime64[from]` count to `datetime64[to]`: calendar-exact, floored.
pub(crate) fn convert_datetime(count: i64, from: TimeUnit, to: TimeUnit) -> i64 {
    if count == NAT || from == to {
        return count;
    }
    saturate(datetime_from_nanos(datetime_to_nanos(count, from), to))
}

/// numpy's cast of a `timedelta64[from]` count to `timedelta64[to]`: by average lengths for
/// years and months, floored.
pub(crate) fn convert_timedelta(count: i64, from: TimeUnit, to: TimeUnit) -> i64 {
    if count == NAT || from == to {
        return count;
    }
    saturate((i128::from(count) * from.average_nanoseconds()).div_euclid(to.average_nanoseconds()))
}

/// numpy's ISO 8601 text of a `datetime64[unit]` count: as many fields as the unit has.
fn format_datetime(f: &mut fmt::Formatter<'_>, count: i64, unit: TimeUnit) -> fmt::Result {
    if count == NAT {
        return f.write_str("NaT");
    }
    if let Some(months) = unit.calendar_months() {
        let months = i128::from(count) * months;
        let year = months.div_euclid(12) + 1970;
        write_year(f, year)?;
        if unit == TimeUnit::Month {
            write!(f, "-{:02}", months.rem_euclid(12) + 1)?;
        }
        return Ok(());
    }
    let nanos = datetime_to_nanos(count, unit);
    let (y, m, d) = civil_from_days(nanos.div_euclid(DAY_NS));
    write_year(f, y)?;
    write!(f, "-{m:02}-{d:02}")?;
    let in_day = nanos.rem_euclid(DAY_NS);
    let (h, min, s) = (
        in_day / 3_600_000_000_000,
        in_day / 60_000_000_000 % 60,
        in_day / 1_000_000_000 % 60,
    );
    let sub = in_day % 1_000_000_000;
    match unit {
        TimeUnit::Hour => write!(f, "T{h:02}"),
        TimeUnit::Minute => write!(f, "T{h:02}:{min:02}"),
        TimeUnit::Second => write!(f, "T{h:02}:{min:02}:{s:02}"),
        TimeUnit::Millisecond => write!(f, "T{h:02}:{min:02}:{s:02}.{:03}", sub / 1_000_000),
        TimeUnit::Microsecond => write!(f, "T{h:02}:{min:02}:{s:02}.{:06}", sub / 1_000),
        TimeUnit::Nanosecond => write!(f, "T{h:02}:{min:02}:{s:02}.{sub:09}"),
        _ => Ok(()),
    }
}

/// numpy's year: at least four characters, the sign included (`0005`, `-001`, `10070`).
fn write_year(f: &mut fmt::Formatter<'_>, year: i128) -> fmt::Result {
    write!(f, "{year:04}")
}

macro_rules! time_element {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[repr(transparent)]
        pub struct $name<U: Unit> {
            count: i64,
            unit: PhantomData<fn() -> U>,
        }

        impl<U: Unit> $name<U> {
            /// numpy's `NaT` ("not a time"), the count `i64::MIN`.
            ///
            /// ```
            #[doc = concat!("use python4r::datetime::{", stringify!($name), ", units::Seconds};")]
            #[doc = concat!("let nat = ", stringify!($name), "::<Seconds>::NAT;")]
            /// assert!(nat.is_nat() && nat.some().is_none() && nat.count() == i64::MIN);
            /// assert!(nat != nat); // like NaN
            /// ```
            pub const NAT: Self = Self::new(NAT);

            /// The value `count` units from the origin; `i64::MIN` is [`NAT`](Self::NAT).
            ///
            /// ```
            #[doc = concat!("use python4r::datetime::{", stringify!($name), ", TimeUnit, units::Hours};")]
            #[doc = concat!("let t = ", stringify!($name), "::<Hours>::new(36);")]
            /// assert_eq!((t.count(), t.unit(), t.is_nat()), (36, TimeUnit::Hour, false));
            /// assert_eq!(t.some(), Some(t));
            /// ```
            pub const fn new(count: i64) -> Self {
                Self {
                    count,
                    unit: PhantomData,
                }
            }

            /// The count of units (`i64::MIN` for `NaT`).
            pub const fn count(self) -> i64 {
                self.count
            }

            /// Whether this is `NaT`.
            pub const fn is_nat(self) -> bool {
                self.count == NAT
            }

            /// The unit, as a value.
            pub const fn unit(self) -> TimeUnit {
                U::UNIT
            }

            /// `Some(self)` unless this is `NaT`.
            pub const fn some(self) -> Option<Self> {
                if self.is_nat() { None } else { Some(self) }
            }
        }

        impl<U: Unit> Clone for $name<U> {
            fn clone(&self) -> Self {
                *self
            }
        }

        impl<U: Unit> Copy for $name<U> {}

        /// numpy's comparison: `NaT` equals nothing, itself included.
        impl<U: Unit> PartialEq for $name<U> {
            fn eq(&self, other: &Self) -> bool {
                !self.is_nat() && self.count == other.count
            }
        }

        /// Ordered by count; `NaT` is unordered.
        impl<U: Unit> PartialOrd for $name<U> {
            fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
                if self.is_nat() || other.is_nat() {
                    None
                } else {
                    Some(self.count.cmp(&other.count))
                }
            }
        }

        /// numpy's repr: `numpy.datetime64('2024-01-01')`, `numpy.timedelta64(5,'ms')`.
        impl<U: Unit> fmt::Debug for $name<U> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.numpy_repr(f)
            }
        }
    };
}

time_element!(
    /// One element of a `datetime64[unit]` tensor: the count of `U` since 1970-01-01T00:00,
    /// a date and time without a time zone (see the [module docs](self)).
    ///
    /// ```
    /// use python4r::datetime::{DateTime64, units::{Hours, Months}};
    /// let t = DateTime64::<Hours>::new(-1);
    /// assert_eq!(t.to_string(), "1969-12-31T23");
    /// assert_eq!(t.to_unit::<Months>().to_string(), "1969-12");
    /// assert_eq!(format!("{:?}", DateTime64::<Months>::NAT), "numpy.datetime64('NaT')");
    /// ```
    DateTime64
);

time_element!(
    /// One element of a `timedelta64[unit]` tensor: a count of `U`, positive or negative.
    ///
    /// ```
    /// use python4r::datetime::{TimeDelta64, units::{Days, Years}};
    /// let year = TimeDelta64::<Years>::new(1);
    /// assert_eq!(year.to_unit::<Days>().count(), 365); // numpy's average year, floored
    /// assert_eq!(format!("{year:?}"), "numpy.timedelta64(1,'Y')");
    /// ```
    TimeDelta64
);

impl<U: Unit> DateTime64<U> {
    /// The same instant in unit `V`, as numpy's `astype` computes it: exact for the calendar
    /// units, floored when `V` is coarser.
    pub fn to_unit<V: Unit>(self) -> DateTime64<V> {
        DateTime64::new(convert_datetime(self.count, U::UNIT, V::UNIT))
    }

    fn numpy_repr(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "numpy.datetime64('{self}')")
    }
}

impl<U: Unit> TimeDelta64<U> {
    /// The same duration in unit `V`, as numpy's `astype` computes it: years and months by
    /// numpy's average lengths, floored when `V` is coarser.
    pub fn to_unit<V: Unit>(self) -> TimeDelta64<V> {
        TimeDelta64::new(convert_timedelta(self.count, U::UNIT, V::UNIT))
    }

    fn numpy_repr(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_nat() {
            write!(f, "numpy.timedelta64('NaT','{}')", U::UNIT)
        } else {
            write!(f, "numpy.timedelta64({},'{}')", self.count, U::UNIT)
        }
    }
}

/// numpy's `str`: ISO 8601 with the unit's fields (`2024-01-01T12:00`), or `NaT`.
impl<U: Unit> fmt::Display for DateTime64<U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        format_datetime(f, self.count, U::UNIT)
    }
}

/// numpy's `str`: `90 seconds`, or `NaT`.
impl<U: Unit> fmt::Display for TimeDelta64<U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_nat() {
            f.write_str("NaT")
        } else {
            write!(f, "{} {}", self.count, U::UNIT.plural())
        }
    }
}

/// Formats a `datetime64[unit]` count as [`DateTime64`]'s `Display` does.
pub(crate) struct DateText(pub(crate) i64, pub(crate) TimeUnit);

impl fmt::Display for DateText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        format_datetime(f, self.0, self.1)
    }
}

#[cfg(feature = "chrono")]
mod chrono_conversions;

#[cfg(feature = "chrono")]
pub(crate) use chrono_conversions::{datetime_count, naive_datetime, time_delta, time_delta_count};

#[cfg(test)]
mod tests;
