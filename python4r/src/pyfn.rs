//! Runtime of `#[py_exec]` functions: per-function compiled code, `setup` run once, and calls.
//!
//! Each function owns one [`FunctionState`] in a `static`. Its first call creates the function's
//! namespace, runs `setup` in it and compiles the body; later calls only convert and call. The body
//! is parsed with Python's own `ast` module, so string contents, line and column numbers stay as
//! written; line numbers are then shifted to the Rust (or `.py`) source.

use pyo3::Borrowed;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyString, PyTuple};

use crate::error::{CodeOrigin, Error, Result};

/// Where a piece of Python code comes from: its text and the place in the source it was written.
#[derive(Debug, Clone, Copy)]
pub struct Code {
    /// The code, exactly as written.
    pub text: &'static str,
    /// The file tracebacks name: the Rust file of the literal, or the `.py` script.
    pub file: &'static str,
    /// The line of the literal's first line in `file`.
    pub line: u32,
    /// Whether the text is indented as a whole (it then compiles as the body of a block).
    pub indented: bool,
}

impl Code {
    /// Whether the text's lines are the file's lines from `line` on, column for column: a
    /// script, or a literal whose code starts on the line after its opening quote. Tracebacks
    /// then name the file and its lines, and show them from the file.
    fn lines_are_the_files(&self) -> bool {
        self.text.starts_with('\n') || (self.line == 1 && self.file.ends_with(".py"))
    }

    /// The file name Python compiles the code under, and the line of that file where the text
    /// starts. A one-line literal (or one written with `\n` escapes) is compiled under a name of
    /// its own (`src/stats.rs:42 (ratio)`) whose lines are the code's, so that a traceback shows
    /// the Python line that failed rather than the Rust line of the attribute.
    fn compiled_as(&self, function: &str, setup: bool) -> (String, u32) {
        if self.lines_are_the_files() {
            return (self.file.to_owned(), self.line);
        }
        let role = if setup { "setup of " } else { "" };
        (format!("{}:{} ({role}{function})", self.file, self.line), 1)
    }
}

/// What the macro knows about one function, fixed at compile time.
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    /// The Rust function's name.
    pub name: &'static str,
    /// The Rust module path of the function.
    pub module: &'static str,
    /// The body.
    pub code: Code,
    /// Code run once, before the first call, in the function's namespace.
    pub setup: Option<Code>,
    /// The Python names of the inputs, in parameter order.
    pub inputs: &'static [&'static str],
    /// The variables read after the body ran.
    pub outputs: &'static [&'static str],
    /// Whether the body must run as module code (exec) because a function would not behave the same.
    pub module_frame: bool,
}

/// The state of one `#[py_exec]` function: its namespace and compiled body, made at first call.
pub struct FunctionState {
    spec: Spec,
    compiled: PyOnceLock<Compiled>,
}

struct Compiled {
    /// The namespace `setup` ran in; the body's globals (fast path) or the template it copies.
    namespace: Py<PyDict>,
    body: Body,
}

enum Body {
    /// The body wrapped in a Python function taking the inputs and returning the outputs: the
    /// value of a single output, or a tuple of several.
    Function {
        function: Py<PyAny>,
        /// What the function returns when its single output was never assigned.
        missing: Option<Py<PyAny>>,
    },
    /// The body's module code, with the interned input names and the `exec` builtin.
    Module {
        code: Py<PyAny>,
        inputs: Vec<Py<PyString>>,
        outputs: Vec<Py<PyString>>,
        exec: Py<PyAny>,
    },
}

/// Helpers that build code objects; a private module compiled once per process.
const HELPERS: &str = include_str!("pyfn_helpers.py");

/// The helper functions, made once per process.
struct Helpers {
    parse: Py<PyAny>,
    register: Py<PyAny>,
    locate: Py<PyAny>,
    compile_module: Py<PyAny>,
    make_function: Py<PyAny>,
    exec: Py<PyAny>,
    builtins: Py<PyAny>,
}

static HELPER_MODULE: PyOnceLock<Helpers> = PyOnceLock::new();

fn helpers(py: Python<'_>) -> Result<&Helpers> {
    HELPER_MODULE.get_or_try_init(py, || {
        let err = |e| Error::from_pyerr(py, e);
        let builtins = py.import("builtins").map_err(err)?;
        let namespace = PyDict::new(py);
        namespace.set_item("__builtins__", &builtins).map_err(err)?;
        namespace
            .set_item("__name__", "python4r.py_exec")
            .map_err(err)?;
        let exec = builtins.getattr("exec").map_err(err)?;
        exec.call1((HELPERS, &namespace)).map_err(err)?;
        let get = |name: &str| -> Result<Py<PyAny>> {
            Ok(namespace
                .get_item(name)
                .map_err(err)?
                .ok_or_else(|| Error::Init(format!("python4r's helper `{name}` is missing")))?
                .unbind())
        };
        Ok(Helpers {
            parse: get("parse")?,
            register: get("register")?,
            locate: get("locate")?,
            compile_module: get("compile_module")?,
            make_function: get("make_function")?,
            exec: exec.unbind(),
            builtins: builtins.into_any().unbind(),
        })
    })
}

impl FunctionState {
    /// The state of a function that has not run yet.
    pub const fn new(spec: Spec) -> FunctionState {
        FunctionState {
            spec,
            compiled: PyOnceLock::new(),
        }
    }

    /// [`call`](FunctionState::call) for a function with exactly one output: its value, without
    /// the [`Returned`] around it. The path of a body already compiled as a function is small
    /// enough to inline into the generated code; everything else is out of line.
    #[inline]
    pub fn call_one<'py>(
        &self,
        py: Python<'py>,
        args: &[&Bound<'py, PyAny>],
    ) -> Result<Bound<'py, PyAny>> {
        if let Some(Compiled {
            body: Body::Function { function, missing },
            ..
        }) = self.compiled.get(py)
        {
            return match vectorcall(py, function.bind(py), args) {
                Ok(returned) if missing.as_ref().is_some_and(|m| returned.is(m)) => {
                    Err(self.undefined_output(0))
                }
                Ok(returned) => Ok(returned),
                Err(err) => Err(self.failed(py, err)),
            };
        }
        self.call_one_slow(py, args)
    }

    #[cold]
    #[inline(never)]
    fn call_one_slow<'py>(
        &self,
        py: Python<'py>,
        args: &[&Bound<'py, PyAny>],
    ) -> Result<Bound<'py, PyAny>> {
        match self.call(py, args)? {
            Returned::One(value) => Ok(value),
            Returned::Values(mut values) if values.len() == 1 => Ok(values.remove(0)),
            _ => unreachable!("a function with one output returns one value"),
        }
    }

    /// The error of a call whose body raised `err`, located in the code.
    #[cold]
    #[inline(never)]
    fn failed(&self, py: Python<'_>, err: PyErr) -> Error {
        self.located(py, Error::from_pyerr(py, err), &self.spec.code, false)
    }

    #[cold]
    #[inline(never)]
    fn undefined_output(&self, index: usize) -> Error {
        Error::UndefinedVariable {
            name: self
                .spec
                .outputs
                .get(index)
                .copied()
                .unwrap_or_default()
                .to_owned(),
        }
    }

    /// Runs the body with `args` (one per input, in order) and returns the outputs, in order.
    ///
    /// The first call (or the first after a failed `setup`) creates the namespace, runs `setup`
    /// and compiles the body; concurrent first calls wait for one of them to do it.
    ///
    /// The returned [`Returned`] and the dropped call state hold the only references this call
    /// took to `args`: once `Returned` is dropped, an argument's reference count tells whether
    /// Python kept it (what `&mut Tensor` relies on).
    pub fn call<'py>(&self, py: Python<'py>, args: &[&Bound<'py, PyAny>]) -> Result<Returned<'py>> {
        let compiled = self.compiled.get_or_try_init(py, || self.compile(py))?;
        let err = |e| self.located(py, Error::from_pyerr(py, e), &self.spec.code, false);
        let outputs = self.spec.outputs;
        match &compiled.body {
            Body::Function { function, missing } => {
                let returned = vectorcall(py, function.bind(py), args).map_err(err)?;
                if outputs.is_empty() {
                    return Ok(Returned::None);
                }
                if let [output] = outputs {
                    if missing.as_ref().is_some_and(|m| returned.is(m)) {
                        return Err(Error::UndefinedVariable {
                            name: (*output).to_owned(),
                        });
                    }
                    return Ok(Returned::One(returned));
                }
                match returned.cast_into::<PyTuple>() {
                    Ok(tuple) => Ok(Returned::Tuple(tuple)),
                    Err(returned) => {
                        let missing: usize = returned.into_inner().extract().map_err(err)?;
                        Err(Error::UndefinedVariable {
                            name: outputs.get(missing).copied().unwrap_or_default().to_owned(),
                        })
                    }
                }
            }
            Body::Module {
                code,
                inputs,
                outputs: output_names,
                exec,
            } => {
                let namespace = compiled.namespace.bind(py).copy().map_err(err)?;
                for (name, value) in inputs.iter().zip(args) {
                    namespace.set_item(name.bind(py), value).map_err(err)?;
                }
                exec.bind(py)
                    .call1((code.bind(py), &namespace))
                    .map_err(err)?;
                output_names
                    .iter()
                    .zip(outputs)
                    .map(|(name, text)| {
                        namespace
                            .get_item(name.bind(py))
                            .map_err(err)?
                            .ok_or_else(|| Error::UndefinedVariable {
                                name: (*text).to_owned(),
                            })
                    })
                    .collect::<Result<Vec<_>>>()
                    .map(Returned::Values)
            }
        }
    }

    fn compile(&self, py: Python<'_>) -> Result<Compiled> {
        let err = |e| Error::from_pyerr(py, e);
        let helpers = helpers(py)?;
        let spec = &self.spec;
        // Each piece of code compiled under its file name, from its first line there.
        let place = |code: &Code, setup: bool| -> Result<(String, u32)> {
            let (file, line) = code.compiled_as(spec.name, setup);
            if file != code.file {
                helpers
                    .register
                    .bind(py)
                    .call1((&file, code.text))
                    .map_err(err)?;
            }
            Ok((file, line))
        };
        let parse = |code: &Code, (file, line): &(String, u32)| {
            helpers
                .parse
                .bind(py)
                .call1((code.text, file, *line, code.indented))
        };
        let namespace = PyDict::new(py);
        namespace
            .set_item("__builtins__", helpers.builtins.bind(py))
            .map_err(err)?;
        namespace
            .set_item("__name__", format!("{}::{}", spec.module, spec.name))
            .map_err(err)?;
        namespace.set_item("__doc__", py.None()).map_err(err)?;

        if let Some(setup) = &spec.setup {
            let place = place(setup, true)?;
            let run = || -> PyResult<()> {
                let module = parse(setup, &place)?;
                let code = helpers.compile_module.bind(py).call1((module, &place.0))?;
                helpers.exec.bind(py).call1((code, &namespace))?;
                Ok(())
            };
            run().map_err(|e| self.located(py, err(e), setup, true))?;
        }

        let place = place(&spec.code, false)?;
        let body_err = |e: PyErr| self.located(py, err(e), &spec.code, false);
        let module = parse(&spec.code, &place).map_err(body_err)?;
        let body = if spec.module_frame {
            let code = helpers
                .compile_module
                .bind(py)
                .call1((module, &place.0))
                .map_err(body_err)?;
            let intern = |names: &[&str]| -> Vec<Py<PyString>> {
                names
                    .iter()
                    .map(|name| PyString::intern(py, name).unbind())
                    .collect()
            };
            Body::Module {
                code: code.unbind(),
                inputs: intern(spec.inputs),
                outputs: intern(spec.outputs),
                exec: helpers.exec.clone_ref(py),
            }
        } else {
            let function = helpers
                .make_function
                .bind(py)
                .call1((
                    module,
                    spec.inputs.to_vec(),
                    spec.outputs.to_vec(),
                    &place.0,
                    &namespace,
                ))
                .map_err(body_err)?;
            let (function, missing): (Bound<'_, PyAny>, Option<Bound<'_, PyAny>>) =
                function.extract().map_err(err)?;
            Body::Function {
                function: function.unbind(),
                missing: missing.map(Bound::unbind),
            }
        };
        Ok(Compiled {
            namespace: namespace.unbind(),
            body,
        })
    }

    /// `error` with, when it is a Python exception, where the code that raised it is written:
    /// the function, the file and line of `code`, and the line of `code` that was running.
    fn located(&self, py: Python<'_>, error: Error, code: &Code, setup: bool) -> Error {
        let Error::Python(mut exception) = error else {
            return error;
        };
        let (file, first) = code.compiled_as(self.spec.name, setup);
        let line = helpers(py).ok().and_then(|helpers| {
            helpers
                .locate
                .bind(py)
                .call1((exception.value(py), exception.err.traceback(py), &file))
                .and_then(|line| line.extract::<Option<usize>>())
                .ok()
                .flatten()
        });
        exception.origin = Some(CodeOrigin {
            function: self.spec.name.to_owned(),
            setup,
            file: code.file.to_owned(),
            line: code.line,
            code_line: line.and_then(|line| (line + 1).checked_sub(first as usize)),
        });
        Error::Python(exception)
    }
}

/// The output values of one call, in the order of [`Spec::outputs`].
pub enum Returned<'py> {
    /// The function returns nothing.
    None,
    /// The value of the only output.
    One(Bound<'py, PyAny>),
    /// The tuple the body's function returned.
    Tuple(Bound<'py, PyTuple>),
    /// The values read from a module-frame body's namespace.
    Values(Vec<Bound<'py, PyAny>>),
}

/// Output `index` of a call's outputs; the macro asks only for outputs the call returns.
#[inline]
pub fn output<'a, 'py>(outputs: &'a Returned<'py>, index: usize) -> Borrowed<'a, 'py, PyAny> {
    match outputs {
        Returned::Tuple(tuple) => tuple
            .get_borrowed_item(index)
            .expect("the body's function returns one value per output"),
        Returned::One(value) => value.as_borrowed(),
        Returned::Values(values) => values[index].as_borrowed(),
        Returned::None => unreachable!("a function without outputs has none to read"),
    }
}

/// Flag of a vectorcall argument count: slot `args[-1]` may be used by the callee (CPython's
/// `PY_VECTORCALL_ARGUMENTS_OFFSET`, public only from 3.12).
const ARGUMENTS_OFFSET: usize = 1 << (usize::BITS - 1);

/// Calls `function` with `args` by vectorcall: no argument tuple is built (a cached call then
/// costs what a hand-written pyo3 call costs).
#[inline]
fn vectorcall<'py>(
    py: Python<'py>,
    function: &Bound<'py, PyAny>,
    args: &[&Bound<'py, PyAny>],
) -> PyResult<Bound<'py, PyAny>> {
    crate::tensor::held::python_runs();
    const ON_STACK: usize = 8;
    let mut stack = [std::ptr::null_mut::<pyo3::ffi::PyObject>(); ON_STACK + 1];
    let mut heap = Vec::new();
    let slots = if args.len() <= ON_STACK {
        &mut stack[..=args.len()]
    } else {
        heap.resize(args.len() + 1, std::ptr::null_mut());
        &mut heap[..]
    };
    for (slot, arg) in slots[1..].iter_mut().zip(args) {
        *slot = arg.as_ptr();
    }
    // SAFETY: the GIL is held (`py`); `slots[1..]` holds borrowed pointers to live objects
    // (`args` outlives the call) and `slots[0]` is scratch space the callee may use, as
    // ARGUMENTS_OFFSET promises. The result is a new reference or null with an exception set.
    unsafe {
        let result = pyo3::ffi::PyObject_Vectorcall(
            function.as_ptr(),
            slots.as_ptr().add(1),
            args.len() | ARGUMENTS_OFFSET,
            std::ptr::null_mut(),
        );
        Bound::from_owned_ptr_or_err(py, result)
    }
}

/// Panics for a `#[py_exec]` function without a `Result` return whose Python code failed.
#[track_caller]
pub fn fail(name: &str, error: Error) -> ! {
    match error.python_exception() {
        Some(exception) => panic!("`{name}` raised {exception:#}"),
        None => panic!("`{name}` failed: {error}"),
    }
}
