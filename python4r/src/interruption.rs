//! The `python4r.Interrupted` exception and the interrupters whose calls run on each thread: what
//! turning that exception into [`Error::Interrupted`] needs to know, below the
//! [`interrupt`](crate::interrupt) machinery that raises it.

use std::cell::RefCell;
use std::os::raw::c_ulong;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use pyo3::prelude::*;

use crate::error::Error;

pyo3::create_exception!(
    python4r,
    Interrupted,
    pyo3::exceptions::PyBaseException,
    "The exception an [`Interrupter`] raises inside the interrupted Python code \
     (`python4r.Interrupted`, a `BaseException` subclass). It reaches Rust as \
     [`Error::Interrupted`](crate::Error::Interrupted)."
);

#[derive(Default)]
pub(crate) struct Shared {
    pub(crate) requested: AtomicBool,
    /// Why it was interrupted; set once, by the first request.
    pub(crate) reason: Mutex<Option<String>>,
    /// The Python thread idents of the calls running under this interrupter. Read and written
    /// only with the GIL held, so that a request and the end of a call are ordered.
    pub(crate) running: Mutex<Vec<c_ulong>>,
}

thread_local! {
    /// The interrupters whose calls run on this thread, innermost last.
    static ACTIVE: RefCell<Vec<Arc<Shared>>> = const { RefCell::new(Vec::new()) };
}

/// Records that a call under `shared` runs on this thread.
pub(crate) fn enter(shared: &Arc<Shared>) {
    ACTIVE.with(|active| active.borrow_mut().push(shared.clone()));
}

/// Records that the call under `shared` on this thread ended; returns whether an enclosing
/// interrupter of this thread was interrupted.
pub(crate) fn leave(shared: &Arc<Shared>) -> bool {
    ACTIVE.with(|active| {
        let mut active = active.borrow_mut();
        if let Some(i) = active.iter().rposition(|s| Arc::ptr_eq(s, shared)) {
            active.remove(i);
        }
        active.iter().any(|s| s.requested.load(Ordering::Acquire))
    })
}

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The error for an [`Interrupted`] exception raised on this thread, with `traceback`.
pub(crate) fn error_from_exception(traceback: String) -> Error {
    interrupted_error(None, traceback)
}

/// The error for an interruption: the reason of `shared`, else of the innermost interrupter of
/// this thread that was interrupted.
pub(crate) fn interrupted_error(shared: Option<&Arc<Shared>>, traceback: String) -> Error {
    let reason_of = |s: &Shared| lock(&s.reason).clone();
    let reason = shared
        .and_then(|s| reason_of(s))
        .or_else(|| {
            ACTIVE.with(|active| {
                active
                    .borrow()
                    .iter()
                    .rev()
                    .filter(|s| s.requested.load(Ordering::Acquire))
                    .find_map(|s| reason_of(s))
            })
        })
        .unwrap_or_else(|| "python4r.Interrupted was raised".to_owned());
    Error::Interrupted { reason, traceback }
}

/// Whether `err` is the [`Interrupted`] exception.
pub(crate) fn is_interrupted_exception(py: Python<'_>, err: &PyErr) -> bool {
    err.is_instance_of::<Interrupted>(py)
}
