//! Shutting python4r down: Python's exit steps, run by [`shutdown`] or by a C `atexit` hook when
//! the process exits (documented on [`shutdown`]).
//!
//! python4r never finalises the interpreter (Rust may still hold Python objects, other threads
//! may still be inside Python), so nothing else runs those steps: without them a dask
//! `LocalCluster`'s worker processes outlive the program, `multiprocessing` reports leaked
//! semaphores, and what Python printed to a pipe stays in `sys.stdout`'s buffer.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, Once, OnceLock, PoisonError, mpsc};

use pyo3::ffi;
use pyo3::prelude::*;

use crate::error::{Error, Result};
use crate::warning;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Running,
    ShuttingDown,
    ShutDown,
}

static PHASE: Mutex<Phase> = Mutex::new(Phase::Running);
/// Signalled when the phase becomes [`Phase::ShutDown`].
static FINISHED: Condvar = Condvar::new();
/// `PHASE == Running`, readable without the lock on every call.
static RUNNING: AtomicBool = AtomicBool::new(true);

thread_local! {
    /// Set on the thread running the exit handlers: python4r calls they make still work.
    static RUNS_HANDLERS: Cell<bool> = const { Cell::new(false) };
}

/// Runs Python's exit steps now, and makes every later python4r call fail with
/// [`Error::ShutDown`]: call it at the end of `main`.
///
/// The steps are those CPython takes when a program ends, before it tears the interpreter down,
/// in its order:
///
/// 1. `threading`'s shutdown: its exit callbacks (`concurrent.futures` executors), then waiting
///    for Python's non-daemon threads to end;
/// 2. the `atexit` handlers, last registered first (dask closes its clients and clusters and
///    their worker processes, `multiprocessing` joins its children, `weakref.finalize` callbacks);
/// 3. flushing `sys.stdout` and `sys.stderr`.
///
/// Exceptions they raise are printed by `sys.unraisablehook`, as CPython does. python4r does not
/// tear the interpreter down, so Rust values that hold Python objects (tensors from numpy,
/// `Py<…>`) stay valid, readable and droppable.
///
/// It waits as long as the steps take, as CPython does (a non-daemon Python thread that never
/// ends makes it wait for ever). Calling it again, or from an exit handler it is running, does
/// nothing; from another thread while it runs, waits for it to finish (giving the GIL up
/// meanwhile if that thread holds it). It may be called from inside a Python call (a Rust
/// callback, a [`Gil`](crate::Gil) guard): the steps run there, and the enclosing Python code
/// continues afterwards. When Python never started, it only makes later calls fail.
///
/// # At process exit
///
/// When python4r starts Python it registers a C `atexit` hook, so a program that returns from
/// `main` or calls `std::process::exit` (also from inside a Python call) without calling
/// `shutdown` gets the same steps. The hook runs them on a thread of its own and waits at most
/// [`Config::exit_timeout`](crate::config::Config::exit_timeout) (`PYTHON4R_EXIT_TIMEOUT`, 10 s
/// by default; zero skips them): a thread that never gives the GIL up, or a handler that never
/// returns, delays the exit by that much, with a warning on standard error, instead of hanging
/// it. Other threads keep running meanwhile; their python4r calls fail with
/// [`Error::ShutDown`] from the moment the steps start. Its limits, which calling `shutdown`
/// avoids:
///
/// - It runs inside C's `exit()`, after the destructors of C++ libraries that registered theirs
///   after Python started (extension modules imported later): an exit handler that uses such a
///   library may crash.
/// - Nothing runs when the process ends without `exit()`: a signal, `std::process::abort`, a
///   panic with `panic = "abort"`, `libc::_exit`.
/// - In a child made by `fork()` it does nothing (the handlers belong to the parent).
///
/// # Errors
///
/// None today: failures inside the steps are Python exceptions, printed as CPython prints them.
/// The `Result` lets `main` end with `python4r::shutdown()`.
///
/// # Example
///
/// ```
/// python4r::exec("import atexit\natexit.register(print, 'atexit handler ran')")?;
/// python4r::shutdown()?; // prints "atexit handler ran"
/// let err = python4r::eval::<i64>("1 + 1").unwrap_err();
/// assert!(matches!(err, python4r::Error::ShutDown));
/// python4r::shutdown()?; // again: nothing to do
/// # Ok::<(), python4r::Error>(())
/// ```
pub fn shutdown() -> Result<()> {
    if RUNS_HANDLERS.get() {
        return Ok(());
    }
    let mut phase = lock(&PHASE);
    loop {
        match *phase {
            Phase::ShutDown => return Ok(()),
            Phase::Running => break,
            Phase::ShuttingDown => phase = wait_for_other_thread(phase),
        }
    }
    *phase = Phase::ShuttingDown;
    RUNNING.store(false, Ordering::Release);
    drop(phase);
    let _finish = Finish;

    // SAFETY: Py_IsInitialized may be called at any time. (Nothing finalises the interpreter:
    // python4r never does, nor does pyo3.)
    if unsafe { ffi::Py_IsInitialized() } != 0 {
        RUNS_HANDLERS.set(true);
        Python::attach(run_exit_steps);
    }
    Ok(())
}

/// Marks the shutdown finished when dropped (also if the steps panicked), waking the threads
/// that wait for it.
struct Finish;

impl Drop for Finish {
    fn drop(&mut self) {
        RUNS_HANDLERS.set(false);
        *lock(&PHASE) = Phase::ShutDown;
        FINISHED.notify_all();
    }
}

/// Waits until the shutdown another thread runs has finished. That thread needs the GIL: if this
/// thread holds it, it is released meanwhile.
fn wait_for_other_thread(phase: MutexGuard<'static, Phase>) -> MutexGuard<'static, Phase> {
    if !holds_gil() {
        return FINISHED
            .wait_while(phase, |p| *p == Phase::ShuttingDown)
            .unwrap_or_else(PoisonError::into_inner);
    }
    drop(phase);
    // SAFETY: this thread holds the GIL (`holds_gil`), so its thread state is current and can be
    // saved; it is restored below, on this thread, before returning to the caller that held it.
    let saved = unsafe { ffi::PyEval_SaveThread() };
    let phase = FINISHED
        .wait_while(lock(&PHASE), |p| *p == Phase::ShuttingDown)
        .unwrap_or_else(PoisonError::into_inner);
    drop(phase);
    // SAFETY: `saved` is this thread's state, saved above; taking the GIL back may wait, but no
    // python4r lock is held meanwhile.
    unsafe { ffi::PyEval_RestoreThread(saved) };
    lock(&PHASE)
}

/// `threading._shutdown()`, the `atexit` handlers, then flushing the standard streams: what
/// `Py_FinalizeEx` runs before it tears the interpreter down, in its order.
fn run_exit_steps(py: Python<'_>) {
    let report = |err: PyErr, obj: Option<&Bound<'_, PyAny>>| err.write_unraisable(py, obj);
    let modules = match py.import("sys").and_then(|sys| sys.getattr("modules")) {
        Ok(modules) => modules,
        Err(err) => return report(err, None),
    };
    // Only if imported: nothing else can have started Python threads or registered callbacks.
    if let Ok(threading) = modules.get_item("threading")
        && let Err(err) = shutdown_threading(&threading)
    {
        report(err, Some(&threading));
    }
    if let Err(err) = py
        .import("atexit")
        .and_then(|atexit| atexit.call_method0("_run_exitfuncs"))
    {
        report(err, None);
    }
    for stream in ["stdout", "stderr"] {
        if let Ok(sys) = py.import("sys")
            && let Ok(file) = sys.getattr(stream)
            && !file.is_none()
            && let Err(err) = file.call_method0("flush")
            && stream == "stdout"
        {
            report(err, Some(&file));
        }
    }
}

/// `threading._shutdown()`, from any thread.
///
/// Up to Python 3.12 it waits for the thread state of every non-daemon thread to be deleted,
/// the main thread's included unless it is the caller (which then releases its own lock).
/// Called from another thread (the exit hook's, or a Rust thread), it would wait for ever for a
/// main thread that is inside `exit()`, or that outlives the shutdown: the main thread's lock is
/// released first, as the main thread would release it. (3.13 does that from any thread.)
fn shutdown_threading(threading: &Bound<'_, PyAny>) -> PyResult<()> {
    let main = threading.call_method0("main_thread")?;
    if let Ok(lock) = main.getattr("_tstate_lock")
        && !lock.is_none()
        && !main
            .getattr("ident")?
            .eq(threading.call_method0("get_ident")?)?
        && lock.call_method0("locked")?.is_truthy()?
    {
        lock.call_method0("release")?;
    }
    threading.call_method0("_shutdown").map(drop)
}

/// Whether python4r calls may run Python on this thread: before [`shutdown`], or inside the exit
/// handlers it runs.
#[inline]
pub(crate) fn is_running() -> bool {
    RUNNING.load(Ordering::Acquire)
}

/// `Err(Error::ShutDown)` once [`shutdown`] has begun, except on the thread running the exit
/// handlers.
pub(crate) fn check() -> Result<()> {
    if is_running() || RUNS_HANDLERS.get() {
        Ok(())
    } else {
        Err(Error::ShutDown)
    }
}

/// The process that registered the exit hook: a forked child inherits the registration, and
/// must not run its parent's handlers.
static HOOK_PROCESS: OnceLock<u32> = OnceLock::new();

/// Registers the C `atexit` function that runs [`shutdown`] when the process exits; once per
/// process, when python4r has started Python.
pub(crate) fn install_exit_hook() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let _ = HOOK_PROCESS.set(std::process::id());
        // SAFETY: `at_exit` is an `extern "C" fn()` that lives as long as the program (python4r
        // is linked into it, never unloaded) and never unwinds.
        if unsafe { libc::atexit(at_exit) } != 0 {
            warning::warn(
                "cannot register the exit hook: Python's exit handlers will not run at exit; \
                 call python4r::shutdown() before the program ends",
            );
        }
    });
}

extern "C" fn at_exit() {
    // Nothing may unwind into C.
    let _ = std::panic::catch_unwind(run_at_exit);
}

fn run_at_exit() {
    if HOOK_PROCESS.get() != Some(&std::process::id()) || RUNS_HANDLERS.get() {
        return; // a forked child, or `exit()` called by an exit handler
    }
    if *lock(&PHASE) == Phase::ShutDown {
        return;
    }
    let timeout = crate::config::current()
        .map(|c| c.exit_timeout)
        .unwrap_or(crate::config::DEFAULT_EXIT_TIMEOUT);
    if timeout.is_zero() {
        return;
    }
    if holds_gil() {
        // `exit()` was called inside a Python call: the helper needs the GIL. The thread state
        // is not restored: the process ends, as after `Py_FinalizeEx`, with no Python running here.
        // SAFETY: this thread holds the GIL, so its state is current and can be saved.
        unsafe { ffi::PyEval_SaveThread() };
    }
    // A thread of its own, so that a GIL never given up cannot hold the process: this thread
    // stops waiting after `timeout`, and the process ends with the helper still blocked.
    let (done, finished) = mpsc::channel();
    let helper = std::thread::Builder::new()
        .name("python4r-exit".to_owned())
        .spawn(move || {
            let _ = done.send(shutdown());
        });
    if let Err(err) = helper {
        eprintln!(
            "python4r: cannot start a thread to run Python's exit handlers ({err}); they did not \
             run. Call python4r::shutdown() before the program exits."
        );
        return;
    }
    match finished.recv_timeout(timeout) {
        Ok(Ok(())) => {}
        Ok(Err(err)) => eprintln!("python4r: Python's exit handlers failed: {err}"),
        Err(mpsc::RecvTimeoutError::Timeout) => eprintln!(
            "python4r: Python's exit handlers did not finish within {timeout:?} (a thread holds \
             the GIL, or a handler or a non-daemon Python thread has not ended); exiting without \
             waiting for them. Call python4r::shutdown() before the program exits, or set \
             PYTHON4R_EXIT_TIMEOUT (seconds; 0 skips the handlers)."
        ),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            eprintln!("python4r: Python's exit handlers stopped with a panic")
        }
    }
}

/// Whether the calling thread holds the GIL. Unlike `PyGILState_Check`, never answers yes
/// when another thread holds it (that function always does once sub-interpreters exist).
fn holds_gil() -> bool {
    // SAFETY: Py_IsInitialized may be called at any time; the other two only read the runtime's
    // and this thread's records of thread states, which exist once Python is initialised.
    unsafe {
        if ffi::Py_IsInitialized() == 0 {
            return false;
        }
        let mine = ffi::PyGILState_GetThisThreadState();
        !mine.is_null() && mine == ffi::compat::PyThreadState_GetUnchecked()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    // Shutting down is for the whole process: each case runs in a child process in
    // `tests/shutdown.rs`. Here, only what leaves python4r running.
    use super::*;

    #[test]
    fn the_calling_thread_holds_the_gil_only_inside_a_call() {
        crate::interpreter::initialize().unwrap();
        assert!(!holds_gil());
        crate::gil::with_gil(|_| {
            assert!(holds_gil());
            let other = std::thread::spawn(holds_gil).join().unwrap();
            assert!(!other, "another thread does not hold it");
            Ok(())
        })
        .unwrap();
        assert!(!holds_gil());
    }
}
