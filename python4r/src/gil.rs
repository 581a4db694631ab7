//! Holding Python's global interpreter lock: the closure style ([`with_gil`]) and a guard style
//! ([`Gil`]), both reentrant and usable from any thread.

use std::cell::{Cell, RefCell};
use std::marker::PhantomData;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use pyo3::ffi;
use pyo3::prelude::*;

use crate::error::{Error, Result};
use crate::{interpreter, recursion, release, warning};

/// Runs `f` attached to the embedded interpreter, starting the interpreter on first use.
///
/// Reentrant (calling it inside `f` is fine) and usable from any thread; the GIL is released when
/// `f` returns, so other threads can take it while no python4r call runs.
///
/// # Example
///
/// ```
/// use python4r::pyo3::prelude::*;
///
/// let n: i64 = python4r::with_gil(|py| {
///     let len = py.eval(c"len('hello')", None, None)?;
///     Ok(len.extract()?)
/// })?;
/// assert_eq!(n, 5);
/// # Ok::<(), python4r::Error>(())
/// ```
pub fn with_gil<F, R>(f: F) -> Result<R>
where
    F: for<'py> FnOnce(Python<'py>) -> Result<R>,
{
    prepare_thread()?;
    Python::attach(|py| {
        free_exited_thread_states(py);
        release::drain(py);
        recursion::check(py)?;
        let _scope = release::Scope::enter(py);
        f(py)
    })
}

/// Runs `f` with the token of a caller that is attached already (a `#[py_exec]` function given
/// `Python<'_>`): none of [`with_gil`]'s set-up, but the same refusal of a call nested so deeply
/// that the stack would overflow (Python → Rust → Python → … recursion).
#[inline]
pub fn with_token<'py, F, R>(py: Python<'py>, f: F) -> Result<R>
where
    F: FnOnce(Python<'py>) -> Result<R>,
{
    recursion::check(py)?;
    f(py)
}

/// Starts Python if needed and gives the calling thread a Python thread state that it keeps
/// until it exits.
///
/// Without one, every attach from a thread Python has never seen creates a thread state and
/// destroys it again on release (hundreds of ns to µs each time); kept, an attach only takes the
/// lock.
#[inline]
fn prepare_thread() -> Result<()> {
    if PREPARED.get() && crate::shutdown::is_running() {
        return Ok(());
    }
    prepare_thread_slow()
}

#[cold]
fn prepare_thread_slow() -> Result<()> {
    crate::shutdown::check()?;
    interpreter::initialize()?;
    if EXITING.get() {
        return Err(Error::Init(
            "python4r was called from a thread-local destructor after the thread's Python state \
             was released; call it before the thread exits"
                .to_owned(),
        ));
    }
    // A thread-local whose destructor already ran is treated as kept (EXITING caught that case).
    let _ = KEPT.try_with(|kept| {
        if kept.borrow().is_some() {
            return;
        }
        // SAFETY: the interpreter is running; this only reads the calling thread's state.
        if !unsafe { ffi::PyGILState_GetThisThreadState() }.is_null() {
            return; // Python already knows this thread (the main thread, a Python thread).
        }
        // SAFETY: the thread has no Python thread state: PyGILState_Ensure creates one and takes
        // the GIL; PyEval_SaveThread releases the GIL and returns that same state, which stays
        // registered for this thread (its gilstate count stays 1) until `KeptState::drop`.
        let tstate = unsafe {
            let _state = ffi::PyGILState_Ensure();
            ffi::PyEval_SaveThread()
        };
        *kept.borrow_mut() = Some(KeptState(tstate));
    });
    // Python knows this thread now, for as long as it runs (until `KeptState::drop`).
    PREPARED.set(!EXITING.get());
    Ok(())
}

/// The thread state a thread keeps; freed after the thread exits.
struct KeptState(*mut ffi::PyThreadState);

impl Drop for KeptState {
    fn drop(&mut self) {
        // Runs at thread exit. Taking the GIL here to free the state would deadlock a thread
        // that joins this one while holding the GIL, so the state is handed to the next thread
        // that takes the GIL through python4r.
        EXITING.set(true);
        PREPARED.set(false);
        let mut pending = EXITED.lock().unwrap_or_else(|e| e.into_inner());
        pending.push(SendPtr(self.0));
        EXITED_COUNT.store(pending.len(), Ordering::Release);
    }
}

struct SendPtr(*mut ffi::PyThreadState);
// SAFETY: the pointer is only dereferenced by CPython, under the GIL, after its thread exited.
unsafe impl Send for SendPtr {}

static EXITED: Mutex<Vec<SendPtr>> = Mutex::new(Vec::new());
static EXITED_COUNT: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static KEPT: RefCell<Option<KeptState>> = const { RefCell::new(None) };
    /// Set when the thread's kept state was released: no python4r call may use it afterwards.
    static EXITING: Cell<bool> = const { Cell::new(false) };
    /// Set once Python runs and knows this thread: later calls skip the checks.
    static PREPARED: Cell<bool> = const { Cell::new(false) };
}

/// Frees the thread states of threads that have exited.
#[inline]
fn free_exited_thread_states(py: Python<'_>) {
    if EXITED_COUNT.load(Ordering::Acquire) != 0 {
        free_thread_states(py);
    }
}

/// A helper thread does it: on Python 3.12+, deleting a thread state clears the *calling*
/// thread's `PyGILState` slot (CPython assumes a state is deleted by its own thread), which would
/// make this thread's next `PyGILState_Release` a fatal error. The helper has a state of its own
/// that never uses `PyGILState`.
#[cold]
fn free_thread_states(_py: Python<'_>) {
    let states = std::mem::take(&mut *EXITED.lock().unwrap_or_else(|e| e.into_inner()));
    EXITED_COUNT.store(0, Ordering::Release);
    // SAFETY: we hold the GIL (`_py`), which PyInterpreterState_Get requires.
    let interp = SendInterp(unsafe { ffi::PyInterpreterState_Get() });
    let reaper = std::thread::Builder::new()
        .name("python4r-thread-state-reaper".to_owned())
        .spawn(move || reap(states, interp));
    if let Err(e) = reaper {
        warning::warn(format_args!(
            "cannot start a thread to free exited threads' Python states: {e}"
        ));
    }
}

struct SendInterp(*mut ffi::PyInterpreterState);
// SAFETY: the interpreter lives as long as the process (python4r never finalizes it).
unsafe impl Send for SendInterp {}

/// Deletes `states` (of threads that have exited) from a fresh thread of its own.
fn reap(states: Vec<SendPtr>, interp: SendInterp) {
    // SAFETY: `interp` is the running interpreter. The new state belongs to this thread, which
    // takes the GIL with it (PyEval_RestoreThread). Each queued state belongs to a thread that
    // has exited (its thread-local destructor queued it) and no python4r call can use it again
    // (EXITING); none is this thread's. PyThreadState_Clear needs the GIL, PyThreadState_Delete
    // a cleared state that is not current. This thread's own state is cleared while current,
    // then deleted after the GIL is released.
    unsafe {
        let own = ffi::PyThreadState_New(interp.0);
        ffi::PyEval_RestoreThread(own);
        for SendPtr(tstate) in states {
            ffi::PyThreadState_Clear(tstate);
            ffi::PyThreadState_Delete(tstate);
        }
        ffi::PyThreadState_Clear(own);
        ffi::PyThreadState_DeleteCurrent();
    }
}

/// A held GIL, released when the last `Gil` of this thread is dropped.
///
/// Guards nest and may be dropped in any order: the lock is taken by the first guard of a thread
/// and released when no guard of that thread remains. A `Gil` is not `Send`: it belongs to the
/// thread that took it. Prefer [`with_gil`] where a closure fits.
///
/// # Example
///
/// ```
/// let gil = python4r::Gil::acquire()?;
/// let py = gil.python();
/// let inner = python4r::Gil::acquire()?; // reentrant
/// drop(gil); // any order: the lock is kept while `inner` lives
/// let x: i64 = py_eval(inner.python())?;
/// assert_eq!(x, 3);
/// # fn py_eval(py: python4r::pyo3::Python<'_>) -> python4r::Result<i64> {
/// #     use python4r::pyo3::prelude::*;
/// #     Ok(py.eval(c"1 + 2", None, None)?.extract()?)
/// # }
/// # Ok::<(), python4r::Error>(())
/// ```
pub struct Gil {
    layer: usize,
    // Not Send or Sync: the lock belongs to this thread.
    _not_send: PhantomData<*mut ()>,
}

/// One acquisition of the GIL on this thread, shared by the guards taken while it was held.
struct Layer {
    live: usize,
    state: ffi::PyGILState_STATE,
}

thread_local! {
    static LAYERS: RefCell<Vec<Layer>> = const { RefCell::new(Vec::new()) };
}

impl Gil {
    /// Takes the GIL for this thread (starting the interpreter on first use).
    ///
    /// # Errors
    ///
    /// [`crate::Error::Init`] when the interpreter cannot start; [`crate::Error::ShutDown`] after
    /// [`shutdown`](crate::shutdown).
    pub fn acquire() -> Result<Gil> {
        prepare_thread()?;
        // SAFETY: the interpreter is running; PyGILState_Check only reads this thread's state.
        let held = unsafe { ffi::PyGILState_Check() } == 1;
        let layer = LAYERS.with(|layers| {
            let mut layers = layers.borrow_mut();
            match layers.last_mut() {
                Some(top) if held => {
                    top.live += 1;
                    layers.len() - 1
                }
                _ => {
                    // Not held by a guard of ours (or released since, by `Python::detach`):
                    // take it, and remember how to give it back.
                    // SAFETY: the interpreter is running; PyGILState_Ensure is reentrant and
                    // returns the state that PyGILState_Release restores.
                    let state = unsafe { ffi::PyGILState_Ensure() };
                    layers.push(Layer { live: 1, state });
                    layers.len() - 1
                }
            }
        });
        Ok(Gil {
            layer,
            _not_send: PhantomData,
        })
    }

    /// The token that pyo3 APIs take.
    pub fn python(&self) -> Python<'_> {
        // SAFETY: while this guard lives, its layer (and so the GIL) is held by this thread:
        // layers are released only when their count and every layer above them reach zero.
        unsafe { Python::assume_attached() }
    }
}

impl Drop for Gil {
    fn drop(&mut self) {
        LAYERS.with(|layers| {
            let mut layers = layers.borrow_mut();
            layers[self.layer].live -= 1;
            // Release in the reverse order of acquisition, as PyGILState requires.
            while layers.last().is_some_and(|top| top.live == 0) {
                let top = layers.pop().expect("checked above");
                // SAFETY: `top.state` came from PyGILState_Ensure on this thread, and every
                // layer taken after it has already been released.
                unsafe { ffi::PyGILState_Release(top.state) };
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gil_held() -> bool {
        // SAFETY: called after initialisation; only reads this thread's state.
        unsafe { ffi::PyGILState_Check() == 1 }
    }

    #[test]
    fn guards_nest_and_drop_in_any_order() {
        let outer = Gil::acquire().unwrap();
        let inner = Gil::acquire().unwrap();
        assert!(gil_held());
        drop(outer);
        assert!(gil_held(), "the inner guard keeps the lock");
        drop(inner);
        assert!(!gil_held(), "the last guard releases it");
    }

    #[test]
    fn a_guard_inside_detach_takes_the_lock_again() {
        let gil = Gil::acquire().unwrap();
        gil.python().detach(|| {
            assert!(!gil_held());
            let again = Gil::acquire().unwrap();
            assert!(gil_held());
            drop(again);
            assert!(!gil_held());
        });
        assert!(gil_held());
        drop(gil);
        assert!(!gil_held());
    }

    #[test]
    fn threads_keep_their_state_and_free_it_after_exit() {
        fn this_thread_state() -> usize {
            // SAFETY: after initialisation; reads the calling thread's state only.
            unsafe { ffi::PyGILState_GetThisThreadState() as usize }
        }
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        let worker = std::thread::spawn(move || {
            with_gil(|_| Ok(())).unwrap();
            let first = this_thread_state();
            with_gil(|_| Ok(())).unwrap();
            assert_eq!(
                first,
                this_thread_state(),
                "the same state serves every call"
            );
            assert_ne!(first, 0);
            done_tx.send(first).unwrap();
        });
        let worker_state = done_rx.recv().unwrap();
        // The worker is done with Python and exits now: joining it while holding the GIL must
        // not deadlock its thread-exit clean-up.
        let gil = Gil::acquire().unwrap();
        worker.join().unwrap();
        drop(gil);
        // Other tests' threads may exit at any moment, so the queue as a whole need not be
        // empty; the worker's state must have left it. Checked under the GIL, which the reaper
        // needs before it frees anything: the address cannot be reused by a new state meanwhile.
        let still_queued = with_gil(|_| {
            let pending = EXITED.lock().unwrap_or_else(|e| e.into_inner());
            Ok(pending.iter().any(|p| p.0 as usize == worker_state))
        })
        .unwrap();
        assert!(!still_queued, "freed by the next call");
    }

    #[test]
    fn other_threads_can_take_the_lock_between_calls() {
        with_gil(|_| Ok(())).unwrap();
        let handles: Vec<_> = (0..4)
            .map(|i| std::thread::spawn(move || with_gil(move |_| Ok(i * 2)).unwrap()))
            .collect();
        let sum: i32 = handles.into_iter().map(|h| h.join().unwrap()).sum();
        assert_eq!(sum, 12);
    }
}
