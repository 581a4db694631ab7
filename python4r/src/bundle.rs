//! Running from a bundle made by `cargo python4r bundle`: a folder holding the program, and beside
//! it `python4r-bundle/` with libpython, the standard library and the managed environment's
//! packages. python4r then starts Python from an isolated configuration whose home and module
//! search paths are the bundle's, so the host's `PYTHONHOME`, `PYTHONPATH`, `VIRTUAL_ENV` and
//! installed Pythons play no part.
//!
//! Layout (the same as an installed Python's, so `site` finds the packages and their `.pth`
//! files):
//!
//! ```text
//! program
//! python4r-bundle/python4r-bundle.toml      the marker
//! python4r-bundle/lib/libpython3.X.so.1.0   found through the program's DT_RPATH
//! python4r-bundle/lib/python3X.zip          the pure-Python standard library, when zipped
//! python4r-bundle/lib/python3.X/            the standard library, lib-dynload, site-packages
//! ```

use std::ffi::CString;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use pyo3::ffi;

use crate::build_info::BuildInfo;
use crate::error::{Error, Result};

/// The folder beside the executable that holds a bundle's Python (python4r-build's
/// `BUNDLE_DIR`).
pub(crate) const DIR: &str = "python4r-bundle";
/// The file that marks that folder as a complete bundle.
pub(crate) const MARKER: &str = "python4r-bundle.toml";

/// The bundle this program runs from.
#[derive(Clone, Debug)]
pub(crate) struct Bundle {
    /// `<exe dir>/python4r-bundle`: Python's home.
    pub(crate) dir: PathBuf,
    /// `major.minor` of the bundled Python.
    pub(crate) version: String,
}

impl Bundle {
    /// The standard library folder, `lib/python3.X`.
    fn stdlib(&self) -> PathBuf {
        self.dir.join("lib").join(format!("python{}", self.version))
    }

    /// The module search path: the zipped standard library (when there is one), the standard
    /// library folder and its extension modules. `site` adds `site-packages`.
    pub(crate) fn search_paths(&self) -> Vec<PathBuf> {
        let zip = self
            .dir
            .join("lib")
            .join(format!("python{}.zip", self.version.replace('.', "")));
        let stdlib = self.stdlib();
        zip.exists()
            .then_some(zip)
            .into_iter()
            .chain([stdlib.clone(), stdlib.join("lib-dynload")])
            .collect()
    }
}

/// The bundle this program runs from, found from the executable's folder (symlinks resolved).
pub(crate) fn current() -> Option<&'static Bundle> {
    static BUNDLE: OnceLock<Option<Bundle>> = OnceLock::new();
    BUNDLE.get_or_init(find).as_ref()
}

fn find() -> Option<Bundle> {
    let exe = std::env::current_exe().ok()?;
    let exe = std::fs::canonicalize(&exe).unwrap_or(exe);
    let dir = exe.parent()?.join(DIR);
    let marker = std::fs::read_to_string(dir.join(MARKER)).ok()?;
    let version = marker
        .lines()
        .find_map(|l| {
            let (key, value) = l.split_once('=')?;
            (key.trim() == "python").then(|| value.trim().trim_matches('"').to_owned())
        })
        .unwrap_or_else(|| BuildInfo::get().version.to_owned());
    Some(Bundle { dir, version })
}

/// Sets `config` (from `PyConfig_InitIsolatedConfig`) to the bundle: home and module search
/// paths.
///
/// # Safety
///
/// `config` is initialised and Python is not running.
pub(crate) unsafe fn configure(config: &mut ffi::PyConfig, bundle: &Bundle) -> Result<()> {
    let home = CString::new(bundle.dir.as_os_str().as_encoded_bytes())
        .map_err(|_| Error::Init(format!("bundle path {} contains NUL", bundle.dir.display())))?;
    // SAFETY: `config` is initialised (caller); `home` is one of its own fields; the string is
    // NUL-terminated and copied by Python.
    let status = unsafe { ffi::PyConfig_SetBytesString(config, &mut config.home, home.as_ptr()) };
    check(status, "setting the bundle's home")?;
    for path in bundle.search_paths() {
        let wide = wide(&path)?;
        // SAFETY: the list is `config`'s own; `wide` is NUL-terminated and copied by Python.
        let status =
            unsafe { ffi::PyWideStringList_Append(&mut config.module_search_paths, wide.as_ptr()) };
        check(status, "setting the bundle's module search path")?;
    }
    config.module_search_paths_set = 1;
    Ok(())
}

fn check(status: ffi::PyStatus, what: &str) -> Result<()> {
    // SAFETY: PyStatus_Exception only reads the struct passed by value.
    if unsafe { ffi::PyStatus_Exception(status) } == 0 {
        Ok(())
    } else {
        Err(Error::Init(format!(
            "{what} failed (exit code {})",
            status.exitcode
        )))
    }
}

/// `path` as a NUL-terminated `wchar_t` string (UTF-32 on the Unix targets bundles exist for).
fn wide(path: &Path) -> Result<Vec<libc::wchar_t>> {
    let text = path.to_str().ok_or_else(|| {
        Error::Init(format!(
            "the bundle path {} is not UTF-8; move the bundle to a UTF-8 path",
            path.display()
        ))
    })?;
    Ok(text
        .chars()
        .map(|c| c as libc::wchar_t)
        .chain([0])
        .collect())
}

/// Before `main`: when this program runs from a bundle, gives libpython the bundle as its home,
/// so that an interpreter something else starts before python4r (pyo3's `auto-initialize`)
/// comes up from the bundle too, and python4r then reports it with a clear error rather than
/// CPython failing with "could not find platform independent libraries".
#[cfg(target_os = "linux")]
#[used]
#[unsafe(link_section = ".init_array")]
static SET_HOME_AT_START: extern "C" fn() = set_home_at_start;

#[cfg(target_os = "linux")]
extern "C" fn set_home_at_start() {
    let Some(bundle) = current() else {
        return;
    };
    let Ok(home) = wide(&bundle.dir) else {
        return;
    };
    // Python copies the string; the leaked copy keeps older versions, which keep the pointer,
    // safe too.
    let home: &'static [libc::wchar_t] = Vec::leak(home);
    // SAFETY: Py_SetPythonHome may be called before initialisation (this runs before `main`,
    // before anything can start Python); `home` is NUL-terminated and lives forever.
    #[allow(deprecated)]
    unsafe {
        ffi::Py_SetPythonHome(home.as_ptr())
    };
}
