//! Python subprocesses and pip, acting on the same environment the embedded interpreter imports
//! from (python4j's `PythonProcess`).
//!
//! They run [`executable`]: the managed environment's Python (`[package.metadata.python4r]`),
//! else the active virtualenv's, else the build interpreter's, never `sys.executable` (inside an embedded interpreter that is
//! the host program, or a shim that may pick another Python).

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::error::{Error, Result};
use crate::interpreter::{self, BuildInfo};

/// The Python executable the processes run.
///
/// # Errors
///
/// [`Error::Process`] in a bundle (`cargo python4r bundle`: no Python executable is shipped), or
/// when neither the managed environment's, a virtualenv's nor the build interpreter's Python
/// exists on this machine.
pub fn executable() -> Result<PathBuf> {
    if let Some(bundle) = crate::bundle::current() {
        return Err(Error::Process {
            command: "python".to_owned(),
            status: "not available in a bundle".to_owned(),
            stderr: format!(
                "this program runs from the bundle {}, which ships the Python library and \
                 packages but no Python executable: there is no Python to run or pip to install \
                 with. Declare the packages under [package.metadata.python4r] and bundle again",
                bundle.dir.display()
            ),
        });
    }
    interpreter::python_executable().ok_or_else(|| Error::Process {
        command: "python".to_owned(),
        status: "not found".to_owned(),
        stderr: format!(
            "the Python python4r was built for ({}) is not on this machine and no VIRTUAL_ENV is \
             active; activate a virtualenv of Python {} or rebuild on this machine",
            BuildInfo::get().executable,
            BuildInfo::get().version
        ),
    })
}

/// Runs the embedded environment's Python with `args` and returns its standard output.
///
/// # Errors
///
/// [`Error::Process`] with the command line, exit status and standard error when it fails.
///
/// # Example
///
/// ```
/// let out = python4r::process::run_python(["-c", "print(6 * 7)"])?;
/// assert_eq!(out.trim(), "42");
/// # Ok::<(), python4r::Error>(())
/// ```
pub fn run_python<I, S>(args: I) -> Result<String>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let exe = executable()?;
    let args: Vec<_> = args.into_iter().map(|a| a.as_ref().to_owned()).collect();
    let output = Command::new(&exe)
        .args(&args)
        .env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| Error::io(format!("starting {}", exe.display()), e))?;
    check(&exe, &args, output)
}

fn check(exe: &Path, args: &[std::ffi::OsString], output: Output) -> Result<String> {
    if output.status.success() {
        return Ok(String::from_utf8_lossy(&output.stdout).into_owned());
    }
    let command = std::iter::once(exe.as_os_str())
        .chain(args.iter().map(|a| a.as_os_str()))
        .map(|a| a.to_string_lossy())
        .collect::<Vec<_>>()
        .join(" ");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stderr = stderr.trim();
    // pip's errors are long; the end says what went wrong.
    let tail: String = stderr
        .lines()
        .rev()
        .take(20)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect::<Vec<_>>()
        .join("\n");
    Err(Error::Process {
        command,
        status: output.status.to_string(),
        stderr: tail,
    })
}

/// `pip install package` (or `package==version`), into the embedded environment.
///
/// # Errors
///
/// [`Error::Process`] when pip fails (no such package, no network).
pub fn pip_install(package: &str, version: Option<&str>) -> Result<()> {
    let spec = match version {
        Some(v) => format!("{package}=={v}"),
        None => package.to_owned(),
    };
    run_python(["-m", "pip", "install", "--quiet", &spec]).map(drop)
}

/// `pip uninstall -y package`: never prompts.
pub fn pip_uninstall(package: &str) -> Result<()> {
    run_python(["-m", "pip", "uninstall", "--yes", "--quiet", package]).map(drop)
}

/// `pip install -r requirements`.
pub fn pip_install_requirements(requirements: impl AsRef<Path>) -> Result<()> {
    let path = requirements.as_ref();
    if !path.is_file() {
        return Err(Error::io(
            format!("reading requirements file {}", path.display()),
            std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
        ));
    }
    run_python([
        OsStr::new("-m"),
        OsStr::new("pip"),
        OsStr::new("install"),
        OsStr::new("--quiet"),
        OsStr::new("-r"),
        path.as_os_str(),
    ])
    .map(drop)
}

const VERSION_SCRIPT: &str = "import sys, importlib.metadata as m\n\
try:\n    print(m.version(sys.argv[1]))\n\
except m.PackageNotFoundError:\n    print('')\n";

/// The installed version of `package` (its distribution name, as pip knows it), or `None`.
///
/// # Example
///
/// ```
/// let pip = python4r::process::package_version("pip")?;
/// assert!(pip.is_some());
/// assert_eq!(python4r::process::package_version("no-such-package-python4r")?, None);
/// # Ok::<(), python4r::Error>(())
/// ```
pub fn package_version(package: &str) -> Result<Option<String>> {
    let out = run_python(["-c", VERSION_SCRIPT, package])?;
    let version = out.trim();
    Ok((!version.is_empty()).then(|| version.to_owned()))
}

/// Whether `package` is installed in the embedded environment.
pub fn is_package_installed(package: &str) -> Result<bool> {
    package_version(package).map(|v| v.is_some())
}
