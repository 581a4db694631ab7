//! Compile-fail tests for `#[py_exec]`'s diagnostics: one mistake per file in `tests/ui/`.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
    // Messages that name the build Python's version: snapshots made with Python 3.11 (`type`
    // statements are valid from 3.12 on).
    if cfg!(all(Py_3_11, not(Py_3_12))) {
        cases.compile_fail("tests/ui-py3.11/*.rs");
    }
}
