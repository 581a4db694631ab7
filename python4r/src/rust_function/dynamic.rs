//! Rust functions bound to Python names at run time ([`Context::set_function`],
//! [`set_function`]) and Rust `#[pymodule]`s made importable ([`add_module`]).

use pyo3::prelude::*;
use pyo3::types::PyModule;

use super::{
    Function, OwnedCallable, Target, argument, argument_error, callable, check_arity, return_error,
};
use crate::context::Context;
use crate::convert::{FromPython, ToPython};
use crate::error::{Error, Result};
use crate::gil::with_gil;

/// A Rust closure that can be bound to a Python name ([`Context::set_function`],
/// [`set_function`](crate::set_function)): `Fn(A, ..) -> R` or `Fn(A, ..) -> Result<R>`, up to six
/// arguments, `Send + Sync + 'static`, where each `A` is [`FromPython`] and `R` is
/// [`ToPython`] (or `()`, which is `None` in Python). `Marker` tells the forms apart; it is
/// inferred.
///
/// ```
/// use python4r::Tensor;
///
/// let ctx = python4r::Context::new();
/// ctx.set_function("total", |t: Tensor| -> python4r::Result<f64> {
///     Ok(t.to_vec::<f64>()?.iter().sum())
/// })?;
/// ctx.set_function("log", |line: String| eprintln!("{line}"))?;
/// assert_eq!(ctx.eval::<f64>("total(__import__('numpy').arange(4.0))")?, 6.0);
/// # Ok::<(), python4r::Error>(())
/// ```
pub trait IntoPyFunction<Marker>: Send + Sync + 'static {
    #[doc(hidden)]
    fn into_callable(self, name: &str) -> Box<OwnedCallable>;
}

/// The [`IntoPyFunction`] marker of closures returning a plain value.
#[doc(hidden)]
pub struct Plain<R, A>(std::marker::PhantomData<(R, A)>);

/// The [`IntoPyFunction`] marker of closures returning a [`Result`].
#[doc(hidden)]
pub struct Fallible<R, A>(std::marker::PhantomData<(R, A)>);

/// The [`IntoPyFunction`] marker of closures returning `()` (`None` in Python).
#[doc(hidden)]
pub struct Unit<A>(std::marker::PhantomData<A>);

/// `value` as Python gets it.
fn returned<R: ToPython>(py: Python<'_>, value: &R, name: &str) -> Result<Py<PyAny>> {
    value
        .to_python(py)
        .map(Bound::unbind)
        .map_err(|error| return_error(py, error, name))
}

/// The arguments of a closure of some arity, as a tuple converted from Python's.
trait Arguments: Sized {
    /// Checks the count and converts each argument (a `TypeError` naming the one that failed).
    fn convert(args: &Bound<'_, pyo3::types::PyTuple>, name: &str) -> Result<Self>;
}

macro_rules! into_py_function {
    ($count:literal $(, $arg:ident $index:tt)*) => {
        impl<$($arg: FromPython,)*> Arguments for ($($arg,)*) {
            fn convert(args: &Bound<'_, pyo3::types::PyTuple>, name: &str) -> Result<Self> {
                check_arity(args, $count, name)?;
                Ok(($(
                    $arg::from_python(&argument(args, $index)?)
                        .map_err(|error| argument_error(args.py(), error, name, $index))?,
                )*))
            }
        }

        impl<F, R, $($arg,)*> IntoPyFunction<Plain<R, ($($arg,)*)>> for F
        where
            F: Fn($($arg),*) -> R + Send + Sync + 'static,
            R: ToPython,
            $($arg: FromPython,)*
        {
            fn into_callable(self, name: &str) -> Box<OwnedCallable> {
                let name = name.to_owned();
                Box::new(move |args| {
                    let _converted = <($($arg,)*)>::convert(args, &name)?;
                    let value = self($(_converted.$index),*);
                    returned(args.py(), &value, &name)
                })
            }
        }

        impl<F, $($arg,)*> IntoPyFunction<Unit<($($arg,)*)>> for F
        where
            F: Fn($($arg),*) + Send + Sync + 'static,
            $($arg: FromPython,)*
        {
            fn into_callable(self, name: &str) -> Box<OwnedCallable> {
                let name = name.to_owned();
                Box::new(move |args| {
                    let _converted = <($($arg,)*)>::convert(args, &name)?;
                    self($(_converted.$index),*);
                    Ok(args.py().None())
                })
            }
        }

        impl<F, R, $($arg,)*> IntoPyFunction<Fallible<R, ($($arg,)*)>> for F
        where
            F: Fn($($arg),*) -> Result<R> + Send + Sync + 'static,
            R: ToPython,
            $($arg: FromPython,)*
        {
            fn into_callable(self, name: &str) -> Box<OwnedCallable> {
                let name = name.to_owned();
                Box::new(move |args| {
                    let _converted = <($($arg,)*)>::convert(args, &name)?;
                    let value = self($(_converted.$index),*)?;
                    returned(args.py(), &value, &name)
                })
            }
        }
    };
}

into_py_function!(0);
into_py_function!(1, A0 0);
into_py_function!(2, A0 0, A1 1);
into_py_function!(3, A0 0, A1 1, A2 2);
into_py_function!(4, A0 0, A1 1, A2 2, A3 3);
into_py_function!(5, A0 0, A1 1, A2 2, A3 3, A4 4);
into_py_function!(6, A0 0, A1 1, A2 2, A3 3, A4 4, A5 5);

impl Context {
    /// Binds the Rust closure `f` to the Python name `name` in this context: Python code calls
    /// it like a Python function, from any thread, for as long as the context keeps it.
    ///
    /// Arguments convert with [`FromPython`] (a numpy array to a [`Tensor`](crate::Tensor)
    /// over the same memory), the result with [`ToPython`] (`()` is `None`). An `Err` is raised
    /// as the Python exception it stands for; a panic is raised as [`RustPanic`](crate::RustPanic), after which
    /// the function is dead (calls raise `RuntimeError`).
    ///
    /// ```
    /// let ctx = python4r::Context::new();
    /// ctx.set_function("hypot", |x: f64, y: f64| x.hypot(y))?;
    /// assert_eq!(ctx.eval::<f64>("hypot(3.0, 4.0)")?, 5.0);
    /// # Ok::<(), python4r::Error>(())
    /// ```
    pub fn set_function<M>(&self, name: &str, f: impl IntoPyFunction<M>) -> Result<()> {
        let function = Function::new(name, Target::Owned(f.into_callable(name)), None);
        with_gil(|py| {
            let callable = callable(py, &function)?;
            self.globals(py)
                .set_item(name, callable)
                .map_err(|e| Error::from_pyerr(py, e))
        })
    }
}

/// Binds the Rust closure `f` to the Python name `name` in the current context: see
/// [`Context::set_function`].
///
/// ```
/// python4r::set_function("scale", |x: Vec<f64>, k: f64| -> Vec<f64> {
///     x.iter().map(|v| v * k).collect()
/// })?;
/// assert_eq!(python4r::eval::<Vec<f64>>("scale([1.0, 2.0], 3.0)")?, [3.0, 6.0]);
/// # Ok::<(), python4r::Error>(())
/// ```
pub fn set_function<M>(name: &str, f: impl IntoPyFunction<M>) -> Result<()> {
    crate::context::current().set_function(name, f)
}

/// Makes a Rust `#[pymodule]` importable by embedded Python code: puts the module `make`
/// builds into `sys.modules` under its `__name__`. Works at any time (unlike pyo3's
/// `append_to_inittab`, which must run before the interpreter starts); pass
/// `|py| pyo3::wrap_pymodule!(module)(py)`.
///
/// ```
/// use python4r::pyo3::prelude::*;
///
/// #[pymodule]
/// mod kernels {
///     use python4r::pyo3::prelude::*;
///
///     #[pyfunction]
///     fn triple(x: f64) -> f64 {
///         3.0 * x
///     }
/// }
///
/// python4r::add_module(|py| python4r::pyo3::wrap_pymodule!(kernels)(py))?;
/// assert_eq!(python4r::eval::<f64>("__import__('kernels').triple(2.0)")?, 6.0);
/// # Ok::<(), python4r::Error>(())
/// ```
pub fn add_module(make: impl for<'py> FnOnce(Python<'py>) -> Py<PyModule>) -> Result<()> {
    with_gil(|py| {
        let module = make(py).into_bound(py);
        let name = module.name().map_err(|e| Error::from_pyerr(py, e))?;
        py.import("sys")
            .and_then(|sys| sys.getattr("modules"))
            .and_then(|modules| modules.set_item(name, module))
            .map_err(|e| Error::from_pyerr(py, e))
    })
}
