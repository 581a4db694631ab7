//! python4r runs Python from Rust: numpy, scipy, any Python package, with arrays shared
//! between the two without copying.
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;
pub mod config;
pub mod context;
mod convert;
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
