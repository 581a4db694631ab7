//! The one error type of python4r-build: what went wrong while preparing a managed environment,
//! with what to do about it.

use std::fmt;
use std::path::PathBuf;

/// Why [`configure`](crate::configure) could not prepare the managed Python environment.
///
/// Every message says what was wrong and what to do; the previous environment, if there was one,
/// is left as it was.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// `[package.metadata.python4r]` of a `Cargo.toml` is malformed.
    Metadata {
        /// The manifest.
        manifest: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A requirement string is not valid PEP 508.
    InvalidRequirement {
        /// The string as written.
        requirement: String,
        /// The parser's message.
        message: String,
    },
    /// `python4r.lock` cannot be read or parsed.
    Lock {
        /// The lock file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The lock would have to change but `PYTHON4R_LOCKED=1` forbids it.
    LockOutdated {
        /// The lock file.
        path: PathBuf,
        /// Why it would change.
        reason: String,
    },
    /// The environment does not exist and the build is offline.
    Offline {
        /// Where the environment would be.
        environment: PathBuf,
        /// Which variable made the build offline.
        variable: &'static str,
    },
    /// The build interpreter cannot be found or run.
    Interpreter(String),
    /// A command (venv, pip, uv, rustc) failed.
    Command {
        /// What was being done.
        what: String,
        /// The command line.
        command: String,
        /// The end of its output.
        output: String,
    },
    /// A file operation failed.
    Io {
        /// What was being done.
        what: String,
        /// The underlying error.
        source: std::io::Error,
    },
}

impl Error {
    pub(crate) fn io(what: impl Into<String>, source: std::io::Error) -> Error {
        Error::Io {
            what: what.into(),
            source,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Metadata { manifest, message } => write!(
                f,
                "[package.metadata.python4r] in {}: {message}; expected \
                 `dependencies = [\"numpy>=1.26\", ...]` (PEP 508 strings)",
                manifest.display()
            ),
            Error::InvalidRequirement {
                requirement,
                message,
            } => write!(
                f,
                "invalid Python requirement {requirement:?} in [package.metadata.python4r] \
                 dependencies: {message}; write it as PEP 508, e.g. \"numpy>=1.26\" or \
                 \"scipy; python_version >= '3.10'\""
            ),
            Error::Lock { path, message } => write!(
                f,
                "cannot read {}: {message}; delete it to resolve the requirements again",
                path.display()
            ),
            Error::LockOutdated { path, reason } => write!(
                f,
                "{} must change ({reason}) but PYTHON4R_LOCKED=1 forbids it; build once without \
                 PYTHON4R_LOCKED and commit the new lock",
                path.display()
            ),
            Error::Offline {
                environment,
                variable,
            } => write!(
                f,
                "the managed Python environment {} does not exist and {variable} forbids \
                 installing it; build once online",
                environment.display()
            ),
            Error::Interpreter(message) => write!(f, "{message}"),
            Error::Command {
                what,
                command,
                output,
            } => write!(
                f,
                "{what} failed: `{command}`\n{output}\nThe previous environment, if any, is \
                 unchanged; fix [package.metadata.python4r] dependencies in Cargo.toml (a \
                 misspelt name, a version that does not exist for this Python) and build again"
            ),
            Error::Io { what, source } => write!(f, "{what}: {source}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// The result of python4r-build's fallible steps.
pub type Result<T> = std::result::Result<T, Error>;
