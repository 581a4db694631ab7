//! Compile-fail tests for `#[py_exec]`'s diagnostics: one mistake per file in `tests/ui/`.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}
