//! The `#[py_exec]` attribute: Rust functions whose bodies are Python, checked at compile time.
//!
//! Use it through `python4r::py_exec`. The crate is split like thiserror's: `attr` parses the keys,
//! `ast` models the function, `valid` checks everything against everything else (the Python code
//! through the `python4r-analysis` crate) and `expand` writes the body.

mod ast;
mod attr;
mod expand;
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
/// | `output` | The variable returned (default `result`), or a list naming each element of a returned tuple (`[]`: nothing, for a function returning `()`). | `output = "total"`, `output = ["q", "r"]` |
/// | `per_call` | The `setup` names the code rebinds on purpose, each call starting again from `setup`'s value (otherwise a warning). | `per_call = ["budget"]` |
/// | `crate` | The path generated code reaches python4r at (default `::python4r`), for crates that re-export it. | `crate = "my_crate::python4r"` |
///
/// A parameter may carry `#[py(name = "...")]`, its Python name (see below).
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
/// `output`, naming the variable to return, one variable per tuple element, or none:
///
/// ```
/// # use python4r::py_exec;
/// #[py_exec(code = "q, r = divmod(a, b)", output = ["q", "r"])]
/// fn div_rem(a: i64, b: i64) -> (i64, i64);
///
/// #[py_exec(code = "total = sum(xs)", output = "total")]
/// fn total(xs: Vec<i64>) -> i64;
///
/// #[py_exec(code = "xs.sort()", output = [])]
/// fn sort(xs: &mut Vec<i64>);
///
/// assert_eq!(div_rem(17, 5), (3, 2));
/// assert_eq!(total(vec![1, 2, 3]), 6);
/// let mut xs = vec![3, 1, 2];
/// sort(&mut xs);
/// assert_eq!(xs, [1, 2, 3]);
/// ```
///
/// `per_call`, for `setup` names the code rebinds on purpose. Every call starts again from what
/// `setup` left, so a value the code assigns to a `setup` name is lost when the call returns;
/// without `per_call` that is a warning (mutate an object `setup` made, or return the value, to
/// keep state). With it, the listed names are a fresh start on every call:
///
/// ```
/// # use python4r::py_exec;
/// #[py_exec(setup = "budget = 3", per_call = ["budget"], code = r#"
///     taken = []
///     for item in items:
///         if budget == 0:
///             break
///         taken.append(item)
///         budget -= 1
///     result = taken
/// "#)]
/// fn first_three(items: Vec<i64>) -> Vec<i64>;
///
/// assert_eq!(first_three(vec![1, 2, 3, 4]), [1, 2, 3]);
/// assert_eq!(first_three(vec![5, 6, 7, 8]), [5, 6, 7]);
/// ```
///
/// `crate`, for a crate that re-exports python4r: generated code then reaches python4r through
/// that path rather than `::python4r` (as pyo3's, serde's and tokio's `crate` attributes do), so
/// the crate's users need no dependency on python4r of their own:
///
/// ```
/// mod engine {
///     pub use python4r as python;
/// }
///
/// #[engine::python::py_exec(crate = "engine::python", code = "result = x * 2")]
/// fn double(x: i64) -> i64;
///
/// assert_eq!(double(21), 42);
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
/// Each parameter is a plain identifier and becomes the Python variable of the same name, or of
/// the name `#[py(name = "...")]` gives it (for names Python code wants and Rust style does not,
/// such as scikit-learn's `X`). Any type that converts to Python is accepted by value or by
/// reference; `&Tensor` arrives read-only and `&mut Tensor` writable. An optional first parameter
/// `py: python4r::pyo3::Python<'_>` is the token of an already attached interpreter, not an input:
/// the call then skips `with_gil`'s per-call set-up, and still refuses (with a `RecursionError`)
/// a call nested so deeply through Rust that the thread's stack would overflow.
///
/// ```
/// # use python4r::py_exec;
/// #[py_exec(code = "result = sum(X) / len(X)")]
/// fn mean(#[py(name = "X")] x: Vec<f64>) -> f64;
///
/// assert_eq!(mean(vec![1.0, 2.0, 6.0]), 3.0);
/// ```
///
/// A `&mut` parameter is changed in place: the code writes through it (`arr *= 2`,
/// `arr[...] = arr * 2`, `xs.append(1)`). Binding its name anew (`arr = arr * 2`, `for arr in`,
/// `del arr`, ...) would leave the caller's value unchanged, so it is a compile error; bind a new
/// name instead (`flat = arr.reshape(-1); flat *= 2`).
///
/// A parameter of type `&dyn Fn(A, ..) -> R`, `&(dyn Fn(A, ..) -> R + Sync)`,
/// `&mut dyn FnMut(A, ..) -> R` or `impl Fn(A, ..) -> R` is a Rust function the code calls, lent
/// for this one call: a callable kept afterwards raises `RuntimeError`, a non-`Sync` one raises
/// when called from another thread, an `FnMut` when called while it runs; an `Err` it returns is
/// a Python exception (uncaught, the function returns that `Err`), a panic resumes once the call
/// ends. These forms are recognised by their syntax: a type alias for one is not. See the guide,
/// "Rust functions in Python".
///
/// ```
/// # use python4r::py_exec;
/// #[py_exec(code = "result = sorted(xs, key=f)")]
/// fn sort_by(xs: Vec<i64>, f: &dyn Fn(i64) -> i64) -> Vec<i64>;
///
/// assert_eq!(sort_by(vec![3, -4, 1], &|x| x.abs()), [1, 3, -4]);
/// ```
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
/// `await`, outputs the code never assigns, names that are never defined and a rebound `&mut`
/// parameter are compile errors. The name checks switch themselves off when the code can define
/// names at run time (`exec`, `eval`, `globals()`, `from x import *`, ...).
///
/// Rebinding a `setup` name outside `per_call` is a warning. A proc macro on stable Rust can only
/// warn through a deprecation, so it reads ``use of deprecated constant `py_exec_warning` `` and
/// points at the whole code literal; the message names the variable and the line. List the name
/// in `per_call` to say the rebinding is meant, rather than `#[allow(deprecated)]`, which would
/// also silence every other deprecation in the function.
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

#[cfg(test)]
mod tests {
    use quote::quote;

    fn expand(args: proc_macro2::TokenStream, item: proc_macro2::TokenStream) -> String {
        super::py_exec_impl(args, item).to_string()
    }

    #[test]
    fn generated_code_reaches_python4r_only_through_the_crate_path() {
        let item = quote!(
            fn f(a: i64, b: &mut Vec<i64>) -> python4r::Result<i64>;
        );
        let default = expand(quote!(code = "result = a"), item.clone());
        assert!(default.contains(":: python4r :: __private"), "{default}");
        let expanded = expand(quote!(crate = "facade::py", code = "result = a"), item);
        assert!(expanded.contains("facade :: py :: __private"), "{expanded}");
        // The only `python4r` left is the user's own return type.
        assert_eq!(expanded.matches("python4r").count(), 1, "{expanded}");
    }

    #[test]
    #[ignore = "prints an expansion to read: cargo test -p python4r-macros -- --ignored --nocapture"]
    fn show_an_expansion() {
        let expanded = super::py_exec_impl(
            quote!(setup = "n = 0", code = "n += 1\nresult = a + len(b)"),
            quote!(
                fn f(a: i64, b: &mut Vec<i64>, c: &str) -> python4r::Result<i64>;
            ),
        );
        println!("{expanded}");
    }

    #[test]
    fn python_names_leave_the_signature() {
        let expanded = expand(
            quote!(code = "result = X"),
            quote!(
                fn f(
                    #[py(name = "X")]
                    #[allow(unused)]
                    x: i64,
                ) -> i64;
            ),
        );
        assert!(!expanded.contains("# [py"), "{expanded}");
        assert!(
            expanded.contains("# [allow (unused)] x : i64"),
            "{expanded}"
        );
        assert!(expanded.contains("inputs : & [\"X\"]"), "{expanded}");
    }

    #[test]
    fn a_misspelled_code_key_is_the_only_error() {
        let expanded = expand(
            quote!(cod = "result = 1"),
            quote!(
                fn f() -> i64;
            ),
        );
        assert_eq!(expanded.matches("compile_error").count(), 1, "{expanded}");
        assert!(expanded.contains("unknown key `cod`; did you mean `code`?"));
    }
}
