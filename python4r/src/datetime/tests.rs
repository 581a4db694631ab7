//! Unit tests of the calendar arithmetic, formatting and units.

use super::units::*;
use super::*;

#[test]
fn calendar_round_trips() {
    for days in [
        -1_000_000i128,
        -719_468,
        -1,
        0,
        1,
        59,
        365,
        11_016,
        2_932_896,
    ] {
        let (y, m, d) = civil_from_days(days);
        assert_eq!(days_from_civil(y, m, d), days, "{y}-{m}-{d}");
    }
    assert_eq!(civil_from_days(0), (1970, 1, 1));
    assert_eq!(civil_from_days(-1), (1969, 12, 31));
    assert_eq!(days_from_civil(2000, 3, 1), 11_017);
}

#[test]
fn casts_follow_numpy() {
    // Values checked against numpy 2.
    let t = DateTime64::<Nanoseconds>::new(1_584_279_930_123_456_789);
    assert_eq!(t.to_unit::<Seconds>().count(), 1_584_279_930);
    assert_eq!(t.to_unit::<Months>().count(), 602);
    assert_eq!(t.to_unit::<Years>().count(), 50);
    let before = DateTime64::<Nanoseconds>::new(-500_000_000);
    assert_eq!(before.to_unit::<Seconds>().count(), -1);
    assert_eq!(before.to_unit::<Months>().count(), -1);
    assert_eq!(DateTime64::<Years>::new(-1).to_unit::<Days>().count(), -365);
    assert!(DateTime64::<Nanoseconds>::NAT.to_unit::<Days>().is_nat());
    assert_eq!(
        TimeDelta64::<Years>::new(-1).to_unit::<Days>().count(),
        -366
    );
    assert_eq!(
        TimeDelta64::<Months>::new(1).to_unit::<Seconds>().count(),
        2_629_746
    );
    assert_eq!(
        TimeDelta64::<Days>::new(i64::MAX)
            .to_unit::<Nanoseconds>()
            .count(),
        i64::MAX,
        "saturates"
    );
}

#[test]
fn text_follows_numpy() {
    let t = DateTime64::<Nanoseconds>::new(1_584_279_930_123_456_789);
    assert_eq!(t.to_string(), "2020-03-15T13:45:30.123456789");
    assert_eq!(
        t.to_unit::<Milliseconds>().to_string(),
        "2020-03-15T13:45:30.123"
    );
    assert_eq!(t.to_unit::<Weeks>().to_string(), "2020-03-12");
    assert_eq!(DateTime64::<Years>::new(-1970).to_string(), "0000");
    assert_eq!(DateTime64::<Years>::new(-1971).to_string(), "-001");
    assert_eq!(TimeDelta64::<Minutes>::NAT.to_string(), "NaT");
    assert_eq!(
        format!("{:?}", TimeDelta64::<Minutes>::NAT),
        "numpy.timedelta64('NaT','m')"
    );
}

#[cfg(feature = "chrono")]
#[test]
fn chrono_round_trips() {
    use chrono::NaiveDate;
    let t = NaiveDate::from_ymd_opt(1969, 7, 20)
        .unwrap()
        .and_hms_nano_opt(20, 17, 40, 5)
        .unwrap();
    let ns = DateTime64::<Nanoseconds>::from_chrono(t).unwrap();
    assert_eq!(ns.to_chrono(), Some(t));
    assert_eq!(
        DateTime64::<Days>::from_chrono(t).unwrap().to_string(),
        "1969-07-20"
    );
    assert_eq!(
        DateTime64::<Months>::from_chrono(t).unwrap().to_string(),
        "1969-07"
    );
    let huge = DateTime64::<Years>::new(i64::MAX - 1);
    assert_eq!(huge.to_chrono(), None);
    let d = TimeDelta64::<Nanoseconds>::new(-1);
    assert_eq!(
        TimeDelta64::<Nanoseconds>::from_chrono(d.to_chrono().unwrap()),
        Some(d)
    );
}
