//! Tells the macro which Python version the build targets, so syntax is judged against it.
//!
//! The version comes from `pyo3-build-config`, resolved the way pyo3-ffi's build script resolves
//! it (the configuration `python4r/build.rs` then reads with `pyo3_build_config::get()`):
//! `PYO3_CONFIG_FILE`, the `PYO3_CROSS*` variables of a cross build, else the interpreter found
//! from `PYO3_PYTHON`, the active virtualenv or conda environment, or `PATH`.
//!
//! `get()` itself is not available here: it reads the configuration pyo3-ffi's build script hands
//! to its direct dependents, and a proc-macro crate cannot depend on pyo3-ffi (it would link
//! libpython into the compiler's plug-in, and be resolved for the host, not the target). So this
//! script calls the resolver that build script calls, from the `pyo3-build-config` release pyo3
//! pins. When nothing can be resolved, the macro accepts the newest syntax rather than reject
//! valid code (the build of python4r itself then reports the missing interpreter).
//!
//! The macro's doctests run Python with numpy: inside python4r's repository
//! (`PYTHON4R_WORKSPACE_TESTS=1`, from its `.cargo/config.toml`) this script prepares the managed
//! environment `[package.metadata.python4r]` declares and links it into them. Crates that use the
//! macro never set that variable.

use pyo3_build_config::pyo3_build_script_impl::{resolve_build_config, target_triple_from_env};

fn main() {
    for variable in [
        "PYO3_CONFIG_FILE",
        "PYO3_PYTHON",
        "PYO3_CROSS",
        "PYO3_CROSS_LIB_DIR",
        "PYO3_CROSS_PYTHON_VERSION",
        "PYO3_CROSS_PYTHON_IMPLEMENTATION",
        "VIRTUAL_ENV",
        "CONDA_PREFIX",
    ] {
        println!("cargo:rerun-if-env-changed={variable}");
    }
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=PYTHON4R_WORKSPACE_TESTS");
    let config = resolve_build_config(&target_triple_from_env());
    if std::env::var("PYTHON4R_WORKSPACE_TESTS").is_ok_and(|v| v == "1") {
        let executable = config
            .as_ref()
            .ok()
            .and_then(|c| c.interpreter_config.executable().map(str::to_owned));
        if let Err(error) =
            python4r_build::managed_environment(executable.as_deref().map(std::path::Path::new))
        {
            eprintln!("error: python4r-macros: {error}");
            std::process::exit(1);
        }
    }
    let version = match config {
        Ok(config) => {
            let version = config.interpreter_config.version();
            format!("{}.{}", version.major, version.minor)
        }
        Err(error) => {
            println!(
                "cargo:warning=python4r-macros: no Python configuration ({error}); Python syntax \
                 is checked against the newest version"
            );
            "3.99".to_owned()
        }
    };
    println!("cargo:rustc-env=PYTHON4R_TARGET_PYTHON={version}");
}
