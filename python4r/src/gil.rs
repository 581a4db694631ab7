//! Holding Python's global interpreter lock: the closure style ([`with_gil`]) and a guard style
//! ([`Gil`]), both reentrant and usable from any thread.

use std::cell::RefCell;
use std::marker::PhantomData;

use pyo3::ffi;
use pyo3::prelude::*;

use crate::error::Result;

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
    crate::interpreter::initialize()?;
    Python::attach(f)
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
    /// [`crate::Error::Init`] when the interpreter cannot start.
    pub fn acquire() -> Result<Gil> {
        crate::interpreter::initialize()?;
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
    fn other_threads_can_take_the_lock_between_calls() {
        with_gil(|_| Ok(())).unwrap();
        let handles: Vec<_> = (0..4)
            .map(|i| std::thread::spawn(move || with_gil(move |_| Ok(i * 2)).unwrap()))
            .collect();
        let sum: i32 = handles.into_iter().map(|h| h.join().unwrap()).sum();
        assert_eq!(sum, 12);
    }
}
