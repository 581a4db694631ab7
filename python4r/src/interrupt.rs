//! Stopping a long-running Python call from Rust: an [`Interrupter`] handle that any thread can
//! fire, and [`with_timeout`].
//!
//! The embedded interpreter starts with Python's signal handlers off (the host program owns
//! Ctrl-C), so `KeyboardInterrupt` never stops embedded code by itself. Instead, the call runs
//! under an [`Interrupter`]; [`Interrupter::interrupt`] raises the exception [`Interrupted`]
//! (`python4r.Interrupted`, a `BaseException` subclass, so `except Exception:` does not catch
//! it) in the thread that runs the call, with `PyThreadState_SetAsyncExc`. The call then comes
//! back as [`Error::Interrupted`], which the caller can tell apart from the errors of the code
//! itself, and python4r stays usable.
//!
//! # Limits
//!
//! - Python checks for the exception between bytecodes. Code blocked inside C without returning
//!   to bytecode (`time.sleep`, a socket read, one long numpy operation, waiting on a lock) is
//!   stopped only when that C call returns; a `while True: pass` loop or a pure-Python
//!   computation stops within a few milliseconds.
//! - Python 3.10 and earlier skip that check just before entering a `try:` or `with` block, so a
//!   loop whose body *starts* with one (`while True:` directly followed by `try:`) is never
//!   stopped there; any other statement first in the body makes it stoppable.
//! - [`Interrupter::interrupt`] takes the GIL to deliver the exception, so it waits until the
//!   running code gives the GIL up: every `sys.getswitchinterval()` (5 ms) in bytecode, or when
//!   C code releases it.
//! - Like `KeyboardInterrupt`, the exception unwinds the Python code: its `finally` and `with`
//!   blocks run, code that catches `BaseException` (a bare `except:`) can swallow it, and state
//!   the code was in the middle of changing (a half-imported module, a global half-updated) stays
//!   as it was left.
//! - Only the thread that runs the call is interrupted, not Python threads that the code started.
//!
//! # Example
//!
//! ```
//! use std::time::Duration;
//! use python4r::Error;
//!
//! let err = python4r::interrupt::with_timeout(Duration::from_millis(50), || {
//!     python4r::exec("while True: pass")
//! })
//! .unwrap_err();
//! assert!(matches!(err, Error::Interrupted { .. }), "{err}");
//! assert_eq!(python4r::eval::<i64>("6 * 7")?, 42); // still usable
//! # Ok::<(), python4r::Error>(())
//! ```

use std::os::raw::{c_long, c_ulong};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::Duration;

use pyo3::prelude::*;
use pyo3::{PyTypeInfo, ffi};

use crate::error::{Error, Result};
use crate::gil::with_gil;
use crate::interpreter;
use crate::interruption::{self, Shared, interrupted_error, lock};

pub use crate::interruption::Interrupted;

/// A handle that stops the Python calls run under it, from any thread.
///
/// Clones share the same state: keep one to run the call with [`run`](Interrupter::run) and
/// send another to the thread that decides to stop it. Once interrupted, an `Interrupter` stays
/// interrupted (as a cancellation token): calls still running are stopped, and later
/// [`run`](Interrupter::run)s return [`Error::Interrupted`] without running their closure. Make a
/// new one for new work.
///
/// # Example
///
/// ```
/// use python4r::interrupt::Interrupter;
/// use python4r::{Context, Error};
///
/// let ctx = Context::new();
/// ctx.exec("import threading\nstarted = threading.Event()")?;
/// let interrupter = Interrupter::new();
/// let handle = interrupter.clone();
/// let stopper = std::thread::spawn({
///     let ctx = ctx.clone();
///     move || {
///         // Wait until the loop runs, then stop it.
///         while !ctx.eval::<bool>("started.is_set()").unwrap() {
///             std::thread::yield_now();
///         }
///         handle.interrupt()
///     }
/// });
/// let err = interrupter
///     .run(|| ctx.exec("started.set()\nwhile True: pass"))
///     .unwrap_err();
/// assert!(stopper.join().unwrap(), "a running call was signalled");
/// assert!(matches!(err, Error::Interrupted { .. }));
/// assert!(err.to_string().contains("Interrupter::interrupt"), "{err}");
/// # Ok::<(), python4r::Error>(())
/// ```
#[derive(Clone, Default)]
pub struct Interrupter {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Interrupter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Interrupter")
            .field("interrupted", &self.is_interrupted())
            .finish()
    }
}

impl Interrupter {
    /// A handle that has not been interrupted.
    ///
    /// ```
    /// let interrupter = python4r::interrupt::Interrupter::new();
    /// assert!(!interrupter.is_interrupted());
    /// assert_eq!(interrupter.run(|| python4r::eval::<i64>("1 + 1"))?, 2);
    /// # Ok::<(), python4r::Error>(())
    /// ```
    pub fn new() -> Interrupter {
        Interrupter::default()
    }

    /// Whether [`interrupt`](Interrupter::interrupt) was called on this handle or a clone.
    pub fn is_interrupted(&self) -> bool {
        self.shared.requested.load(Ordering::Acquire)
    }

    /// Runs `f` on the calling thread so that [`interrupt`](Interrupter::interrupt) can stop the
    /// Python code it runs.
    ///
    /// `f` may make any number of python4r calls; an interruption stops the one running and
    /// comes back through `f`'s `?` as [`Error::Interrupted`]. An interruption that arrives while
    /// `f` runs no Python code is delivered to its next Python code, and dropped when `f`
    /// returns: it never reaches code that runs after `run`.
    ///
    /// # Errors
    ///
    /// Whatever `f` returns; [`Error::Interrupted`] without calling `f` when this handle was
    /// already interrupted; [`Error::Init`] when Python cannot start.
    ///
    /// ```
    /// use python4r::interrupt::Interrupter;
    /// let interrupter = Interrupter::new();
    /// interrupter.interrupt();
    /// let err = interrupter.run(|| python4r::exec("x = 1")).unwrap_err();
    /// assert!(matches!(err, python4r::Error::Interrupted { .. }));
    /// ```
    pub fn run<R>(&self, f: impl FnOnce() -> Result<R>) -> Result<R> {
        interpreter::initialize()?;
        // SAFETY: Python is initialised; this only returns the calling thread's identifier,
        // the one CPython records in the thread states it makes for this thread.
        let thread = unsafe { ffi::PyThread_get_thread_ident() };
        with_gil(|_py| {
            if self.is_interrupted() {
                return Err(interrupted_error(Some(&self.shared), String::new()));
            }
            lock(&self.shared.running).push(thread);
            interruption::enter(&self.shared);
            Ok(())
        })?;
        let _end = EndOfRun {
            shared: &self.shared,
            thread,
        };
        f()
    }

    /// Stops the calls running under this handle (and makes later [`run`](Interrupter::run)s
    /// fail at once). Returns whether a running call was signalled.
    ///
    /// Callable from any thread, the running one included. It takes the GIL to deliver the
    /// exception, so it returns once the running code gives the GIL up (see the
    /// [module documentation](self) for the limits).
    pub fn interrupt(&self) -> bool {
        self.interrupt_because("Interrupter::interrupt was called")
    }

    fn interrupt_because(&self, reason: impl Into<String>) -> bool {
        lock(&self.shared.reason).get_or_insert_with(|| reason.into());
        self.shared.requested.store(true, Ordering::Release);
        with_gil(|_py| {
            let running = lock(&self.shared.running);
            for &thread in running.iter() {
                raise_in(thread);
            }
            Ok(!running.is_empty())
        })
        .unwrap_or(false)
    }
}

/// Ends a [`Interrupter::run`], also when its closure panics.
struct EndOfRun<'a> {
    shared: &'a Arc<Shared>,
    thread: c_ulong,
}

impl Drop for EndOfRun<'_> {
    fn drop(&mut self) {
        // Under the GIL, so that no request is delivered between the clean-up and the end.
        let _ = with_gil(|_py| {
            let mut running = lock(&self.shared.running);
            if let Some(i) = running.iter().rposition(|&t| t == self.thread) {
                running.swap_remove(i);
            }
            drop(running);
            let outer_interrupted = interruption::leave(self.shared);
            // SAFETY: the GIL is held; a NULL exception clears the one pending for the thread,
            // if any, so that a request that came too late does not hit later code.
            unsafe { ffi::PyThreadState_SetAsyncExc(self.thread as c_long, std::ptr::null_mut()) };
            if outer_interrupted {
                // The request of an enclosing run on this thread was still pending: keep it.
                raise_in(self.thread);
            }
            Ok(())
        });
    }
}

/// Schedules [`Interrupted`] in the Python thread `thread`. The GIL must be held.
fn raise_in(thread: c_ulong) {
    // SAFETY: the GIL is held by the caller (both callers run inside `with_gil`), which
    // PyThreadState_SetAsyncExc requires; the exception type is a live type object (pyo3 keeps
    // it for the life of the interpreter), and the function takes its own reference.
    unsafe {
        let py = Python::assume_attached();
        let exc = Interrupted::type_object(py);
        ffi::PyThreadState_SetAsyncExc(thread as c_long, exc.as_ptr());
    }
}

/// Runs `f`, stopping its Python code if it is still running after `timeout`.
///
/// A watcher thread waits for the timeout and is told when `f` returns; it is not joined, so a
/// caller that holds the GIL across this call does not wait for it.
///
/// # Errors
///
/// Whatever `f` returns; [`Error::Interrupted`] (its reason says "timed out after …") when the
/// timeout stopped it; [`Error::Io`] when the watcher thread cannot start.
///
/// # Example
///
/// ```
/// use std::time::Duration;
/// use python4r::interrupt::with_timeout;
///
/// // Finishes in time: the result comes back as it is.
/// let n = with_timeout(Duration::from_secs(60), || python4r::eval::<i64>("sum(range(10))"))?;
/// assert_eq!(n, 45);
///
/// // Runs too long: stopped.
/// let err = with_timeout(Duration::from_millis(20), || {
///     python4r::exec("n = 0\nwhile True: n += 1")
/// })
/// .unwrap_err();
/// assert!(err.to_string().contains("timed out after 20ms"), "{err}");
/// # Ok::<(), python4r::Error>(())
/// ```
pub fn with_timeout<R>(timeout: Duration, f: impl FnOnce() -> Result<R>) -> Result<R> {
    let interrupter = Interrupter::new();
    let done = Arc::new((Mutex::new(false), Condvar::new()));
    std::thread::Builder::new()
        .name("python4r-timeout".to_owned())
        .spawn({
            let interrupter = interrupter.clone();
            let done = done.clone();
            move || {
                let (finished, wake) = &*done;
                let guard = lock(finished);
                let (guard, _) = wake
                    .wait_timeout_while(guard, timeout, |finished| !*finished)
                    .unwrap_or_else(PoisonError::into_inner);
                let timed_out = !*guard;
                drop(guard);
                if timed_out {
                    interrupter.interrupt_because(format!("timed out after {timeout:?}"));
                }
            }
        })
        .map_err(|e| Error::io("starting python4r's timeout thread", e))?;
    let result = interrupter.run(f);
    let (finished, wake) = &*done;
    *lock(finished) = true;
    wake.notify_all();
    result
}
