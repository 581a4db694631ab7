//! Reads without a copy while the GIL is held: the arrays Python passes to a Rust function
//! (a closure lent to Python) are readable in place until that function returns, runs Python
//! code through python4r, or releases the GIL through python4r.
//!
//! Today's rule (see [the module docs](crate::tensor)) copies memory that Python code may write
//! before lending it as `&[T]`, because another Python thread could write it meanwhile. A Rust
//! function that Python calls holds the GIL for its whole run, so no Python code runs while it
//! does, unless it runs some itself or lets the GIL go. A *held frame* is open on the thread while
//! such a function runs: storages made from numpy arrays in it are marked "Python may not write"
//! and remembered; when the frame closes, or python4r is about to run Python or release the GIL
//! on that thread ([`python_runs`]), they are marked writable by Python again, so that later reads
//! copy as today. The frame holds each storage (`Arc`), which also keeps Rust from writing it in
//! place (`Arc::get_mut` fails): a `Tensor` argument taken by value is copied before it is
//! written.

use std::cell::{Cell, RefCell};
use std::sync::Arc;

use super::storage::Storage;

thread_local! {
    /// The open frames of this thread, innermost last, each with the storages it pinned.
    static FRAMES: RefCell<Vec<Vec<Arc<Storage>>>> = const { RefCell::new(Vec::new()) };
    /// Whether any frame holds a pinned storage (the fast check of [`python_runs`]).
    static PINNED: Cell<bool> = const { Cell::new(false) };
}

/// An open held frame; closing it (drop) makes its storages Python-writable again.
pub(crate) struct HeldFrame(());

impl HeldFrame {
    /// Opens a frame on this thread. Call only with the GIL held, for code that runs under it.
    pub(crate) fn open() -> HeldFrame {
        FRAMES.with(|frames| frames.borrow_mut().push(Vec::new()));
        HeldFrame(())
    }
}

impl Drop for HeldFrame {
    fn drop(&mut self) {
        let pinned = FRAMES.with(|frames| {
            let mut frames = frames.borrow_mut();
            let pinned = frames.pop();
            if frames.is_empty() {
                PINNED.with(|p| p.set(false));
            }
            pinned
        });
        unpin(pinned.unwrap_or_default());
    }
}

/// `storage` (memory a numpy array owns) behind its `Arc`; inside an open frame, pinned (not
/// Python-writable until the frame closes or Python runs), since nothing writes it meanwhile.
#[cfg_attr(not(feature = "numpy"), allow(dead_code))]
pub(crate) fn shared(storage: Storage) -> Arc<Storage> {
    let storage = Arc::new(storage);
    if storage.python_may_write() && pin(&storage) {
        storage.set_python_may_write(false);
    }
    storage
}

/// Pins `storage` to the innermost open frame, if there is one: it is then not Python-writable
/// until the frame closes or Python runs. Returns whether it was pinned.
pub(crate) fn pin(storage: &Arc<Storage>) -> bool {
    FRAMES.with(|frames| match frames.borrow_mut().last_mut() {
        Some(frame) => {
            frame.push(Arc::clone(storage));
            PINNED.with(|p| p.set(true));
            true
        }
        None => false,
    })
}

/// python4r is about to run Python code or release the GIL on this thread: every pinned storage
/// becomes Python-writable again, so reads from now on copy (today's rule).
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
    unpin(pinned);
}

fn unpin(storages: Vec<Arc<Storage>>) {
    for storage in storages {
        storage.set_python_may_write(true);
    }
}
