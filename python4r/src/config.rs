//! Configuration of the embedded interpreter: python4j's properties as `PYTHON4R_*` environment
//! variables, and a builder that sets the same before Python starts.
//!
//! | variable | values | default | meaning |
//! |---|---|---|---|
//! | `PYTHON4R_PATH` | paths, separated by `:` (`;` on Windows) | empty | extra `sys.path` entries |
//! | `PYTHON4R_PATH_APPEND` | `before`, `after`, `none` | `before` | put them before or after the default `sys.path`, or make them the whole of it |
//! | `PYTHON4R_NUMPY_IMPORT` | `true`, `false` | `true` | import numpy at start-up; `false` never imports it (tensors cannot cross) |
//! | `PYTHON4R_BF16` | `cast`, `ml_dtypes` | `cast` | how bfloat16 tensors cross: a float32 copy, or zero-copy as `ml_dtypes.bfloat16` |
//! | `PYTHON4R_WARNINGS` | `on`, `off` | `on` | whether warnings are printed on standard error when no `log` logger is installed (read at each warning) |
//! | `PYTHON4R_EXIT_TIMEOUT` | seconds (`2.5`) | `10` | how long the process waits at exit for Python's exit handlers ([`shutdown`](crate::shutdown)); `0` skips them |

use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use crate::error::{Error, Result};

/// Where the [`Config::path`] entries go in `sys.path`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PathAppend {
    /// Before the interpreter's own entries (the default): they take precedence.
    #[default]
    Before,
    /// After the interpreter's own entries.
    After,
    /// Instead of them: `sys.path` is exactly the configured entries.
    None,
}

/// How bfloat16 tensors reach Python, which has no bfloat16 in numpy itself.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Bf16Mode {
    /// Pass a float32 copy (a warning is logged once per call site), as python4j does.
    #[default]
    CastToF32,
    /// Pass the memory itself as an `ml_dtypes.bfloat16` array (needs the `ml_dtypes` package).
    MlDtypes,
}

/// How long the process waits at exit for Python's exit handlers, unless configured.
pub const DEFAULT_EXIT_TIMEOUT: Duration = Duration::from_secs(10);

/// The interpreter's configuration. Build one with [`Config::from_env`] or [`Config::default`],
/// adjust it, and [`apply`](Config::apply) it before the first use of Python.
///
/// # Example
///
/// ```
/// use python4r::config::{Config, PathAppend};
///
/// let applied = Config::from_env()?
///     .path("/opt/my-models/python")
///     .path_append(PathAppend::After)
///     .apply();
/// // In a doctest Python may already be running; in a program's `main` this succeeds.
/// if let Err(err) = applied {
///     assert!(matches!(err, python4r::Error::AlreadyInitialized));
/// }
/// # Ok::<(), python4r::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Config {
    /// The extra `sys.path` entries (`PYTHON4R_PATH`).
    pub paths: Vec<PathBuf>,
    /// Where the extra entries go (`PYTHON4R_PATH_APPEND`).
    pub path_append: PathAppend,
    /// Whether numpy is imported at start-up (`PYTHON4R_NUMPY_IMPORT`).
    pub numpy_import: bool,
    /// How bfloat16 tensors cross (`PYTHON4R_BF16`).
    pub bf16: Bf16Mode,
    /// How long the process waits at exit for Python's exit handlers (`PYTHON4R_EXIT_TIMEOUT`).
    pub exit_timeout: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            paths: Vec::new(),
            path_append: PathAppend::Before,
            numpy_import: true,
            bf16: Bf16Mode::CastToF32,
            exit_timeout: DEFAULT_EXIT_TIMEOUT,
        }
    }
}

impl Config {
    /// The configuration the `PYTHON4R_*` environment variables describe (the defaults where one
    /// is unset). An invalid value is an error that names the variable and the values allowed.
    pub fn from_env() -> Result<Config> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config> {
        let mut config = Config::default();
        if let Some(paths) = get("PYTHON4R_PATH") {
            config.paths = std::env::split_paths(&paths)
                .filter(|p| !p.as_os_str().is_empty())
                .collect();
        }
        if let Some(append) = get("PYTHON4R_PATH_APPEND") {
            config.path_append = match append.trim().to_ascii_lowercase().as_str() {
                "before" | "" => PathAppend::Before,
                "after" => PathAppend::After,
                "none" => PathAppend::None,
                other => {
                    return Err(Error::Config(format!(
                        "PYTHON4R_PATH_APPEND is `{other}`; use `before`, `after` or `none`"
                    )));
                }
            };
        }
        if let Some(import) = get("PYTHON4R_NUMPY_IMPORT") {
            config.numpy_import = parse_bool("PYTHON4R_NUMPY_IMPORT", &import)?;
        }
        if let Some(mode) = get("PYTHON4R_BF16") {
            config.bf16 = match mode.trim().to_ascii_lowercase().as_str() {
                "cast" | "float32" | "" => Bf16Mode::CastToF32,
                "ml_dtypes" => Bf16Mode::MlDtypes,
                other => {
                    return Err(Error::Config(format!(
                        "PYTHON4R_BF16 is `{other}`; use `cast` or `ml_dtypes`"
                    )));
                }
            };
        }
        if let Some(seconds) = get("PYTHON4R_EXIT_TIMEOUT") {
            config.exit_timeout = seconds
                .trim()
                .parse::<f64>()
                .ok()
                .and_then(|s| Duration::try_from_secs_f64(s).ok())
                .ok_or_else(|| {
                    Error::Config(format!(
                        "PYTHON4R_EXIT_TIMEOUT is `{}`; use a number of seconds (`10`, `2.5`), or \
                         `0` to skip Python's exit handlers",
                        seconds.trim()
                    ))
                })?;
        }
        Ok(config)
    }

    /// Adds an entry to `sys.path`.
    pub fn path(mut self, path: impl Into<PathBuf>) -> Self {
        self.paths.push(path.into());
        self
    }

    /// Where the added entries go (see [`PathAppend`]).
    pub fn path_append(mut self, append: PathAppend) -> Self {
        self.path_append = append;
        self
    }

    /// Whether numpy is imported at start-up (default `true`). With `false`, numpy is never
    /// imported, tensors cannot cross, and everything else works.
    pub fn numpy_import(mut self, import: bool) -> Self {
        self.numpy_import = import;
        self
    }

    /// How bfloat16 tensors cross to Python.
    pub fn bf16(mut self, mode: Bf16Mode) -> Self {
        self.bf16 = mode;
        self
    }

    /// How long the process waits at exit for Python's exit handlers (default
    /// [`DEFAULT_EXIT_TIMEOUT`]); zero skips them. See [`shutdown`](crate::shutdown), which runs
    /// them without a time limit when called before the program ends.
    pub fn exit_timeout(mut self, timeout: Duration) -> Self {
        self.exit_timeout = timeout;
        self
    }

    /// Makes this the configuration the interpreter starts with.
    ///
    /// # Errors
    ///
    /// [`Error::AlreadyInitialized`] once python4r has started Python.
    pub fn apply(self) -> Result<()> {
        let mut pending = PENDING.lock().unwrap_or_else(|e| e.into_inner());
        if ACTIVE.get().is_some() {
            return Err(Error::AlreadyInitialized);
        }
        *pending = Some(self);
        Ok(())
    }
}

fn parse_bool(name: &str, value: &str) -> Result<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        other => Err(Error::Config(format!(
            "{name} is `{other}`; use `true` or `false`"
        ))),
    }
}

static PENDING: Mutex<Option<Config>> = Mutex::new(None);
static ACTIVE: OnceLock<Config> = OnceLock::new();

/// Fixes the configuration for the life of the process (called once, at start-up): the applied
/// one, else the environment's.
pub(crate) fn freeze() -> Result<&'static Config> {
    let mut pending = PENDING.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(active) = ACTIVE.get() {
        return Ok(active);
    }
    let config = match pending.take() {
        Some(config) => config,
        None => Config::from_env()?,
    };
    Ok(ACTIVE.get_or_init(|| config))
}

/// The configuration in force, once python4r has started Python (`None` before).
pub fn current() -> Option<&'static Config> {
    ACTIVE.get()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn defaults_without_variables() {
        assert_eq!(Config::from_lookup(lookup(&[])).unwrap(), Config::default());
    }

    #[test]
    fn reads_every_variable() {
        let config = Config::from_lookup(lookup(&[
            ("PYTHON4R_PATH", "/a:/b"),
            ("PYTHON4R_PATH_APPEND", "after"),
            ("PYTHON4R_NUMPY_IMPORT", "false"),
            ("PYTHON4R_BF16", "ml_dtypes"),
            ("PYTHON4R_EXIT_TIMEOUT", "2.5"),
        ]))
        .unwrap();
        assert_eq!(config.paths, [PathBuf::from("/a"), PathBuf::from("/b")]);
        assert_eq!(config.path_append, PathAppend::After);
        assert!(!config.numpy_import);
        assert_eq!(config.bf16, Bf16Mode::MlDtypes);
        assert_eq!(config.exit_timeout, Duration::from_millis(2500));
    }

    #[test]
    fn invalid_values_name_the_variable() {
        let err = Config::from_lookup(lookup(&[("PYTHON4R_PATH_APPEND", "middle")])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid configuration: PYTHON4R_PATH_APPEND is `middle`; use `before`, `after` or `none`"
        );
        let err = Config::from_lookup(lookup(&[("PYTHON4R_NUMPY_IMPORT", "maybe")])).unwrap_err();
        assert!(
            err.to_string().contains("PYTHON4R_NUMPY_IMPORT is `maybe`"),
            "{err}"
        );
        let err = Config::from_lookup(lookup(&[("PYTHON4R_BF16", "f8")])).unwrap_err();
        assert!(err.to_string().contains("PYTHON4R_BF16 is `f8`"), "{err}");
        for bad in ["-1", "soon", "inf"] {
            let err = Config::from_lookup(lookup(&[("PYTHON4R_EXIT_TIMEOUT", bad)])).unwrap_err();
            let msg = err.to_string();
            assert!(
                msg.contains(&format!("PYTHON4R_EXIT_TIMEOUT is `{bad}`")),
                "{msg}"
            );
        }
    }
}
