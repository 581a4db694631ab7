//! Makes the workspace's tests, examples and benches load the libpython python4r was built for.

fn main() {
    python4r_build::configure();
    // `Py_3_10`, `Py_3_11`, ... as pyo3 sets them: tests of syntax that older Pythons lack.
    println!("cargo:rerun-if-env-changed=DEP_PYTHON4R_VERSION");
    let minor = std::env::var("DEP_PYTHON4R_VERSION")
        .ok()
        .and_then(|v| v.strip_prefix("3.")?.parse::<u32>().ok())
        .unwrap_or(0);
    for m in 9..=15 {
        println!("cargo:rustc-check-cfg=cfg(Py_3_{m})");
        if m <= minor {
            println!("cargo:rustc-cfg=Py_3_{m}");
        }
    }
}
