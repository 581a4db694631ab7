//! Records which Python interpreter python4r is built for, so that the runtime can check at start-up
//! that it loaded the matching libpython, and makes python4r's own test binaries find that libpython.
//!
//! python4r's own tests and doctests need numpy: when the build runs inside python4r's repository
//! (its `.cargo/config.toml` sets `PYTHON4R_WORKSPACE_TESTS=1`), this script prepares the managed
//! environment `[package.metadata.python4r]` declares and links it into those test binaries. A
//! crate that depends on python4r never sees that variable, so its build never makes an
//! environment for python4r's tests.

fn main() {
    pyo3_build_config::use_pyo3_cfgs();
    let config = pyo3_build_config::get();
    let version = format!("{}.{}", config.version().major, config.version().minor);
    let executable = config.executable().unwrap_or_default().to_owned();
    let lib_dir = config.lib_dir().unwrap_or_default().to_owned();
    let lib_name = config.lib_name().unwrap_or_default().to_owned();
    let shared = config.shared();

    println!("cargo:rustc-env=PYTHON4R_BUILD_VERSION={version}");
    println!("cargo:rustc-env=PYTHON4R_BUILD_EXECUTABLE={executable}");
    println!("cargo:rustc-env=PYTHON4R_BUILD_LIB_DIR={lib_dir}");
    println!("cargo:rustc-env=PYTHON4R_BUILD_LIB_NAME={lib_name}");
    println!("cargo:rustc-env=PYTHON4R_BUILD_SHARED={}", shared);

    // Read by `python4r-build` in the build scripts of crates that depend on python4r
    // (cargo exposes them there as DEP_PYTHON4R_LIBDIR and DEP_PYTHON4R_SHARED).
    println!("cargo:libdir={lib_dir}");
    println!("cargo:version={version}");
    println!("cargo:shared={}", shared);
    println!("cargo:executable={executable}");

    // Test, example and bench binaries of this package: look for libpython in the build
    // interpreter's own library folder before the system's (the loader's cache).
    if shared && !lib_dir.is_empty() && cfg!(unix) {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{lib_dir}");
    }
    println!("cargo:rerun-if-env-changed=PYTHON4R_WORKSPACE_TESTS");
    if std::env::var("PYTHON4R_WORKSPACE_TESTS").is_ok_and(|v| v == "1")
        && let Err(error) =
            python4r_build::managed_environment(Some(std::path::Path::new(&executable)))
    {
        eprintln!("error: python4r: {error}");
        std::process::exit(1);
    }
    println!("cargo:rerun-if-env-changed=PYO3_PYTHON");
    println!("cargo:rerun-if-env-changed=VIRTUAL_ENV");
    println!("cargo:rerun-if-changed=build.rs");
}
