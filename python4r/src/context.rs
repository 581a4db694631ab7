//! Contexts: separate Python namespaces, held as handles, and python4j's "current context" calls
//! (per thread) on top of them.
//!
//! Each context is its own `dict` of globals, as separate as two modules: a variable set in one is
//! not seen in another. The `main` context is the interpreter's `__main__` module.
//!
//! # Example
//!
//! ```
//! use python4r::context;
//!
//! for (name, value) in [("ctx1", 1), ("ctx2", 2), ("ctx3", 3)] {
//!     context::set_current(name)?;
//!     python4r::exec(&format!("a = {value}"))?;
//! }
//! context::set_current("ctx2")?;
//! assert_eq!(python4r::get::<i64>("a")?, 2);
//! context::set_current("main")?;
//! context::delete_non_main()?;
//! assert_eq!(context::list(), vec!["main".to_owned()]);
//! # Ok::<(), python4r::Error>(())
//! ```

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock};

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyDict;

use crate::error::{Error, Result};
use crate::gil::with_gil;

/// The name of the default context, the interpreter's `__main__` module.
pub const MAIN: &str = "main";

/// A Python namespace that code runs in. Cloning gives another handle to the same namespace.
///
/// # Example
///
/// ```
/// use python4r::Context;
///
/// let a = Context::new();
/// let b = Context::new();
/// a.exec("x = 1")?;
/// b.exec("x = 2")?;
/// assert_eq!(a.get::<i64>("x")?, 1);
/// assert_eq!(b.get::<i64>("x")?, 2);
/// # Ok::<(), python4r::Error>(())
/// ```
#[derive(Clone)]
pub struct Context {
    inner: Arc<Inner>,
}

struct Inner {
    name: String,
    globals: PyOnceLock<Py<PyDict>>,
    main: bool,
}

impl Context {
    /// A new, empty namespace (only `__builtins__` and `__name__ == "__main__"`), not registered
    /// under any name.
    pub fn new() -> Context {
        Context::named(String::new())
    }

    fn named(name: String) -> Context {
        Context {
            inner: Arc::new(Inner {
                name,
                globals: PyOnceLock::new(),
                main: false,
            }),
        }
    }

    /// The `main` context: the interpreter's `__main__` module.
    pub fn main() -> Context {
        static MAIN_CONTEXT: OnceLock<Context> = OnceLock::new();
        MAIN_CONTEXT
            .get_or_init(|| Context {
                inner: Arc::new(Inner {
                    name: MAIN.to_owned(),
                    globals: PyOnceLock::new(),
                    main: true,
                }),
            })
            .clone()
    }

    /// The name it is registered under (empty for an unregistered one).
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The namespace's `dict`, to work on it with pyo3.
    pub fn globals<'py>(&self, py: Python<'py>) -> Bound<'py, PyDict> {
        self.inner
            .globals
            .get_or_init(py, || {
                if let (true, Ok(main)) = (self.inner.main, py.import("__main__")) {
                    return main.dict().unbind();
                }
                fresh_namespace(py).unbind()
            })
            .bind(py)
            .clone()
    }

    /// Deletes every variable (all but `__dunder__` names); `__builtins__` stays.
    ///
    /// ```
    /// let ctx = python4r::Context::new();
    /// ctx.exec("x = 1")?;
    /// ctx.clear()?;
    /// assert!(ctx.get::<i64>("x").is_err());
    /// ctx.exec("y = len('ok')")?; // builtins still work
    /// # Ok::<(), python4r::Error>(())
    /// ```
    pub fn clear(&self) -> Result<()> {
        with_gil(|py| {
            let globals = self.globals(py);
            let doomed: Vec<_> = globals
                .keys()
                .iter()
                .filter(|k| {
                    k.extract::<String>().map_or(true, |name| {
                        !(name.starts_with("__") && name.ends_with("__"))
                    })
                })
                .collect();
            for key in doomed {
                globals
                    .del_item(key)
                    .map_err(|e| Error::from_pyerr(py, e))?;
            }
            Ok(())
        })
    }

    /// Whether two handles refer to the same namespace.
    pub fn same(&self, other: &Context) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

// The namespace is a Python `dict`: Python code changes it under the GIL, and a panic in Rust
// leaves it as Python left it, which is what a later call sees anyway (python4r keeps no Rust
// invariant about its contents).
impl std::panic::UnwindSafe for Context {}
impl std::panic::RefUnwindSafe for Context {}

impl Default for Context {
    fn default() -> Self {
        Context::new()
    }
}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context")
            .field("name", &self.inner.name)
            .finish_non_exhaustive()
    }
}

fn fresh_namespace(py: Python<'_>) -> Bound<'_, PyDict> {
    let dict = PyDict::new(py);
    // Setting two keys of a new dict cannot fail but on memory exhaustion, where the next use
    // reports it anyway.
    let _ = dict.set_item("__name__", "__main__");
    if let Ok(builtins) = py.import("builtins") {
        let _ = dict.set_item("__builtins__", builtins);
    }
    dict
}

static REGISTRY: Mutex<BTreeMap<String, Context>> = Mutex::new(BTreeMap::new());

thread_local! {
    static CURRENT: RefCell<Option<Context>> = const { RefCell::new(None) };
}

fn registry() -> std::sync::MutexGuard<'static, BTreeMap<String, Context>> {
    REGISTRY.lock().unwrap_or_else(|e| e.into_inner())
}

fn check_name(name: &str) -> Result<()> {
    if name.is_empty() || name.trim() != name {
        return Err(Error::Context(format!(
            "invalid context name {name:?}: use a non-empty name without surrounding spaces"
        )));
    }
    Ok(())
}

/// Registers a new context under `name` and returns it.
///
/// # Errors
///
/// [`Error::Context`] when the name is empty or taken.
pub fn add(name: &str) -> Result<Context> {
    check_name(name)?;
    if name == MAIN {
        return Err(Error::Context(
            "context `main` always exists; choose another name".to_owned(),
        ));
    }
    let mut contexts = registry();
    if contexts.contains_key(name) {
        return Err(Error::Context(format!(
            "context `{name}` already exists: use context::get or context::set_current to use it"
        )));
    }
    let ctx = Context::named(name.to_owned());
    contexts.insert(name.to_owned(), ctx.clone());
    Ok(ctx)
}

/// The context registered under `name`.
pub fn get(name: &str) -> Option<Context> {
    if name == MAIN {
        return Some(Context::main());
    }
    registry().get(name).cloned()
}

/// Whether a context is registered under `name`.
pub fn exists(name: &str) -> bool {
    get(name).is_some()
}

/// Makes `name` the calling thread's current context, registering it first if it does not exist
/// (as python4j's `setContext`). Other threads keep theirs.
pub fn set_current(name: &str) -> Result<Context> {
    check_name(name)?;
    let ctx = match get(name) {
        Some(ctx) => ctx,
        None => add(name).or_else(|_| {
            get(name).ok_or_else(|| Error::Context(format!("context `{name}` vanished")))
        })?,
    };
    CURRENT.with(|c| *c.borrow_mut() = Some(ctx.clone()));
    Ok(ctx)
}

/// The calling thread's current context (`main` until [`set_current`] chose another).
pub fn current() -> Context {
    CURRENT
        .with(|c| c.borrow().clone())
        .unwrap_or_else(Context::main)
}

/// The name of the calling thread's current context.
pub fn current_name() -> String {
    current().name().to_owned()
}

/// Deletes every variable of the current context.
pub fn reset() -> Result<()> {
    current().clear()
}

/// Unregisters the context `name` and deletes its variables.
///
/// # Errors
///
/// [`Error::Context`] for `main`, for the calling thread's current context, and for a name that
/// is not registered.
pub fn delete(name: &str) -> Result<()> {
    if name == MAIN {
        return Err(Error::Context(
            "the `main` context cannot be deleted".to_owned(),
        ));
    }
    if current_name() == name {
        return Err(Error::Context(format!(
            "context `{name}` is the current context of this thread: switch to another one \
             (context::set_current) before deleting it"
        )));
    }
    let removed = registry().remove(name);
    match removed {
        Some(ctx) => ctx.clear(),
        None => Err(Error::Context(format!(
            "there is no context `{name}`; see context::list()"
        ))),
    }
}

/// Makes `main` the current context of the calling thread and deletes every other context.
pub fn delete_non_main() -> Result<()> {
    CURRENT.with(|c| *c.borrow_mut() = None);
    let removed: Vec<Context> = std::mem::take(&mut *registry()).into_values().collect();
    removed.iter().try_for_each(Context::clear)
}

/// The names of all contexts, `main` included, sorted.
pub fn list() -> Vec<String> {
    let mut names: Vec<String> = registry().keys().cloned().collect();
    names.push(MAIN.to_owned());
    names.sort();
    names
}
