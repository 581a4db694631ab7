//! What a person sees when something fails: one-line `Display` naming where a `#[py_exec]`
//! function's code is written, `{:#}` and `Debug` with the Python traceback showing the Python
//! text that failed, and the field dump with `{:#?}`.

use python4r::{Error, py_exec};

// One line, as a person writes a short body: the attribute's line holds both literals.
const SETUP_LINE: u32 = line!() + 2;
#[rustfmt::skip]
#[py_exec(setup = "import math", code = "a = 1\nb = math.floor(a / divisor)\nresult = b")]
fn escaped_lines(divisor: f64) -> python4r::Result<i64>;

#[test]
fn a_one_line_literal_shows_the_python_line_that_failed() {
    let err = escaped_lines(0.0).unwrap_err();
    let origin = err.python_exception().unwrap().origin().unwrap().clone();
    assert_eq!(origin.function, "escaped_lines");
    assert!(!origin.setup);
    assert_eq!((origin.file.as_str(), origin.line), (file!(), SETUP_LINE));
    assert_eq!(origin.code_line, Some(2));
    assert_eq!(
        err.to_string(),
        format!(
            "ZeroDivisionError: float division by zero (in `escaped_lines`, {}:{SETUP_LINE}, \
             line 2 of its code)",
            file!()
        )
    );
    let report = format!("{err:#}");
    // The traceback names the Rust file and line in the code's own name, and shows the Python
    // line (not the Rust line of the attribute), with its caret under the failing expression.
    let frame = format!(
        "File \"{}:{SETUP_LINE} (escaped_lines)\", line 2, in <module>\n    b = math.floor(a / divisor)\n",
        file!()
    );
    assert!(report.contains(&frame), "{report}");
    if cfg!(Py_3_11) {
        assert!(
            report.contains("                   ~~^~~~~~~~~"),
            "{report}"
        );
    }
    assert!(!report.contains("#[py_exec"), "{report}");
    assert_eq!(format!("{err:?}"), report, "Debug is the report");
}

#[py_exec(setup = "state = {}\nstate['x'] = 1 / 0", code = "result = state")]
fn setup_fails() -> python4r::Result<i64>;

#[test]
fn an_exception_in_setup_says_so() {
    let err = setup_fails().unwrap_err();
    let origin = err.python_exception().unwrap().origin().unwrap();
    assert!(origin.setup);
    assert_eq!(origin.code_line, Some(2));
    assert!(
        err.to_string().ends_with(&format!(
            "(in the setup of `setup_fails`, {}:{}, line 2 of its code)",
            file!(),
            origin.line
        )),
        "{err}"
    );
    assert!(
        format!("{err:#}").contains("    state['x'] = 1 / 0"),
        "{err:#}"
    );
}

// A literal whose code starts on the line after its quote: lines are the Rust file's.
const BLOCK_LINE: u32 = line!() + 1;
#[py_exec(code = r#"
    total = 0
    for value in values:
        total += 10 / value
    result = total
"#)]
fn block(values: Vec<f64>) -> python4r::Result<f64>;

#[test]
fn a_block_literal_keeps_the_rust_lines() {
    let err = block(vec![1.0, 0.0]).unwrap_err();
    let origin = err.python_exception().unwrap().origin().unwrap();
    assert_eq!(origin.code_line, Some(4));
    assert_eq!(origin.line, BLOCK_LINE);
    let report = format!("{err:#}");
    assert!(
        report.contains(&format!("File \"{}\", line {}", file!(), BLOCK_LINE + 3)),
        "{report}"
    );
    assert!(report.contains("\n    total += 10 / value\n"), "{report}");
}

#[test]
fn the_dynamic_api_reports_without_an_origin() {
    let err = python4r::exec("def f():\n    return {}['missing']\nf()").unwrap_err();
    assert_eq!(err.to_string(), "KeyError: 'missing'");
    assert!(err.python_exception().unwrap().origin().is_none());
    let report = format!("{err:?}");
    assert!(
        report.starts_with("KeyError: 'missing'\n\nTraceback (most recent call last):\n"),
        "{report}"
    );
    assert!(report.ends_with("KeyError: 'missing'"), "{report}");
}

#[test]
fn the_field_dump_is_still_there() {
    let err = python4r::exec("raise ValueError('dump me')").unwrap_err();
    let dump = format!("{err:#?}");
    for field in [
        "type_name: \"ValueError\"",
        "message: \"dump me\"",
        "traceback: \"Traceback",
    ] {
        assert!(dump.contains(field), "{dump}");
    }
    let err = Error::Conversion {
        variable: Some("x".into()),
        expected: "i64".into(),
        found: "str".into(),
        reason: String::new(),
    };
    assert_eq!(
        format!("{err:?}"),
        "cannot convert Python variable `x` of type `str` to Rust `i64`"
    );
    assert!(format!("{err:#?}").starts_with("Conversion {\n    variable: Some("));
}

#[test]
fn a_report_ends_with_the_chain_of_causes() {
    let err =
        python4r::process::pip_install_requirements("/nonexistent/requirements.txt").unwrap_err();
    let report = format!("{err:?}");
    assert!(
        report.starts_with("reading requirements file /nonexistent/requirements.txt: no such file"),
        "{report}"
    );
    assert!(
        report.ends_with("\n\nCaused by:\n    0: no such file"),
        "{report}"
    );
}
