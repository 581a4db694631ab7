//! Rust functions that Python code calls: closures lent to a `#[py_exec]` body for one call,
//! closures bound to a name in a [`Context`], and Rust `#[pymodule]`s made importable.
//!
//! # Lent for one call
//!
//! A `#[py_exec]` parameter `f: &dyn Fn(A, ..) -> R` (or `&(dyn Fn(A, ..) -> R + Sync)`,
//! `&mut dyn FnMut(A, ..) -> R`, `impl Fn(A, ..) -> R`) reaches Python as a callable. The
//! closure borrows from the caller's stack, and Python may keep the callable, call it from
//! another thread, or call it from inside itself; each of these is refused with an exception
//! rather than allowed to break Rust's rules:
//!
//! - the callable holds a lifetime-erased pointer to the closure behind an `Arc` that records
//!   whether the closure is still alive, the thread that may call it, the calls in flight, and a
//!   panic; when the `#[py_exec]` call ends, its guard marks the closure gone and waits (GIL
//!   released) for calls in flight, so a callable Python kept raises `RuntimeError` ("the Rust
//!   function `f` is gone") and never reaches freed memory;
//! - a `&dyn Fn` (not `Sync`) may only be called on the thread of the `#[py_exec]` call; a
//!   `&(dyn Fn + Sync)` from any thread;
//! - a `&mut dyn FnMut` raises when called while a call of it is running (re-entrantly or from
//!   another thread), instead of making a second `&mut`.
//!
//! An `Err` the closure returns is raised as the Python exception it stands for (catchable with
//! `except Exception`); if the body does not catch it, the `#[py_exec]` function returns that
//! same [`Error`]. A panic is caught before it reaches pyo3 and raised as [`RustPanic`] (a
//! `BaseException`, so `except Exception` does not swallow it); the closure is then dead, and
//! when the `#[py_exec]` call ends the same panic resumes in Rust, even if the body caught it.
//!
//! Arrays Python passes in arrive as tensors over the same memory, readable without a copy
//! while the closure runs (see `tensor::held`).
//!
//! The dynamic API's functions and modules are in [`dynamic`].

pub(crate) mod dynamic;

use std::any::Any;
use std::ffi::{CStr, CString};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{self, ThreadId};

use pyo3::exceptions::{PyRuntimeError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyCFunction, PyDict, PyTuple};

use crate::error::{Error, Result};
use crate::pyerr::raised;
use crate::tensor::held::HeldFrame;

pyo3::create_exception!(
    python4r,
    RustPanic,
    pyo3::exceptions::PyBaseException,
    "The exception a Rust function called from Python raises when it panics \
     (`python4r.RustPanic`, a `BaseException` subclass, as pyo3's `PanicException`, so that \
     `except Exception` does not swallow it)."
);

/// A Rust function as Python calls it: the arguments tuple in, the result (or an error) out.
type Callable<'f> = dyn for<'py> Fn(&Bound<'py, PyTuple>) -> Result<Py<PyAny>> + 'f;
/// A function of the dynamic API: callable from any thread, for as long as Python keeps it.
#[doc(hidden)]
pub type OwnedCallable =
    dyn for<'py> Fn(&Bound<'py, PyTuple>) -> Result<Py<PyAny>> + Send + Sync + 'static;
type CallableMut<'f> = dyn for<'py> FnMut(&Bound<'py, PyTuple>) -> Result<Py<PyAny>> + 'f;

/// What the callable calls.
enum Target {
    /// A lent `Fn`, its lifetime erased: dereferenced only while [`Function::alive`].
    Lent(*const Callable<'static>),
    /// A lent `FnMut`, its lifetime erased: dereferenced only while alive, by one call at a time.
    LentMut(*mut CallableMut<'static>),
    /// A function of the dynamic API, owned.
    Owned(Box<OwnedCallable>),
}

/// The shared state of one Rust function lent or given to Python.
struct Function {
    /// The Python name, in messages.
    name: String,
    target: Target,
    /// The only thread allowed to call it (`None`: any thread).
    owner: Option<ThreadId>,
    /// False once the lender's call ended, or the function panicked. With `in_flight`, the
    /// hot path: a call counts itself in, then checks this; the lender clears this, then waits
    /// for the count to reach zero (both `SeqCst`, so one of them sees the other's write).
    alive: AtomicBool,
    /// The calls running now.
    in_flight: AtomicUsize,
    /// What only errors, panics and the end of the lending touch.
    state: Mutex<State>,
    /// Signalled (under `state`) when the last call in flight returns after `alive` was cleared.
    idle: Condvar,
}

// SAFETY: the raw pointers of `Target` are dereferenced only in `Function::call`, after
// `enter` checked that the closure is alive (its lender's frame, which owns
// it, has not ended: `Lending` ends it and first waits for the calls in flight), that the
// calling thread is the owner unless the lender proved the closure `Sync` (`lend_sync`), and,
// for `FnMut`, that no other call is running. So a non-`Sync` closure is only ever used by the
// thread that owns it, a `Sync` one through `&` from several threads, and an `FnMut` by one
// `&mut` at a time. The rest of `Function` is `Send + Sync` (`Owned` requires it).
unsafe impl Send for Function {}
// SAFETY: as for `Send`.
unsafe impl Sync for Function {}

#[derive(Default)]
struct State {
    panicked: bool,
    /// The first panic's payload, resumed by the lender.
    panic: Option<Box<dyn Any + Send>>,
    /// The errors raised recently, by exception object, to give the original back.
    raised: Vec<(Py<PyAny>, Error)>,
}

/// How many raised errors a lent function remembers (an uncaught one is the latest).
const REMEMBERED_ERRORS: usize = 16;

impl Function {
    fn new(name: &str, target: Target, owner: Option<ThreadId>) -> Arc<Function> {
        Arc::new(Function {
            name: name.to_owned(),
            target,
            owner,
            alive: AtomicBool::new(true),
            in_flight: AtomicUsize::new(0),
            state: Mutex::new(State::default()),
            idle: Condvar::new(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Counts a call in, or says why it may not run.
    fn enter(&self) -> PyResult<InFlight<'_>> {
        let name = &self.name;
        if let Some(owner) = self.owner
            && owner != thread::current().id()
        {
            return Err(PyRuntimeError::new_err(format!(
                "the Rust function `{name}` was called from another thread: it is not `Sync`, \
                 so only the thread that lent it may call it; declare the parameter \
                 `&(dyn Fn(..) -> R + Sync)` to allow other threads"
            )));
        }
        let running = self.in_flight.fetch_add(1, Ordering::SeqCst);
        // Counted in from here: dropping the guard counts out (and wakes a waiting lender).
        let in_flight = InFlight(self);
        if !self.alive.load(Ordering::SeqCst) {
            return Err(PyRuntimeError::new_err(if self.lock().panicked {
                format!("the Rust function `{name}` panicked earlier and cannot be called again")
            } else {
                format!(
                    "the Rust function `{name}` is gone: it was lent to Python for one call, \
                     which has returned; do not keep it after that call"
                )
            }));
        }
        if matches!(self.target, Target::LentMut(_)) && running > 0 {
            return Err(PyRuntimeError::new_err(format!(
                "the Rust function `{name}` (an `FnMut`) was called while a call of it was still \
                 running: it cannot run twice at once; declare it `&dyn Fn` if it needs no `mut`"
            )));
        }
        Ok(in_flight)
    }

    /// Runs one call from Python (the GIL held): never unwinds, so that no panic reaches
    /// pyo3's trampoline (which would print "PyO3 is resuming a panic" later).
    fn call(&self, args: &Bound<'_, PyTuple>) -> PyResult<Py<PyAny>> {
        // The closure's own panics are caught inside `run`, while the call still counts as in
        // flight; this catches the rest (a bug of ours), to the same effect.
        catch_unwind(AssertUnwindSafe(|| self.run(args)))
            .unwrap_or_else(|payload| Err(self.panicked(payload)))
    }

    fn run(&self, args: &Bound<'_, PyTuple>) -> PyResult<Py<PyAny>> {
        let in_flight = self.enter()?;
        let held = HeldFrame::open();
        let outcome = catch_unwind(AssertUnwindSafe(|| match &self.target {
            // SAFETY: `enter` proved the closure alive (its owner's frame is still running and
            // waits for this call before it ends) and this thread allowed to use it (see the
            // `Send` impl of `Function`).
            Target::Lent(f) => unsafe { (**f)(args) },
            // SAFETY: as above, and `enter` proved this the only call running, so this is the
            // only `&mut` to the closure.
            Target::LentMut(f) => unsafe { (**f)(args) },
            Target::Owned(f) => f(args),
        }));
        drop(held);
        let result = match outcome {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => Err(self.raise(args.py(), error)),
            Err(payload) => Err(self.panicked(payload)),
        };
        drop(in_flight);
        result
    }

    /// The exception for `error`, remembered so that the original comes back if uncaught.
    fn raise(&self, py: Python<'_>, error: Error) -> PyErr {
        let err = raised(&error, Some(py));
        if !matches!(self.target, Target::Owned(_)) {
            let mut state = self.lock();
            if state.raised.len() == REMEMBERED_ERRORS {
                state.raised.remove(0);
            }
            state
                .raised
                .push((err.value(py).clone().into_any().unbind(), error));
        }
        err
    }

    fn panicked(&self, payload: Box<dyn Any + Send>) -> PyErr {
        let message = panic_message(payload.as_ref()).to_owned();
        let mut state = self.lock();
        self.alive.store(false, Ordering::SeqCst);
        state.panicked = true;
        if !matches!(self.target, Target::Owned(_)) && state.panic.is_none() {
            state.panic = Some(payload);
        }
        RustPanic::new_err(format!(
            "the Rust function `{}` panicked: {message}",
            self.name
        ))
    }

    /// Ends the lending: no call starts from now on, and those in flight have returned when
    /// this returns. Gives back the panic to resume, if there was one.
    fn close(&self, py: Python<'_>) -> Option<Box<dyn Any + Send>> {
        self.alive.store(false, Ordering::SeqCst);
        if self.in_flight.load(Ordering::SeqCst) > 0 {
            // Calls in flight on other threads may need the GIL to finish.
            py.detach(|| {
                let mut state = self.lock();
                while self.in_flight.load(Ordering::SeqCst) > 0 {
                    state = self
                        .idle
                        .wait(state)
                        .unwrap_or_else(PoisonError::into_inner);
                }
            });
        }
        self.lock().panic.take()
    }

    /// The error the closure returned, if `error` is the exception it was raised as.
    fn original(&self, py: Python<'_>, error: Error) -> Error {
        let Error::Python(exception) = &error else {
            return error;
        };
        let value = exception.err.value(py).as_any();
        let mut state = self.lock();
        match state
            .raised
            .iter()
            .rposition(|(raised, _)| raised.is(value))
        {
            Some(index) => state.raised.swap_remove(index).1,
            None => error,
        }
    }
}

/// A call counted in; counts it out (and wakes a lender waiting for it) when dropped.
struct InFlight<'a>(&'a Function);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        let last = self.0.in_flight.fetch_sub(1, Ordering::SeqCst) == 1;
        if last && !self.0.alive.load(Ordering::SeqCst) {
            // Under the lock, so that a lender between its check and its wait hears it.
            let _state = self.0.lock();
            self.0.idle.notify_all();
        }
    }
}

/// The text of a panic payload (`&str` or `String`, as `panic!` makes them).
fn panic_message(payload: &(dyn Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(a panic payload that is not text)")
}

/// A `'static` C string for `name`, made once per distinct name (the name of a Python function
/// object must outlive it).
fn c_name(name: &str) -> &'static CStr {
    static NAMES: Mutex<Vec<&'static CStr>> = Mutex::new(Vec::new());
    let mut names = NAMES.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(known) = names
        .iter()
        .find(|known| known.to_bytes() == name.as_bytes())
    {
        return known;
    }
    let text = CString::new(name.replace('\0', "")).unwrap_or_default();
    let leaked: &'static CStr = Box::leak(text.into_boxed_c_str());
    names.push(leaked);
    leaked
}

/// The Python callable for `function`.
fn callable<'py>(py: Python<'py>, function: &Arc<Function>) -> Result<Bound<'py, PyAny>> {
    let shared = Arc::clone(function);
    let made = PyCFunction::new_closure(
        py,
        Some(c_name(&function.name)),
        None,
        move |args: &Bound<'_, PyTuple>, kwargs: Option<&Bound<'_, PyDict>>| {
            if kwargs.is_some_and(|kwargs| !kwargs.is_empty()) {
                return Err(PyTypeError::new_err(format!(
                    "the Rust function `{}` takes no keyword arguments",
                    shared.name
                )));
            }
            shared.call(args)
        },
    );
    Ok(made.map_err(|e| Error::from_pyerr(py, e))?.into_any())
}

/// A lent function's guard: ends the lending on every path (on unwinding too).
struct Lending<'a, 'py> {
    function: &'a Function,
    py: Python<'py>,
    closed: bool,
}

impl Lending<'_, '_> {
    fn close(mut self) -> Option<Box<dyn Any + Send>> {
        self.closed = true;
        self.function.close(self.py)
    }
}

impl Drop for Lending<'_, '_> {
    fn drop(&mut self) {
        if !self.closed {
            // Unwinding already: that panic is the one that continues.
            drop(self.function.close(self.py));
        }
    }
}

fn lend<'py, T>(
    py: Python<'py>,
    name: &str,
    target: Target,
    owner: Option<ThreadId>,
    body: impl FnOnce(&Bound<'py, PyAny>) -> Result<T>,
) -> Result<T> {
    let function = Function::new(name, target, owner);
    let lending = Lending {
        function: &function,
        py,
        closed: false,
    };
    let outcome = callable(py, &function).and_then(|callable| body(&callable));
    if let Some(payload) = lending.close() {
        std::panic::resume_unwind(payload);
    }
    let outcome = outcome.map_err(|error| function.original(py, error));
    // The exceptions hold tracebacks, and those the frames' variables: let them go now.
    function.lock().raised.clear();
    outcome
}

/// Runs `body` with `f` as a Python callable named `name`, callable from this thread only;
/// then ends it (see the guide, "Rust functions in Python"). What `#[py_exec]` generates for
/// `&dyn Fn`.
pub fn lend_fn<'py, F, T>(
    py: Python<'py>,
    name: &str,
    f: F,
    body: impl FnOnce(&Bound<'py, PyAny>) -> Result<T>,
) -> Result<T>
where
    F: for<'a> Fn(&Bound<'a, PyTuple>) -> Result<Py<PyAny>>,
{
    let f: &Callable<'_> = &f;
    // SAFETY: only the lifetime bound of the trait object changes. The pointer is dereferenced
    // only while the function is alive, and `lend` ends that (and waits for the calls in
    // flight) before returning or unwinding, while `f` still lives in this frame.
    let erased = unsafe { std::mem::transmute::<*const Callable<'_>, *const Callable<'static>>(f) };
    lend(
        py,
        name,
        Target::Lent(erased),
        Some(thread::current().id()),
        body,
    )
}

/// As [`lend_fn`], for a `Sync` closure: callable from any thread.
pub fn lend_sync<'py, F, T>(
    py: Python<'py>,
    name: &str,
    f: F,
    body: impl FnOnce(&Bound<'py, PyAny>) -> Result<T>,
) -> Result<T>
where
    F: for<'a> Fn(&Bound<'a, PyTuple>) -> Result<Py<PyAny>> + Sync,
{
    let f: &Callable<'_> = &f;
    // SAFETY: as in `lend_fn`; `F: Sync`, so `&F` may be used from other threads.
    let erased = unsafe { std::mem::transmute::<*const Callable<'_>, *const Callable<'static>>(f) };
    lend(py, name, Target::Lent(erased), None, body)
}

/// As [`lend_fn`], for an `FnMut`: one call at a time, from this thread.
pub fn lend_mut<'py, F, T>(
    py: Python<'py>,
    name: &str,
    mut f: F,
    body: impl FnOnce(&Bound<'py, PyAny>) -> Result<T>,
) -> Result<T>
where
    F: for<'a> FnMut(&Bound<'a, PyTuple>) -> Result<Py<PyAny>>,
{
    let f: &mut CallableMut<'_> = &mut f;
    // SAFETY: as in `lend_fn`; `enter` lets one call at a time use the pointer.
    let erased =
        unsafe { std::mem::transmute::<*mut CallableMut<'_>, *mut CallableMut<'static>>(f) };
    lend(
        py,
        name,
        Target::LentMut(erased),
        Some(thread::current().id()),
        body,
    )
}

/// Checks that Python passed `count` positional arguments to the Rust function `name`.
pub fn check_arity(args: &Bound<'_, PyTuple>, count: usize, name: &str) -> Result<()> {
    if args.len() == count {
        return Ok(());
    }
    let plural = if count == 1 { "" } else { "s" };
    Err(Error::from_pyerr(
        args.py(),
        PyTypeError::new_err(format!(
            "the Rust function `{name}` takes {count} argument{plural}, but {} were given",
            args.len()
        )),
    ))
}

/// Argument `index` (checked by [`check_arity`]).
pub fn argument<'py>(args: &Bound<'py, PyTuple>, index: usize) -> Result<Bound<'py, PyAny>> {
    args.get_item(index)
        .map_err(|e| Error::from_pyerr(args.py(), e))
}

/// A conversion error of argument `index` of the Rust function `name`, as a `TypeError`.
pub fn argument_error(py: Python<'_>, error: Error, name: &str, index: usize) -> Error {
    let position = index + 1;
    Error::from_pyerr(
        py,
        PyTypeError::new_err(format!(
            "argument {position} of the Rust function `{name}`: {error}"
        )),
    )
}

/// A conversion error of the value the Rust function `name` returned, as a `TypeError`.
pub fn return_error(py: Python<'_>, error: Error, name: &str) -> Error {
    Error::from_pyerr(
        py,
        PyTypeError::new_err(format!(
            "the value the Rust function `{name}` returned: {error}"
        )),
    )
}
