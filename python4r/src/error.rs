//! The one error type of python4r, and the Python exception it can carry.

use std::fmt;

use pyo3::prelude::*;
use pyo3::types::{PyString, PyTraceback, PyType};

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
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The Python code raised an exception (`SyntaxError`, `SystemExit` and `KeyboardInterrupt`
    /// included: none of them exits the host process).
    #[error("{0}")]
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
        requested: crate::DType,
        /// The tensor's dtype.
        actual: crate::DType,
    },
    /// The tensor's memory layout does not allow the operation.
    #[error("{0}")]
    Layout(String),
    /// A foreign dtype (numpy, DLPack) that python4r's tensors do not support.
    #[error("unsupported dtype `{dtype}`: {reason}")]
    UnsupportedDType {
        /// The foreign dtype's name.
        dtype: String,
        /// What is supported instead.
        reason: String,
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

impl Error {
    /// Turns a pyo3 error into an [`Error::Python`], keeping the exception's type name, message,
    /// formatted traceback, and line and column for a `SyntaxError`.
    ///
    /// The exception an [`Interrupter`](crate::interrupt::Interrupter) raises becomes
    /// [`Error::Interrupted`] instead.
    pub fn from_pyerr(py: Python<'_>, err: PyErr) -> Error {
        if let Some(carried) = carried_error(py, &err) {
            return carried;
        }
        if crate::interrupt::is_interrupted_exception(py, &err) {
            let exception = PyException::new(py, err);
            return crate::interrupt::error_from_exception(exception.traceback);
        }
        Error::Python(Box::new(PyException::new(py, err)))
    }

    /// A conversion error for `value`, expected to become the Rust type `expected`.
    pub fn conversion(
        value: &Bound<'_, PyAny>,
        expected: &str,
        reason: impl Into<String>,
    ) -> Error {
        Error::Conversion {
            variable: None,
            expected: expected.to_owned(),
            found: type_name(&value.get_type()),
            reason: reason.into(),
        }
    }

    /// Adds the name of the variable being converted to a conversion error; other errors are
    /// returned as they are.
    pub fn with_variable(self, name: &str) -> Error {
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
            other => other,
        }
    }

    /// The Python exception, when this error is one.
    pub fn python_exception(&self) -> Option<&PyException> {
        match self {
            Error::Python(exc) => Some(exc),
            _ => None,
        }
    }

    /// The error for a tensor that cannot cross because numpy is unusable:
    /// [`Error::NumpyDisabled`] when it is switched off, else [`Error::NumpyUnavailable`] naming
    /// the interpreter and the exact `pip install` command. `Ok` when numpy is usable.
    pub fn check_numpy(_py: Python<'_>) -> Result<()> {
        crate::interpreter::ensure_numpy()
    }

    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Error {
        Error::Io {
            context: context.into(),
            source,
        }
    }
}

impl From<PyErr> for Error {
    /// As [`Error::from_pyerr`], so that `?` works on pyo3 results inside
    /// [`with_gil`](crate::with_gil).
    fn from(err: PyErr) -> Error {
        Python::attach(|py| Error::from_pyerr(py, err))
    }
}

impl From<Error> for PyErr {
    /// Back to a Python exception, for Rust code that Python calls (a `#[pyfunction]`, a
    /// `PyCFunction` closure) and that uses python4r inside: a Python exception is re-raised as
    /// it was (type, traceback and chain kept), an interruption stays `python4r.Interrupted` so
    /// it keeps unwinding the outer Python code, a conversion error becomes `TypeError`, an
    /// undefined variable `NameError`, anything else `RuntimeError` with the error's message.
    ///
    /// ```
    /// use python4r::pyo3::prelude::*;
    /// use python4r::pyo3::exceptions::PyNameError;
    ///
    /// let err: PyErr = python4r::get::<i64>("never_defined").unwrap_err().into();
    /// python4r::with_gil(|py| {
    ///     assert!(err.is_instance_of::<PyNameError>(py));
    ///     Ok(())
    /// })?;
    /// # Ok::<(), python4r::Error>(())
    /// ```
    fn from(err: Error) -> PyErr {
        use pyo3::exceptions::{PyNameError, PyRuntimeError, PyTypeError};
        match err {
            Error::Python(exception) => exception.into_pyerr(),
            Error::Interrupted { .. } => crate::interrupt::Interrupted::new_err(err.to_string()),
            Error::Conversion { .. } => PyTypeError::new_err(err.to_string()),
            Error::UndefinedVariable { .. } => PyNameError::new_err(err.to_string()),
            other => PyRuntimeError::new_err(other.to_string()),
        }
    }
}

/// The python4r error an exception carries across Python, taken back out.
#[pyo3::pyclass(frozen, name = "RustError", module = "python4r")]
struct Carrier(std::sync::Mutex<Option<Error>>);

const CARRIER_ATTRIBUTE: &str = "_python4r_error";

/// `exception`, carrying `error` so that [`Error::from_pyerr`] gives `error` back when the
/// exception reaches python4r again (a python4r error raised inside a pyo3 conversion, which can
/// only return a Python exception, keeps its variant and fields).
pub(crate) fn carry(error: Error, exception: PyErr) -> PyErr {
    Python::attach(|py| {
        let carrier = Carrier(std::sync::Mutex::new(Some(error)));
        if let Ok(carrier) = Bound::new(py, carrier) {
            // An exception instance accepts attributes; if it refuses, the exception still says
            // what went wrong.
            let _ = exception.value(py).setattr(CARRIER_ATTRIBUTE, carrier);
        }
        exception
    })
}

fn carried_error(py: Python<'_>, err: &PyErr) -> Option<Error> {
    let value = err.value(py);
    let carrier = value.getattr(CARRIER_ATTRIBUTE).ok()?;
    let carrier = carrier.cast::<Carrier>().ok()?;
    carrier
        .get()
        .0
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take()
}

/// A Python exception raised by code that python4r ran.
///
/// It keeps the exception object itself ([`PyException::value`]), so code can match it by type
/// (subclasses included) with [`PyException::is_instance_of`], and walk `__cause__` /
/// `__context__`.
pub struct PyException {
    type_name: String,
    message: String,
    traceback: String,
    location: Option<(usize, usize)>,
    err: PyErr,
}

impl PyException {
    pub(crate) fn new(py: Python<'_>, err: PyErr) -> PyException {
        let value = err.value(py);
        let type_name = type_name(&value.get_type());
        let message = safe_str(value);
        let traceback = format_exception(py, &err)
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| {
                if message.is_empty() {
                    type_name.clone()
                } else {
                    format!("{type_name}: {message}")
                }
            });
        let location = syntax_location(value);
        PyException {
            type_name,
            message,
            traceback,
            location,
            err,
        }
    }

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

    /// Whether the exception is an instance of the Python class `class` (a subclass counts):
    /// for exception classes that only Python code knows, such as one the code defined or one of
    /// a Python package.
    ///
    /// # Errors
    ///
    /// [`Error::Python`] with a `TypeError` when `class` is not a class (or tuple of classes).
    ///
    /// ```
    /// let ctx = python4r::Context::new();
    /// ctx.exec("class AppError(Exception): pass\nclass NotFound(AppError): pass")?;
    /// let err = ctx.exec("raise NotFound('user 7')").unwrap_err();
    /// let exc = err.python_exception().unwrap();
    /// python4r::with_gil(|py| {
    ///     use python4r::pyo3::types::PyDictMethods;
    ///     let app_error = ctx.globals(py).get_item("AppError")?.unwrap();
    ///     assert!(exc.is_instance(py, &app_error)?);
    ///     Ok(())
    /// })?;
    /// # Ok::<(), python4r::Error>(())
    /// ```
    pub fn is_instance(&self, py: Python<'_>, class: &Bound<'_, PyAny>) -> Result<bool> {
        self.err
            .value(py)
            .is_instance(class)
            .map_err(|e| Error::from_pyerr(py, e))
    }

    /// The exceptions that led to this one, nearest first, as Python's traceback prints them:
    /// at each step `__cause__` when set, else `__context__` unless `raise ... from None`
    /// suppressed it. Stops at an exception already seen (a cycle made by hand).
    ///
    /// ```
    /// let code = "try:\n    {}['k']\nexcept KeyError as e:\n    raise ValueError('bad key') from e";
    /// let err = python4r::exec(code).unwrap_err();
    /// let exc = err.python_exception().unwrap();
    /// let chain = python4r::with_gil(|py| Ok(exc.chain(py)))?;
    /// assert_eq!(chain.len(), 1);
    /// assert_eq!(chain[0].type_name(), "KeyError");
    /// # Ok::<(), python4r::Error>(())
    /// ```
    pub fn chain(&self, py: Python<'_>) -> Vec<PyException> {
        let mut seen = vec![self.err.value(py).as_ptr()];
        let mut out = Vec::new();
        let mut current = self.err.value(py).clone().into_any();
        loop {
            let attr = |name: &str| current.getattr(name).ok().filter(|v| !v.is_none());
            let suppressed = current
                .getattr("__suppress_context__")
                .and_then(|v| v.is_truthy())
                .unwrap_or(false);
            let next = attr("__cause__").or_else(|| {
                if suppressed {
                    None
                } else {
                    attr("__context__")
                }
            });
            let Some(next) = next else { break };
            if seen.contains(&next.as_ptr()) {
                break;
            }
            seen.push(next.as_ptr());
            out.push(PyException::new(py, PyErr::from_value(next.clone())));
            current = next;
        }
        out
    }

    /// The underlying pyo3 error (to re-raise it in Python, for instance).
    pub fn into_pyerr(self) -> PyErr {
        self.err
    }

    /// The explicit cause (`raise X from Y`), if any.
    pub fn cause(&self, py: Python<'_>) -> Option<PyException> {
        self.err.cause(py).map(|e| PyException::new(py, e))
    }

    /// The exception that was being handled when this one was raised (`__context__`), if any.
    pub fn context(&self, py: Python<'_>) -> Option<PyException> {
        let ctx = self.err.value(py).getattr("__context__").ok()?;
        if ctx.is_none() {
            return None;
        }
        Some(PyException::new(py, PyErr::from_value(ctx)))
    }
}

impl fmt::Display for PyException {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.message.is_empty() {
            f.write_str(&self.type_name)
        } else {
            write!(f, "{}: {}", self.type_name, self.message)
        }
    }
}

impl fmt::Debug for PyException {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PyException")
            .field("type_name", &self.type_name)
            .field("message", &self.message)
            .field("location", &self.location)
            .field("traceback", &self.traceback)
            .finish()
    }
}

/// `str(exception)` of `err`, without its type's name (for messages that say what it means).
pub(crate) fn exception_message(py: Python<'_>, err: &PyErr) -> String {
    safe_str(err.value(py))
}

/// `module.QualName`, or just the name for built-ins.
pub(crate) fn type_name(ty: &Bound<'_, PyType>) -> String {
    let name = ty
        .qualname()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|_| "<unknown type>".to_owned());
    match ty.module().map(|m| m.to_string_lossy().into_owned()) {
        Ok(module) if module != "builtins" && module != "__main__" => format!("{module}.{name}"),
        _ => name,
    }
}

/// `str(value)`, never failing: an exception in `__str__` or text that is not valid UTF-8
/// (lone surrogates) still gives a readable message.
fn safe_str(value: &Bound<'_, PyAny>) -> String {
    match value.str() {
        Ok(s) => pystring_lossy(&s),
        Err(_) => format!(
            "<exception str() failed for {}>",
            type_name(&value.get_type())
        ),
    }
}

/// The text of `s`; lone surrogates (not valid UTF-8) are written as Python escapes (`\udcff`),
/// which say more in an error message than replacement characters.
pub(crate) fn pystring_lossy(s: &Bound<'_, PyString>) -> String {
    if let Ok(text) = s.to_str() {
        return text.to_owned();
    }
    s.call_method1("encode", ("utf-8", "backslashreplace"))
        .ok()
        .and_then(|b| b.extract::<Vec<u8>>().ok())
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .unwrap_or_else(|| s.to_string_lossy().into_owned())
}

fn format_exception(py: Python<'_>, err: &PyErr) -> Option<String> {
    let traceback = py.import("traceback").ok()?;
    let value = err.value(py);
    let tb: Option<Bound<'_, PyTraceback>> = err.traceback(py);
    let lines = traceback
        .call_method1("format_exception", (value.get_type(), value, tb))
        .ok()?;
    let joined = PyString::new(py, "").call_method1("join", (lines,)).ok()?;
    let text = joined.cast::<PyString>().ok().map(pystring_lossy)?;
    Some(text.trim_end().to_owned())
}

fn syntax_location(value: &Bound<'_, PyAny>) -> Option<(usize, usize)> {
    if !value.is_instance_of::<pyo3::exceptions::PySyntaxError>() {
        return None;
    }
    let line = value.getattr("lineno").ok()?.extract::<usize>().ok()?;
    let col = value
        .getattr("offset")
        .ok()?
        .extract::<usize>()
        .unwrap_or(0);
    Some((line, col))
}
