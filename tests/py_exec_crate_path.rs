//! `#[py_exec(crate = "...")]`: a crate that re-exports python4r under another path has the
//! generated code reach it there. (That no `::python4r` path is left in the expansion is checked by
//! the macro crate's own tests: here `::python4r` also resolves.)

/// A crate's facade over python4r, as a user's library would re-export it.
mod engine {
    pub use python4r as python;
}

use engine::python::py_exec;

#[py_exec(crate = "engine::python", code = "result = [x * 2 for x in xs]")]
fn double_all(xs: Vec<i64>) -> Vec<i64>;

#[py_exec(
    crate = "crate::engine::python",
    code = "xs.reverse()\nresult = len(xs)"
)]
fn reverse(xs: &mut Vec<i64>) -> engine::python::Result<usize>;

#[test]
fn generated_code_reaches_python4r_through_the_given_path() {
    assert_eq!(double_all(vec![1, 2]), [2, 4]);
    let mut xs = vec![1, 2, 3];
    assert_eq!(reverse(&mut xs).unwrap(), 3);
    assert_eq!(xs, [3, 2, 1]);
}
