//! `&mut` parameters are lent to Python and released exactly once, whatever happens: a later
//! parameter that fails to convert, a Python exception, an output that fails to convert. Errors
//! name the variable, and the call's own error comes before a release error.

use std::cell::Cell;

use python4r::pyo3::prelude::*;
use python4r::pyo3::types::PyList;
use python4r::{Error, ToPythonMut, py_exec};

/// A value that counts its conversions and releases, and can be told to fail either.
#[derive(Default)]
struct Probe {
    lent: Cell<u32>,
    released: Cell<u32>,
    fail_lend: bool,
    fail_release: bool,
}

fn conversion_error(reason: &str) -> Error {
    Error::Conversion {
        variable: None,
        expected: "Probe".to_owned(),
        found: "list".to_owned(),
        reason: reason.to_owned(),
    }
}

impl ToPythonMut for Probe {
    fn to_python_mut<'py>(&mut self, py: Python<'py>) -> python4r::Result<Bound<'py, PyAny>> {
        if self.fail_lend {
            return Err(conversion_error("told to fail lending"));
        }
        self.lent.set(self.lent.get() + 1);
        Ok(PyList::empty(py).into_any())
    }

    fn after_call<'py>(&mut self, _obj: &Bound<'py, PyAny>) -> python4r::Result<()> {
        self.released.set(self.released.get() + 1);
        if self.fail_release {
            return Err(conversion_error("told to fail releasing"));
        }
        Ok(())
    }
}

fn counts(probe: &Probe) -> (u32, u32) {
    (probe.lent.get(), probe.released.get())
}

fn variable(error: &Error) -> Option<&str> {
    match error {
        Error::Conversion { variable, .. } => variable.as_deref(),
        _ => None,
    }
}

#[py_exec(code = "a.append(1)\nb.append(2)\nresult = 1 // 0 if raise_ else 7")]
fn lend_two(a: &mut Probe, b: &mut Probe, raise_: bool) -> python4r::Result<i64>;

#[py_exec(code = "a.append(1)\nresult = 'not a number'")]
fn bad_output(a: &mut Probe) -> python4r::Result<i64>;

#[test]
fn both_are_released_once_after_a_normal_call() {
    let (mut a, mut b) = (Probe::default(), Probe::default());
    assert_eq!(lend_two(&mut a, &mut b, false).unwrap(), 7);
    assert_eq!((counts(&a), counts(&b)), ((1, 1), (1, 1)));
}

#[test]
fn a_later_parameter_that_fails_to_convert_releases_the_earlier_one() {
    let mut a = Probe::default();
    let mut b = Probe {
        fail_lend: true,
        ..Probe::default()
    };
    let error = lend_two(&mut a, &mut b, false).unwrap_err();
    assert_eq!(variable(&error), Some("b"), "{error}");
    assert_eq!((counts(&a), counts(&b)), ((1, 1), (0, 0)));
}

#[test]
fn a_python_exception_releases_both_and_comes_first() {
    let mut a = Probe {
        fail_release: true,
        ..Probe::default()
    };
    let mut b = Probe::default();
    let error = lend_two(&mut a, &mut b, true).unwrap_err();
    let exception = error.python_exception().expect("the call's own error");
    assert_eq!(exception.type_name(), "ZeroDivisionError");
    assert_eq!((counts(&a), counts(&b)), ((1, 1), (1, 1)));
}

#[test]
fn an_output_that_fails_to_convert_releases_and_comes_first() {
    let mut a = Probe {
        fail_release: true,
        ..Probe::default()
    };
    let error = bad_output(&mut a).unwrap_err();
    assert_eq!(variable(&error), Some("result"), "{error}");
    assert_eq!(counts(&a), (1, 1));
}

#[test]
fn a_release_error_names_its_variable() {
    let mut a = Probe::default();
    let mut b = Probe {
        fail_release: true,
        ..Probe::default()
    };
    let error = lend_two(&mut a, &mut b, false).unwrap_err();
    assert_eq!(variable(&error), Some("b"), "{error}");
    assert_eq!((counts(&a), counts(&b)), ((1, 1), (1, 1)));
}
