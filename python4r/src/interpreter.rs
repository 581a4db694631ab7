//! Starting the embedded interpreter: the one python4r was built for, with the environment
//! `environment` chooses (a bundle, the managed environment, the active virtualenv, the build
//! interpreter's own), configured before first use; and what is embedded ([`interpreter_info`],
//! [`BuildInfo`]).

use std::ffi::{CStr, CString};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::PyList;

use crate::bundle::{self, Bundle};
use crate::config::{self, Config, PathAppend};
use crate::environment;
use crate::error::{Error, Result};
use crate::warning;

pub use crate::build_info::BuildInfo;

/// What is embedded, for bug reports: see [`interpreter_info`].
#[derive(Clone, Debug)]
pub struct InterpreterInfo {
    /// `sys.version`.
    pub version: String,
    /// The interpreter python4r treats as its own, used for subprocesses and pip
    /// (the active virtualenv's, else the build interpreter's).
    pub executable: Option<PathBuf>,
    /// `sys.executable` inside the embedded interpreter.
    pub sys_executable: String,
    /// `sys.prefix`.
    pub prefix: String,
    /// `sys.base_prefix`.
    pub base_prefix: String,
    /// `sys.path`.
    pub sys_path: Vec<String>,
    /// The libpython file the process loaded, when it could be found.
    pub library: Option<PathBuf>,
    /// Why the loaded libpython is not the build interpreter's, when it is not.
    pub library_note: Option<String>,
    /// numpy's version, or why it cannot be imported.
    pub numpy: std::result::Result<String, String>,
    /// What python4r was built against.
    pub build: BuildInfo,
    /// The managed environment `python4r_build::configure()` linked into this program
    /// (`[package.metadata.python4r]`), if any.
    pub environment: Option<PathBuf>,
    /// The `python4r.lock` that environment was made from.
    pub lock: Option<PathBuf>,
    /// The bundle folder (`cargo python4r bundle`) the program runs from, if it does.
    pub bundle: Option<PathBuf>,
}

impl fmt::Display for InterpreterInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "python4r {}", env!("CARGO_PKG_VERSION"))?;
        writeln!(f, "Python version:  {}", self.version.replace('\n', " "))?;
        let exe = self.executable.as_ref().map(|p| p.display().to_string());
        writeln!(
            f,
            "executable:      {}",
            exe.as_deref().unwrap_or("(none found)")
        )?;
        writeln!(f, "sys.executable:  {}", self.sys_executable)?;
        writeln!(f, "sys.prefix:      {}", self.prefix)?;
        writeln!(f, "sys.base_prefix: {}", self.base_prefix)?;
        let lib = self.library.as_ref().map(|p| p.display().to_string());
        writeln!(
            f,
            "libpython:       {}",
            lib.as_deref().unwrap_or("(statically linked or unknown)")
        )?;
        if let Some(note) = &self.library_note {
            writeln!(f, "                 {note}")?;
        }
        match &self.numpy {
            Ok(v) => writeln!(f, "numpy:           {v}")?,
            Err(e) => writeln!(f, "numpy:           not available ({e})")?,
        }
        let path_or = |p: &Option<PathBuf>, none: &str| {
            p.as_ref()
                .map_or_else(|| none.to_owned(), |p| p.display().to_string())
        };
        writeln!(
            f,
            "environment:     {}",
            path_or(&self.environment, "(no managed environment)")
        )?;
        if self.environment.is_some() {
            writeln!(f, "lock:            {}", path_or(&self.lock, "(none)"))?;
        }
        writeln!(
            f,
            "bundle:          {}",
            path_or(&self.bundle, "(not bundled)")
        )?;
        writeln!(
            f,
            "built for:       Python {} ({}), libpython in {}",
            self.build.version, self.build.executable, self.build.lib_dir
        )?;
        writeln!(f, "sys.path:")?;
        for entry in &self.sys_path {
            writeln!(f, "  {entry}")?;
        }
        Ok(())
    }
}

struct State {
    library: Option<PathBuf>,
    library_note: Option<String>,
    numpy: std::result::Result<(), String>,
}

static STATE: OnceLock<std::result::Result<State, String>> = OnceLock::new();

/// Starts the embedded interpreter if python4r has not started it yet.
///
/// Every python4r call that needs Python does this itself; call it directly to start Python at a
/// time of your choosing, or to see a start-up error early.
///
/// # Errors
///
/// [`Error::Init`] when the interpreter cannot start: an invalid `PYTHON4R_*` variable, or a
/// libpython of another Python version than the one python4r was built for.
///
/// # Example
///
/// ```
/// python4r::initialize()?;
/// # Ok::<(), python4r::Error>(())
/// ```
pub fn initialize() -> Result<()> {
    state().map(|_| ())
}

fn state() -> Result<&'static State> {
    STATE
        .get_or_init(|| {
            start().map_err(|e| match e {
                Error::Init(message) => message,
                other => other.to_string(),
            })
        })
        .as_ref()
        .map_err(|msg| Error::Init(msg.clone()))
}

/// `Ok` when numpy is imported and usable; else [`Error::NumpyDisabled`] or
/// [`Error::NumpyUnavailable`]. Starts Python if needed.
#[cfg(feature = "numpy")]
pub(crate) fn ensure_numpy() -> Result<()> {
    match &state()?.numpy {
        Ok(()) => Ok(()),
        Err(reason) => Err(numpy_error(reason)),
    }
}

#[cfg(feature = "numpy")]
fn numpy_error(reason: &str) -> Error {
    if config::current().is_some_and(|c| !c.numpy_import) {
        return Error::NumpyDisabled;
    }
    if let Some(bundle) = bundle::current() {
        return Error::NumpyUnavailable {
            interpreter: format!("the bundle {}", bundle.dir.display()),
            install_command: "declare numpy under [package.metadata.python4r] and bundle again"
                .to_owned(),
            reason: reason.to_owned(),
        };
    }
    let interpreter = python_executable()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| BuildInfo::get().executable.to_owned());
    Error::NumpyUnavailable {
        install_command: format!("{interpreter} -m pip install numpy"),
        interpreter,
        reason: reason.to_owned(),
    }
}

use crate::environment::major_minor;
pub(crate) use crate::environment::python_executable;

/// The file of the libpython this process loaded, from the address of one of its functions.
fn loaded_library() -> Option<PathBuf> {
    #[cfg(unix)]
    {
        let mut info = std::mem::MaybeUninit::<libc::Dl_info>::uninit();
        let addr = ffi::Py_IsInitialized as *const libc::c_void;
        // SAFETY: dladdr only reads the loader's tables; `info` is written by it before we read
        // it, and only when it returns non-zero.
        let found = unsafe { libc::dladdr(addr, info.as_mut_ptr()) };
        if found == 0 {
            return None;
        }
        // SAFETY: dladdr returned non-zero, so it filled `info`.
        let info = unsafe { info.assume_init() };
        if info.dli_fname.is_null() {
            return None;
        }
        // SAFETY: dli_fname is a NUL-terminated path owned by the loader, alive while the
        // library is loaded (libpython is never unloaded).
        let name = unsafe { CStr::from_ptr(info.dli_fname) };
        let path = PathBuf::from(name.to_string_lossy().into_owned());
        Some(std::fs::canonicalize(&path).unwrap_or(path))
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// The version of the loaded libpython, readable before the interpreter starts.
fn loaded_version() -> String {
    // SAFETY: Py_GetVersion returns a pointer to a static NUL-terminated string and may be
    // called before initialisation.
    unsafe { CStr::from_ptr(ffi::Py_GetVersion()) }
        .to_string_lossy()
        .into_owned()
}

/// Compares the loaded libpython with the build interpreter's. `Ok(Some(note))` when it is
/// another copy of the same Python version (usable once pointed at the build interpreter's
/// prefix); an error when it is another version.
fn check_library(build: &BuildInfo, loaded: Option<&Path>) -> Result<Option<String>> {
    let Some(loaded) = loaded else {
        return Ok(None);
    };
    if !build.shared || build.lib_dir.is_empty() {
        return Ok(None);
    }
    let expected_dir =
        std::fs::canonicalize(build.lib_dir).unwrap_or_else(|_| PathBuf::from(build.lib_dir));
    if loaded.parent() == Some(expected_dir.as_path()) {
        return Ok(None);
    }
    let version = loaded_version();
    let fix = format!(
        "make the program load {dir}/lib{name}.so: add `python4r_build::configure();` to the \
         build.rs of the crate that builds this binary (python4r-build under \
         [build-dependencies]), or run it with LD_LIBRARY_PATH={dir}, or rebuild python4r with \
         PYO3_PYTHON pointing at the Python whose libpython is loaded",
        dir = build.lib_dir,
        name = build.lib_name,
    );
    if major_minor(&version) != Some(build.version) {
        return Err(Error::Init(format!(
            "python4r was built for Python {} ({}) but this process loaded {} (Python {}); {fix}",
            build.version,
            build.executable,
            loaded.display(),
            version.split_whitespace().next().unwrap_or("?"),
        )));
    }
    Ok(Some(format!(
        "loaded {} instead of the build interpreter's libpython in {}; same Python version, so \
         python4r uses the build interpreter's prefix. To load the right one, {fix}",
        loaded.display(),
        build.lib_dir
    )))
}

fn start() -> Result<State> {
    let config = config::freeze()?;
    let build = BuildInfo::get();
    let library = loaded_library();
    // SAFETY: Py_IsInitialized may be called at any time.
    let running = unsafe { ffi::Py_IsInitialized() } != 0;
    let bundle = bundle::current();
    let library_note = if running || bundle.is_some() {
        None
    } else {
        check_library(&build, library.as_deref())?
    };
    if let Some(note) = &library_note {
        warning::warn(note);
    }

    if running {
        // Python was started before python4r: by the Python program that loaded this code (an
        // extension module), which python4r joins; or by something in this Rust program, and
        // then none of python4r's set-up was applied.
        let numpy = Python::attach(|py| {
            check_started_by_a_python_host(py)?;
            after_start(py, config)
        })?;
        return Ok(State {
            library,
            library_note,
            numpy,
        });
    }

    let program = python_executable();
    if program.is_none() && bundle.is_none() {
        warning::warn(format_args!(
            "the build interpreter {} is not on this machine; using the default prefix of the \
             loaded libpython",
            build.executable
        ));
    }
    // SAFETY: the interpreter is not running; `init_from_config` is called once (STATE's
    // OnceLock) and leaves the GIL held by this thread on success.
    unsafe { init_from_config(program.as_deref(), library_note.is_some(), bundle)? };
    // SAFETY: Py_InitializeFromConfig succeeded on this thread, which now holds the GIL.
    let py = unsafe { Python::assume_attached() };
    let numpy = after_start(py, config);
    // SAFETY: this thread holds the GIL since initialisation; release it so that any thread can
    // attach (pyo3 and python4r attach with PyGILState_Ensure).
    unsafe { ffi::PyEval_SaveThread() };
    Ok(State {
        library,
        library_note,
        numpy: numpy?,
    })
}

/// `Ok` when the running interpreter was started by the process's own program being Python (this
/// code is an extension module, or was loaded by one): its `sys.executable` is this process's
/// executable. Otherwise something in this Rust program started Python before python4r could
/// set it up, and the error says what to do.
fn check_started_by_a_python_host(py: Python<'_>) -> Result<()> {
    let sys_executable: Option<PathBuf> = py
        .import("sys")
        .and_then(|sys| sys.getattr("executable"))
        .and_then(|exe| exe.extract::<Option<PathBuf>>())
        .ok()
        .flatten()
        .filter(|p| !p.as_os_str().is_empty());
    let same = |a: &Path, b: &Path| match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    let host = match (std::env::current_exe(), &sys_executable) {
        (Ok(exe), Some(python)) => same(&exe, python),
        _ => false,
    };
    if host {
        return Ok(());
    }
    Err(Error::Init(
        "Python was already running when python4r first needed it, started by something else \
         in this program (pyo3's `Python::attach`, whose `auto-initialize` feature starts Python \
         on first use, or another library), so python4r's set-up was not applied: the check of \
         which libpython was loaded, the environment (`sys.path`, `VIRTUAL_ENV`, the real Python \
         as `sys.executable`) and the PYTHON4R_* settings. Call `python4r::initialize()` at the \
         start of `main`, before anything else uses Python; pyo3 then uses the interpreter \
         python4r started"
            .to_owned(),
    ))
}

/// `foreign_library`: the loaded libpython is another build of the same version. Its frozen
/// standard-library modules (3.11+ freezes `site`, among others) may be patched by its
/// distributor (Debian's `site` looks in `dist-packages`), so the build interpreter's own `.py`
/// files are used instead.
///
/// # Safety
///
/// Python must not be running; on success the calling thread holds the GIL.
unsafe fn init_from_config(
    program: Option<&Path>,
    foreign_library: bool,
    bundle: Option<&Bundle>,
) -> Result<()> {
    let mut config = std::mem::MaybeUninit::<ffi::PyConfig>::uninit();
    // SAFETY: both initialisers fully initialise the struct they are given. A bundle ignores the
    // host's PYTHONHOME, PYTHONPATH and user site-packages (the isolated configuration).
    unsafe {
        if bundle.is_some() {
            ffi::PyConfig_InitIsolatedConfig(config.as_mut_ptr())
        } else {
            ffi::PyConfig_InitPythonConfig(config.as_mut_ptr())
        }
    };
    // SAFETY: initialised just above.
    let mut config = unsafe { config.assume_init() };
    // The host program owns signals: Ctrl-C is not turned into KeyboardInterrupt in Python.
    config.install_signal_handlers = 0;
    config.parse_argv = 0;
    #[cfg(Py_3_11)]
    if foreign_library {
        config.use_frozen_modules = 0;
    }
    #[cfg(not(Py_3_11))]
    let _ = foreign_library;
    let result = (|| {
        if let Some(bundle) = bundle {
            // SAFETY: `config` is initialised and Python is not running (caller's contract).
            unsafe { bundle::configure(&mut config, bundle)? };
        }
        if let Some(program) = program {
            let program = CString::new(program.as_os_str().as_encoded_bytes()).map_err(|_| {
                Error::Init(format!(
                    "interpreter path {} contains NUL",
                    program.display()
                ))
            })?;
            // SAFETY: `config` is initialised; `program_name` is one of its own fields; the
            // string is NUL-terminated and copied by Python.
            let status = unsafe {
                ffi::PyConfig_SetBytesString(
                    &mut config,
                    &mut config.program_name,
                    program.as_ptr(),
                )
            };
            check_status(status, "setting the program name")?;
        }
        // SAFETY: `config` is initialised and Python is not running (caller's contract).
        let status = unsafe { ffi::Py_InitializeFromConfig(&config) };
        check_status(status, "Py_InitializeFromConfig")
    })();
    // SAFETY: `config` was initialised by PyConfig_InitPythonConfig and is cleared once.
    unsafe { ffi::PyConfig_Clear(&mut config) };
    result
}

fn check_status(status: ffi::PyStatus, what: &str) -> Result<()> {
    // SAFETY: PyStatus_Exception only reads the struct passed by value.
    if unsafe { ffi::PyStatus_Exception(status) } == 0 {
        return Ok(());
    }
    let msg = if status.err_msg.is_null() {
        format!("exit code {}", status.exitcode)
    } else {
        // SAFETY: a non-null err_msg is a static NUL-terminated string set by CPython.
        unsafe { CStr::from_ptr(status.err_msg) }
            .to_string_lossy()
            .into_owned()
    };
    Err(Error::Init(format!("{what} failed: {msg}")))
}

/// Applies the `sys.path` configuration and imports numpy when asked. Returns whether numpy is
/// importable.
fn after_start(py: Python<'_>, config: &Config) -> Result<std::result::Result<(), String>> {
    crate::shutdown::install_exit_hook();
    let sys = py.import("sys").map_err(|e| Error::from_pyerr(py, e))?;
    crate::executable::set_sys_executable(&sys, python_executable(), BuildInfo::get().version)
        .map_err(|e| Error::from_pyerr(py, e))?;
    let path = sys
        .getattr("path")
        .and_then(|p| p.cast_into::<PyList>().map_err(Into::into))
        .map_err(|e| Error::from_pyerr(py, e))?;
    let entries: Vec<String> = config
        .paths
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let apply = || -> PyResult<()> {
        match config.path_append {
            PathAppend::Before => {
                for (i, entry) in entries.iter().enumerate() {
                    path.insert(i, entry)?;
                }
            }
            PathAppend::After => {
                for entry in &entries {
                    path.append(entry)?;
                }
            }
            PathAppend::None => {
                path.call_method1("clear", ())?;
                for entry in &entries {
                    path.append(entry)?;
                }
            }
        }
        Ok(())
    };
    apply().map_err(|e| Error::from_pyerr(py, e))?;

    if !config.numpy_import {
        return Ok(Err(
            "numpy import is switched off (PYTHON4R_NUMPY_IMPORT=false)".to_owned(),
        ));
    }
    if config.bf16 == config::Bf16Mode::MlDtypes {
        // ml_dtypes registers bfloat16 with numpy; it must come before any bfloat16 use.
        if let Err(e) = py.import("ml_dtypes") {
            warning::warn(format_args!(
                "PYTHON4R_BF16=ml_dtypes but ml_dtypes cannot be imported: {e}"
            ));
        }
    }
    Ok(py.import("numpy").map(|_| ()).map_err(|e| e.to_string()))
}

/// Reports what is embedded: version, executable, prefix, `sys.path`, the loaded libpython and
/// numpy. Starts Python if needed. Print it in bug reports.
///
/// # Example
///
/// ```
/// let info = python4r::interpreter_info()?;
/// assert!(info.version.starts_with(python4r::interpreter::BuildInfo::get().version));
/// println!("{info}");
/// # Ok::<(), python4r::Error>(())
/// ```
pub fn interpreter_info() -> Result<InterpreterInfo> {
    let state = state()?;
    Python::attach(|py| {
        let sys = py.import("sys").map_err(|e| Error::from_pyerr(py, e))?;
        let get = |name: &str| -> Result<String> {
            sys.getattr(name)
                .and_then(|v| v.str())
                .map(|s| s.to_string_lossy().into_owned())
                .map_err(|e| Error::from_pyerr(py, e))
        };
        let sys_path = sys
            .getattr("path")
            .and_then(|p| p.extract::<Vec<String>>())
            .map_err(|e| Error::from_pyerr(py, e))?;
        let numpy = match &state.numpy {
            Ok(()) => py
                .import("numpy")
                .and_then(|np| np.getattr("__version__"))
                .and_then(|v| v.extract::<String>())
                .map_err(|e| e.to_string()),
            Err(e) => Err(e.clone()),
        };
        Ok(InterpreterInfo {
            version: get("version")?,
            executable: python_executable(),
            sys_executable: get("executable")?,
            prefix: get("prefix")?,
            base_prefix: get("base_prefix")?,
            sys_path,
            library: state.library.clone(),
            library_note: state.library_note.clone(),
            numpy,
            build: BuildInfo::get(),
            // A bundle carries the managed environment's packages, not the environment.
            environment: environment::managed()
                .filter(|_| bundle::current().is_none())
                .map(|m| m.environment.clone()),
            lock: environment::managed()
                .filter(|_| bundle::current().is_none())
                .and_then(|m| m.lock.clone()),
            bundle: bundle::current().map(|b| b.dir.clone()),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn library_from_another_folder_of_the_same_version_is_noted() {
        let build = BuildInfo {
            version: "3.11",
            executable: "/x/bin/python3",
            lib_dir: "/nonexistent/lib",
            lib_name: "python3.11",
            shared: true,
        };
        let loaded = PathBuf::from("/usr/lib/libpython3.11.so.1.0");
        let version = major_minor(&loaded_version()).unwrap().to_owned();
        let build = BuildInfo {
            version: Box::leak(version.into_boxed_str()),
            ..build
        };
        let note = check_library(&build, Some(&loaded))
            .unwrap()
            .expect("a note");
        assert!(note.contains("python4r_build::configure()"), "{note}");
        assert!(note.contains("/nonexistent/lib"), "{note}");
    }

    #[test]
    fn library_of_another_version_is_an_error_saying_how_to_fix_it() {
        let build = BuildInfo {
            version: "2.7",
            executable: "/x/bin/python2",
            lib_dir: "/nonexistent/lib",
            lib_name: "python2.7",
            shared: true,
        };
        let err =
            check_library(&build, Some(Path::new("/usr/lib/libpython3.11.so.1.0"))).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("built for Python 2.7"), "{msg}");
        assert!(msg.contains("LD_LIBRARY_PATH=/nonexistent/lib"), "{msg}");
    }

    #[test]
    fn the_expected_library_needs_no_note() {
        let build = BuildInfo::get();
        if build.shared {
            let lib = std::fs::canonicalize(build.lib_dir)
                .unwrap()
                .join("libpython.so");
            assert_eq!(check_library(&build, Some(&lib)).unwrap(), None);
        }
    }
}
