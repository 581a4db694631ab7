//! Dates and durations against numpy: `datetime64` and `timedelta64` arrays in every unit cross
//! without a copy, print and cast as numpy does; with the `chrono` feature, they convert to chrono
//! values, numpy's date scalars are read exactly, and dates, times and durations cross as
//! parameters, returns and `Value`s.

use python4r::datetime::{DateTime64, TimeDelta64, TimeUnit, units};
use python4r::pyo3::prelude::*;
use python4r::pyo3::types::PyDict;
use python4r::{DType, Error, Tensor};

/// Runs `code` in a fresh namespace with numpy as `np` and `vars`, and returns its `out`.
fn run<T: python4r::FromPython>(code: &str, vars: &[(&str, &Tensor)]) -> T {
    python4r::with_gil(|py| {
        let ns = PyDict::new(py);
        py.run(c"import numpy as np", Some(&ns), None)?;
        for (name, t) in vars {
            ns.set_item(name, t.to_numpy(py)?)?;
        }
        py.run(&std::ffi::CString::new(code).unwrap(), Some(&ns), None)?;
        T::from_python(&ns.get_item("out")?.expect("the code sets `out`"))
    })
    .unwrap_or_else(|e| panic!("{code}: {e:?}"))
}

/// Random instants within ±140 years of 1970 in nanoseconds (so that every unit's count of
/// them fits in nanoseconds again), with NaT, as numpy code.
const INSTANTS: &str = "rng = np.random.default_rng(7)\n\
     ns = np.concatenate([rng.integers(-2**62, 2**62, 200), [0, -1, 1, -2**62, 0]])\n\
     ns = ns.astype('int64')\n\
     ns[-1] = np.iinfo(np.int64).min\n";

fn counts(t: &Tensor) -> Vec<i64> {
    t.cast(DType::Int64).to_vec::<i64>().unwrap()
}

#[test]
fn every_unit_crosses_without_a_copy() {
    for unit in TimeUnit::ALL {
        for (kind, dtype) in [
            ("M8", DType::DateTime64(unit)),
            ("m8", DType::TimeDelta64(unit)),
        ] {
            let code =
                format!("{INSTANTS}a = ns.view('M8[ns]').astype('{kind}[{unit}]')[::-2]\nout = a");
            let (t, ptr, numpy_counts): (Tensor, usize, Vec<i64>) = python4r::with_gil(|py| {
                let ns = PyDict::new(py);
                py.run(c"import numpy as np", Some(&ns), None)?;
                py.run(
                    &std::ffi::CString::new(code.clone()).unwrap(),
                    Some(&ns),
                    None,
                )?;
                let a = ns.get_item("a")?.unwrap();
                let ptr = a.getattr("ctypes")?.getattr("data")?.extract()?;
                let list = a.call_method1("view", ("i8",))?.call_method0("tolist")?;
                Ok((a.extract()?, ptr, list.extract()?))
            })
            .unwrap();
            assert_eq!(t.dtype(), dtype);
            assert_eq!(t.data_ptr() as usize, ptr, "{dtype}: shared, not copied");
            assert_eq!(t.strides(), &[-16], "{dtype}");
            assert_eq!(counts(&t), numpy_counts, "{dtype}");
            // And back: the same memory, numpy's dtype.
            let (name, same, back_ptr): (String, bool, usize) = run(
                &format!(
                    "{INSTANTS}a = ns.view('M8[ns]').astype('{kind}[{unit}]')[::-2]\n\
                     out = (str(t.dtype), bool((t.view('i8') == a.view('i8')).all()), \
                     t.ctypes.data)"
                ),
                &[("t", &t)],
            );
            assert_eq!(name, dtype.numpy_name());
            assert!(same, "{dtype}");
            assert_eq!(back_ptr, ptr, "{dtype}");
        }
    }
}

#[test]
fn elements_are_typed_by_unit() {
    let t: Tensor = python4r::eval(
        "__import__('numpy').array(['2024-02-29T12:30', 'NaT'], dtype='datetime64[m]')",
    )
    .unwrap();
    let v = t.to_vec::<DateTime64<units::Minutes>>().unwrap();
    assert_eq!(v[0].to_string(), "2024-02-29T12:30");
    assert!(v[1].is_nat());
    assert!(matches!(
        t.to_vec::<DateTime64<units::Seconds>>(),
        Err(Error::DTypeMismatch { .. })
    ));
    let d = Tensor::from_vec(
        vec![TimeDelta64::<units::Days>::new(3), TimeDelta64::NAT],
        &[2],
    )
    .unwrap();
    let (text, nat): (String, bool) = run("out = (str(d[0]), bool(np.isnat(d[1])))", &[("d", &d)]);
    assert_eq!((text.as_str(), nat), ("3 days", true));
    assert_eq!(d.get::<TimeDelta64<units::Days>>(&[0]).unwrap().count(), 3);
}

#[test]
fn text_matches_numpy() {
    for unit in TimeUnit::ALL {
        // Dates numpy can print: ±100,000 years around 1970 for the coarse units.
        let span = match unit {
            TimeUnit::Year => "100_000",
            TimeUnit::Month => "1_200_000",
            TimeUnit::Week => "5_000_000",
            TimeUnit::Day => "36_000_000",
            _ => "2**62",
        };
        let code = format!(
            "rng = np.random.default_rng(3)\n\
             a = np.append(rng.integers(-{span}, {span}, 20), np.iinfo(np.int64).min).view('M8[{unit}]')\n\
             out = 'tensor([' + ', '.join(\"'\" + s + \"'\" for s in np.datetime_as_string(a)) + \
             '], dtype=datetime64[{unit}], shape=[21])'"
        );
        let (expected, t): (String, Tensor) = python4r::with_gil(|py| {
            let ns = PyDict::new(py);
            py.run(c"import numpy as np", Some(&ns), None)?;
            py.run(&std::ffi::CString::new(code).unwrap(), Some(&ns), None)?;
            Ok((
                ns.get_item("out")?.unwrap().extract()?,
                ns.get_item("a")?.unwrap().extract()?,
            ))
        })
        .unwrap();
        assert_eq!(t.to_string(), expected, "{unit}");
    }
    let d: Tensor =
        python4r::eval("__import__('numpy').array([5, -1, 'NaT'], dtype='m8[ms]')").unwrap();
    assert_eq!(
        d.to_string(),
        "tensor([5, -1, 'NaT'], dtype=timedelta64[ms], shape=[3])"
    );
}

#[test]
fn casts_match_numpy() {
    for from in TimeUnit::ALL {
        for to in TimeUnit::ALL {
            for kind in ["M8", "m8"] {
                let make = |unit: TimeUnit| match kind {
                    "M8" => DType::DateTime64(unit),
                    _ => DType::TimeDelta64(unit),
                };
                let a: Tensor = run(
                    &format!("{INSTANTS}out = ns.view('{kind}[ns]').astype('{kind}[{from}]')"),
                    &[],
                );
                let expected: Vec<i64> = run(
                    &format!("out = a.astype('{kind}[{to}]').view('i8').tolist()"),
                    &[("a", &a)],
                );
                assert_eq!(
                    counts(&a.cast(make(to))),
                    expected,
                    "{kind}[{from}] -> [{to}]"
                );
            }
        }
    }
    // To and from numbers: counts (NaT is the minimum int64, and true), floats truncated.
    let a: Tensor = run(&format!("{INSTANTS}out = ns.view('m8[us]')"), &[]);
    let (ints, floats, bools): (Vec<i64>, Vec<f64>, Vec<bool>) = run(
        "out = (a.astype('i8').tolist(), a.astype('f8').tolist(), a.astype(bool).tolist())",
        &[("a", &a)],
    );
    assert_eq!(counts(&a), ints);
    assert_eq!(a.cast(DType::Float64).to_vec::<f64>().unwrap(), floats);
    assert_eq!(a.cast(DType::Bool).to_vec::<bool>().unwrap(), bools);
    let f = Tensor::from_vec(vec![1.5f64, -1.5, f64::NAN, 1e3], &[4]).unwrap();
    let expected: Vec<i64> = run("out = f.astype('m8[s]').view('i8').tolist()", &[("f", &f)]);
    assert_eq!(
        counts(&f.cast(DType::TimeDelta64(TimeUnit::Second))),
        expected
    );
}

#[test]
fn units_numpy_has_but_python4r_does_not_are_refused_with_a_hint() {
    for (expr, hint) in [
        ("np.zeros(2, dtype='M8[ps]')", "astype('datetime64[ns]')"),
        ("np.zeros(2, dtype='m8[2D]')", "astype('timedelta64[ns]')"),
        ("np.array(['NaT'], dtype='M8')", "give it one"),
    ] {
        let err = python4r::eval::<Tensor>(&format!("(lambda np: {expr})(__import__('numpy'))"))
            .unwrap_err();
        assert!(
            matches!(err, Error::UnsupportedDType { .. }),
            "{expr}: {err:?}"
        );
        let msg = err.to_string();
        assert!(msg.contains(hint), "{expr}: {msg}");
        assert!(msg.contains("datetime64[Y|M|W|D|h|m|s|ms|us|ns]"), "{msg}");
    }
}

#[test]
fn dates_arithmetic_in_python() {
    let start: Tensor =
        python4r::eval("__import__('numpy').array(['2024-01-31', '2024-02-28'], dtype='M8[D]')")
            .unwrap();
    let (later, gap): (Tensor, Tensor) = run(
        "out = (start + np.timedelta64(1, 'D'), np.diff(start))",
        &[("start", &start)],
    );
    assert_eq!(
        later.to_string(),
        "tensor(['2024-02-01', '2024-02-29'], dtype=datetime64[D], shape=[2])"
    );
    assert_eq!(gap.dtype(), DType::TimeDelta64(TimeUnit::Day));
    assert_eq!(counts(&gap), [28]);
}

#[cfg(not(feature = "chrono"))]
#[test]
fn without_chrono_date_values_say_which_feature() {
    let err = python4r::eval::<python4r::Value>("__import__('datetime').date(2024, 1, 1)")
        .unwrap_err()
        .to_string();
    assert!(err.contains("`chrono` feature"), "{err}");
    // Not an int of nanoseconds, which would change meaning when the feature is on.
    let err = python4r::eval::<python4r::Value>("__import__('numpy').datetime64(1, 'ns')")
        .unwrap_err()
        .to_string();
    assert!(err.contains("`chrono` feature"), "{err}");
}

#[cfg(feature = "chrono")]
mod with_chrono {
    use super::*;
    use python4r::Value;
    use python4r::chrono::{
        DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, Utc,
    };
    use python4r::py_exec;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn date_tensors_are_chrono_values() {
        // numpy's own conversion of microsecond dates to `datetime` objects.
        let t: Tensor = run(&format!("{INSTANTS}out = ns.view('M8[ns]')"), &[]);
        let expected: Vec<Option<NaiveDateTime>> =
            run("out = t.astype('M8[us]').tolist()", &[("t", &t)]);
        let ours: Vec<Option<NaiveDateTime>> = t
            .cast(DType::DateTime64(TimeUnit::Microsecond))
            .to_datetimes()
            .unwrap();
        assert_eq!(ours, expected);
        // Nanoseconds are kept, and come back.
        let exact = t.to_datetimes().unwrap();
        let back = Tensor::from_datetimes(&exact, &[exact.len()], TimeUnit::Nanosecond).unwrap();
        assert_eq!(counts(&back), counts(&t));
        for unit in TimeUnit::ALL {
            let coarse = t.cast(DType::DateTime64(unit));
            let values = coarse.to_datetimes().unwrap();
            let again = Tensor::from_datetimes(&values, &[values.len()], unit).unwrap();
            assert_eq!(counts(&again), counts(&coarse), "{unit}");
        }
        let far = date(3000, 1, 1).and_hms_opt(0, 0, 0);
        let err = Tensor::from_datetimes(&[far], &[1], TimeUnit::Nanosecond).unwrap_err();
        assert!(matches!(err, Error::DateTime(_)), "{err:?}");
        assert!(err.to_string().contains("coarser unit"), "{err}");
        let err = Tensor::from_vec(vec![1.0f32], &[1])
            .unwrap()
            .to_datetimes()
            .unwrap_err();
        assert!(err.to_string().contains("datetime64[unit]"), "{err}");
    }

    #[test]
    fn duration_tensors_are_chrono_values() {
        let t: Tensor = run(&format!("{INSTANTS}out = ns.view('m8[ns]')"), &[]);
        let expected: Vec<Option<TimeDelta>> =
            run("out = t.astype('m8[us]').tolist()", &[("t", &t)]);
        let ours = t
            .cast(DType::TimeDelta64(TimeUnit::Microsecond))
            .to_timedeltas()
            .unwrap();
        assert_eq!(ours, expected);
        let exact = t.to_timedeltas().unwrap();
        let back = Tensor::from_timedeltas(&exact, &[exact.len()], TimeUnit::Nanosecond).unwrap();
        assert_eq!(counts(&back), counts(&t));
        let months: Tensor =
            python4r::eval("__import__('numpy').array([1], dtype='m8[M]')").unwrap();
        let err = months.to_timedeltas().unwrap_err().to_string();
        assert!(err.contains("no fixed length"), "{err}");
    }

    #[py_exec(code = "import numpy as np\nresult = np.datetime64(text, 'ns')")]
    fn parse_ns(text: &str) -> python4r::Result<NaiveDateTime>;

    #[py_exec(code = "import numpy as np\nresult = np.datetime64(text)")]
    fn parse_maybe(text: &str) -> python4r::Result<Option<NaiveDateTime>>;

    #[py_exec(code = "import numpy as np\nresult = np.datetime64(text, 's')")]
    fn parse_utc(text: &str) -> DateTime<Utc>;

    #[py_exec(code = "import numpy as np\nresult = np.datetime64(text, 'D')")]
    fn parse_date(text: &str) -> NaiveDate;

    #[py_exec(code = "import numpy as np\nresult = np.timedelta64(n, unit)")]
    fn duration(n: i64, unit: &str) -> python4r::Result<TimeDelta>;

    #[test]
    fn numpy_scalars_are_read_exactly() {
        let t = parse_ns("2024-02-29T23:59:59.123456789").unwrap();
        assert_eq!(
            t,
            date(2024, 2, 29)
                .and_hms_nano_opt(23, 59, 59, 123_456_789)
                .unwrap()
        );
        assert_eq!(parse_maybe("NaT").unwrap(), None);
        assert_eq!(
            parse_maybe("1969-07-20").unwrap(),
            date(1969, 7, 20).and_hms_opt(0, 0, 0)
        );
        let err = parse_ns("NaT").unwrap_err().to_string();
        assert!(err.contains("NaT") && err.contains("Option"), "{err}");
        assert_eq!(
            parse_utc("2000-01-01T00:00:01"),
            date(2000, 1, 1).and_hms_opt(0, 0, 1).unwrap().and_utc()
        );
        assert_eq!(parse_date("1900-03-01"), date(1900, 3, 1));
        assert_eq!(
            duration(-1500, "ms").unwrap(),
            TimeDelta::milliseconds(-1500)
        );
        assert_eq!(duration(3, "W").unwrap(), TimeDelta::weeks(3));
        // Units python4r has no dtype for go through nanoseconds.
        assert_eq!(duration(15, "ps").unwrap(), TimeDelta::zero());
        assert_eq!(duration(2_000, "ps").unwrap(), TimeDelta::nanoseconds(2));
        let err = duration(1, "M").unwrap_err().to_string();
        assert!(err.contains("no fixed length"), "{err}");
        let err = python4r::eval::<TimeDelta>("__import__('numpy').datetime64(0, 's')")
            .unwrap_err()
            .to_string();
        assert!(err.contains("is a date, not a duration"), "{err}");
    }

    #[py_exec(code = "from datetime import timedelta\n\
                      result = (d + timedelta(days=1), dt + step, aware.utcoffset(), t.hour, step * 2)")]
    fn shift(
        d: NaiveDate,
        dt: NaiveDateTime,
        aware: DateTime<FixedOffset>,
        t: NaiveTime,
        step: TimeDelta,
    ) -> (NaiveDate, NaiveDateTime, TimeDelta, u32, TimeDelta);

    #[test]
    fn chrono_values_are_parameters_and_returns() {
        let dt = date(2024, 12, 31).and_hms_micro_opt(23, 0, 0, 5).unwrap();
        let aware = DateTime::parse_from_rfc3339("2024-06-01T14:30:00+02:00").unwrap();
        let (d, later, offset, hour, twice) = shift(
            date(2024, 2, 28),
            dt,
            aware,
            NaiveTime::from_hms_opt(13, 45, 0).unwrap(),
            TimeDelta::hours(1),
        );
        assert_eq!(d, date(2024, 2, 29));
        assert_eq!(
            later,
            date(2025, 1, 1).and_hms_micro_opt(0, 0, 0, 5).unwrap()
        );
        assert_eq!(offset, TimeDelta::hours(2));
        assert_eq!(hour, 13);
        assert_eq!(twice, TimeDelta::hours(2));
    }

    #[test]
    fn values_are_dates_times_and_durations() {
        python4r::exec(
            "import datetime as dt, zoneinfo, numpy as np\n\
             paris = zoneinfo.ZoneInfo('Europe/Paris')\n\
             things = [dt.date(2024, 1, 2), dt.datetime(2024, 1, 2, 3, 4, 0, 5), \
             dt.datetime(2024, 7, 1, 12, 0, tzinfo=paris), dt.time(13, 45, 1), \
             dt.timedelta(days=-1, seconds=5), np.datetime64('2024-01-02T03:04:05.000000006'), \
             np.datetime64('NaT'), np.timedelta64(90, 'm'), \
             dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)]",
        )
        .unwrap();
        let v: Value = python4r::get("things").unwrap();
        let Value::List(items) = &v else {
            panic!("{v:?}")
        };
        let summer = FixedOffset::east_opt(7200).unwrap();
        assert_eq!(
            items[..5],
            [
                Value::Date(date(2024, 1, 2)),
                Value::NaiveDateTime(date(2024, 1, 2).and_hms_micro_opt(3, 4, 0, 5).unwrap()),
                Value::DateTime(
                    date(2024, 7, 1)
                        .and_hms_opt(12, 0, 0)
                        .unwrap()
                        .and_local_timezone(summer)
                        .unwrap()
                ),
                Value::Time(NaiveTime::from_hms_opt(13, 45, 1).unwrap()),
                Value::TimeDelta(TimeDelta::seconds(5) - TimeDelta::days(1)),
            ]
        );
        assert_eq!(
            items[5],
            Value::NaiveDateTime(date(2024, 1, 2).and_hms_nano_opt(3, 4, 5, 6).unwrap())
        );
        assert_eq!(items[6], Value::None, "NaT");
        assert_eq!(items[7], Value::TimeDelta(TimeDelta::minutes(90)));
        // Printed as Python's repr of what they become in Python.
        python4r::set("back", &v).unwrap();
        let reprs: Vec<String> = python4r::eval("[repr(x) for x in back]").unwrap();
        for (item, repr) in items.iter().zip(&reprs) {
            assert_eq!(item.to_string(), *repr);
        }
        assert!(reprs[2].contains("datetime.timezone(datetime.timedelta(seconds=7200))"));
        assert!(
            reprs[8].contains("tzinfo=datetime.timezone.utc"),
            "{}",
            reprs[8]
        );
        // The same instants in Python (the zone's offset kept, not its name).
        assert!(
            python4r::eval::<bool>("all(a == b for a, b in zip(back[:5], things[:5]))").unwrap()
        );
        let err = python4r::eval::<Value>(
            "__import__('datetime').time(1, tzinfo=__import__('datetime').timezone.utc)",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("tzinfo"), "{err}");
    }

    #[test]
    fn pandas_timestamps_lose_nanoseconds_unless_passed_as_datetime64() {
        let has_pandas = python4r::eval::<bool>(
            "__import__('importlib.util').util.find_spec('pandas') is not None",
        )
        .unwrap();
        if !has_pandas {
            eprintln!("pandas is not installed: skipped");
            return;
        }
        python4r::exec(
            "import pandas as pd\n\
             ts = pd.Timestamp('2024-01-02 03:04:05.123456789')\n\
             s = pd.Series(pd.to_datetime(['2024-01-01 00:00', None, '2024-03-01 12:00']))",
        )
        .unwrap();
        let truncated: NaiveDateTime = python4r::eval("ts").unwrap();
        assert_eq!(truncated.and_utc().timestamp_subsec_nanos(), 123_456_000);
        let exact: NaiveDateTime = python4r::eval("ts.to_datetime64()").unwrap();
        assert_eq!(exact.and_utc().timestamp_subsec_nanos(), 123_456_789);
        // A pandas column of dates is a datetime64 array underneath.
        let column: Tensor = python4r::eval("s.to_numpy()").unwrap();
        // pandas 2 stores nanoseconds, pandas 3 the unit the data needs.
        assert!(matches!(column.dtype(), DType::DateTime64(_)), "{column}");
        let values = column.to_datetimes().unwrap();
        assert_eq!(values[1], None);
        assert_eq!(values[2], date(2024, 3, 1).and_hms_opt(12, 0, 0));
    }
}
