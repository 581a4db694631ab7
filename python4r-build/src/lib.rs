//! Build-script helper for crates that use python4r: makes the crate's binaries load the libpython
//! of the interpreter python4r was built for.
//!
//! A Rust binary that embeds Python links `libpython3.X.so`, and at run time the dynamic loader
//! looks for that file in its own cache before anywhere else. When a second copy of the same
//! library is installed system-wide (a Debian `libpython3.11`, say, beside a pyenv or conda
//! Python), the binary loads the system's copy, and the embedded interpreter then cannot see the
//! packages that `python3 -m pip install` put in the build interpreter's environment.
//!
//! Link arguments set by python4r's own build script do not reach the crates that depend on it,
//! so each binary-producing crate adds one line to its `build.rs`:
//!
//! ```no_run
//! // build.rs
//! fn main() {
//!     python4r_build::configure();
//! }
//! ```
//!
//! with `python4r-build` under `[build-dependencies]` and `python4r` under `[dependencies]`.
//! The helper adds the build interpreter's library folder to the binaries' run-time search path
//! (`-Wl,-rpath`). python4r still checks at start-up which libpython it loaded, and configures
//! the interpreter (or fails with instructions) when it is not the expected one.

use std::env;

/// Emits the link arguments that make this package's binaries, tests, examples and benches load
/// the libpython python4r was built for.
///
/// Call it from the `main` of a build script of a package that depends on `python4r` directly.
/// It prints a cargo warning, and does nothing else, when python4r's build information is not
/// visible (the package does not depend on `python4r` directly).
///
/// # Example
///
/// ```no_run
/// // build.rs
/// fn main() {
///     python4r_build::configure();
/// }
/// ```
pub fn configure() {
    println!("cargo:rerun-if-env-changed=DEP_PYTHON4R_LIBDIR");
    let Some(lib_dir) = env::var("DEP_PYTHON4R_LIBDIR")
        .ok()
        .filter(|d| !d.is_empty())
    else {
        if env::var_os("DEP_PYTHON4R_SHARED").is_none() {
            println!(
                "cargo:warning=python4r_build::configure(): this package does not depend on \
                 `python4r` directly; add it to [dependencies] so the build script can see \
                 which Python it was built for"
            );
        }
        return;
    };
    let shared = env::var("DEP_PYTHON4R_SHARED")
        .map(|s| s == "true")
        .unwrap_or(true);
    let unix = env::var("CARGO_CFG_UNIX").is_ok();
    if let Some(arg) = rpath_arg(&lib_dir, shared, unix) {
        println!("cargo:rustc-link-arg={arg}");
    }
}

/// The linker argument that puts `lib_dir` on a binary's run-time library search path, if one is
/// needed: only a shared libpython on a Unix target is found through that path.
fn rpath_arg(lib_dir: &str, shared: bool, unix: bool) -> Option<String> {
    (shared && unix && !lib_dir.is_empty()).then(|| format!("-Wl,-rpath,{lib_dir}"))
}

#[cfg(test)]
mod tests {
    use super::rpath_arg;

    #[test]
    fn rpath_only_for_shared_libpython_on_unix() {
        assert_eq!(
            rpath_arg("/opt/py/lib", true, true).as_deref(),
            Some("-Wl,-rpath,/opt/py/lib")
        );
        assert_eq!(rpath_arg("/opt/py/lib", false, true), None);
        assert_eq!(rpath_arg("/opt/py/lib", true, false), None);
        assert_eq!(rpath_arg("", true, true), None);
    }
}
