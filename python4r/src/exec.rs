//! Running Python code: compiled once into a bounded cache, executed in a [`Context`]'s
//! namespace. The free functions act on the calling thread's current context.

use std::collections::HashMap;
use std::sync::Mutex;

use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::context::{self, Context};
use crate::convert::{FromPython, ToPython, Value};
use crate::error::{Error, Result};
use crate::gil::with_gil;

/// How many compiled code strings are kept; past that the least recently used is dropped, so
/// code built at run time cannot grow memory without bound.
#[doc(hidden)]
pub const CODE_CACHE_CAPACITY: usize = 512;

/// The file name compiled code reports in tracebacks.
const FILENAME: &str = "<string>";

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Mode {
    Exec = 0,
    Eval = 1,
}

struct Entry {
    code: Py<PyAny>,
    last_used: u64,
}

#[derive(Default)]
struct CodeCache {
    /// One map for each [`Mode`], so that a look-up borrows the source text.
    entries: [HashMap<Box<str>, Entry>; 2],
    clock: u64,
}

impl CodeCache {
    fn len(&self) -> usize {
        self.entries.iter().map(HashMap::len).sum()
    }

    fn evict_oldest(&mut self) {
        let oldest = self
            .entries
            .iter()
            .enumerate()
            .flat_map(|(m, map)| map.iter().map(move |(k, e)| (e.last_used, m, k)))
            .min_by_key(|(used, _, _)| *used)
            .map(|(_, m, k)| (m, k.clone()));
        if let Some((m, key)) = oldest {
            self.entries[m].remove(&key);
        }
    }
}

static CACHE: Mutex<Option<CodeCache>> = Mutex::new(None);

fn with_cache<R>(f: impl FnOnce(&mut CodeCache) -> R) -> R {
    let mut guard = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    f(guard.get_or_insert_with(CodeCache::default))
}

/// The number of code strings compiled and cached right now (for tests).
#[doc(hidden)]
pub fn cached_code_count() -> usize {
    with_cache(|c| c.len())
}

/// The compiled code object for `source`, from the cache or compiled now. The text is compiled
/// exactly as given: strings inside it and its line numbers are intact.
pub(crate) fn compiled<'py>(
    py: Python<'py>,
    source: &str,
    mode: Mode,
) -> Result<Bound<'py, PyAny>> {
    let hit = with_cache(|cache| {
        cache.clock += 1;
        let now = cache.clock;
        cache.entries[mode as usize].get_mut(source).map(|e| {
            e.last_used = now;
            e.code.clone_ref(py)
        })
    });
    if let Some(code) = hit {
        return Ok(code.into_bound(py));
    }
    // Compile without holding the cache lock: compiling can run arbitrary Python (the garbage
    // collector's finalizers), which may come back here.
    let mode_name = match mode {
        Mode::Exec => "exec",
        Mode::Eval => "eval",
    };
    let builtins = py
        .import("builtins")
        .map_err(|e| Error::from_pyerr(py, e))?;
    let code = builtins
        .getattr("compile")
        .and_then(|compile| compile.call1((source, FILENAME, mode_name)))
        .map_err(|e| Error::from_pyerr(py, e))?;
    with_cache(|cache| {
        if cache.len() >= CODE_CACHE_CAPACITY {
            cache.evict_oldest();
        }
        cache.clock += 1;
        let entry = Entry {
            code: code.clone().unbind(),
            last_used: cache.clock,
        };
        cache.entries[mode as usize].insert(source.into(), entry);
    });
    Ok(code)
}

/// Runs a compiled code object with `globals` as both its globals and its locals, as a module's
/// top-level code runs.
pub(crate) fn eval_code<'py>(
    py: Python<'py>,
    code: &Bound<'py, PyAny>,
    globals: &Bound<'py, PyDict>,
) -> Result<Bound<'py, PyAny>> {
    crate::tensor::held::python_runs();
    // SAFETY: `code` is a code object made by `compile`, `globals` a dict; both are alive for
    // the call (borrowed Bounds). PyEval_EvalCode returns a new reference or NULL with an
    // exception set, which `from_owned_ptr_or_err` takes over.
    unsafe {
        let result = ffi::PyEval_EvalCode(code.as_ptr(), globals.as_ptr(), globals.as_ptr());
        Bound::from_owned_ptr_or_err(py, result)
    }
    .map_err(|e| Error::from_pyerr(py, e))
}

/// Values read from Python after running code: see [`Context::exec_io`].
#[derive(Debug)]
pub struct Outputs {
    values: Vec<(String, Py<PyAny>)>,
}

// The values are Python objects read after the code ran; nothing changes them through `Outputs`.
impl std::panic::UnwindSafe for Outputs {}
impl std::panic::RefUnwindSafe for Outputs {}

impl Outputs {
    /// Reads the entries `names` of `dict` (a namespace, or the dict a job's `run` returned).
    pub(crate) fn read(dict: &Bound<'_, PyDict>, names: &[&str]) -> Result<Outputs> {
        let values = names
            .iter()
            .map(|name| {
                let value = dict
                    .get_item(name)?
                    .ok_or_else(|| Error::UndefinedVariable {
                        name: (*name).to_owned(),
                    })?;
                Ok(((*name).to_owned(), value.unbind()))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Outputs { values })
    }

    /// The output `name` converted to `T`.
    ///
    /// # Errors
    ///
    /// [`Error::UndefinedVariable`] when `name` was not asked for (or not defined);
    /// [`Error::Conversion`] naming the variable when it does not convert to `T`.
    pub fn get<T: FromPython>(&self, name: &str) -> Result<T> {
        let (_, obj) = self.values.iter().find(|(n, _)| n == name).ok_or_else(|| {
            Error::UndefinedVariable {
                name: name.to_owned(),
            }
        })?;
        with_gil(|py| T::from_python(obj.bind(py)).map_err(|e| e.with_variable(name)))
    }

    /// The names of the outputs, in the order asked for.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.values.iter().map(|(n, _)| n.as_str())
    }

    /// Every output as a [`Value`], in order.
    pub fn to_values(&self) -> Result<Vec<(String, Value)>> {
        self.values
            .iter()
            .map(|(n, _)| Ok((n.clone(), self.get::<Value>(n)?)))
            .collect()
    }
}

/// Binds `inputs` as variables of `globals`.
pub(crate) fn bind_inputs(
    py: Python<'_>,
    globals: &Bound<'_, PyDict>,
    inputs: &[(&str, &dyn ToPython)],
) -> Result<()> {
    for (name, value) in inputs {
        let obj = value.to_python(py).map_err(|e| e.with_variable(name))?;
        globals
            .set_item(*name, obj)
            .map_err(|e| Error::from_pyerr(py, e))?;
    }
    Ok(())
}

/// Runs `code` in the calling thread's current context (`main` unless
/// [`context::set_current`] chose another).
///
/// # Example
///
/// ```
/// python4r::exec("import math\nanswer = int(math.sqrt(1764))")?;
/// assert_eq!(python4r::get::<i64>("answer")?, 42);
/// # Ok::<(), python4r::Error>(())
/// ```
pub fn exec(code: &str) -> Result<()> {
    context::current().exec(code)
}

/// Binds `inputs` as variables of the current context, then runs `code` there.
///
/// # Example
///
/// ```
/// python4r::exec_with("z = x + y", &[("x", &"Hello "), ("y", &"World")])?;
/// assert_eq!(python4r::get::<String>("z")?, "Hello World");
/// # Ok::<(), python4r::Error>(())
/// ```
pub fn exec_with(code: &str, inputs: &[(&str, &dyn ToPython)]) -> Result<()> {
    context::current().exec_with(code, inputs)
}

/// Binds `inputs`, runs `code` and reads the variables named in `outputs`, in the current
/// context.
///
/// # Example
///
/// ```
/// let out = python4r::exec_io("c = a + b", &[("a", &2), ("b", &3)], &["c"])?;
/// assert_eq!(out.get::<i64>("c")?, 5);
/// # Ok::<(), python4r::Error>(())
/// ```
pub fn exec_io(code: &str, inputs: &[(&str, &dyn ToPython)], outputs: &[&str]) -> Result<Outputs> {
    context::current().exec_io(code, inputs, outputs)
}

/// Evaluates a Python expression in the current context.
///
/// # Example
///
/// ```
/// let total: f64 = python4r::eval("sum([0.5, 1.5, 2.0])")?;
/// assert_eq!(total, 4.0);
/// # Ok::<(), python4r::Error>(())
/// ```
pub fn eval<T: FromPython>(expr: &str) -> Result<T> {
    context::current().eval(expr)
}

/// Reads a variable of the current context.
///
/// # Example
///
/// ```
/// python4r::exec("greeting = 'hi'")?;
/// assert_eq!(python4r::get::<String>("greeting")?, "hi");
/// assert!(matches!(python4r::get::<i64>("no_such_name"), Err(python4r::Error::UndefinedVariable { .. })));
/// # Ok::<(), python4r::Error>(())
/// ```
pub fn get<T: FromPython>(name: &str) -> Result<T> {
    context::current().get(name)
}

/// Sets a variable of the current context.
///
/// # Example
///
/// ```
/// python4r::set("n", &41)?;
/// python4r::exec("n += 1")?;
/// assert_eq!(python4r::get::<i64>("n")?, 42);
/// # Ok::<(), python4r::Error>(())
/// ```
pub fn set(name: &str, value: &dyn ToPython) -> Result<()> {
    context::current().set(name, value)
}

/// The variables of the current context, as python4j's `getAllVariables`: see
/// [`Context::variables`].
pub fn variables() -> Result<Vec<(String, Value)>> {
    context::current().variables()
}

/// Runs `code` with `inputs` in the current context and returns all its variables, as python4j's
/// `execAndReturnAllVariables`: see [`Context::exec_and_return_all`].
pub fn exec_and_return_all(
    code: &str,
    inputs: &[(&str, &dyn ToPython)],
) -> Result<Vec<(String, Value)>> {
    context::current().exec_and_return_all(code, inputs)
}

impl Context {
    /// Runs `code` in this context, as a module's top-level code.
    ///
    /// # Errors
    ///
    /// [`Error::Python`] for any exception the code raises, `SyntaxError`, `SystemExit` and
    /// `KeyboardInterrupt` included; none of them exits the process.
    pub fn exec(&self, code: &str) -> Result<()> {
        self.exec_with(code, &[])
    }

    /// Binds `inputs` as variables of this context, then runs `code`.
    pub fn exec_with(&self, code: &str, inputs: &[(&str, &dyn ToPython)]) -> Result<()> {
        with_gil(|py| {
            let globals = self.globals(py);
            bind_inputs(py, &globals, inputs)?;
            let code = compiled(py, code, Mode::Exec)?;
            eval_code(py, &code, &globals).map(drop)
        })
    }

    /// Binds `inputs`, runs `code`, and reads the variables named in `outputs`.
    ///
    /// # Errors
    ///
    /// As [`exec`](Context::exec), and [`Error::UndefinedVariable`] when the code did not
    /// define one of the outputs.
    pub fn exec_io(
        &self,
        code: &str,
        inputs: &[(&str, &dyn ToPython)],
        outputs: &[&str],
    ) -> Result<Outputs> {
        with_gil(|py| {
            let globals = self.globals(py);
            bind_inputs(py, &globals, inputs)?;
            let compiled = compiled(py, code, Mode::Exec)?;
            eval_code(py, &compiled, &globals)?;
            Outputs::read(&globals, outputs)
        })
    }

    /// Evaluates an expression in this context.
    pub fn eval<T: FromPython>(&self, expr: &str) -> Result<T> {
        with_gil(|py| {
            let code = compiled(py, expr, Mode::Eval)?;
            let value = eval_code(py, &code, &self.globals(py))?;
            T::from_python(&value)
        })
    }

    /// Reads the variable `name`.
    ///
    /// # Errors
    ///
    /// [`Error::UndefinedVariable`] when there is none; [`Error::Conversion`] naming it when it
    /// does not convert to `T`.
    pub fn get<T: FromPython>(&self, name: &str) -> Result<T> {
        with_gil(|py| {
            let value = self
                .globals(py)
                .get_item(name)
                .map_err(|e| Error::from_pyerr(py, e))?
                .ok_or_else(|| Error::UndefinedVariable {
                    name: name.to_owned(),
                })?;
            T::from_python(&value).map_err(|e| e.with_variable(name))
        })
    }

    /// Sets the variable `name`.
    pub fn set(&self, name: &str, value: &dyn ToPython) -> Result<()> {
        with_gil(|py| bind_inputs(py, &self.globals(py), &[(name, value)]))
    }

    /// The variables of this context whose names do not start with `_` and whose values convert
    /// to a [`Value`] (modules, functions and classes are left out), in definition order: python4j's
    /// `getAllVariables`.
    ///
    /// # Example
    ///
    /// ```
    /// use python4r::{Context, Value};
    /// let ctx = Context::new();
    /// ctx.exec("import math\na = 5\nb = '10'\nc = 20.0\n_hidden = 1")?;
    /// assert_eq!(
    ///     ctx.variables()?,
    ///     vec![
    ///         ("a".to_owned(), Value::Int(5)),
    ///         ("b".to_owned(), Value::from("10")),
    ///         ("c".to_owned(), Value::Float(20.0)),
    ///     ]
    /// );
    /// # Ok::<(), python4r::Error>(())
    /// ```
    pub fn variables(&self) -> Result<Vec<(String, Value)>> {
        with_gil(|py| {
            let mut out = Vec::new();
            for (key, value) in self.globals(py).iter() {
                let Ok(name) = key.extract::<String>() else {
                    continue;
                };
                if name.starts_with('_') {
                    continue;
                }
                if let Ok(value) = value.extract::<Value>() {
                    out.push((name, value));
                }
            }
            Ok(out)
        })
    }

    /// Runs `code` with `inputs`, then returns [`variables`](Context::variables): python4j's
    /// `execAndReturnAllVariables`.
    pub fn exec_and_return_all(
        &self,
        code: &str,
        inputs: &[(&str, &dyn ToPython)],
    ) -> Result<Vec<(String, Value)>> {
        self.exec_with(code, inputs)?;
        self.variables()
    }
}
