//! Reads without a copy while the GIL is held: the arrays Python passes to a Rust function
//! (a closure lent to Python) are readable in place while that function runs, holds the GIL,
//! and has not run Python code through python4r.
//!
//! Today's rule (see [the module docs](crate::tensor)) copies memory that Python code may write
//! before lending it as `&[T]` (or refuses an `ndarray` view of it), because Python could write
//! it meanwhile. A Rust function that Python calls holds the GIL for its whole run, so no Python
//! code runs while it does, unless it runs some itself or lets the GIL go. A *held frame* is
//! open on the thread while such a function runs: storages made from numpy arrays in it are
//! remembered in the frame ([`shared`]), and [`reads_in_place`] lets the read paths skip the copy
//! for them, on this thread only and only while this thread holds the GIL (so a read inside
//! pyo3's `detach`, or on another thread, copies as today). The storage's own "Python may write"
//! flag never changes, so nothing else about it (copy on write, other threads) changes either.
//! The frame forgets its storages when it closes, and when python4r is about to run Python on
//! this thread ([`python_runs`]): later reads copy again.
//!
//! What this relies on: a slice read in place is not held across Python code or a release of
//! the GIL (python4r runs Python only after [`python_runs`], but cannot see pyo3 used directly).

use std::cell::{Cell, RefCell};
use std::sync::Arc;

use super::storage::{Shared, Storage};

thread_local! {
    /// The open frames of this thread, innermost last, each with the storages made in it.
    static FRAMES: RefCell<Vec<Vec<Arc<Storage>>>> = const { RefCell::new(Vec::new()) };
    /// Whether any frame of this thread holds a storage (the fast check of [`python_runs`]).
    static PINNED: Cell<bool> = const { Cell::new(false) };
    /// How many frames are open on this thread (the fast check of [`shared`]).
    static OPEN: Cell<usize> = const { Cell::new(0) };
}

/// An open held frame; closing it (drop) forgets its storages.
pub(crate) struct HeldFrame(());

impl HeldFrame {
    /// Opens a frame on this thread. Call only with the GIL held, for code that runs under it.
    pub(crate) fn open() -> HeldFrame {
        FRAMES.with(|frames| frames.borrow_mut().push(Vec::new()));
        OPEN.with(|open| open.set(open.get() + 1));
        HeldFrame(())
    }
}

impl Drop for HeldFrame {
    fn drop(&mut self) {
        let pinned = FRAMES.with(|frames| {
            let mut frames = frames.borrow_mut();
            let pinned = frames.pop();
            OPEN.with(|open| open.set(frames.len()));
            if frames.iter().all(Vec::is_empty) {
                PINNED.with(|p| p.set(false));
            }
            pinned
        });
        drop(pinned);
    }
}

/// `storage` (memory a numpy array owns) behind its `Arc`; inside an open frame, remembered by
/// it when Python may write the memory, so that [`reads_in_place`] holds for it.
#[cfg_attr(not(feature = "numpy"), allow(dead_code))]
#[inline]
pub(crate) fn shared(storage: Storage) -> Shared {
    let storage = Shared::new(storage);
    if storage.python_may_write() && OPEN.with(Cell::get) != 0 {
        remember(&storage);
    }
    storage
}

/// Remembers `storage` in this thread's innermost open frame.
#[cold]
fn remember(storage: &Arc<Storage>) {
    FRAMES.with(|frames| {
        if let Some(frame) = frames.borrow_mut().last_mut() {
            frame.push(Arc::clone(storage));
            PINNED.with(|p| p.set(true));
        }
    });
}

/// Whether memory Python may write can be read in place now: `storage` was made in an open frame
/// of this thread that Python has not run in since, and this thread holds the GIL.
pub(crate) fn reads_in_place(storage: &Arc<Storage>) -> bool {
    if !PINNED.with(Cell::get) {
        return false;
    }
    let known = FRAMES.with(|frames| {
        frames
            .borrow()
            .iter()
            .flatten()
            .any(|pinned| Arc::ptr_eq(pinned, storage))
    });
    // SAFETY: `PyGILState_Check` only reads the calling thread's state; a frame exists only
    // inside a call from Python, so the interpreter is initialised.
    known && unsafe { pyo3::ffi::PyGILState_Check() } == 1
}

/// python4r is about to run Python code on this thread: the frames forget their storages, so
/// reads from now on copy (today's rule).
#[inline]
pub(crate) fn python_runs() {
    if PINNED.with(Cell::get) {
        release_all();
    }
}

#[cold]
fn release_all() {
    let pinned: Vec<Arc<Storage>> = FRAMES.with(|frames| {
        frames
            .borrow_mut()
            .iter_mut()
            .flat_map(std::mem::take)
            .collect()
    });
    PINNED.with(|p| p.set(false));
    drop(pinned);
}
