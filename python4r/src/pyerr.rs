//! Translation between Python exceptions and [`Error`]: a `PyErr` becomes an [`Error`] (with its
//! type, message, formatted traceback and chain), and an [`Error`] goes back to Python as the
//! exception it stands for.

use pyo3::prelude::*;
use pyo3::types::{PyString, PyTraceback, PyType};

use crate::error::{Error, PyException, Result};
use crate::interruption;

impl Error {
    /// Turns a pyo3 error into an [`Error::Python`], keeping the exception's type name, message,
    /// formatted traceback, and line and column for a `SyntaxError`.
    ///
    /// The exception an [`Interrupter`](crate::interrupt::Interrupter) raises becomes
    /// [`Error::Interrupted`] instead.
    ///
    /// ```
    /// use python4r::pyo3::exceptions::PyKeyError;
    /// let err = python4r::with_gil(|py| Ok(python4r::Error::from_pyerr(py, PyKeyError::new_err("k"))))?;
    /// assert_eq!(err.to_string(), "KeyError: 'k'");
    /// # Ok::<(), python4r::Error>(())
    /// ```
    pub fn from_pyerr(py: Python<'_>, err: PyErr) -> Error {
        if interruption::is_interrupted_exception(py, &err) {
            let exception = PyException::new(py, err);
            return interruption::error_from_exception(exception.traceback);
        }
        Error::Python(Box::new(PyException::new(py, err)))
    }

    /// A conversion error for `value`, which was to become the Rust type `expected`, saying
    /// `reason` (for [`ToPythonMut`](crate::ToPythonMut) implementations of your own).
    ///
    /// ```
    /// let err = python4r::with_gil(|py| {
    ///     let value = python4r::pyo3::types::PyString::new(py, "x");
    ///     Ok(python4r::Error::conversion(&value, "MyType", "expected a list"))
    /// })?;
    /// assert_eq!(
    ///     err.to_string(),
    ///     "cannot convert a Python value of type `str` to Rust `MyType`: expected a list"
    /// );
    /// # Ok::<(), python4r::Error>(())
    /// ```
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
}

/// The error of one of pyo3's conversion traits as python4r's own [`Error`] when it is one (the
/// `Error` type of [`Tensor`](crate::Tensor)'s and [`Value`](crate::Value)'s conversions), else
/// as the Python exception it stands for.
pub(crate) fn as_error<E: Into<PyErr>>(error: E) -> Result<Error, PyErr> {
    if typeid::of::<E>() == typeid::of::<Error>() {
        let error = std::mem::ManuallyDrop::new(error);
        // SAFETY: `E` is `Error` (their type ids, lifetimes erased, are equal, and `Error` has
        // no lifetime parameters), so this reads an `Error` from an `Error`; the original is
        // never dropped (`ManuallyDrop`), so the value is moved, not duplicated.
        return Ok(unsafe { std::mem::transmute_copy::<E, Error>(&error) });
    }
    Err(error.into())
}

/// The [`Error`] for the error of one of pyo3's conversion traits (see [`as_error`]).
pub(crate) fn from_conversion_error<E: Into<PyErr>>(py: Python<'_>, error: E) -> Error {
    as_error(error).unwrap_or_else(|err| Error::from_pyerr(py, err))
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
    /// undefined variable `NameError`, numpy missing `ImportError`, anything else
    /// `RuntimeError` with the error's message.
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
        match err {
            Error::Python(exception) => exception.into_pyerr(),
            other => raised(&other, None),
        }
    }
}

/// The Python exception `err` stands for (as `From<Error> for PyErr`), leaving `err` whole: a
/// Python exception is the same exception object (a new reference, which needs `py`).
pub(crate) fn raised(err: &Error, py: Option<Python<'_>>) -> PyErr {
    use pyo3::exceptions::{PyImportError, PyNameError, PyRuntimeError, PyTypeError};
    match err {
        Error::Python(exception) => match py {
            Some(py) => exception.err.clone_ref(py),
            None => Python::attach(|py| exception.err.clone_ref(py)),
        },
        Error::Interrupted { .. } => interruption::Interrupted::new_err(err.to_string()),
        Error::Conversion { .. } | Error::UnsupportedDType { .. } => {
            PyTypeError::new_err(err.to_string())
        }
        Error::UndefinedVariable { .. } => PyNameError::new_err(err.to_string()),
        Error::NumpyDisabled | Error::NumpyUnavailable { .. } => {
            PyImportError::new_err(err.to_string())
        }
        other => PyRuntimeError::new_err(other.to_string()),
    }
}

impl PyException {
    pub(crate) fn new(py: Python<'_>, err: PyErr) -> PyException {
        let value = err.value(py);
        let type_name = type_name(&value.get_type());
        let mut message = safe_str(value);
        if value.is_instance_of::<pyo3::exceptions::PyModuleNotFoundError>()
            && let Some(module) = value
                .getattr("name")
                .ok()
                .and_then(|n| n.extract::<String>().ok())
        {
            message = format!(
                "{message} ({})",
                crate::environment::module_not_found_hint(&module)
            );
        }
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
            origin: None,
            err,
        }
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
