//! python4r runs Python from Rust: numpy, scipy, any Python package, with arrays shared
//! between the two without copying.
//!
//! # Quick start
//!
//! ```
//! use python4r::{py_exec, Tensor};
//!
//! #[py_exec(code = "result = arr * 2.0")]
//! fn double(arr: &Tensor) -> Tensor;
//!
//! let x = Tensor::from_vec(vec![1.0_f64, 2.0, 3.0], &[3])?;
//! assert_eq!(double(&x).to_vec::<f64>()?, [2.0, 4.0, 6.0]);
//! # Ok::<(), python4r::Error>(())
//! ```
//!
//! Add `python4r` to `[dependencies]`, and `python4r-build` to `[build-dependencies]` with a
//! `build.rs` that calls `python4r_build::configure()`: it makes your binaries load the
//! libpython of the Python python4r was built for (`PYO3_PYTHON`, else `python3` on `PATH`),
//! whose `pip install`ed packages the embedded interpreter then imports.
//!
//! # `#[py_exec]`
//!
//! [`py_exec`] turns a Rust signature and a Python body into a function. Its keys:
//!
//! | key | value |
//! |---|---|
//! | `code` | the body, a string literal (raw and indented strings too) |
//! | `file` | or a `.py` script, relative to the crate's `Cargo.toml` |
//! | `setup` | code run once per function before its first call (imports, models, state) |
//! | `output` | the variable returned (default `result`), or `["a", "b"]` for a tuple |
//!
//! At compile time it checks the Python syntax (for the Python version being built for), that
//! every output is assigned, that every name read is defined, and that every parameter and return
//! type can cross; at run time the body is compiled once and behaves exactly like a module's
//! top-level code in a fresh namespace holding what `setup` defined plus the inputs. Returning
//! `python4r::Result<T>` turns Python exceptions into errors; otherwise they panic with the
//! function's name, the exception and its traceback.
//!
//! # The dynamic API
//!
//! python4j's `PythonExecutioner`, for code built at run time: [`exec`], [`exec_with`],
//! [`exec_io`], [`eval`], [`get`], [`set`], [`variables`], [`exec_and_return_all`], acting on the
//! calling thread's current [`context`] (`main` by default), or on a [`Context`] handle.
//! Compiled code is cached ([`CODE_CACHE_CAPACITY`] entries, least recently used dropped), and
//! never rewritten as text. [`Job`]s run a script in a context of their own; [`process`] runs the
//! embedded environment's Python and pip.
//!
//! ```
//! let out = python4r::exec_io("c = a + b", &[("a", &2), ("b", &3)], &["c"])?;
//! assert_eq!(out.get::<i64>("c")?, 5);
//! # Ok::<(), python4r::Error>(())
//! ```
//!
//! # Types
//!
//! [`ToPython`], [`ToPythonMut`] and [`FromPython`] convert values; they build on pyo3's
//! conversion traits, so a type of your own crosses once it implements those (see their docs).
//!
//! | Rust | Python |
//! |---|---|
//! | `bool` | `bool` (also from `numpy.bool_`) |
//! | integers | `int` (also from numpy integers); out of range is an error, never a wrap |
//! | `f32`, `f64` | `float` (also from numpy floats) |
//! | `&str`, `String` | `str` |
//! | `&[u8]`, `Vec<u8>` | `bytes` (also from `bytearray` and `memoryview`) |
//! | `Option<T>` | `None` or `T` |
//! | `Vec<T>`, `&[T]` | `list` (also from `tuple`) |
//! | `HashMap`, `BTreeMap` | `dict` |
//! | tuples of up to 12 | `tuple` |
//! | [`Value`] | any of these, nested, with mixed-type dict keys, in order |
//! | [`Tensor`] | `numpy.ndarray`, sharing memory |
//! | `Py<PyAny>` | anything, passed through |
//!
//! # Tensors and NumPy
//!
//! A [`Tensor`] has one of 13 [`DType`]s and any layout (strides, offset, negative and zero
//! strides). `&Tensor` reaches Python as a read-only `numpy.ndarray` over the same memory, `&mut
//! Tensor` as a writable one; arrays coming back share numpy's memory and keep it alive. The
//! sharing model and its soundness argument: [`tensor`].
//!
//! # Configuration
//!
//! `PYTHON4R_PATH`, `PYTHON4R_PATH_APPEND`, `PYTHON4R_NUMPY_IMPORT` and `PYTHON4R_BF16`, or the
//! [`config::Config`] builder before first use: see [`config`]. [`interpreter_info`] reports
//! what is embedded.
//!
//! # Errors
//!
//! Everything returns [`Result`] with the one [`Error`] enum. [`Error::Python`] holds a
//! [`PyException`]: the type name, message, traceback, `SyntaxError` location and the exception
//! object (match by type, walk `__cause__`/`__context__`). `SystemExit` and `KeyboardInterrupt`
//! are errors too: nothing exits the host process.
//!
//! # Threads
//!
//! Any thread may call Python; each call holds the GIL only while it runs ([`with_gil`] and the
//! [`Gil`] guard are reentrant). Python calls block: in async code run them with
//! `spawn_blocking`; around long Rust work inside [`with_gil`], release the GIL with pyo3's
//! `py.detach`.
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;
pub mod config;
pub mod context;
pub mod convert;
mod error;
mod exec;
mod gil;
mod interpreter;
pub mod interrupt;
pub mod job;
pub mod process;
mod pyfn;
mod recursion;
pub mod tensor;

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

pub use context::Context;
pub use convert::{FromPython, ToPython, ToPythonMut, Value};
pub use error::{Error, PyException, Result};
pub use exec::{
    CODE_CACHE_CAPACITY, Outputs, cached_code_count, eval, exec, exec_and_return_all, exec_io,
    exec_with, get, set, variables,
};
pub use gil::{Gil, with_gil};
pub use interpreter::{
    BuildInfo, InterpreterInfo, initialize, interpreter_info, python_executable,
};
pub use job::Job;
pub use python4r_macros::py_exec;
pub use tensor::{DLPackTensor, DType, Element, Tensor};

pub use half;
pub use ndarray;
#[cfg(feature = "numpy")]
pub use numpy;
pub use pyo3;
