//! Refusing a python4r call nested so deeply that the thread's stack would overflow
//! (Python → Rust → Python → … recursion), with a `RecursionError` instead of an abort.
//!
//! Python's recursion limit counts Python frames, not the Rust frames between them, so code
//! that recurses through Rust callbacks can exhaust the thread's stack (a fatal error, the
//! process aborts) long before Python raises `RecursionError`. Every python4r call therefore
//! checks how much stack is left and fails when it is almost gone.

use pyo3::prelude::*;

use crate::error::{Error, Result};

/// Refuse a call when less than this much stack is left (or a quarter of a small stack).
const RESERVE: usize = 256 * 1024;

/// `Err(RecursionError)` when the calling thread's stack is nearly exhausted.
#[inline]
pub(crate) fn check(py: Python<'_>) -> Result<()> {
    let here = {
        let marker = 0u8;
        std::ptr::addr_of!(marker) as usize
    };
    if here < limit() {
        return Err(exhausted(py, here));
    }
    Ok(())
}

#[cold]
fn exhausted(py: Python<'_>, here: usize) -> Error {
    let left = here.saturating_sub(stack_bounds().map_or(0, |(low, _)| low));
    Error::from_pyerr(
        py,
        pyo3::exceptions::PyRecursionError::new_err(format!(
            "maximum recursion depth exceeded: only {left} bytes of this thread's stack are \
             left, too few for another nested Python call from Rust (Python and Rust calling each \
             other recursively); make the recursion shallower, or run it on a thread with a \
             bigger stack"
        )),
    )
}

/// The stack address below which a call is refused on this thread (0 where the stack's bounds
/// are unknown): its lowest address plus the reserve (or a quarter of a small stack).
#[cfg(target_os = "linux")]
#[inline]
fn limit() -> usize {
    use std::cell::Cell;
    thread_local! {
        /// `usize::MAX` until computed.
        static LIMIT: Cell<usize> = const { Cell::new(usize::MAX) };
    }
    LIMIT.with(|limit| {
        if limit.get() == usize::MAX {
            let computed = stack_bounds().map_or(0, |(low, size)| low + RESERVE.min(size / 4));
            limit.set(computed);
        }
        limit.get()
    })
}

#[cfg(not(target_os = "linux"))]
fn limit() -> usize {
    0
}

#[cfg(target_os = "linux")]
fn stack_bounds() -> Option<(usize, usize)> {
    let mut attr = std::mem::MaybeUninit::<libc::pthread_attr_t>::uninit();
    // SAFETY: pthread_getattr_np initialises `attr` for the calling thread when it returns 0;
    // only then is it read, and it is destroyed once.
    unsafe {
        if libc::pthread_getattr_np(libc::pthread_self(), attr.as_mut_ptr()) != 0 {
            return None;
        }
        let mut addr = std::ptr::null_mut();
        let mut size = 0usize;
        let found = libc::pthread_attr_getstack(attr.as_ptr(), &mut addr, &mut size) == 0;
        libc::pthread_attr_destroy(attr.as_mut_ptr());
        (found && !addr.is_null()).then_some((addr as usize, size))
    }
}

#[cfg(not(target_os = "linux"))]
fn stack_bounds() -> Option<(usize, usize)> {
    None
}
