//! `sys.executable` inside the embedded interpreter is a real Python of the same installation:
//! `multiprocessing`'s spawn (dask's `LocalCluster` with processes) starts workers with it.

/// What `sys.executable` reports about itself when run, next to what the embedded interpreter
/// reports: version, prefix, and the executable multiprocessing would start.
const SAME_PYTHON: &str = r#"
import multiprocessing.spawn, os, subprocess, sys
child = subprocess.run(
    [sys.executable, "-c", "import sys; print(repr((sys.version, sys.prefix)))"],
    capture_output=True, text=True, check=True,
).stdout.strip()
embedded = repr((sys.version, sys.prefix))
spawn_executable = os.fsdecode(multiprocessing.spawn.get_executable())
"#;

fn check_real_python() -> String {
    let out =
        python4r::exec_io(SAME_PYTHON, &[], &["child", "embedded", "spawn_executable"]).unwrap();
    let child: String = out.get("child").unwrap();
    let embedded: String = out.get("embedded").unwrap();
    assert_eq!(
        child, embedded,
        "sys.executable runs the embedded Python's version and prefix"
    );
    let executable: String = python4r::eval("__import__('sys').executable").unwrap();
    let spawn: String = out.get("spawn_executable").unwrap();
    assert_eq!(spawn, executable, "multiprocessing starts sys.executable");
    assert_eq!(
        Some(std::path::PathBuf::from(&executable)),
        python4r::process::executable().ok(),
        "the Python python4r runs subprocesses with"
    );
    executable
}

#[test]
fn sys_executable_is_the_embedded_python() {
    check_real_python();
}
