//! Releasing small Python objects that Rust drops without the GIL: kept by the thread and released
//! at its next entry into Python, instead of pyo3's process-wide pool.
//!
//! A tensor returned by a call holds its numpy array, and the caller usually drops the tensor
//! after python4r let the GIL go. pyo3 defers such a release to a global pool: a mutex, a `Vec`
//! that grows and is freed again, and a drain at the next attach, on every call. This module keeps
//! up to [`SLOTS`] objects per thread in a plain thread-local array instead, released when the
//! thread next enters Python through python4r ([`drain`], run by `with_gil`); beyond that, and
//! when the thread exits, pyo3's pool takes them as before.
//!
//! Only objects that own little memory come here ([`release`]'s callers decide: arrays of at most
//! [`SMALL`] bytes), so what a thread that stops calling Python holds back is bounded
//! (`SLOTS × SMALL`).

use std::cell::Cell;

use pyo3::prelude::*;

/// How many objects a thread keeps for release.
const SLOTS: usize = 4;

/// The largest object (in bytes of memory it owns) worth keeping for release by the thread.
#[cfg_attr(not(feature = "numpy"), allow(dead_code))]
pub(crate) const SMALL: usize = 64 << 10;

thread_local! {
    /// How many `with_gil` scopes are open on this thread: inside one, the GIL is held (unless
    /// pyo3's `detach` let it go, which pyo3's own release checks).
    static DEPTH: Cell<usize> = const { Cell::new(0) };
    /// The objects waiting for release, the first `WAITING` of them.
    static KEPT: [Cell<Option<Py<PyAny>>>; SLOTS] = const { [const { Cell::new(None) }; SLOTS] };
    /// How many of `KEPT` hold an object.
    static WAITING: Cell<usize> = const { Cell::new(0) };
}

/// Releases `obj`: at once inside a `with_gil` scope of this thread (through pyo3, which
/// defers it if the GIL was let go meanwhile), else at this thread's next `with_gil`.
#[inline]
pub(crate) fn release(obj: Py<PyAny>) {
    if DEPTH.with(Cell::get) != 0 {
        drop(obj);
        return;
    }
    let waiting = WAITING.with(Cell::get);
    if waiting == SLOTS {
        drop(obj); // pyo3's pool
        return;
    }
    // A thread-local already destroyed (a tensor dropped by another thread-local's destructor)
    // gives `obj` back with the error: dropped, pyo3's pool takes it.
    if KEPT.try_with(|kept| kept[waiting].set(Some(obj))).is_ok() {
        WAITING.with(|w| w.set(waiting + 1));
    }
}

/// Releases the objects this thread kept; the caller holds the GIL (`_py`).
#[inline]
pub(crate) fn drain(_py: Python<'_>) {
    if WAITING.with(Cell::get) != 0 {
        drain_kept();
    }
}

#[cold]
fn drain_kept() {
    let waiting = WAITING.with(|w| w.replace(0));
    let _ = KEPT.try_with(|kept| {
        for slot in &kept[..waiting] {
            // The GIL is held (`drain`'s caller): pyo3 releases it at once.
            drop(slot.take());
        }
    });
}

/// A `with_gil` scope of this thread; open while the closure runs.
pub(crate) struct Scope(());

impl Scope {
    /// Opens a scope; the caller holds the GIL.
    #[inline]
    pub(crate) fn enter(_py: Python<'_>) -> Scope {
        DEPTH.with(|d| d.set(d.get() + 1));
        Scope(())
    }
}

impl Drop for Scope {
    #[inline]
    fn drop(&mut self) {
        DEPTH.with(|d| d.set(d.get() - 1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refcount(obj: &Py<PyAny>) -> isize {
        // SAFETY: `obj` is a live object; this reads its reference count.
        unsafe { pyo3::ffi::Py_REFCNT(obj.as_ptr()) }
    }

    /// Runs `test` on a thread of its own (the objects that thread keeps are the test's alone),
    /// then releases the object it returns under the GIL.
    fn on_its_own_thread(test: impl FnOnce() -> Py<PyAny> + Send + 'static) {
        std::thread::spawn(|| {
            let watch = test();
            crate::with_gil(|_| {
                drop(watch);
                Ok(())
            })
            .unwrap();
        })
        .join()
        .unwrap();
    }

    #[test]
    fn an_object_dropped_without_the_gil_is_released_at_the_next_entry() {
        on_its_own_thread(|| {
            let (obj, watch) = crate::with_gil(|py| {
                let obj = pyo3::types::PyList::empty(py).into_any().unbind();
                let watch = obj.clone_ref(py);
                Ok((obj, watch))
            })
            .unwrap();
            let before = crate::with_gil(|_| Ok(refcount(&watch))).unwrap();
            release(obj);
            assert_eq!(WAITING.with(Cell::get), 1, "kept by the thread");
            let after = crate::with_gil(|_| Ok(refcount(&watch))).unwrap();
            assert_eq!(after, before - 1, "released at the next entry");
            assert_eq!(WAITING.with(Cell::get), 0);
            watch
        });
    }

    #[test]
    fn inside_a_scope_and_beyond_the_slots_objects_go_at_once_or_to_pyo3() {
        on_its_own_thread(|| {
            let watch = crate::with_gil(|py| {
                let obj = pyo3::types::PyList::empty(py).into_any().unbind();
                let before = refcount(&obj);
                release(obj.clone_ref(py));
                assert_eq!(refcount(&obj), before, "released at once under the GIL");
                assert_eq!(WAITING.with(Cell::get), 0);
                Ok(obj)
            })
            .unwrap();
            let copies: Vec<Py<PyAny>> =
                crate::with_gil(|py| Ok((0..SLOTS + 2).map(|_| watch.clone_ref(py)).collect()))
                    .unwrap();
            for copy in copies {
                release(copy);
            }
            assert_eq!(
                WAITING.with(Cell::get),
                SLOTS,
                "the rest went to pyo3's pool"
            );
            let left = crate::with_gil(|_| Ok(refcount(&watch))).unwrap();
            assert_eq!(WAITING.with(Cell::get), 0);
            // Every copy is released by now: the thread's own at entry, pyo3's at its attach.
            assert_eq!(left, 1);
            watch
        });
    }
}
