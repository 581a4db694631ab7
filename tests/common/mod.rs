//! Helpers shared by the integration tests (each test file that needs them declares
//! `mod common;`): running one test of the current binary in a child process, for what acts on
//! the whole process (python4r configures its interpreter once per process; shutting down;
//! exiting), and reporting from it.

#![allow(dead_code)] // Each test binary uses a part of them.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A child that has not ended by then is stuck: it is killed and the test fails.
const WATCHDOG: Duration = Duration::from_secs(120);

/// The environment variable naming the file a child writes its report to.
const REPORT: &str = "PYTHON4R_TEST_REPORT";

/// How a child test process ended.
#[derive(Debug)]
pub struct Child {
    /// The exit code (`None`: killed by a signal).
    pub code: Option<i32>,
    /// Everything it wrote on standard output.
    pub stdout: String,
    /// Everything it wrote on standard error.
    pub stderr: String,
    /// What it wrote with [`report`], complete once it ended.
    pub report: String,
}

impl Child {
    /// The value of the reported line `key=value`, failing the test when there is none.
    pub fn value(&self, key: &str) -> &str {
        let prefix = format!("{key}=");
        self.report
            .lines()
            .find_map(|line| line.strip_prefix(&prefix))
            .unwrap_or_else(|| panic!("the child reported no `{key}`:\n{self:#?}"))
    }
}

/// Runs the ignored test `name` of this binary in a child process, with `env` set (`None`:
/// removed), and returns how it ended once it has ended (a watchdog kills a stuck child and
/// fails the test). Its output goes to files, so that
/// processes it leaves behind cannot keep the reading open.
pub fn spawn_child(name: &str, env: &[(&str, Option<&str>)]) -> Child {
    let dir = std::env::temp_dir().join(format!(
        "python4r-child-{}-{name}-{:?}",
        std::process::id(),
        Instant::now()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let file = |name: &str| -> PathBuf { dir.join(name) };
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "--exact",
        name,
        "--include-ignored",
        "--nocapture",
        "--test-threads=1",
    ])
    .env(REPORT, file("report"))
    .stdin(Stdio::null())
    .stdout(std::fs::File::create(file("stdout")).unwrap())
    .stderr(std::fs::File::create(file("stderr")).unwrap());
    for (key, value) in env {
        match value {
            Some(value) => cmd.env(key, value),
            None => cmd.env_remove(key),
        };
    }
    let mut child = cmd.spawn().unwrap();
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > WATCHDOG {
            child.kill().ok();
            child.wait().ok();
            panic!(
                "child {name} did not end within {WATCHDOG:?}:\n{}\n{}",
                read(&file("stdout")),
                read(&file("stderr"))
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let child = Child {
        code: status.code(),
        stdout: read(&file("stdout")),
        stderr: read(&file("stderr")),
        report: read(&file("report")),
    };
    std::fs::remove_dir_all(&dir).ok();
    child
}

fn read(path: &std::path::Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// In a child: appends `key=value` to the report the parent reads (written at once, so that it
/// is complete whenever the child ends).
pub fn report(key: &str, value: impl std::fmt::Display) {
    use std::io::Write;
    let path = std::env::var_os(REPORT).expect("run by run_child");
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    writeln!(file, "{key}={value}").unwrap();
}

/// Prints why a test did not run, where `cargo test` shows it (the test harness captures
/// `println!` and `eprintln!` of passing tests).
pub fn skip(reason: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "skipped: {reason}");
}

/// Runs the ignored test `name` of the current test binary in a child process with `env` added
/// to its environment, and returns what it printed on standard output. Panics, showing both
/// outputs, when the child fails.
pub fn run_child(name: &str, env: &[(&str, &str)]) -> String {
    run_child_with_stderr(name, env).0
}

/// As [`run_child`], returning standard output and standard error.
pub fn run_child_with_stderr(name: &str, env: &[(&str, &str)]) -> (String, String) {
    let env: Vec<(&str, Option<&str>)> = env.iter().map(|&(k, v)| (k, Some(v))).collect();
    let child = spawn_child(name, &env);
    assert_eq!(
        child.code,
        Some(0),
        "child {name} failed:\n{}\n{}",
        child.stdout,
        child.stderr
    );
    (child.stdout, child.stderr)
}
