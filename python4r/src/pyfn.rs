//! Runtime of `#[py_exec]` functions: per-function compiled code, `setup` run once, and calls.
//!
//! Each function owns one [`PyFunction`] in a `static`. Its first call creates the function's
//! namespace, runs `setup` in it and compiles the body; later calls only convert and call. The body
//! is parsed with Python's own `ast` module, so string contents, line and column numbers stay as
//! written; line numbers are then shifted to the Rust (or `.py`) source.

use pyo3::Borrowed;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyString, PyTuple};

use crate::error::{Error, Result};

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
pub struct PyFunction {
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
const HELPERS: &str = r#"
import ast as _ast
import sys as _sys
import types as _types
import os as _os

MISSING = "<python4r: output not assigned " + _os.urandom(8).hex() + ">"

def parse(text, filename, line, indented):
    source = "if True:\n" + text if indented else text
    shift = line - 2 if indented else line - 1
    try:
        tree = _ast.parse(source, filename, "exec")
    except SyntaxError as error:
        if error.lineno is not None:
            error.lineno += shift
        if getattr(error, "end_lineno", None) is not None:
            error.end_lineno += shift
        error.filename = filename
        raise
    body = tree.body[0].body if indented else tree.body
    module = _ast.Module(body=body, type_ignores=[])
    return _ast.increment_lineno(module, shift)

def compile_module(module, filename):
    return compile(module, filename, "exec", dont_inherit=True)

def _requalify(code, prefix):
    consts = tuple(
        _requalify(c, prefix) if isinstance(c, _types.CodeType)
        else c[len(prefix):] if isinstance(c, str) and c.startswith(prefix)
        else c
        for c in code.co_consts
    )
    changes = {"co_consts": consts}
    qualname = getattr(code, "co_qualname", None)
    if qualname is not None and qualname.startswith(prefix):
        changes["co_qualname"] = qualname[len(prefix):]
    return code.replace(**changes)

def make_function(module, inputs, outputs, filename, namespace):
    name = "<module>"
    body = list(module.body)
    end = max((getattr(node, "end_lineno", None) or node.lineno for node in body), default=1)
    first = body[0].lineno if body else end
    load = lambda n: _ast.Name(id=n, ctx=_ast.Load())
    tail = []
    def guarded(statement, handler):
        return _ast.Try(
            body=[statement],
            handlers=[_ast.ExceptHandler(type=load("NameError"), name=None, body=[handler])],
            orelse=[],
            finalbody=[],
        )
    if len(outputs) == 1:
        # One output comes back as it is; a missing one as `missing`, a constant of this code
        # object that no other code can produce.
        tail.append(guarded(_ast.Return(value=load(outputs[0])), _ast.Pass()))
        tail.append(_ast.Return(value=_ast.Constant(value=MISSING)))
    elif outputs:
        values = _ast.Tuple(elts=[load(o) for o in outputs], ctx=_ast.Load())
        tail.append(guarded(_ast.Return(value=values), _ast.Pass()))
        for index, output in enumerate(outputs):
            tail.append(guarded(_ast.Expr(value=load(output)), _ast.Return(value=_ast.Constant(value=index))))
    for node in tail:
        node.lineno, node.col_offset, node.end_lineno, node.end_col_offset = end, 0, end, 0
    arguments = _ast.arguments(
        posonlyargs=[_ast.arg(arg=n) for n in inputs], args=[], vararg=None,
        kwonlyargs=[], kw_defaults=[], kwarg=None, defaults=[],
    )
    function = _ast.FunctionDef(
        name=name, args=arguments, body=(body + tail) or [_ast.Pass()],
        decorator_list=[], returns=None, type_comment=None,
    )
    if _sys.version_info >= (3, 12):
        function.type_params = []
    function.lineno, function.col_offset, function.end_lineno, function.end_col_offset = first, 0, end, 0
    tree = _ast.fix_missing_locations(_ast.Module(body=[function], type_ignores=[]))
    code = compile(tree, filename, "exec", dont_inherit=True)
    scratch = {}
    exec(code, namespace, scratch)
    made = scratch[name]
    made.__code__ = _requalify(made.__code__, name + ".<locals>.")
    missing = next((c for c in made.__code__.co_consts if type(c) is str and c == MISSING), None)
    return made, missing
"#;

/// The helper functions, made once per process.
struct Helpers {
    parse: Py<PyAny>,
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
            compile_module: get("compile_module")?,
            make_function: get("make_function")?,
            exec: exec.unbind(),
            builtins: builtins.into_any().unbind(),
        })
    })
}

impl PyFunction {
    /// The state of a function that has not run yet.
    pub const fn new(spec: Spec) -> PyFunction {
        PyFunction {
            spec,
            compiled: PyOnceLock::new(),
        }
    }

    /// Runs the body with `args` (one per input, in order) and returns the outputs, in order.
    ///
    /// The first call (or the first after a failed `setup`) creates the namespace, runs `setup`
    /// and compiles the body; concurrent first calls wait for one of them to do it.
    ///
    /// The returned [`Outputs`] and the dropped call state hold the only references this call
    /// took to `args`: once `Outputs` is dropped, an argument's reference count tells whether
    /// Python kept it (what `&mut Tensor` relies on).
    pub fn call<'py>(&self, py: Python<'py>, args: &[&Bound<'py, PyAny>]) -> Result<Outputs<'py>> {
        let compiled = self.compiled.get_or_try_init(py, || self.compile(py))?;
        let err = |e| Error::from_pyerr(py, e);
        let outputs = self.spec.outputs;
        match &compiled.body {
            Body::Function { function, missing } => {
                let returned = vectorcall(py, function.bind(py), args).map_err(err)?;
                if outputs.is_empty() {
                    return Ok(Outputs::None);
                }
                if let [output] = outputs {
                    if missing.as_ref().is_some_and(|m| returned.is(m)) {
                        return Err(Error::UndefinedVariable {
                            name: (*output).to_owned(),
                        });
                    }
                    return Ok(Outputs::One(returned));
                }
                match returned.cast_into::<PyTuple>() {
                    Ok(tuple) => Ok(Outputs::Tuple(tuple)),
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
                    .map(Outputs::Values)
            }
        }
    }

    fn compile(&self, py: Python<'_>) -> Result<Compiled> {
        let err = |e| Error::from_pyerr(py, e);
        let helpers = helpers(py)?;
        let spec = &self.spec;
        let namespace = PyDict::new(py);
        namespace
            .set_item("__builtins__", helpers.builtins.bind(py))
            .map_err(err)?;
        namespace
            .set_item("__name__", format!("{}::{}", spec.module, spec.name))
            .map_err(err)?;
        namespace.set_item("__doc__", py.None()).map_err(err)?;

        let parse = |code: &Code| {
            helpers
                .parse
                .bind(py)
                .call1((code.text, code.file, code.line, code.indented))
                .map_err(err)
        };
        if let Some(setup) = &spec.setup {
            let module = parse(setup)?;
            let code = helpers
                .compile_module
                .bind(py)
                .call1((module, setup.file))
                .map_err(err)?;
            helpers
                .exec
                .bind(py)
                .call1((code, &namespace))
                .map_err(err)?;
        }

        let module = parse(&spec.code)?;
        let body = if spec.module_frame {
            let code = helpers
                .compile_module
                .bind(py)
                .call1((module, spec.code.file))
                .map_err(err)?;
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
                    spec.code.file,
                    &namespace,
                ))
                .map_err(err)?;
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
}

/// The output values of one call, in the order of [`Spec::outputs`].
pub enum Outputs<'py> {
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
pub fn output<'a, 'py>(outputs: &'a Outputs<'py>, index: usize) -> Borrowed<'a, 'py, PyAny> {
    match outputs {
        Outputs::Tuple(tuple) => tuple
            .get_borrowed_item(index)
            .expect("the body's function returns one value per output"),
        Outputs::One(value) => value.as_borrowed(),
        Outputs::Values(values) => values[index].as_borrowed(),
        Outputs::None => unreachable!("a function without outputs has none to read"),
    }
}

/// Flag of a vectorcall argument count: slot `args[-1]` may be used by the callee (CPython's
/// `PY_VECTORCALL_ARGUMENTS_OFFSET`, public only from 3.12).
const ARGUMENTS_OFFSET: usize = 1 << (usize::BITS - 1);

/// Calls `function` with `args` by vectorcall: no argument tuple is built (a cached call then
/// costs what a hand-written pyo3 call costs).
fn vectorcall<'py>(
    py: Python<'py>,
    function: &Bound<'py, PyAny>,
    args: &[&Bound<'py, PyAny>],
) -> PyResult<Bound<'py, PyAny>> {
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
        Some(exception) => panic!(
            "`{name}` raised {}: {}\n\n{}",
            exception.type_name(),
            exception.message(),
            exception.traceback()
        ),
        None => panic!("`{name}` failed: {error}"),
    }
}
