//! `setup` semantics: once per function, in its own namespace, thread-safe, retried after failure;
//! every call starts from a fresh namespace.

use python4r::py_exec;

#[py_exec(
    setup = r#"
import sys, time
runs = sys.__dict__.setdefault("_python4r_test_setup_runs", [])
runs.append(1)
time.sleep(0.2)  # releases the GIL: other threads arrive while setup is running
"#,
    code = "result = len(runs)"
)]
fn setup_runs(unused: i64) -> usize;

#[test]
fn setup_runs_once_when_many_threads_call_at_once() {
    let threads: Vec<_> = (0..8)
        .map(|i| std::thread::spawn(move || setup_runs(i)))
        .collect();
    for thread in threads {
        assert_eq!(thread.join().unwrap(), 1);
    }
    assert_eq!(setup_runs(0), 1);
}

#[py_exec(
    setup = r#"
import sys
attempts = sys.__dict__.setdefault("_python4r_test_attempts", [])
attempts.append(1)
if len(attempts) == 1:
    raise RuntimeError("first setup fails")
"#,
    code = "result = len(attempts)"
)]
fn flaky_setup() -> python4r::Result<usize>;

#[test]
fn a_failed_setup_is_returned_and_retried() {
    let err = flaky_setup().unwrap_err();
    let exc = err.python_exception().expect("the setup's exception");
    assert_eq!(exc.type_name(), "RuntimeError");
    assert_eq!(exc.message(), "first setup fails");
    assert_eq!(flaky_setup().unwrap(), 2);
    assert_eq!(flaky_setup().unwrap(), 2);
}

#[py_exec(
    setup = "counter = 10\nhistory = []",
    per_call = ["counter"],
    code = r#"
    counter = counter + step
    history.append(counter)
    result = (counter, len(history))
"#
)]
fn rebinds_setup_name(step: i64) -> (i64, usize);

#[test]
fn names_the_body_rebinds_do_not_persist_but_objects_do() {
    assert_eq!(rebinds_setup_name(1), (11, 1));
    assert_eq!(rebinds_setup_name(1), (11, 2));
}

#[py_exec(code = r#"
    try:
        result = leftover
    except NameError:
        result = -1
    leftover = n
"#)]
fn leftovers(n: i64) -> i64;

#[py_exec(code = r#"
    global leftover
    try:
        result = leftover
    except NameError:
        result = -1
    leftover = n
"#)]
fn leftovers_module_frame(n: i64) -> i64;

#[test]
fn calls_do_not_see_each_others_leftovers() {
    assert_eq!(leftovers(1), -1);
    assert_eq!(leftovers(2), -1);
    assert_eq!(leftovers_module_frame(1), -1);
    assert_eq!(leftovers_module_frame(2), -1);
}

#[py_exec(setup = "shared = []", code = "shared.append(x)\nresult = len(shared)")]
fn first_namespace(x: i64) -> usize;

#[py_exec(setup = "shared = []", code = "shared.append(x)\nresult = len(shared)")]
fn second_namespace(x: i64) -> usize;

#[test]
fn each_function_has_its_own_namespace() {
    assert_eq!(first_namespace(1), 1);
    assert_eq!(first_namespace(1), 2);
    assert_eq!(second_namespace(1), 1);
}

#[py_exec(setup = "import math", code = "result = math.sqrt(x)")]
fn setup_import(x: f64) -> f64;

#[test]
fn setup_imports_are_visible() {
    assert_eq!(setup_import(9.0), 3.0);
}

#[py_exec(
    setup = "def helper(v):\n    return v + offset\noffset = 100",
    code = "result = helper(x)"
)]
fn setup_function(x: i64) -> i64;

#[test]
fn setup_functions_see_setup_globals() {
    assert_eq!(setup_function(1), 101);
}

#[py_exec(code = "result = x", setup = "raise ValueError('always')")]
fn setup_always_fails(x: i64) -> i64;

#[test]
fn a_failing_setup_panics_without_result() {
    let panic = std::panic::catch_unwind(|| setup_always_fails(1)).unwrap_err();
    let message = panic.downcast_ref::<String>().unwrap();
    assert!(
        message.contains("`setup_always_fails` raised ValueError: always"),
        "{message}"
    );
    let err = std::panic::catch_unwind(|| setup_always_fails(1)).unwrap_err();
    assert!(err.downcast_ref::<String>().unwrap().contains("ValueError"));
}
