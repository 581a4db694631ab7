//! `#[py_exec]` pass tests: every key, parameter kind and return kind.

use python4r::pyo3::Python;
use python4r::{Error, py_exec};

#[py_exec(code = "result = a + b")]
fn add(a: i64, b: i64) -> i64;

#[test]
fn value_parameters_and_value_return() {
    assert_eq!(add(2, 3), 5);
    assert_eq!(add(-1, 1), 0);
}

#[py_exec(code = "result = text.upper() + '!' * len(items)")]
fn shout(text: &str, items: &Vec<i64>) -> String;

#[test]
fn reference_parameters() {
    assert_eq!(shout("hi", &vec![1, 2]), "HI!!");
}

#[py_exec(code = "xs.append(len(xs)); xs.sort(reverse=True)")]
fn push_and_sort(xs: &mut Vec<i64>);

#[test]
fn mutable_reference_parameters_are_written_back() {
    let mut xs = vec![1, 5];
    push_and_sort(&mut xs);
    assert_eq!(xs, [5, 2, 1]);
}

#[py_exec(code = "result = x * 2")]
fn double_with_token(py: Python<'_>, x: i64) -> i64;

#[test]
fn python_token_first_parameter() {
    let doubled = python4r::with_gil(|py| Ok(double_with_token(py, 21))).unwrap();
    assert_eq!(doubled, 42);
}

#[py_exec(code = "import math\nflag.append(math.pi > 3)")]
fn unit_return(flag: &mut Vec<bool>);

#[test]
fn unit_return_reads_nothing() {
    let mut flag = Vec::new();
    unit_return(&mut flag);
    assert_eq!(flag, [true]);
}

#[py_exec(code = "flag.append(True)", output = [])]
fn explicitly_no_outputs(flag: &mut Vec<bool>) -> python4r::Result<()>;

#[test]
fn an_empty_output_list_reads_nothing() {
    let mut flag = Vec::new();
    explicitly_no_outputs(&mut flag).unwrap();
    assert_eq!(flag, [true]);
}

// `X` is scikit-learn's name for a feature matrix, which Rust style would not give a parameter.
#[py_exec(code = "result = [sum(row) for row in X] + [len(y)]")]
fn row_sums(#[py(name = "X")] x: Vec<Vec<i64>>, y: &[i64]) -> Vec<i64>;

#[test]
fn a_parameter_chooses_its_python_name() {
    assert_eq!(row_sums(vec![vec![1, 2], vec![3]], &[7, 8]), [3, 3, 2]);
}

#[py_exec(code = "result = (a // b, a % b)")]
fn tuple_from_one_output(a: i64, b: i64) -> (i64, i64);

#[py_exec(code = "q, r = divmod(a, b)", output = ["q", "r"])]
fn tuple_from_outputs(a: i64, b: i64) -> (i64, i64);

#[py_exec(code = "total = sum(xs)", output = "total")]
fn named_output(xs: Vec<i64>) -> i64;

#[test]
fn tuple_and_named_outputs() {
    assert_eq!(tuple_from_one_output(17, 5), (3, 2));
    assert_eq!(tuple_from_outputs(17, 5), (3, 2));
    assert_eq!(named_output(vec![1, 2, 3]), 6);
}

#[py_exec(code = "result = int(text)")]
fn parse_int(text: &str) -> python4r::Result<i64>;

#[py_exec(code = "q, r = divmod(a, b)", output = ["q", "r"])]
fn checked_div(a: i64, b: i64) -> Result<(i64, i64), Error>;

#[py_exec(code = "print(end='')")]
fn unit_result() -> python4r::Result<()>;

#[test]
fn result_returns_exceptions() {
    assert_eq!(parse_int("12").unwrap(), 12);
    let err = parse_int("twelve").unwrap_err();
    let exc = err.python_exception().expect("a Python exception");
    assert_eq!(exc.type_name(), "ValueError");
    assert!(exc.message().contains("twelve"));
    assert_eq!(checked_div(7, 2).unwrap(), (3, 1));
    let err = checked_div(7, 0).unwrap_err();
    assert_eq!(
        err.python_exception().unwrap().type_name(),
        "ZeroDivisionError"
    );
    unit_result().unwrap();
}

#[derive(Debug)]
struct MyError(String);

impl From<Error> for MyError {
    fn from(error: Error) -> Self {
        MyError(error.to_string())
    }
}

#[py_exec(code = "result = 1 / x")]
fn inverse(x: f64) -> Result<f64, MyError>;

#[test]
fn result_with_own_error_type() {
    assert_eq!(inverse(4.0).unwrap(), 0.25);
    assert!(inverse(0.0).unwrap_err().0.contains("ZeroDivisionError"));
}

#[py_exec(code = "result = 'forty-two'")]
fn wrong_type() -> python4r::Result<i64>;

#[test]
fn conversion_errors_name_the_variable() {
    let err = wrong_type().unwrap_err();
    assert!(
        matches!(&err, Error::Conversion { variable: Some(v), .. } if v == "result"),
        "{err}"
    );
}

#[py_exec(code = "if flag:\n    result = 1")]
fn maybe_assigned(flag: bool) -> python4r::Result<i64>;

#[test]
fn an_output_left_unassigned_is_an_error() {
    assert_eq!(maybe_assigned(true).unwrap(), 1);
    let err = maybe_assigned(false).unwrap_err();
    assert!(
        matches!(&err, Error::UndefinedVariable { name } if name == "result"),
        "{err}"
    );
}

#[py_exec(code = "result = 1 / x")]
fn panicking_inverse(x: f64) -> f64;

#[test]
fn exceptions_panic_with_name_type_message_and_traceback() {
    let panic = std::panic::catch_unwind(|| panicking_inverse(0.0)).unwrap_err();
    let message = panic
        .downcast_ref::<String>()
        .expect("a formatted panic message");
    assert!(message.contains("`panicking_inverse`"), "{message}");
    assert!(message.contains("ZeroDivisionError"), "{message}");
    assert!(message.contains("division by zero"), "{message}");
    assert!(
        message.contains("Traceback (most recent call last)"),
        "{message}"
    );
    assert!(message.contains("py_exec_basic.rs"), "{message}");
}

#[py_exec(code = r#"
    values = [x * x for x in range(n)]
    text = """
  keeps
      its indentation"""
    result = (sum(values), text)
"#)]
fn indented(n: i64) -> (i64, String);

#[test]
fn indented_raw_strings_keep_string_contents() {
    assert_eq!(
        indented(4),
        (14, "\n  keeps\n      its indentation".to_owned())
    );
}

// The literal starts on the next line; its fourth line raises.
const LINE_OF_LITERAL: u32 = line!() + 1;
#[py_exec(code = r#"
    a = 1
    b = 0
    result = a / b
"#)]
fn fails_on_line_three() -> python4r::Result<f64>;

#[test]
fn tracebacks_point_at_the_rust_source() {
    let err = fails_on_line_three().unwrap_err();
    let traceback = err.python_exception().unwrap().traceback().to_owned();
    let expected = format!("File \"{}\", line {}", file!(), LINE_OF_LITERAL + 3);
    assert!(
        traceback.contains(&expected),
        "{expected} not in {traceback}"
    );
}

#[py_exec(
    setup = "calls = []\nimport math",
    code = r#"
    calls.append(x)
    result = (len(calls), math.floor(x))
"#
)]
fn counts_calls(x: f64) -> (usize, i64);

#[test]
fn setup_runs_once_and_its_objects_persist() {
    assert_eq!(counts_calls(1.5), (1, 1));
    assert_eq!(counts_calls(2.5), (2, 2));
}

#[py_exec(file = "tests/corpus/scale.py")]
fn scale(values: Vec<f64>, factor: f64) -> Vec<f64>;

#[test]
fn file_key_reads_a_script() {
    assert_eq!(scale(vec![1.0, 2.0], 3.0), [3.0, 6.0]);
}

struct Geometry;

impl Geometry {
    /// An associated function with a Python body.
    #[py_exec(code = "result = w * h")]
    pub fn area(w: f64, h: f64) -> f64;

    #[py_exec(code = "result = 2 * (w + h)")]
    pub(crate) fn perimeter(w: f64, h: f64) -> f64 {}
}

#[test]
fn associated_functions() {
    assert_eq!(Geometry::area(2.0, 3.0), 6.0);
    assert_eq!(Geometry::perimeter(2.0, 3.0), 10.0);
}
