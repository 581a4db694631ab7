//! Subprocesses and pip act on the embedded interpreter's own environment.
//!
//! The package installed here is a wheel the test writes itself, so no network is needed.

use std::path::{Path, PathBuf};

use python4r::process;

/// Writes a minimal wheel of `name` (a module `name` with `VALUE = 42`) into `dir`.
fn write_wheel(dir: &Path, name: &str, version: &str) -> PathBuf {
    let wheel = dir.join(format!("{name}-{version}-py3-none-any.whl"));
    let script = r#"
import sys, zipfile
path, name, version = sys.argv[1:4]
info = f"{name}-{version}.dist-info"
files = {
    f"{name}.py": "VALUE = 42\n",
    f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
    f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: python4r-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
}
files[f"{info}/RECORD"] = "".join(f"{f},,\n" for f in files) + f"{info}/RECORD,,\n"
with zipfile.ZipFile(path, "w") as z:
    for f, text in files.items():
        z.writestr(f, text)
"#;
    let args = ["-c", script, wheel.to_str().unwrap(), name, version];
    process::run_python(args).unwrap();
    wheel
}

#[test]
fn the_executable_is_the_build_interpreters_not_the_host_program() {
    let exe = process::executable().unwrap();
    assert_eq!(Some(exe), python4r::interpreter_info().unwrap().executable);
    let embedded_prefix: String = python4r::eval("__import__('sys').prefix").unwrap();
    let child_prefix = process::run_python(["-c", "import sys; print(sys.prefix)"]).unwrap();
    assert_eq!(child_prefix.trim(), embedded_prefix);
}

#[test]
fn versions_of_installed_packages() {
    assert!(process::is_package_installed("pip").unwrap());
    assert!(!process::is_package_installed("python4r-no-such-package").unwrap());
    let numpy = process::package_version("numpy")
        .unwrap()
        .expect("numpy is installed");
    let imported: String = python4r::eval("__import__('numpy').__version__").unwrap();
    assert_eq!(numpy, imported);
}

#[test]
fn install_and_uninstall_a_package() {
    let dir = std::env::temp_dir().join(format!("python4r-pip-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let name = "python4r_probe_pkg";
    let wheel = write_wheel(&dir, name, "1.2.3");

    process::pip_install(wheel.to_str().unwrap(), None).unwrap();
    assert_eq!(
        process::package_version(name).unwrap().as_deref(),
        Some("1.2.3")
    );
    let value: i64 = python4r::Context::new()
        .eval(&format!("__import__('{name}').VALUE"))
        .unwrap();
    assert_eq!(
        value, 42,
        "the embedded interpreter imports what pip installed"
    );

    process::pip_uninstall(name).unwrap();
    assert!(!process::is_package_installed(name).unwrap());

    let requirements = dir.join("requirements.txt");
    std::fs::write(&requirements, format!("{}\n", wheel.display())).unwrap();
    process::pip_install_requirements(&requirements).unwrap();
    assert!(process::is_package_installed(name).unwrap());
    process::pip_uninstall(name).unwrap();
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn failures_say_what_failed() {
    let err = process::run_python(["-c", "import sys; sys.stderr.write('boom'); sys.exit(4)"])
        .unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("exit status: 4"), "{msg}");
    assert!(msg.ends_with("boom"), "{msg}");
    let err = process::pip_install("/nonexistent/python4r-missing.whl", None).unwrap_err();
    assert!(matches!(err, python4r::Error::Process { .. }), "{err}");
    let err = process::pip_install_requirements("/nonexistent/requirements.txt").unwrap_err();
    assert!(
        err.to_string()
            .contains("reading requirements file /nonexistent/requirements.txt"),
        "{err}"
    );
}
