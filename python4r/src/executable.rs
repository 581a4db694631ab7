//! `sys.executable`, the Python that `multiprocessing`'s spawn (dask's `LocalCluster` with worker
//! processes, `ProcessPoolExecutor`) starts workers with: a real Python of the embedded
//! installation, or, when there is none, a path that says so.

use std::path::{Path, PathBuf};

use pyo3::prelude::*;

use crate::warning;

/// Makes `sys.executable` a Python of the embedded installation: `multiprocessing`'s `spawn`
/// (dask's `LocalCluster` with worker processes, `ProcessPoolExecutor`) starts workers with it.
///
/// `python_executable` is [`crate::environment::python_executable`]: when python4r starts Python it is
/// `sys.executable` already (the program name). When pyo3 or another library started Python
/// first, `sys.executable` is whatever `python3` comes first on `PATH` (a pyenv shim, another
/// version), so it is set to `python_executable`. When there is no such Python (a bundle that
/// ships no executable, the build interpreter gone), a `python*` file of the loaded installation
/// is kept; otherwise `sys.executable` names where that installation's Python would be, so that
/// starting a worker fails naming the missing file rather than running another Python (or the
/// host program).
pub(crate) fn set_sys_executable(
    sys: &Bound<'_, PyModule>,
    python_executable: Option<PathBuf>,
    version: &str,
) -> PyResult<()> {
    let current: Option<PathBuf> = sys.getattr("executable")?.extract()?;
    let wanted = match python_executable {
        Some(exe) => exe,
        None => {
            let prefix: PathBuf = sys.getattr("prefix")?.extract()?;
            let base_prefix: PathBuf = sys.getattr("base_prefix")?.extract()?;
            let (exe, exists) =
                installation_python(current.as_deref(), &[&prefix, &base_prefix], version);
            // A bundle ships no Python executable by design (the README says so); its programs
            // would print this at every start.
            if !exists && crate::bundle::current().is_none() {
                warning::warn(format_args!(
                    "this Python installation ({}) has no Python executable: \
                     multiprocessing's spawn (dask's LocalCluster with processes) cannot start \
                     worker processes. sys.executable is set to {}, where it would be; ship one \
                     there, or use threads",
                    prefix.display(),
                    exe.display()
                ));
            }
            exe
        }
    };
    if current.as_deref() == Some(wanted.as_path()) {
        return Ok(());
    }
    log::debug!(
        "python4r: sys.executable {:?} -> {}",
        current,
        wanted.display()
    );
    // A `str`, as CPython sets it (pyo3 makes a `Path` a `pathlib.Path`).
    let wanted = wanted.as_os_str();
    sys.setattr("executable", wanted)?;
    // `multiprocessing.spawn` copies sys.executable when it is imported.
    if let Some(spawn) = sys
        .getattr("modules")?
        .call_method1("get", ("multiprocessing.spawn",))
        .ok()
        .filter(|m| !m.is_none())
    {
        spawn.call_method1("set_executable", (wanted,))?;
    }
    Ok(())
}

/// Without a virtualenv's or the build interpreter's Python: `current` when it is a `python*`
/// file inside one of `prefixes` (the loaded installation), else where that installation's
/// executable would be; and whether that file exists.
fn installation_python(
    current: Option<&Path>,
    prefixes: &[&Path],
    version: &str,
) -> (PathBuf, bool) {
    let is_python = |p: &Path| {
        p.file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("python"))
    };
    if let Some(current) = current
        && is_python(current)
        && current.is_file()
        && prefixes.iter().any(|prefix| current.starts_with(prefix))
    {
        return (current.to_path_buf(), true);
    }
    let prefix = prefixes.first().copied().unwrap_or(Path::new(""));
    let candidates = [format!("python{version}"), "python3".to_owned()];
    let dir = if cfg!(windows) {
        prefix.to_path_buf()
    } else {
        prefix.join("bin")
    };
    candidates
        .iter()
        .map(|name| dir.join(if cfg!(windows) { "python.exe" } else { name }))
        .find(|p| p.is_file())
        .map(|p| (p, true))
        .unwrap_or_else(|| (dir.join(&candidates[0]), false))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_build_interpreter_sys_executable_is_a_python_of_the_installation() {
        let dir = std::env::temp_dir().join(format!("python4r-exe-{}", std::process::id()));
        let bin = dir.join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        let python = bin.join("python3.11");
        let host = bin.join("host-program");
        std::fs::write(&python, "").unwrap();
        std::fs::write(&host, "").unwrap();
        let prefixes: &[&Path] = &[&dir];
        // A Python of the installation is kept.
        assert_eq!(
            installation_python(Some(&python), prefixes, "3.11"),
            (python.clone(), true)
        );
        // The host program, or a Python of another installation, is replaced by the
        // installation's own.
        for other in [host.as_path(), Path::new("/usr/bin/python3"), Path::new("")] {
            assert_eq!(
                installation_python(Some(other), prefixes, "3.11"),
                (python.clone(), true),
                "{other:?}"
            );
        }
        // None there: where it would be, so that starting one fails naming it.
        std::fs::remove_file(&python).unwrap();
        assert_eq!(
            installation_python(Some(&host), prefixes, "3.11"),
            (bin.join("python3.11"), false)
        );
        assert_eq!(
            installation_python(None, prefixes, "3.11"),
            (bin.join("python3.11"), false)
        );
        std::fs::remove_dir_all(&dir).ok();
    }
}
