//! Which interpreter is embedded: the build interpreter's libpython with the workspace's managed
//! environment (`[package.metadata.python4r]`), which wins over an active virtualenv, and a
//! foreign copy of the same libpython made usable.
//!
//! Each check runs in a child process (this test binary, re-run on one `child_*` test), because
//! the interpreter is configured once per process.

mod common;

use std::path::Path;
use std::process::Command;

fn field<'a>(report: &'a str, key: &str) -> &'a str {
    report
        .lines()
        .find_map(|l| {
            l.split_once(&format!("{key}="))
                .filter(|(before, _)| before.is_empty() || before.ends_with("... "))
                .map(|(_, v)| v)
        })
        .unwrap_or_else(|| panic!("no {key} in:\n{report}"))
}

#[test]
#[ignore = "run by the tests above in a child process"]
fn child_report() {
    let info = python4r::interpreter_info().unwrap();
    println!("prefix={}", info.prefix);
    println!(
        "library={}",
        info.library
            .map(|p| p.display().to_string())
            .unwrap_or_default()
    );
    println!("note={}", info.library_note.is_some());
    println!("numpy={}", info.numpy.is_ok());
    println!(
        "executable={}",
        info.executable
            .map(|p| p.display().to_string())
            .unwrap_or_default()
    );
    println!("path={}", info.sys_path.join("|"));
    println!(
        "environment={}",
        info.environment
            .map(|p| p.display().to_string())
            .unwrap_or_default()
    );
    println!("lock={}", info.lock.is_some());
    println!("bundle={}", info.bundle.is_some());
    let numpy_loaded: bool =
        python4r::eval("__import__('sys').modules.get('numpy') is not None").unwrap();
    println!("numpy_loaded={numpy_loaded}");
}

/// The managed environment this test binary embeds: the workspace declares one.
fn managed_environment(report: &str) -> String {
    let environment = field(report, "environment").to_owned();
    assert!(
        !environment.is_empty(),
        "the workspace's [package.metadata.python4r] environment is embedded:\n{report}"
    );
    environment
}

#[test]
fn embeds_the_build_interpreter_with_the_managed_environment() {
    let build = python4r::interpreter::BuildInfo::get();
    let report = common::run_child("child_report", &[]);
    let environment = managed_environment(&report);
    assert_eq!(field(&report, "prefix"), environment, "{report}");
    assert_eq!(
        field(&report, "executable"),
        format!("{environment}/bin/python"),
        "{report}"
    );
    assert_eq!(field(&report, "lock"), "true", "{report}");
    assert_eq!(field(&report, "bundle"), "false", "{report}");
    assert_eq!(
        field(&report, "note"),
        "false",
        "the right libpython is loaded:\n{report}"
    );
    if build.shared {
        let lib = Path::new(field(&report, "library"));
        assert_eq!(
            lib.parent().unwrap(),
            std::fs::canonicalize(build.lib_dir).unwrap()
        );
    }
    assert_eq!(
        field(&report, "numpy"),
        "true",
        "numpy (declared in [package.metadata.python4r]) imports:\n{report}"
    );
}

#[test]
fn a_foreign_libpython_of_the_same_version_is_pointed_at_the_build_prefix() {
    let build = python4r::interpreter::BuildInfo::get();
    let lib = format!("lib{}.so.1.0", build.lib_name);
    let system_dirs = [
        "/usr/lib/x86_64-linux-gnu",
        "/usr/lib/aarch64-linux-gnu",
        "/usr/lib64",
        "/usr/lib",
    ];
    let Some(dir) = system_dirs.iter().find(|d| {
        let candidate = Path::new(d).join(&lib);
        candidate.exists()
            && std::fs::canonicalize(d).ok() != std::fs::canonicalize(build.lib_dir).ok()
    }) else {
        eprintln!("no second copy of {lib} on this machine: nothing to check");
        return;
    };
    // python4r_build::configure() gives the binary a DT_RPATH, which the loader searches before
    // LD_LIBRARY_PATH: the build interpreter's copy still wins. LD_PRELOAD loads the system's.
    let preload = Path::new(dir).join(&lib);
    let report = common::run_child("child_report", &[("LD_PRELOAD", preload.to_str().unwrap())]);
    let ignored = common::run_child("child_report", &[("LD_LIBRARY_PATH", dir)]);
    assert_eq!(field(&ignored, "note"), "false", "{ignored}");
    assert!(
        field(&report, "library")
            .starts_with(&std::fs::canonicalize(dir).unwrap().display().to_string()),
        "{report}"
    );
    assert_eq!(field(&report, "note"), "true", "{report}");
    assert_eq!(field(&report, "prefix"), managed_environment(&report));
    assert_eq!(
        field(&report, "numpy"),
        "true",
        "the managed environment's site-packages are used:\n{report}"
    );
}

#[test]
fn the_managed_environment_wins_over_a_virtualenv_with_a_note() {
    let build = python4r::interpreter::BuildInfo::get();
    let dir = std::env::temp_dir().join(format!("python4r-venv-test-{}", std::process::id()));
    let status = Command::new(build.executable)
        .args(["-m", "venv", "--without-pip"])
        .arg(&dir)
        .status()
        .unwrap();
    assert!(status.success());
    let venv = std::fs::canonicalize(&dir).unwrap();
    let (report, stderr) =
        common::run_child_with_stderr("child_report", &[("VIRTUAL_ENV", venv.to_str().unwrap())]);
    std::fs::remove_dir_all(&dir).ok();
    let environment = managed_environment(&report);
    assert_eq!(field(&report, "prefix"), environment, "{report}");
    assert!(
        stderr.contains(&format!("VIRTUAL_ENV={} is ignored", venv.display())),
        "{stderr}"
    );
}

#[test]
fn configuration_from_the_environment() {
    let report = common::run_child(
        "child_report",
        &[
            ("PYTHON4R_PATH", "/python4r/first:/python4r/second"),
            ("PYTHON4R_NUMPY_IMPORT", "false"),
        ],
    );
    let path: Vec<&str> = field(&report, "path").split('|').collect();
    assert_eq!(
        &path[..2],
        ["/python4r/first", "/python4r/second"],
        "{report}"
    );
    assert_eq!(
        field(&report, "numpy_loaded"),
        "false",
        "numpy is never imported:\n{report}"
    );

    let report = common::run_child(
        "child_report",
        &[
            ("PYTHON4R_PATH", "/python4r/last"),
            ("PYTHON4R_PATH_APPEND", "after"),
        ],
    );
    assert_eq!(
        field(&report, "path").split('|').next_back(),
        Some("/python4r/last"),
        "{report}"
    );
    assert_eq!(field(&report, "numpy_loaded"), "true", "{report}");
}

#[test]
#[ignore = "run by the tests above in a child process"]
fn child_invalid_config() {
    let err = python4r::exec("x = 1").unwrap_err();
    println!("error={err}");
}

#[test]
fn invalid_configuration_is_a_start_up_error() {
    let report = common::run_child(
        "child_invalid_config",
        &[("PYTHON4R_PATH_APPEND", "sideways")],
    );
    assert_eq!(
        field(&report, "error"),
        "cannot start the embedded Python interpreter: invalid configuration: PYTHON4R_PATH_APPEND \
         is `sideways`; use `before`, `after` or `none`"
    );
}

#[test]
#[ignore = "run by the tests above in a child process"]
fn child_builder() {
    use python4r::config::{Config, PathAppend};
    Config::default()
        .path("/python4r/only")
        .path_append(PathAppend::After)
        .numpy_import(false)
        .apply()
        .unwrap();
    python4r::initialize().unwrap();
    let again = Config::default().apply().unwrap_err();
    println!("again={again}");
    let path: Vec<String> = python4r::eval("__import__('sys').path").unwrap();
    println!("last={}", path.last().unwrap());
    println!(
        "current_numpy={}",
        python4r::config::current().unwrap().numpy_import
    );
}

#[test]
fn the_builder_configures_before_start_and_refuses_after() {
    let report = common::run_child("child_builder", &[]);
    assert_eq!(field(&report, "last"), "/python4r/only");
    assert_eq!(field(&report, "current_numpy"), "false");
    assert!(
        field(&report, "again").starts_with("python4r is already initialised"),
        "{report}"
    );
}

#[test]
fn python_started_by_pyo3_first_is_refused_with_what_to_do() {
    let out = common::run_child("child_pyo3_first", &[]);
    assert!(out.contains("refused as expected"), "{out}");
}

#[test]
#[ignore = "run by the test above in a child process"]
fn child_pyo3_first() {
    use python4r::pyo3::prelude::*;
    // A program that touches pyo3 before python4r: pyo3's `auto-initialize` starts Python
    // without python4r's set-up.
    let two: i64 = Python::attach(|py| py.eval(c"1 + 1", None, None)?.extract()).unwrap();
    assert_eq!(two, 2);
    for err in [
        python4r::initialize().unwrap_err(),
        python4r::exec("x = 1").unwrap_err(),
    ] {
        assert!(matches!(err, python4r::Error::Init(_)), "{err:?}");
        let msg = err.to_string();
        assert!(msg.contains("Python was already running"), "{msg}");
        assert!(msg.contains("auto-initialize"), "{msg}");
        assert!(
            msg.contains("Call `python4r::initialize()` at the start of `main`"),
            "{msg}"
        );
    }
    println!("refused as expected");
}

#[test]
fn a_missing_module_names_the_environment_and_the_line_to_add() {
    let err = python4r::exec("import no_such_module_python4r.sub")
        .unwrap_err()
        .to_string();
    assert!(err.contains("ModuleNotFoundError"), "{err}");
    assert!(
        err.contains("managed environment") && err.contains("python4r-workspace"),
        "{err}"
    );
    assert!(
        err.contains("[package.metadata.python4r]")
            && err.contains("dependencies = [..., \"no_such_module_python4r\"]"),
        "{err}"
    );
}
