//! The `#[py_exec]` attribute: Rust functions whose bodies are Python, checked at compile time.
//!
//! Use it through `python4r::py_exec`. The crate is split like thiserror's: `attr` parses the keys,
//! `ast` models the function, `python` reads the Python code, `valid` checks everything
//! against everything else and `expand` writes the body.

mod ast;
mod attr;
mod expand;
mod python;
#[cfg(test)]
mod python_corpus;
mod valid;

use proc_macro::TokenStream;

/// Gives a Rust function a Python body, compiled once and called like any Rust function.
///
/// ```
/// use python4r::py_exec;
///
/// #[py_exec(code = "result = a * b + 1")]
/// fn fma(a: i64, b: i64) -> i64;
///
/// assert_eq!(fma(6, 7), 43);
/// ```
///
/// # Keys
///
/// | Key | Value | Example |
/// |-----|-------|---------|
/// | `code` | The body, a string literal (raw strings too). Exactly one of `code` and `file`. | `code = "result = x + 1"` |
/// | `file` | A `.py` script, relative to the crate's manifest directory; editing it rebuilds. | `file = "src/score.py"` |
/// | `setup` | Code run once per function, before its first call, in the function's own namespace. | `setup = "import math"` |
/// | `output` | The variable returned (default `result`), or a list naming each element of a returned tuple. | `output = "total"`, `output = ["q", "r"]` |
///
/// `code`, with an indented raw string that sits naturally in Rust source (lines and string
/// contents are kept exactly as written, so tracebacks point at this file):
///
/// ```
/// # use python4r::py_exec;
/// #[py_exec(code = r#"
///     words = text.split()
///     result = len(words)
/// "#)]
/// fn word_count(text: &str) -> usize;
///
/// assert_eq!(word_count("to be or not"), 4);
/// ```
///
/// `setup`, for imports and state kept between calls (mutate an object to keep state; names the
/// body rebinds are fresh on every call):
///
/// ```
/// # use python4r::py_exec;
/// #[py_exec(setup = "import math\nseen = []", code = r#"
///     seen.append(x)
///     result = math.sqrt(x) + len(seen)
/// "#)]
/// fn root_plus_calls(x: f64) -> f64;
///
/// assert_eq!(root_plus_calls(16.0), 5.0);
/// assert_eq!(root_plus_calls(16.0), 6.0);
/// ```
///
/// `output`, naming the variable to return, or one variable per tuple element:
///
/// ```
/// # use python4r::py_exec;
/// #[py_exec(code = "q, r = divmod(a, b)", output = ["q", "r"])]
/// fn div_rem(a: i64, b: i64) -> (i64, i64);
///
/// #[py_exec(code = "total = sum(xs)", output = "total")]
/// fn total(xs: Vec<i64>) -> i64;
///
/// assert_eq!(div_rem(17, 5), (3, 2));
/// assert_eq!(total(vec![1, 2, 3]), 6);
/// ```
///
/// `file`, loading the body from a script (the path is relative to the crate's `Cargo.toml`;
/// tracebacks name the script and its lines):
///
/// ```
/// # use python4r::py_exec;
/// #[py_exec(file = "doc/mean.py")]
/// fn mean(values: Vec<f64>) -> f64;
///
/// assert_eq!(mean(vec![1.0, 2.0, 6.0]), 3.0);
/// ```
///
/// # Parameters and returns
///
/// Each parameter is a plain identifier and becomes the Python variable of the same name. Any type
/// that converts to Python is accepted by value or by reference; `&Tensor` arrives read-only and
/// `&mut Tensor` writable. An optional first parameter `py: python4r::pyo3::Python<'_>` is the
/// token of an already attached interpreter, not an input.
///
/// The return type is `()` (nothing is read), any type that converts from Python (a tuple too, read
/// from one Python tuple), a tuple with `output = [...]`, or `python4r::Result<T>` (any
/// `Result<T, E>` with `E: From<python4r::Error>`), which returns Python exceptions as errors.
/// Without a `Result`, an exception panics with the function's name, the exception's type, its
/// message and the traceback.
///
/// ```
/// # use python4r::py_exec;
/// #[py_exec(code = "result = int(text)")]
/// fn parse(text: &str) -> python4r::Result<i64>;
///
/// assert_eq!(parse("12").unwrap(), 12);
/// assert!(parse("twelve").is_err());
/// ```
///
/// # Semantics
///
/// The body behaves exactly like a module's top-level code run in a fresh namespace that starts
/// with what `setup` defined plus the inputs. Calls do not see each other's leftovers; objects
/// made by `setup` persist; names the body rebinds do not. `global`, nested functions, closures,
/// class bodies, generator expressions, `exec`, `eval`, `locals()` and `from x import *` behave as
/// they do at module level. If `setup` raises, the call returns (or panics with) that error and the
/// next call runs `setup` again; `setup` runs once even when many threads call at once.
///
/// The code is compiled once per function, at its first call. Bodies for which a Python function
/// is provably equivalent to module code run as one (the fast path); the others (`global`,
/// `from x import *`, `exec`, `locals()`, rebinding a `setup` name or a builtin, module-level
/// annotations, reading a variable that a branch may have left unassigned, ...) run as a cached
/// code object in a fresh copy of the namespace.
///
/// # Compile-time checks
///
/// Syntax errors (for the Python version the crate is built for), top-level `return`, `yield` and
/// `await`, outputs the code never assigns and names that are never defined are compile errors.
/// The last check switches itself off when the code can define names at run time (`exec`,
/// `eval`, `globals()`, `from x import *`, ...).
#[proc_macro_attribute]
pub fn py_exec(args: TokenStream, item: TokenStream) -> TokenStream {
    py_exec_impl(args.into(), item.into()).into()
}

fn py_exec_impl(
    args: proc_macro2::TokenStream,
    item: proc_macro2::TokenStream,
) -> proc_macro2::TokenStream {
    let func: ast::Function = match syn::parse2(item.clone()) {
        Ok(func) => func,
        Err(error) => {
            let error = error.to_compile_error();
            return quote::quote!(#error #item);
        }
    };
    let (args, arg_errors) = attr::Args::parse(args);
    let mut errors = valid::Errors::default();
    for error in arg_errors {
        errors.push(error);
    }
    let checked = valid::check(args, &func, &mut errors);
    match (errors.finish(), checked) {
        (Ok(()), Some(checked)) => expand::expand(&func, &checked),
        (Err(error), _) => expand::stub(&func, error),
        (Ok(()), None) => unreachable!("a function that failed its checks has errors"),
    }
}
