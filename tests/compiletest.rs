//! Compile tests for `#[py_exec]`'s diagnostics: one mistake per file in `tests/ui/` (each must fail
//! with the recorded message), and in `tests/ui-pass/` code that must compile cleanly (warnings
//! denied) and run.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
    cases.pass("tests/ui-pass/*.rs");
    // Messages that name the build Python's version: snapshots made with Python 3.11 (`type`
    // statements are valid from 3.12 on).
    if cfg!(all(Py_3_11, not(Py_3_12))) {
        cases.compile_fail("tests/ui-py3.11/*.rs");
    }
}
