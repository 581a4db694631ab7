//! Which Python environment python4r embeds: a bundle (`cargo python4r bundle`), else the managed
//! environment `python4r_build::configure()` linked into this binary, else the active
//! `VIRTUAL_ENV`, else the build interpreter's own; and the hint a `ModuleNotFoundError` carries.
//!
//! The managed environment reaches the binary through the symbol `PYTHON4R_MANAGED_ENVIRONMENT`:
//! python4r-build compiles an object that defines it (a `{ len, ptr }` record over
//! `key=value` lines) and links it into every binary, test, example, bench and doctest of the
//! package that declares the environment. The weak, empty default below keeps every other binary
//! linking, with no managed environment.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::build_info::BuildInfo;
use crate::warning;

/// The layout of the record python4r-build's object defines.
#[repr(C)]
struct Record {
    len: usize,
    bytes: *const u8,
}

// The weak default: an all-zero record (length 0, no managed environment). A strong definition
// linked in by python4r-build replaces it.
#[cfg(all(
    target_os = "linux",
    any(target_pointer_width = "64", target_pointer_width = "32")
))]
core::arch::global_asm!(
    ".pushsection .rodata.PYTHON4R_MANAGED_ENVIRONMENT,\"a\",@progbits",
    ".weak PYTHON4R_MANAGED_ENVIRONMENT",
    ".type PYTHON4R_MANAGED_ENVIRONMENT,@object",
    ".p2align {align}",
    "PYTHON4R_MANAGED_ENVIRONMENT:",
    ".zero {size}",
    ".size PYTHON4R_MANAGED_ENVIRONMENT, {size}",
    ".popsection",
    align = const std::mem::align_of::<Record>().trailing_zeros(),
    size = const std::mem::size_of::<Record>(),
);

#[cfg(target_os = "linux")]
unsafe extern "C" {
    static PYTHON4R_MANAGED_ENVIRONMENT: Record;
}

/// The managed environment linked into this binary by `python4r_build::configure()`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Managed {
    /// The environment's folder.
    pub(crate) environment: PathBuf,
    /// The `python4r.lock` it was made from.
    pub(crate) lock: Option<PathBuf>,
    /// The package that declared it.
    pub(crate) package: String,
}

impl Managed {
    /// The environment's Python.
    pub(crate) fn python(&self) -> PathBuf {
        self.environment.join("bin").join("python")
    }
}

/// The managed environment recorded in this binary, if any.
pub(crate) fn managed() -> Option<&'static Managed> {
    static MANAGED: OnceLock<Option<Managed>> = OnceLock::new();
    MANAGED
        .get_or_init(|| parse_record(record_bytes()?))
        .as_ref()
}

#[cfg(target_os = "linux")]
fn record_bytes() -> Option<&'static [u8]> {
    // SAFETY: the symbol is either the weak all-zero default above or python4r-build's record,
    // a `{ len, ptr }` pair over `len` immutable static bytes; both live for the whole program.
    let record = unsafe { &*std::ptr::addr_of!(PYTHON4R_MANAGED_ENVIRONMENT) };
    if record.len == 0 || record.bytes.is_null() {
        return None;
    }
    // SAFETY: as above: `bytes` points at `len` static bytes.
    Some(unsafe { std::slice::from_raw_parts(record.bytes, record.len) })
}

#[cfg(not(target_os = "linux"))]
fn record_bytes() -> Option<&'static [u8]> {
    None
}

fn parse_record(bytes: &[u8]) -> Option<Managed> {
    let text = std::str::from_utf8(bytes).ok()?;
    let mut managed = Managed {
        environment: PathBuf::new(),
        lock: None,
        package: String::new(),
    };
    for line in text.lines() {
        match line.split_once('=') {
            Some(("environment", v)) => managed.environment = PathBuf::from(v),
            Some(("lock", v)) if !v.is_empty() => managed.lock = Some(PathBuf::from(v)),
            Some(("package", v)) => managed.package = v.to_owned(),
            _ => {}
        }
    }
    (!managed.environment.as_os_str().is_empty()).then_some(managed)
}

/// The executable of the Python environment python4r embeds: none in a bundle (it ships no
/// Python executable); the managed environment's; the active virtualenv's (`VIRTUAL_ENV`, when
/// its Python version matches); else the build interpreter's. `None` when none of them exists
/// on this machine (a binary copied elsewhere).
///
/// Subprocesses and pip use it (through [`process::executable`](crate::process::executable)),
/// never `sys.executable` (inside an embedded interpreter that is the host program, or a shim
/// that may pick another Python).
pub(crate) fn python_executable() -> Option<PathBuf> {
    if crate::bundle::current().is_some() {
        return None;
    }
    if let Some(managed) = managed() {
        let python = managed.python();
        if python.exists() {
            if let Some(venv) = std::env::var_os("VIRTUAL_ENV").filter(|v| !v.is_empty()) {
                warning::warn(format_args!(
                    "VIRTUAL_ENV={} is ignored: this program embeds the managed environment {} \
                     declared by package `{}` ([package.metadata.python4r])",
                    Path::new(&venv).display(),
                    managed.environment.display(),
                    managed.package
                ));
            }
            return Some(python);
        }
        warning::warn(format_args!(
            "the managed Python environment {} of package `{}` is gone (was the cache \
             cleared?); rebuild the program to make it again. Using the build interpreter",
            managed.environment.display(),
            managed.package
        ));
    }
    virtualenv_python().or_else(|| {
        let exe = BuildInfo::get().executable;
        (!exe.is_empty() && Path::new(exe).exists()).then(|| PathBuf::from(exe))
    })
}

fn virtualenv_python() -> Option<PathBuf> {
    let venv = PathBuf::from(std::env::var_os("VIRTUAL_ENV")?);
    let cfg = std::fs::read_to_string(venv.join("pyvenv.cfg")).ok()?;
    let version = cfg.lines().find_map(|line| {
        let (key, value) = line.split_once('=')?;
        matches!(key.trim(), "version" | "version_info").then(|| value.trim().to_owned())
    })?;
    if major_minor(&version) != Some(BuildInfo::get().version) {
        warning::warn(format_args!(
            "VIRTUAL_ENV={} is a Python {version} environment, but python4r was built for Python \
             {}: ignoring it",
            venv.display(),
            BuildInfo::get().version
        ));
        return None;
    }
    ["bin/python", "bin/python3", "Scripts/python.exe"]
        .iter()
        .map(|p| venv.join(p))
        .find(|p| p.exists())
}

/// `"3.11"` from `"3.11.7 (main, ...)"`.
pub(crate) fn major_minor(version: &str) -> Option<&str> {
    let mut dots = version.match_indices('.');
    dots.next()?;
    let end = dots.next().map(|(i, _)| i).unwrap_or_else(|| {
        version
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .unwrap_or(version.len())
    });
    Some(&version[..end])
}

/// What to do about `import module` failing: which environment is embedded and how to add the
/// package to it.
pub(crate) fn module_not_found_hint(module: &str) -> String {
    let top = module.split('.').next().unwrap_or(module);
    if let Some(bundle) = crate::bundle::current() {
        return format!(
            "this program runs from the bundle {}, which holds the packages of the managed \
             environment it was bundled with: declare the distribution that provides `{top}` \
             under [package.metadata.python4r] dependencies and bundle again",
            bundle.dir.display()
        );
    }
    if let Some(managed) = managed() {
        return format!(
            "python4r embeds the managed environment {} of package `{}`: add the distribution \
             that provides it to that package's Cargo.toml, under [package.metadata.python4r]: \
             dependencies = [..., \"{top}\"], and rebuild",
            managed.environment.display(),
            managed.package
        );
    }
    let python = python_executable()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| BuildInfo::get().executable.to_owned());
    format!(
        "python4r embeds {python}, which has no `{top}`: declare it in your package's Cargo.toml \
         under [package.metadata.python4r] dependencies = [\"{top}\"] (with \
         python4r_build::configure() in build.rs), or install it with `{python} -m pip install \
         {top}`"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn major_minor_of_version_strings() {
        assert_eq!(major_minor("3.11.7 (main, Jan 1 2024)"), Some("3.11"));
        assert_eq!(major_minor("3.13.0"), Some("3.13"));
        assert_eq!(major_minor("3.9"), Some("3.9"));
        assert_eq!(major_minor("3"), None);
    }

    #[test]
    fn record_lines() {
        let m =
            parse_record(b"environment=/c/envs/ab\nlock=/p/python4r.lock\npackage=app\n").unwrap();
        assert_eq!(m.environment, PathBuf::from("/c/envs/ab"));
        assert_eq!(m.lock, Some(PathBuf::from("/p/python4r.lock")));
        assert_eq!(m.package, "app");
        assert_eq!(parse_record(b"package=app\n"), None);
    }

    #[test]
    fn the_hint_names_the_package_line_or_the_pip_command() {
        let hint = module_not_found_hint("tabulate.sub");
        assert!(hint.contains("\"tabulate\""), "{hint}");
        assert!(hint.contains("[package.metadata.python4r]"), "{hint}");
    }
}
