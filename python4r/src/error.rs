//! The one error type of python4r, and the Python exception it can carry.
//!
//! A leaf: it uses nothing of python4r but the [`DType`] table. Turning Python exceptions into
//! errors and back is [`crate::pyerr`]'s work.

use std::fmt;

use pyo3::prelude::*;

use crate::dtype::DType;

/// `Result` with python4r's [`Error`] as the default error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in python4r.
///
/// Each message says what happened, with which value, and what to do about it.
///
/// # Example
///
/// ```
/// let err = python4r::exec("raise ValueError('bad value')").unwrap_err();
/// let exc = err.python_exception().expect("a Python exception");
/// assert_eq!(exc.type_name(), "ValueError");
/// assert_eq!(exc.message(), "bad value");
/// assert_eq!(err.to_string(), "ValueError: bad value");
/// ```
///
/// # Printing
///
/// - `Display` (`{}`) is one line: `ZeroDivisionError: division by zero`, and for an exception
///   raised by a `#[py_exec]` function, where its code is written: `ZeroDivisionError: division
///   by zero (in `ratio`, src/stats.rs:42, line 3 of its code)`.
/// - `{:#}` adds the Python traceback, as Python prints it.
/// - `Debug` (`{:?}`, what `fn main() -> python4r::Result<()>` prints) is a report: the message,
///   the traceback, then the `Caused by:` chain of the underlying errors.
/// - `{:#?}` dumps the fields.
///
/// ```
/// let err = python4r::exec("def f():\n    return 1 / 0\nf()").unwrap_err();
/// assert_eq!(err.to_string(), "ZeroDivisionError: division by zero");
/// let with_traceback = format!("{err:#}");
/// assert!(with_traceback.starts_with("ZeroDivisionError: division by zero\n\nTraceback (most recent call last):"));
/// assert!(with_traceback.contains("in f"));
/// assert_eq!(format!("{err:?}"), with_traceback);
/// assert!(format!("{err:#?}").starts_with("Python(\n    PyException {\n        type_name: \"ZeroDivisionError\","));
/// ```
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The Python code raised an exception (`SyntaxError`, `SystemExit` and `KeyboardInterrupt`
    /// included: none of them exits the host process).
    #[error(transparent)]
    Python(Box<PyException>),

    /// A value could not be converted between Rust and Python.
    #[error("{}", conversion_message(.variable.as_deref(), .expected, .found, .reason))]
    Conversion {
        /// The Python variable (or input, or output) being converted, when known.
        variable: Option<String>,
        /// The Rust type that was expected.
        expected: String,
        /// The Python type that was found.
        found: String,
        /// Why the conversion failed.
        reason: String,
    },

    /// arrow-rs refused an operation, or an Arrow value could not reach Python (feature
    /// `arrow`): the message says which and why.
    #[cfg(feature = "arrow")]
    #[error("Arrow: {0}")]
    Arrow(String),

    /// An output variable was read that the code never defined.
    #[error(
        "Python variable `{name}` is not defined after running the code: assign it in the code, \
         or ask for one of the variables it defines"
    )]
    UndefinedVariable {
        /// The variable's name.
        name: String,
    },

    /// The embedded interpreter could not be set up.
    #[error("cannot start the embedded Python interpreter: {0}")]
    Init(String),

    /// A configuration was applied after the interpreter had already started.
    #[error(
        "python4r is already initialised: apply the configuration before the first call that uses \
         Python (or set the PYTHON4R_* environment variables before starting the program)"
    )]
    AlreadyInitialized,

    /// A configuration value is invalid.
    #[error("invalid configuration: {0}")]
    Config(String),

    /// numpy cannot be imported by the embedded interpreter.
    #[error(
        "numpy is not importable by the embedded Python ({interpreter}): {reason}. Install it with \
         `{install_command}`"
    )]
    NumpyUnavailable {
        /// The executable of the embedded interpreter.
        interpreter: String,
        /// The import error.
        reason: String,
        /// The command that installs numpy into that interpreter's environment.
        install_command: String,
    },

    /// numpy was switched off with `PYTHON4R_NUMPY_IMPORT=false` (or the builder).
    #[error(
        "numpy is switched off (PYTHON4R_NUMPY_IMPORT=false or Config::numpy_import(false)): \
         tensors cannot cross to Python; unset it to use the NumPy bridge"
    )]
    NumpyDisabled,

    /// A context operation was refused.
    #[error("{0}")]
    Context(String),

    /// A Python subprocess (`python`, `pip`) failed.
    #[error("`{command}` failed ({status}): {stderr}")]
    Process {
        /// The command line that was run.
        command: String,
        /// How it ended.
        status: String,
        /// What it printed on standard error (trimmed).
        stderr: String,
    },

    /// An I/O error, with what python4r was doing.
    #[error("{context}: {source}")]
    Io {
        /// What python4r was doing.
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },

    // Tensor errors
    /// A shape does not fit the data, the index or the operation.
    #[error("shape mismatch: {0}")]
    ShapeMismatch(String),
    /// A shape's element count or size in bytes overflows `isize`.
    #[error("shape {shape:?} is too large: its element count or size in bytes overflows isize")]
    ShapeOverflow {
        /// The shape asked for.
        shape: Vec<usize>,
    },
    /// A tensor was read as a Rust element type that is not its dtype.
    #[error(
        "the tensor's dtype is {actual}, not {requested}: read it as its own element type, or \
         `cast(DType::...)` it first"
    )]
    DTypeMismatch {
        /// The dtype of the element type asked for.
        requested: DType,
        /// The tensor's dtype.
        actual: DType,
    },
    /// The tensor's memory layout does not allow the operation.
    #[error("{0}")]
    Layout(String),
    /// A date or duration has no value in the type asked for: a date tensor read as chrono
    /// values has one beyond chrono's range, a duration in months has no fixed length, a chrono
    /// value does not fit the tensor's unit, or the tensor holds no dates at all.
    #[error("{0}")]
    DateTime(String),
    /// A foreign dtype (numpy's, or a DLPack producer's) that python4r's tensors do not hold.
    #[error("{}", unsupported_dtype_message(.dtype, .variable.as_deref(), .reason))]
    UnsupportedDType {
        /// The foreign dtype's name (`complex128`, `<U4`, `DLPack type code 5, 64 bits, 1 lanes`).
        dtype: String,
        /// The Python variable (or input, or output) being converted, when known.
        variable: Option<String>,
        /// What a tensor holds instead, and how to convert the data.
        reason: String,
    },
    /// Memory on a device the CPU cannot address (a CUDA tensor through DLPack).
    #[error(
        "the tensor is on device {device}, not the CPU: copy it to the CPU first (`.cpu()` in \
         torch, `jax.device_get` in jax)"
    )]
    UnsupportedDevice {
        /// The device, as DLPack names it (`CUDA:0`).
        device: String,
    },

    // Reliability errors
    /// A Python call was stopped by an [`Interrupter`](crate::interrupt::Interrupter) or by
    /// [`with_timeout`](crate::interrupt::with_timeout).
    #[error(
        "the Python call was interrupted: {reason}. python4r is still usable; the error's \
         `traceback` shows where the code stopped"
    )]
    Interrupted {
        /// Why: `timed out after 2s`, or `Interrupter::interrupt was called`.
        reason: String,
        /// The traceback of the `python4r.Interrupted` exception: where the code was stopped.
        traceback: String,
    },
    /// A tensor's memory could not be allocated (the shape is valid, but too big for this
    /// machine).
    #[error(
        "cannot allocate {bytes} bytes for a tensor of shape {shape:?}: not enough memory; use a \
         smaller shape, or process it in pieces"
    )]
    AllocationFailed {
        /// The shape asked for.
        shape: Vec<usize>,
        /// The bytes asked for.
        bytes: usize,
    },

    /// A call after [`shutdown`](crate::shutdown) (or after the process began to exit): Python's
    /// exit handlers have run, so no more Python code runs.
    #[error(
        "python4r is shut down: Python's exit handlers have run (python4r::shutdown(), or the \
         process is exiting), so no more Python code runs; make every Python call before shutting \
         down"
    )]
    ShutDown,
}

fn conversion_message(variable: Option<&str>, expected: &str, found: &str, reason: &str) -> String {
    let subject = match variable {
        Some(name) => format!("Python variable `{name}`"),
        None => "a Python value".to_owned(),
    };
    let mut msg = format!("cannot convert {subject} of type `{found}` to Rust `{expected}`");
    if !reason.is_empty() {
        msg.push_str(": ");
        msg.push_str(reason);
    }
    msg
}

fn unsupported_dtype_message(dtype: &str, variable: Option<&str>, reason: &str) -> String {
    match variable {
        Some(name) => format!("unsupported dtype `{dtype}` of Python variable `{name}`: {reason}"),
        None => format!("unsupported dtype `{dtype}`: {reason}"),
    }
}

impl Error {
    /// The Python exception, when this error is one.
    pub fn python_exception(&self) -> Option<&PyException> {
        match self {
            Error::Python(exc) => Some(exc),
            _ => None,
        }
    }

    /// Adds the name of the variable being converted to a conversion error; other errors are
    /// returned as they are.
    pub(crate) fn with_variable(self, name: &str) -> Error {
        match self {
            Error::Conversion {
                variable: None,
                expected,
                found,
                reason,
            } => Error::Conversion {
                variable: Some(name.to_owned()),
                expected,
                found,
                reason,
            },
            Error::UnsupportedDType {
                dtype,
                variable: None,
                reason,
            } => Error::UnsupportedDType {
                dtype,
                variable: Some(name.to_owned()),
                reason,
            },
            other => other,
        }
    }

    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Error {
        Error::Io {
            context: context.into(),
            source,
        }
    }
}

impl fmt::Debug for Error {
    /// A report (the message, the traceback, the `Caused by:` chain), or with `{:#?}` the fields.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if f.alternate() {
            return self.dump(f);
        }
        match self {
            Error::Python(exception) => write!(f, "{exception:#}")?,
            Error::Interrupted { traceback, .. } if !traceback.is_empty() => {
                write!(f, "{self}\n\n{traceback}")?
            }
            _ => write!(f, "{self}")?,
        }
        let mut source = std::error::Error::source(self);
        if source.is_some() {
            f.write_str("\n\nCaused by:")?;
        }
        let mut index = 0;
        while let Some(cause) = source {
            write!(f, "\n    {index}: {cause}")?;
            index += 1;
            source = cause.source();
        }
        Ok(())
    }
}

impl Error {
    /// The fields, as `#[derive(Debug)]` would print them.
    fn dump(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Python(exception) => f.debug_tuple("Python").field(exception).finish(),
            Error::Conversion {
                variable,
                expected,
                found,
                reason,
            } => f
                .debug_struct("Conversion")
                .field("variable", variable)
                .field("expected", expected)
                .field("found", found)
                .field("reason", reason)
                .finish(),
            Error::UndefinedVariable { name } => f
                .debug_struct("UndefinedVariable")
                .field("name", name)
                .finish(),
            Error::Init(message) => f.debug_tuple("Init").field(message).finish(),
            Error::AlreadyInitialized => f.write_str("AlreadyInitialized"),
            Error::Config(message) => f.debug_tuple("Config").field(message).finish(),
            #[cfg(feature = "arrow")]
            Error::Arrow(message) => f.debug_tuple("Arrow").field(message).finish(),
            Error::NumpyUnavailable {
                interpreter,
                reason,
                install_command,
            } => f
                .debug_struct("NumpyUnavailable")
                .field("interpreter", interpreter)
                .field("reason", reason)
                .field("install_command", install_command)
                .finish(),
            Error::NumpyDisabled => f.write_str("NumpyDisabled"),
            Error::Context(message) => f.debug_tuple("Context").field(message).finish(),
            Error::Process {
                command,
                status,
                stderr,
            } => f
                .debug_struct("Process")
                .field("command", command)
                .field("status", status)
                .field("stderr", stderr)
                .finish(),
            Error::Io { context, source } => f
                .debug_struct("Io")
                .field("context", context)
                .field("source", source)
                .finish(),
            Error::ShapeMismatch(message) => f.debug_tuple("ShapeMismatch").field(message).finish(),
            Error::ShapeOverflow { shape } => f
                .debug_struct("ShapeOverflow")
                .field("shape", shape)
                .finish(),
            Error::DTypeMismatch { requested, actual } => f
                .debug_struct("DTypeMismatch")
                .field("requested", requested)
                .field("actual", actual)
                .finish(),
            Error::Layout(message) => f.debug_tuple("Layout").field(message).finish(),
            Error::DateTime(message) => f.debug_tuple("DateTime").field(message).finish(),
            Error::UnsupportedDType {
                dtype,
                variable,
                reason,
            } => f
                .debug_struct("UnsupportedDType")
                .field("dtype", dtype)
                .field("variable", variable)
                .field("reason", reason)
                .finish(),
            Error::UnsupportedDevice { device } => f
                .debug_struct("UnsupportedDevice")
                .field("device", device)
                .finish(),
            Error::Interrupted { reason, traceback } => f
                .debug_struct("Interrupted")
                .field("reason", reason)
                .field("traceback", traceback)
                .finish(),
            Error::AllocationFailed { shape, bytes } => f
                .debug_struct("AllocationFailed")
                .field("shape", shape)
                .field("bytes", bytes)
                .finish(),
            Error::ShutDown => f.write_str("ShutDown"),
        }
    }
}

// An error is a value that nothing changes after it is made (a `PyErr` normalises itself once,
// under its own lock), so using one after a panic observes nothing half-done; as `anyhow::Error`.
impl std::panic::UnwindSafe for Error {}
impl std::panic::RefUnwindSafe for Error {}
impl std::panic::UnwindSafe for PyException {}
impl std::panic::RefUnwindSafe for PyException {}

impl From<std::convert::Infallible> for Error {
    fn from(never: std::convert::Infallible) -> Error {
        match never {}
    }
}

/// A Python exception raised by code that python4r ran.
///
/// It keeps the exception object itself ([`PyException::value`]), so code can match it by type
/// (subclasses included) with [`PyException::is_instance_of`], and walk `__cause__` /
/// `__context__`.
pub struct PyException {
    pub(crate) type_name: String,
    pub(crate) message: String,
    pub(crate) traceback: String,
    pub(crate) location: Option<(usize, usize)>,
    pub(crate) origin: Option<CodeOrigin>,
    pub(crate) err: PyErr,
}

/// Where the code of a `#[py_exec]` function that raised an exception is written.
///
/// ```
/// use python4r::py_exec;
///
/// #[py_exec(code = "result = a / b")]
/// fn ratio(a: f64, b: f64) -> python4r::Result<f64>;
///
/// let err = ratio(1.0, 0.0).unwrap_err();
/// let origin = err.python_exception().unwrap().origin().unwrap();
/// assert_eq!(origin.function, "ratio");
/// assert_eq!((origin.file.as_str(), origin.line), (file!(), line!() - 6));
/// assert_eq!(origin.code_line, Some(1));
/// assert_eq!(
///     err.to_string(),
///     format!("ZeroDivisionError: float division by zero (in `ratio`, {}:{}, line 1 of its code)", file!(), origin.line)
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CodeOrigin {
    /// The Rust function's name.
    pub function: String,
    /// Whether the exception came from the function's `setup` code rather than its body.
    pub setup: bool,
    /// The file the code is written in: the Rust source file, or the `.py` script.
    pub file: String,
    /// The line of that file where the code starts.
    pub line: u32,
    /// The line within the code (1-based, counting the lines of the code as written) that was
    /// running when the exception was raised, when the traceback says.
    pub code_line: Option<usize>,
}

impl fmt::Display for CodeOrigin {
    /// `in `ratio`, src/stats.rs:42, line 3 of its code`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.setup {
            write!(f, "in the setup of `{}`", self.function)?;
        } else {
            write!(f, "in `{}`", self.function)?;
        }
        write!(f, ", {}:{}", self.file, self.line)?;
        if let Some(line) = self.code_line {
            write!(f, ", line {line} of its code")?;
        }
        Ok(())
    }
}

impl PyException {
    /// The exception's type: its name for built-in exceptions (`ValueError`), else
    /// `module.QualifiedName`.
    pub fn type_name(&self) -> &str {
        &self.type_name
    }

    /// `str(exception)`: empty for `raise ValueError()`.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The traceback, formatted as Python prints it (ends with the `Type: message` line).
    pub fn traceback(&self) -> &str {
        &self.traceback
    }

    /// For a `SyntaxError`: the line (1-based) and column (1-based) where it was found.
    pub fn syntax_location(&self) -> Option<(usize, usize)> {
        self.location
    }

    /// For an exception raised by the code of a `#[py_exec]` function: where that code is
    /// written.
    pub fn origin(&self) -> Option<&CodeOrigin> {
        self.origin.as_ref()
    }

    /// The exception object.
    pub fn value<'py>(&self, py: Python<'py>) -> &Bound<'py, pyo3::exceptions::PyBaseException> {
        self.err.value(py)
    }

    /// Whether the exception is an instance of `T` (a subclass counts).
    ///
    /// ```
    /// use python4r::pyo3::exceptions::PyLookupError;
    /// let err = python4r::exec("{}['missing']").unwrap_err();
    /// let exc = err.python_exception().unwrap();
    /// assert!(python4r::with_gil(|py| Ok(exc.is_instance_of::<PyLookupError>(py))).unwrap());
    /// ```
    pub fn is_instance_of<T: pyo3::PyTypeInfo>(&self, py: Python<'_>) -> bool {
        self.err.is_instance_of::<T>(py)
    }

    /// The underlying pyo3 error (to re-raise it in Python, for instance).
    pub fn into_pyerr(self) -> PyErr {
        self.err
    }
}

impl fmt::Display for PyException {
    /// `Type: message`, then where a `#[py_exec]` function's code is written; with `{:#}`, the
    /// traceback after a blank line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.type_name)?;
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        if let Some(origin) = &self.origin {
            write!(f, " ({origin})")?;
        }
        if f.alternate() && !self.traceback.is_empty() {
            write!(f, "\n\n{}", self.traceback)?;
        }
        Ok(())
    }
}

impl fmt::Debug for PyException {
    /// As `{:#}` (the message and the traceback), or with `{:#?}` the fields.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !f.alternate() {
            return write!(f, "{self:#}");
        }
        f.debug_struct("PyException")
            .field("type_name", &self.type_name)
            .field("message", &self.message)
            .field("syntax_location", &self.location)
            .field("origin", &self.origin)
            .field("traceback", &self.traceback)
            .finish()
    }
}

impl std::error::Error for PyException {}
