//! The numpy array a tensor keeps from its last read-only crossing, to lend again next time.
//!
//! Passing the same `&Tensor` to Python again and again is the common loop. Making a fresh
//! `ndarray` (and its keeper) each time is most of what a small call costs beyond the Python
//! code itself, so a small tensor that crosses a second time keeps the read-only array it lends,
//! and lends it again
//! when nothing else holds it (its reference count is one: this cache's) and Python did not
//! change it in place (`a.shape = ...`, `a.dtype = ...`: its address, shape, strides, dtype and
//! flags are checked). Anything else gets a fresh array, as before.
//!
//! The kept array holds the storage, like any export. `&mut` access drops it first (at once
//! when the thread holds the GIL, else by copying on write as for any other sharer), and a
//! dropped tensor releases it at once under the GIL, else at the next use of Python (pyo3
//! defers the release of Python objects dropped without the GIL). Only tensors of at most
//! [`LIMIT`] bytes keep one, so that memory held that way is small.

#[cfg(feature = "numpy")]
use std::cell::UnsafeCell;
#[cfg(feature = "numpy")]
use std::sync::atomic::{AtomicUsize, Ordering};

#[cfg(feature = "numpy")]
use numpy::npyffi::PyArrayObject;
#[cfg(feature = "numpy")]
use pyo3::prelude::*;

#[cfg(feature = "numpy")]
use crate::error::Result;

/// The largest tensor (in bytes of its elements) that keeps its last export.
#[cfg_attr(not(feature = "numpy"), allow(dead_code))]
pub(crate) const LIMIT: usize = 1 << 20;

/// State bit: the tensor crossed before, and the slot may hold its last export. Without it (the
/// tensor never crossed) nothing is kept at a crossing, so a tensor that crosses once (a fresh
/// one per call) pays nothing for the cache.
#[cfg(feature = "numpy")]
const CROSSED: usize = 0b01;
/// State bit: a thread is reading or replacing the slot (between its take and its store).
#[cfg(feature = "numpy")]
const BUSY: usize = 0b10;
/// The state bits of [`ExportCache::word`]; the others are the kept array's descriptor address.
#[cfg(feature = "numpy")]
const STATE: usize = CROSSED | BUSY;

/// The slot of one tensor's kept export (empty for a clone or a view: it belongs to one
/// tensor's geometry).
///
/// One atomic word guards the slot: a crossing takes it (sets [`BUSY`]) and gives it back with a
/// `store`. A crossing that finds it busy (a nested or concurrent crossing of the same tensor)
/// makes a fresh array and keeps nothing. Where Python has a GIL, taking it is a plain load and
/// store (see [`ExportCache::take`]); a lock and a separate "crossed before" flag took three
/// atomic read-modify-writes per crossing.
///
/// The word also holds the address of the descriptor the kept array was made with (Python can
/// replace an array's descriptor: `a.dtype = ...`). Descriptors are objects, aligned to at least
/// 8 bytes, so the two state bits fit below it: the cache is two words, and a tensor small
/// enough that moving it is a few inline stores rather than a call to `memcpy`.
#[derive(Default)]
pub(crate) struct ExportCache {
    #[cfg(feature = "numpy")]
    word: AtomicUsize,
    #[cfg(feature = "numpy")]
    slot: UnsafeCell<Option<Py<PyAny>>>,
}

// SAFETY: `slot` is only touched by the thread that set `BUSY` in `word` where it was clear
// (until it stores a word without it), or through `&mut self`: see `take` for why no two threads
// can take it at once. `Py<PyAny>` is `Send + Sync`.
#[cfg(feature = "numpy")]
unsafe impl Sync for ExportCache {}

// A panic cannot leave the cache inconsistent: the slot is an `Option` replaced whole, and a
// crossing that unwinds between taking and giving back the slot leaves it busy, so later
// crossings make their own arrays (the kept one is released with the tensor).
#[cfg(feature = "numpy")]
impl std::panic::RefUnwindSafe for ExportCache {}

impl Clone for ExportCache {
    fn clone(&self) -> Self {
        ExportCache::default()
    }
}

#[cfg(feature = "numpy")]
impl ExportCache {
    /// The array to lend for this crossing: the kept one if `reusable` accepts it, else one
    /// that `make` creates (kept for next time from the second crossing on).
    ///
    /// Neither closure may run Python code that could reach this tensor again (they read an
    /// array's fields and make an array); if one did, that inner crossing would find the slot
    /// busy and make an array of its own.
    #[inline]
    pub(crate) fn lend<'py>(
        &self,
        py: Python<'py>,
        reusable: impl FnOnce(*mut pyo3::ffi::PyObject, usize) -> bool,
        make: impl FnOnce() -> Result<Bound<'py, PyAny>>,
    ) -> Result<Bound<'py, PyAny>> {
        let before = self.take(py);
        if before & BUSY != 0 {
            return make();
        }
        if before & CROSSED == 0 {
            // The first crossing: nothing is kept (a tensor that never crossed has no array).
            let made = make();
            self.word.store(CROSSED, Ordering::Release);
            return made;
        }
        self.lend_again(py, before & !STATE, reusable, make)
    }

    /// [`lend`](Self::lend) for a tensor that crossed before: this thread took the slot (set
    /// `BUSY`); `descr` is the kept array's descriptor address (0 with none kept).
    #[inline(never)]
    fn lend_again<'py>(
        &self,
        py: Python<'py>,
        descr: usize,
        reusable: impl FnOnce(*mut pyo3::ffi::PyObject, usize) -> bool,
        make: impl FnOnce() -> Result<Bound<'py, PyAny>>,
    ) -> Result<Bound<'py, PyAny>> {
        // SAFETY: this thread set BUSY where it was clear: it alone has the slot until it stores
        // a word without it below.
        let slot = unsafe { &mut *self.slot.get() };
        let mut old = None;
        if let Some(kept) = slot.take() {
            if reusable(kept.as_ptr(), descr) {
                let lent = kept.bind(py).clone();
                *slot = Some(kept);
                self.word.store(descr | CROSSED, Ordering::Release);
                return Ok(lent);
            }
            old = Some(kept);
        }
        let made = make();
        let mut word = CROSSED;
        if let Ok(array) = &made {
            // SAFETY: `make` returns an ndarray (GIL held): this reads its descriptor as numpy's
            // PyArray_DESCR does.
            let descr = unsafe { (*array.as_ptr().cast::<PyArrayObject>()).fields.descr as usize };
            // An object's address always leaves the state bits free; were it not to, nothing is
            // kept rather than a state misread.
            if descr & STATE == 0 {
                *slot = Some(array.clone().unbind());
                word |= descr;
            }
        }
        self.word.store(word, Ordering::Release);
        // The old array goes after the slot is given back: releasing it may run its keeper's
        // clean-up.
        drop(old);
        made
    }

    /// The kept array, lent again, when `reusable` accepts it (given the array object and the
    /// address of the descriptor it was made with): the whole of a crossing of the same tensor as
    /// last time, small enough to inline into the caller. `None` otherwise (the first crossings,
    /// a busy slot, an array Python kept or changed): then [`ExportCache::lend`] decides.
    ///
    /// `reusable` may only read the array (it must not run Python code).
    #[inline]
    pub(crate) fn lend_kept<'py>(
        &self,
        py: Python<'py>,
        reusable: impl FnOnce(*mut pyo3::ffi::PyObject, usize) -> bool,
    ) -> Option<Bound<'py, PyAny>> {
        // With a GIL, the caller holds it and nothing below runs Python code or lets it go, so
        // no other crossing can take the slot before this one is done with it: reading the
        // word suffices. A crossing that took it (BUSY) is between its take and its store.
        let word = self.word.load(Ordering::Acquire);
        if word & STATE != CROSSED {
            return None;
        }
        #[cfg(Py_GIL_DISABLED)]
        if self
            .word
            .compare_exchange(word, word | BUSY, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            return None;
        }
        // SAFETY: the slot is this thread's until it lets the GIL go (or, without a GIL, until it
        // stores the word back below): see above.
        let kept = unsafe { (*self.slot.get()).as_ref() };
        let lent = kept
            .filter(|kept| reusable(kept.as_ptr(), word & !STATE))
            .map(|kept| kept.bind(py).clone());
        #[cfg(Py_GIL_DISABLED)]
        self.word.store(word, Ordering::Release);
        lent
    }

    /// Sets `BUSY` and returns the word as it was.
    #[inline]
    fn take(&self, _py: Python<'_>) -> usize {
        // With a GIL, the caller holds it (`_py`) and does not let it go between this load and
        // this store (nothing runs between them), so no other thread can take the slot
        // meanwhile: the GIL's release and acquisition order one thread's crossing before the
        // next, as a read-modify-write would, without its locked instruction.
        #[cfg(not(Py_GIL_DISABLED))]
        {
            let before = self.word.load(Ordering::Acquire);
            self.word.store(before | BUSY, Ordering::Relaxed);
            before
        }
        #[cfg(Py_GIL_DISABLED)]
        {
            self.word.fetch_or(BUSY, Ordering::Acquire)
        }
    }

    /// Drops the kept export so that it no longer shares the storage: at once when this thread
    /// holds the GIL; otherwise the release is deferred by pyo3 and the caller must treat the
    /// storage as shared.
    pub(crate) fn clear(&mut self) {
        let kept = self.slot.get_mut().take();
        *self.word.get_mut() &= STATE;
        drop(kept);
    }
}

#[cfg(not(feature = "numpy"))]
impl ExportCache {
    pub(crate) fn clear(&mut self) {}
}
