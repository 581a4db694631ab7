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
//! and embed the Python packages your `Cargo.toml` declares:
//!
//! ```toml
//! [package.metadata.python4r]
//! dependencies = ["numpy>=1.26", "scipy"]   # PEP 508; installed into a managed environment
//! ```
//!
//! `cargo python4r bundle` (the `cargo-python4r` crate) then makes a folder that runs without
//! an installed Python: see [the guide](guide#python-environments-and-bundles).
//!
//! # `#[py_exec]`
//!
//! [`py_exec`] turns a Rust signature and a Python body into a function: its keys (`code`, `file`,
//! `setup`, `output`, ...), what it checks at compile time and how the body runs are in its
//! docs. Returning `python4r::Result<T>` turns Python exceptions into errors; otherwise they panic
//! with the function's name, the exception and its traceback.
//!
//! # The dynamic API
//!
//! python4j's `PythonExecutioner`, for code built at run time: [`exec`], [`exec_with`],
//! [`exec_io`], [`eval`], [`get`], [`set`], [`variables`], [`exec_and_return_all`], acting on the
//! calling thread's current [`context`] (`main` by default), or on a [`Context`] handle.
//! Compiled code is cached (512 entries, least recently used dropped), and never rewritten as
//! text. [`Job`]s run a script in a context of their own; [`process`] runs the
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
//! conversion traits, so a type of your own crosses once it implements those (see [`convert`]).
//! Which Rust type becomes which Python type: [the guide's table](guide#types).
//!
//! # Tensors and NumPy
//!
//! A [`Tensor`] has one of the [`DType`]s (numpy's floats, integers, bool, complex numbers, and
//! dates and durations in a [`datetime::TimeUnit`]) and any layout (strides, offset, negative and
//! zero strides). `&Tensor` reaches Python as a read-only `numpy.ndarray` over the same memory,
//! `&mut Tensor` as a writable one, and a [`TensorViewMut`] (a column, a slice) as a writable
//! array over its parent's memory; arrays coming back share numpy's memory and keep it alive.
//! The sharing model and its soundness argument: [`tensor`]; dates and their units:
//! [`datetime`].
//!
//! # Rust functions in Python
//!
//! A `#[py_exec]` parameter `f: &dyn Fn(A, ..) -> R` (or `&(dyn Fn(..) -> R + Sync)`,
//! `&mut dyn FnMut(..) -> R`, `impl Fn(..) -> R`) reaches the body as a Python callable, lent
//! for that one call: `scipy.optimize` over a Rust loss, `solve_ivp` over a Rust right-hand
//! side. A callable Python keeps raises `RuntimeError` after the call, an `Err` becomes a Python
//! exception, a panic resumes in Rust once the call ends. [`Context::set_function`] and
//! [`set_function`] bind `'static` closures to names, [`add_module`] makes a Rust `#[pymodule]`
//! importable. The rules: [the guide](guide#rust-functions-in-python).
//!
//! # Optional features
//!
//! - `arrow`: arrow-rs's `RecordBatch` and `ArrayRef`, and `arrow::Table` (a schema with its
//!   batches), cross as parameters and returns: into Python as pyarrow objects without copying,
//!   back from anything exporting the Arrow PyCapsule interface (pyarrow, polars, pandas); see
//!   the `arrow` module. Built on `pyo3-arrow` 0.20: it fixes arrow-rs at 59 and switches on
//!   pyo3's `chrono` and `chrono-tz` features for the whole build. Re-exports `arrow_array`,
//!   `arrow_schema` and `pyo3_arrow`.
//! - `chrono`: `chrono` dates, times and durations cross as parameters, returns and
//!   [`Value`]s; numpy's `datetime64` scalars are read exactly; date tensors convert to chrono
//!   values (`Tensor::to_datetimes`). Re-exports `chrono`.
//! - `num-complex`: `num_complex::Complex32` and `Complex64` scalars cross as parameters and
//!   returns (complex tensors and [`Value::Complex`] need no feature; `num_complex` is always
//!   re-exported).
//! - `numpy` (default): the NumPy bridge.
//!
//! # Configuration
//!
//! `PYTHON4R_*` environment variables, or the [`config::Config`] builder before first use: see
//! [`config`] and [the guide](guide#configuration). [`interpreter_info`] reports what is
//! embedded.
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
//!
//! One interpreter runs Python bytecode on one core at a time. numpy's kernels release the GIL,
//! so threads help for large arrays; pure-Python work goes to worker processes through Dask or
//! Ray started in a `#[py_exec]` function's `setup` (see the README, "More than one core", and
//! `examples/distributed.rs`).
//!
//! # Shutting down
//!
//! python4r never finalises the interpreter. Call [`shutdown`] at the end of `main` to run
//! Python's exit steps (`atexit` handlers: dask closes its clusters, `multiprocessing` joins its
//! children; waiting for non-daemon Python threads; flushing `sys.stdout`); later calls fail with
//! [`Error::ShutDown`]. A program that does not call it gets them when it exits, bounded by
//! `PYTHON4R_EXIT_TIMEOUT`.
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;
#[cfg(feature = "arrow")]
pub mod arrow;
mod build_info;
mod bundle;
pub mod config;
pub mod context;
pub mod convert;
mod crossing;
pub mod datetime;
mod dtype;
mod environment;
mod error;
mod exec;
mod executable;
mod gil;
pub mod interpreter;
pub mod interrupt;
mod interruption;
pub mod job;
pub mod process;
mod pyerr;
mod pyfn;
mod recursion;
mod release;
mod rust_function;
mod shutdown;
pub mod tensor;
#[cfg(feature = "chrono")]
mod time_values;
mod warning;

/// The guide: the project's README, whose examples run as doctests.
#[doc = include_str!("../README.md")]
pub mod guide {}

pub use context::Context;
pub use convert::{FromPython, ToPython, ToPythonMut, Value};
pub use error::{CodeOrigin, Error, PyException, Result};
pub use exec::{Outputs, eval, exec, exec_and_return_all, exec_io, exec_with, get, set, variables};
pub use gil::{Gil, with_gil};
pub use interpreter::{initialize, interpreter_info};
pub use job::Job;
pub use python4r_macros::py_exec;
pub use rust_function::RustPanic;
pub use rust_function::dynamic::{IntoPyFunction, add_module, set_function};
pub use shutdown::shutdown;
pub use tensor::{DLPackTensor, DType, Element, Tensor, TensorViewMut};

#[cfg(feature = "arrow")]
pub use arrow_array;
#[cfg(feature = "arrow")]
pub use arrow_schema;
#[cfg(feature = "chrono")]
pub use chrono;
pub use half;
pub use ndarray;
pub use num_complex;
#[cfg(feature = "numpy")]
pub use numpy;
pub use pyo3;
#[cfg(feature = "arrow")]
pub use pyo3_arrow;
