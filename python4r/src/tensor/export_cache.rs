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
use std::sync::Mutex;

#[cfg(feature = "numpy")]
use pyo3::prelude::*;

/// The largest tensor (in bytes of its elements) that keeps its last export.
#[cfg_attr(not(feature = "numpy"), allow(dead_code))]
pub(crate) const LIMIT: usize = 1 << 20;

/// The slot of one tensor's kept export (empty for a clone or a view: it belongs to one
/// tensor's geometry).
#[derive(Default)]
pub(crate) struct ExportCache {
    #[cfg(feature = "numpy")]
    slot: Mutex<Option<Py<PyAny>>>,
    /// Set at the first crossing: an array is kept from the second on, so a tensor that
    /// crosses once (a fresh one per call) pays nothing for the cache.
    #[cfg(feature = "numpy")]
    lent: std::sync::atomic::AtomicBool,
}

impl Clone for ExportCache {
    fn clone(&self) -> Self {
        ExportCache::default()
    }
}

#[cfg(feature = "numpy")]
impl ExportCache {
    /// What `lend` makes of the kept export, if there is one (the slot is locked meanwhile:
    /// `lend` must not run Python code).
    pub(crate) fn lend_again<R>(&self, lend: impl FnOnce(&Py<PyAny>) -> Option<R>) -> Option<R> {
        let slot = self.slot.lock().unwrap_or_else(|e| e.into_inner());
        slot.as_ref().and_then(lend)
    }

    /// Whether the tensor crossed before (and records that it has now).
    pub(crate) fn lent_before(&self) -> bool {
        self.lent.swap(true, std::sync::atomic::Ordering::Relaxed)
    }

    /// Keeps `kept` (replacing, and so dropping, any other).
    pub(crate) fn keep(&self, kept: Py<PyAny>) {
        let old = self
            .slot
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .replace(kept);
        drop(old);
    }

    /// Drops the kept export so that it no longer shares the storage: at once when this thread
    /// holds the GIL; otherwise the release is deferred by pyo3 and the caller must treat the
    /// storage as shared.
    pub(crate) fn clear(&mut self) {
        let kept = self
            .slot
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        drop(kept);
    }
}

#[cfg(not(feature = "numpy"))]
impl ExportCache {
    pub(crate) fn clear(&mut self) {}
}
