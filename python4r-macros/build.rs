//! Finds the Python version the workspace builds for, so syntax is judged against it.
//!
//! The interpreter is chosen the way PyO3 chooses it: `PYO3_PYTHON`, else the active virtualenv or
//! conda environment, else `python3` on `PATH`.
//! When no interpreter answers, the parser accepts the newest syntax rather than reject valid code.

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=PYO3_PYTHON");
    println!("cargo:rerun-if-env-changed=VIRTUAL_ENV");
    println!("cargo:rerun-if-env-changed=CONDA_PREFIX");
    println!("cargo:rerun-if-env-changed=PATH");
    let env = |name| std::env::var(name).ok().filter(|v: &String| !v.is_empty());
    let python = env("PYO3_PYTHON")
        .or_else(|| env("VIRTUAL_ENV").map(|dir| format!("{dir}/bin/python")))
        .or_else(|| env("CONDA_PREFIX").map(|dir| format!("{dir}/bin/python")))
        .unwrap_or_else(|| "python3".to_owned());
    let version = Command::new(&python)
        .args(["-c", "import sys; print('%d.%d' % sys.version_info[:2])"])
        .output()
        .ok()
        .filter(|out| out.status.success())
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "3.99".to_owned());
    println!("cargo:rustc-env=PYTHON4R_TARGET_PYTHON={version}");
}
