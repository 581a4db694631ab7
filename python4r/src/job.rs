//! Jobs: a script that runs again and again in a context of its own (python4j's `PythonJob`).
//!
//! In plain mode each [`Job::exec`] runs the whole script with the inputs bound as variables. In
//! setup/run mode the script is run once when the job is made, its `setup()` is called once if it
//! defines one, and each [`Job::exec`] calls `run(**inputs)`, which returns a `dict` of outputs.

use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::context::Context;
use crate::convert::{FromPython, ToPython, Value};
use crate::error::{Error, Result};
use crate::exec::{self, Mode, Outputs};
use crate::gil::with_gil;

/// A named script with its own context.
///
/// # Example
///
/// ```
/// use python4r::Job;
///
/// let job = Job::setup_run("adder", "five = 5\ndef run(a, b):\n    return {'c': a + b + five}")?;
/// assert_eq!(job.exec(&[("a", &2), ("b", &3)], &["c"])?.get::<i64>("c")?, 10);
/// assert_eq!(job.exec(&[("a", &3.0), ("b", &4.0)], &["c"])?.get::<f64>("c")?, 12.0);
///
/// let plain = Job::new("sum", "c = a + b")?;
/// assert_eq!(plain.exec(&[("a", &2), ("b", &3)], &["c"])?.get::<i64>("c")?, 5);
/// # Ok::<(), python4r::Error>(())
/// ```
#[derive(Debug)]
pub struct Job {
    name: String,
    code: String,
    setup_run: bool,
    context: Context,
}

impl Job {
    /// A job that runs all of `code` on every [`exec`](Job::exec).
    ///
    /// # Errors
    ///
    /// [`Error::Python`] (a `SyntaxError`) when the code does not compile.
    pub fn new(name: &str, code: &str) -> Result<Job> {
        let job = Job {
            name: name.to_owned(),
            code: code.to_owned(),
            setup_run: false,
            context: Context::new(),
        };
        with_gil(|py| exec::compiled(py, code, Mode::Exec).map(drop))?;
        Ok(job)
    }

    /// A job in setup/run mode: `code` runs now, then its `setup()` if it has one; every
    /// [`exec`](Job::exec) calls `run(**inputs)`.
    ///
    /// # Errors
    ///
    /// [`Error::Python`] when the code or `setup()` raises, and when the code defines no callable
    /// `run`.
    pub fn setup_run(name: &str, code: &str) -> Result<Job> {
        let job = Job {
            name: name.to_owned(),
            code: code.to_owned(),
            setup_run: true,
            context: Context::new(),
        };
        job.context.exec(code)?;
        with_gil(|py| {
            let globals = job.context.globals(py);
            let run = globals
                .get_item("run")
                .map_err(|e| Error::from_pyerr(py, e))?;
            if !run.is_some_and(|r| r.is_callable()) {
                return Err(Error::from_pyerr(
                    py,
                    pyo3::exceptions::PyNameError::new_err(format!(
                        "job `{name}` is in setup/run mode but its code defines no function `run`"
                    )),
                ));
            }
            if let Some(setup) = globals
                .get_item("setup")
                .map_err(|e| Error::from_pyerr(py, e))?
            {
                setup.call0().map_err(|e| Error::from_pyerr(py, e))?;
            }
            Ok(())
        })?;
        Ok(job)
    }

    /// The job's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The job's own context (its variables persist between calls).
    pub fn context(&self) -> &Context {
        &self.context
    }

    /// Runs the job with `inputs` and reads `outputs`.
    ///
    /// In setup/run mode the outputs are the entries of the `dict` that `run` returned.
    ///
    /// # Errors
    ///
    /// [`Error::Python`] when the code raises; [`Error::UndefinedVariable`] when an output is
    /// missing; [`Error::Conversion`] when `run` does not return a `dict` with string keys.
    pub fn exec(&self, inputs: &[(&str, &dyn ToPython)], outputs: &[&str]) -> Result<Outputs> {
        if !self.setup_run {
            return self.context.exec_io(&self.code, inputs, outputs);
        }
        with_gil(|py| Outputs::read(&self.call_run(py, inputs)?, outputs))
    }

    /// Runs the job with `inputs` and returns every output: in plain mode the context's
    /// variables (see [`Context::variables`]), in setup/run mode the `dict` that `run` returned.
    pub fn exec_and_return_all(
        &self,
        inputs: &[(&str, &dyn ToPython)],
    ) -> Result<Vec<(String, Value)>> {
        if !self.setup_run {
            return self.context.exec_and_return_all(&self.code, inputs);
        }
        with_gil(|py| {
            let returned = self.call_run(py, inputs)?;
            returned
                .iter()
                .map(|(k, v)| {
                    let name = k.extract::<String>().map_err(|_| {
                        Error::conversion(&k, "String", "a key of the dict `run` returned")
                    })?;
                    let value = Value::from_python(&v).map_err(|e| e.with_variable(&name))?;
                    Ok((name, value))
                })
                .collect()
        })
    }

    fn call_run<'py>(
        &self,
        py: Python<'py>,
        inputs: &[(&str, &dyn ToPython)],
    ) -> Result<Bound<'py, PyDict>> {
        let globals = self.context.globals(py);
        let run = globals
            .get_item("run")
            .map_err(|e| Error::from_pyerr(py, e))?
            .ok_or_else(|| Error::UndefinedVariable {
                name: "run".to_owned(),
            })?;
        let kwargs = PyDict::new(py);
        exec::bind_inputs(py, &kwargs, inputs)?;
        let returned = run
            .call((), Some(&kwargs))
            .map_err(|e| Error::from_pyerr(py, e))?;
        returned.cast_into::<PyDict>().map_err(|e| {
            Error::conversion(
                &e.into_inner(),
                "dict of outputs",
                format!("`run` of job `{}` must return a dict", self.name),
            )
        })
    }
}
