//! Build-script helper for crates that use python4r: makes the crate's binaries load the libpython
//! of the interpreter python4r was built for, and embed the Python packages the crate declares.
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

// The examples show a whole build script, whose `main` is the point.
#![allow(clippy::needless_doctest_main)]
#![deny(missing_docs)]

mod embed;
mod environment;
mod error;
mod installer;
mod lock;
mod metadata;
mod python;

use std::env;
use std::path::{Path, PathBuf};

use crate::environment::{Plan, Store};
pub use crate::error::{Error, Result};
use crate::installer::Installer;
use crate::lock::Lock;
use crate::python::Interpreter;

/// The folder beside a bundled executable that holds its Python (see `cargo python4r bundle`);
/// its `lib` subfolder comes first on the binaries' library search path.
pub const BUNDLE_DIR: &str = "python4r-bundle";

/// Emits the link arguments that make this package's binaries, tests, examples and benches load
/// the libpython python4r was built for, and, when `Cargo.toml` declares
/// `[package.metadata.python4r] dependencies`, prepares the package's managed Python environment
/// and makes those binaries embed it.
///
/// Call it from the `main` of a build script of a package that depends on `python4r` directly.
/// It prints a cargo warning, and does nothing else, when python4r's build information is not
/// visible (the package does not depend on `python4r` directly). When the environment cannot be
/// prepared (a misspelt package, a version that does not exist, an invalid requirement string,
/// an offline build without the environment) the build fails with a message saying what to do;
/// the previous environment stays as it was.
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
    let lib_dir = env::var("DEP_PYTHON4R_LIBDIR")
        .ok()
        .filter(|d| !d.is_empty());
    match &lib_dir {
        Some(lib_dir) => {
            let shared = env::var("DEP_PYTHON4R_SHARED")
                .map(|s| s == "true")
                .unwrap_or(true);
            let linux = env::var("CARGO_CFG_TARGET_OS").is_ok_and(|os| os == "linux");
            for arg in bundle_rpath_args(shared, linux) {
                println!("cargo:rustc-link-arg={arg}");
            }
            let unix = env::var("CARGO_CFG_UNIX").is_ok();
            if let Some(arg) = rpath_arg(lib_dir, shared, unix) {
                println!("cargo:rustc-link-arg={arg}");
            }
        }
        None if env::var_os("DEP_PYTHON4R_SHARED").is_none() => println!(
            "cargo:warning=python4r_build::configure(): this package does not depend on \
             `python4r` directly; add it to [dependencies] so the build script can see \
             which Python it was built for"
        ),
        None => {}
    }
    let python = env::var_os("DEP_PYTHON4R_EXECUTABLE").map(PathBuf::from);
    exit_on_error(managed_environment(python.as_deref()).map(|_| ()));
}

/// Prepares the managed environment declared in this package's `Cargo.toml`, for the build
/// interpreter `python` (else the one pyo3 would pick), without any of [`configure`]'s
/// library-path arguments. Returns the environment's folder, or `None` when the package declares
/// no dependencies.
///
/// python4r's own build script uses it for python4r's tests; crates that depend on python4r
/// call [`configure`].
///
/// # Errors
///
/// [`Error`] when the environment cannot be prepared; nothing is changed then.
///
/// # Example
///
/// ```no_run
/// // build.rs of a crate whose binaries embed Python without depending on python4r directly
/// fn main() {
///     if let Err(e) = python4r_build::managed_environment(None) {
///         eprintln!("error: {e}");
///         std::process::exit(1);
///     }
/// }
/// ```
pub fn managed_environment(python: Option<&Path>) -> Result<Option<PathBuf>> {
    let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").ok_or_else(|| {
        Error::Interpreter("CARGO_MANIFEST_DIR is not set: call this from a build script".into())
    })?);
    let manifest = manifest_dir.join("Cargo.toml");
    let lock_path = manifest_dir.join(lock::FILE_NAME);
    println!("cargo:rerun-if-changed={}", manifest.display());
    println!("cargo:rerun-if-changed={}", lock_path.display());
    for variable in python::VARIABLES
        .iter()
        .chain(installer::VARIABLES)
        .chain(environment::VARIABLES)
        .chain(&["PYTHON4R_LOCKED", "PYTHON4R_OFFLINE", "CARGO_NET_OFFLINE"])
    {
        println!("cargo:rerun-if-env-changed={variable}");
    }
    let Some(requirements) = metadata::requirements(&manifest)? else {
        return Ok(None);
    };
    let interpreter = Interpreter::find(python)?;
    interpreter.validate_requirements(&requirements)?;
    let read_only = metadata::is_read_only_source(&manifest_dir);
    let old_lock = Lock::read(&lock_path)?;
    let version = &interpreter.major_minor;
    let (plan, reason) = match &old_lock {
        Some(lock) if lock.requirements == requirements => match lock.resolved.get(version) {
            Some(pins) => (Plan::Locked(pins.clone()), None),
            None => (
                Plan::Resolve(requirements.clone()),
                Some(format!("it has no resolved set for Python {version}")),
            ),
        },
        Some(_) => (
            Plan::Resolve(requirements.clone()),
            Some("the requirements in Cargo.toml changed".to_owned()),
        ),
        None => (
            Plan::Resolve(requirements.clone()),
            Some("it does not exist yet".to_owned()),
        ),
    };
    if let Some(reason) = &reason
        && flag("PYTHON4R_LOCKED")
        && !read_only
    {
        return Err(Error::LockOutdated {
            path: lock_path,
            reason: reason.clone(),
        });
    }
    let offline = if flag("PYTHON4R_OFFLINE") {
        Some("PYTHON4R_OFFLINE=1")
    } else if env::var("CARGO_NET_OFFLINE").is_ok_and(|v| v == "true") {
        Some("CARGO_NET_OFFLINE=true")
    } else {
        None
    };
    let store = Store::new(environment::cache_root()?);
    let installer = Installer::from_env()?;
    let environment = store.ensure(&interpreter, &plan, &installer, offline)?;
    if environment.installed {
        println!(
            "cargo:warning=python4r: installed {} Python packages into {}",
            environment.packages.len(),
            environment.path.display()
        );
    }
    if matches!(plan, Plan::Resolve(_)) && !read_only {
        let mut lock = match old_lock {
            Some(lock) if lock.requirements == requirements => lock,
            _ => Lock {
                requirements: requirements.clone(),
                ..Lock::default()
            },
        };
        lock.resolved
            .insert(version.clone(), environment.packages.clone());
        if lock.write_if_changed(&lock_path)? {
            println!(
                "cargo:warning=python4r: wrote {} for Python {version}",
                lock_path.display()
            );
        }
    }
    println!(
        "cargo:rerun-if-changed={}",
        environment.path.join(environment::MARKER).display()
    );
    let payload = format!(
        "environment={}\nlock={}\npackage={}\n",
        environment.path.display(),
        lock_path.display(),
        env::var("CARGO_PKG_NAME").unwrap_or_default()
    );
    if let Some(out_dir) = env::var_os("OUT_DIR") {
        let object = embed::compile(Path::new(&out_dir), &payload)?;
        println!("cargo:rustc-link-arg={}", object.display());
    }
    println!(
        "cargo:rustc-env=PYTHON4R_MANAGED_ENVIRONMENT={}",
        environment.path.display()
    );
    Ok(Some(environment.path))
}

/// Fails the build script with `error`'s message (cargo shows a build script's standard error
/// when it fails).
fn exit_on_error(result: Result<()>) {
    if let Err(error) = result {
        eprintln!("error: python4r: {error}");
        std::process::exit(1);
    }
}

/// Whether the variable is set to something other than empty, `0` or `false`.
fn flag(name: &str) -> bool {
    env::var(name).is_ok_and(|v| !matches!(v.as_str(), "" | "0" | "false"))
}

/// The arguments that make a bundled copy of libpython (`<exe dir>/python4r-bundle/lib`) win
/// over every other: a DT_RPATH (searched before `LD_LIBRARY_PATH`), relative to the executable.
/// A missing folder is skipped by the loader, so development builds are unaffected.
fn bundle_rpath_args(shared: bool, linux: bool) -> Vec<String> {
    if !(shared && linux) {
        return Vec::new();
    }
    vec![
        "-Wl,--disable-new-dtags".to_owned(),
        format!("-Wl,-rpath,$ORIGIN/{BUNDLE_DIR}/lib"),
    ]
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
