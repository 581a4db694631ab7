//! Reference-counted element memory shared by tensors: owned by Rust, or by a foreign owner (a numpy
//! array, a DLPack producer) that the storage keeps alive.

use std::any::Any;
use std::cell::Cell;
use std::mem::ManuallyDrop;
use std::ops::{Deref, DerefMut};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, AtomicPtr, Ordering};
use std::sync::{Arc, OnceLock};

use crate::dtype::Element;
use crate::release;

/// Something outside Rust that owns a block of memory (a numpy array, a DLPack capsule's
/// tensor); dropping it releases the memory.
pub(crate) type ForeignOwner = Box<dyn Any + Send + Sync>;

/// The owner of foreign memory: a Python object (a numpy array, held without a box: arrays
/// cross on every call), or anything else, boxed.
pub(crate) enum Foreign {
    /// A Python object that owns the memory.
    Python(#[allow(dead_code)] pyo3::Py<pyo3::PyAny>),
    /// A Python object that owns at most [`release::SMALL`] bytes: released through
    /// [`release::release`] (kept by the thread when dropped without the GIL).
    #[cfg_attr(not(feature = "numpy"), allow(dead_code))]
    SmallPython(ManuallyDrop<pyo3::Py<pyo3::PyAny>>),
    /// Any other owner (a DLPack capsule's tensor).
    Other(#[allow(dead_code)] ForeignOwner),
}

/// How to exclude Python's writers (take the GIL); installed by the NumPy bridge when it first
/// shares memory with Python. Without it no memory is shared with Python, so nothing to exclude.
static PYTHON_LOCK: OnceLock<fn(&mut dyn FnMut())> = OnceLock::new();

/// Installs the function that runs a closure under the GIL.
pub(crate) fn install_python_lock(lock: fn(&mut dyn FnMut())) {
    let _ = PYTHON_LOCK.set(lock);
}

enum Owner {
    /// A `Vec<T>` taken apart; `free` rebuilds and drops it.
    Rust {
        len: usize,
        cap: usize,
        free: unsafe fn(NonNull<u8>, usize, usize),
    },
    /// Held only so that dropping the storage drops it.
    Foreign(#[allow(dead_code)] Foreign),
}

/// A block of element memory. Tensors hold it through an `Arc`; views are (offset, shape,
/// strides) over it.
pub(crate) struct Storage {
    ptr: NonNull<u8>,
    /// Size in bytes from `ptr`, when the storage knows it (Rust-owned memory).
    #[cfg_attr(not(feature = "numpy"), allow(dead_code))]
    bytes: Option<usize>,
    /// Dropped by `Storage`'s own `Drop`, in one place (no separate drop glue to call).
    owner: ManuallyDrop<Owner>,
    /// Set while Python code may write this memory: numpy-owned writable arrays, and storage whose
    /// writable export Python kept. Rust then never hands out `&[T]` into it.
    python_may_write: AtomicBool,
    /// The owner forbids writing (a read-only numpy array or DLPack tensor).
    read_only: bool,
}

// SAFETY: `Storage` is a pointer to heap memory plus its owner (which is `Send + Sync` itself).
// Rust only writes it through `&mut Tensor` after proving the storage unique
// (`Shared::is_sole`), so shared access from several threads is read-only on the Rust side;
// concurrent writers on the Python side are excluded by the GIL or are outside the soundness
// model (see the module docs).
unsafe impl Send for Storage {}
// SAFETY: see `Send`: `&Storage` only allows reads of the memory.

unsafe impl Sync for Storage {}

// A panic cannot leave a storage half-changed: its pointer, size and owner are fixed when it is
// made, and the one mutable flag is an atomic whose every value is consistent. The owner's
// interior mutability (a Python object's reference count) is Python's, under the GIL.
impl std::panic::UnwindSafe for Storage {}
impl std::panic::RefUnwindSafe for Storage {}

unsafe fn free_vec<T>(ptr: NonNull<u8>, len: usize, cap: usize) {
    // SAFETY: `ptr`, `len` and `cap` come from a `Vec<T>` taken apart in `Storage::from_vec`,
    // and this runs exactly once, from `Drop`.
    drop(unsafe { Vec::from_raw_parts(ptr.as_ptr().cast::<T>(), len, cap) });
}

impl From<ForeignOwner> for Foreign {
    fn from(owner: ForeignOwner) -> Foreign {
        Foreign::Other(owner)
    }
}

impl From<pyo3::Py<pyo3::PyAny>> for Foreign {
    fn from(owner: pyo3::Py<pyo3::PyAny>) -> Foreign {
        Foreign::Python(owner)
    }
}

impl Foreign {
    /// A Python object that owns `bytes` bytes of memory.
    #[cfg_attr(not(feature = "numpy"), allow(dead_code))]
    #[inline]
    pub(crate) fn python(owner: pyo3::Py<pyo3::PyAny>, bytes: usize) -> Foreign {
        if bytes <= release::SMALL {
            Foreign::SmallPython(ManuallyDrop::new(owner))
        } else {
            Foreign::Python(owner)
        }
    }
}

/// The `free` of a vacant storage: there is nothing to free.
unsafe fn free_nothing(_: NonNull<u8>, _: usize, _: usize) {}

impl Storage {
    /// A storage that owns nothing (no elements): what a spare allocation holds.
    fn vacant() -> Storage {
        Storage {
            ptr: NonNull::dangling(),
            bytes: Some(0),
            owner: ManuallyDrop::new(Owner::Rust {
                len: 0,
                cap: 0,
                free: free_nothing,
            }),
            python_may_write: AtomicBool::new(false),
            read_only: true,
        }
    }

    /// Takes ownership of `data` without copying.
    pub(crate) fn from_vec<T: Element>(data: Vec<T>) -> Storage {
        let mut data = std::mem::ManuallyDrop::new(data);
        let (len, cap) = (data.len(), data.capacity());
        let ptr = NonNull::new(data.as_mut_ptr().cast::<u8>()).expect("Vec pointers are non-null");
        Storage {
            ptr,
            bytes: Some(len * size_of::<T>()),
            owner: ManuallyDrop::new(Owner::Rust {
                len,
                cap,
                free: free_vec::<T>,
            }),
            python_may_write: AtomicBool::new(false),
            read_only: false,
        }
    }

    /// Memory owned by `owner`, starting at `ptr`.
    ///
    /// # Safety
    /// `ptr` and every address a tensor built on this storage computes from it must stay valid
    /// while `owner` lives.
    pub(crate) unsafe fn foreign(
        ptr: NonNull<u8>,
        owner: impl Into<Foreign>,
        read_only: bool,
        python_may_write: bool,
    ) -> Storage {
        Storage {
            ptr,
            bytes: None,
            owner: ManuallyDrop::new(Owner::Foreign(owner.into())),
            python_may_write: AtomicBool::new(python_may_write),
            read_only,
        }
    }

    #[inline]
    pub(crate) fn ptr(&self) -> *mut u8 {
        self.ptr.as_ptr()
    }

    #[inline]
    pub(crate) fn bytes(&self) -> Option<usize> {
        self.bytes
    }

    /// A Rust-owned copy of every byte, at the same offsets (so any view of this storage is a
    /// view of the copy), aligned for `T`, which must accept every bit pattern (not `bool`:
    /// pass `u8`); `None` when the size is unknown (foreign memory). Reads under the GIL when
    /// Python may write this memory.
    #[cfg_attr(not(feature = "numpy"), allow(dead_code))]
    pub(crate) fn duplicate<T: Element>(&self) -> Option<Storage> {
        assert!(
            T::DTYPE != crate::dtype::DType::Bool,
            "bool bytes may be invalid: use u8"
        );
        let bytes = self.bytes?;
        let mut data: Vec<T> = Vec::with_capacity(bytes.div_ceil(size_of::<T>().max(1)));
        self.locked(&mut || {
            // SAFETY: the storage keeps `bytes` bytes from `ptr` alive and readable; `data` has
            // room for at least that many bytes and does not overlap them.
            unsafe {
                std::ptr::copy_nonoverlapping(self.ptr(), data.as_mut_ptr().cast::<u8>(), bytes)
            };
        });
        // SAFETY: the first `bytes` bytes were written above and every bit pattern is a valid
        // `T` (bool is refused above); a trailing partial element is initialised memory inside
        // the capacity, read only as raw bytes by views.
        unsafe { data.set_len(bytes / size_of::<T>().max(1)) };
        let mut copy = Storage::from_vec(data);
        copy.bytes = Some(bytes);
        Some(copy)
    }

    #[inline]
    pub(crate) fn read_only(&self) -> bool {
        self.read_only
    }

    #[inline]
    pub(crate) fn python_may_write(&self) -> bool {
        self.python_may_write.load(Ordering::Acquire)
    }

    pub(crate) fn set_python_may_write(&self, v: bool) {
        self.python_may_write.store(v, Ordering::Release);
    }

    /// Runs `f` with Python's writers excluded (under the GIL) when Python may write this
    /// memory, so a read sees one consistent state.
    pub(crate) fn locked(&self, f: &mut dyn FnMut()) {
        match PYTHON_LOCK.get() {
            Some(lock) if self.python_may_write() => lock(f),
            _ => f(),
        }
    }
}

impl Drop for Storage {
    /// Inline, so that a tensor's drop is one function on the per-call path: a call's result
    /// (a small numpy array, released at once under the GIL) and a spent Rust `Vec`.
    #[inline]
    fn drop(&mut self) {
        // SAFETY: taken once, here; `self.owner` is not used again (the storage is being
        // dropped).
        match unsafe { ManuallyDrop::take(&mut self.owner) } {
            // SAFETY: the parts come from `from_vec` with the matching `free::<T>`, and drop runs
            // once.
            Owner::Rust { len, cap, free } => unsafe { free(self.ptr, len, cap) },
            Owner::Foreign(Foreign::SmallPython(owner)) => {
                release::release(ManuallyDrop::into_inner(owner));
            }
            Owner::Foreign(other) => drop_foreign(other),
        }
    }
}

/// Any other foreign owner releases its memory as it drops.
#[inline(never)]
fn drop_foreign(owner: Foreign) {
    drop(owner);
}

/// A tensor's own reference to its storage: an `Arc<Storage>` whose allocation the thread
/// keeps for the next storage when the tensor was the last holder.
///
/// Every call that returns an array makes a storage (and its `Arc`) for the result, and the
/// caller usually drops it before the next call. Next to numpy's work, the allocator's own memory
/// is out of the cache: measured here, allocating and freeing a box of the `Arc`'s size after
/// each call of the `double` function (1,024 f64) added about 25 ns per call. One spare
/// allocation per thread saves both; a second serves a call that also makes its argument anew
/// each time (a fresh tensor in, a result out).
///
/// Whether a holder is the last is read from the strong count alone, without `Arc::get_mut`'s
/// locked compare-and-swap (about 20 cycles each, twice per call): no `Weak<Storage>` is ever
/// made in python4r, so once the count is one nothing can make another holder. Keep it so.
pub(crate) struct Shared(ManuallyDrop<Arc<Storage>>);

/// Whether `arc` is the only reference to its storage: then its holder may write the storage
/// (all other holders' uses of it happened before).
#[inline]
fn sole(arc: &Arc<Storage>) -> bool {
    debug_assert_eq!(Arc::weak_count(arc), 0, "python4r makes no Weak<Storage>");
    if Arc::strong_count(arc) != 1 {
        return false;
    }
    // Pairs with the release decrement of each other holder that dropped: what they did with
    // the storage happened before whatever its sole holder does next (as in `Arc::get_mut`).
    std::sync::atomic::fence(Ordering::Acquire);
    true
}

/// How many spare allocations a thread keeps.
const SPARES: usize = 2;

thread_local! {
    /// `Arc`s nobody else holds, whose storage is [`Storage::vacant`], ready for reuse.
    static SPARE: [Cell<Option<Arc<Storage>>>; SPARES] = const { [const { Cell::new(None) }; SPARES] };
}

/// One of the thread's spare allocations, if it has one.
#[inline]
fn take_spare() -> Option<Arc<Storage>> {
    SPARE
        .try_with(|spares| spares.iter().find_map(Cell::take))
        .ok()
        .flatten()
}

/// Keeps `arc` (unique, vacant) as a spare; when the thread has enough, its oldest is freed.
#[inline]
fn keep_spare(arc: Arc<Storage>) {
    // A thread-local already destroyed (a tensor dropped by another thread-local's destructor)
    // drops `arc` with the closure: freed as usual.
    let _ = SPARE.try_with(move |spares| {
        let mut carried = Some(arc);
        for slot in spares {
            carried = slot.replace(carried);
            if carried.is_none() {
                break;
            }
        }
    });
}

impl Shared {
    /// `storage` behind an `Arc`: one of the thread's spare allocations if it has one.
    #[inline]
    pub(crate) fn new(storage: Storage) -> Shared {
        let arc = match take_spare() {
            Some(arc) => {
                // SAFETY: a spare was the sole reference to its storage when it was kept (see
                // `Drop`), and only this thread has had it since, so it still is (and no `Weak`
                // exists): writing through it races with nothing. The pointer comes from the
                // `Arc`'s own allocation. The vacant storage there owns nothing, so overwriting it
                // without dropping it leaks nothing.
                unsafe { std::ptr::write(Arc::as_ptr(&arc).cast_mut(), storage) };
                arc
            }
            None => Arc::new(storage),
        };
        Shared(ManuallyDrop::new(arc))
    }

    /// Whether this is the only reference to the storage (see [`Shared`]): then its holder may
    /// write it.
    #[inline]
    pub(crate) fn is_sole(&self) -> bool {
        sole(&self.0)
    }
}

impl From<Storage> for Shared {
    fn from(storage: Storage) -> Shared {
        Shared::new(storage)
    }
}

impl From<Arc<Storage>> for Shared {
    fn from(arc: Arc<Storage>) -> Shared {
        Shared(ManuallyDrop::new(arc))
    }
}

impl Clone for Shared {
    fn clone(&self) -> Shared {
        Shared::from(Arc::clone(&self.0))
    }
}

impl Deref for Shared {
    type Target = Arc<Storage>;

    fn deref(&self) -> &Arc<Storage> {
        &self.0
    }
}

impl DerefMut for Shared {
    fn deref_mut(&mut self) -> &mut Arc<Storage> {
        &mut self.0
    }
}

impl Drop for Shared {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: the `Arc` is taken out once, here, and `self` is not used afterwards.
        let arc = unsafe { ManuallyDrop::take(&mut self.0) };
        if !sole(&arc) {
            return; // Others hold it: dropping `arc` only counts one holder less.
        }
        // Releases the memory now, as dropping the last `Arc` would (a numpy array's reference
        // is released under the GIL, or deferred by pyo3 without it), and keeps the allocation.
        // SAFETY: `arc` is the sole reference (`sole`), so this is the only access to the
        // storage; the pointer comes from the `Arc`'s own allocation.
        unsafe { *Arc::as_ptr(&arc).cast_mut() = Storage::vacant() };
        keep_spare(arc);
    }
}

/// A storage set at most once (a tensor's `as_slice` snapshot): an `Arc<Storage>` in one word,
/// where a `OnceLock` takes two; a tensor moves on every call, and its size decides whether a
/// move is a few inline stores or a call to `memcpy`.
pub(crate) struct Snapshot(AtomicPtr<Storage>);

impl Snapshot {
    pub(crate) const fn new() -> Snapshot {
        Snapshot(AtomicPtr::new(std::ptr::null_mut()))
    }

    /// The storage set before, else `make()`'s, set now. Two threads may both run `make`; one
    /// storage is kept and the other dropped.
    pub(crate) fn get_or_init(&self, make: impl FnOnce() -> Arc<Storage>) -> &Storage {
        let set = self.0.load(Ordering::Acquire);
        if !set.is_null() {
            // SAFETY: a non-null pointer is an `Arc::into_raw` this snapshot owns until it
            // drops, which `&self` outlives.
            return unsafe { &*set };
        }
        let made = Arc::into_raw(make()).cast_mut();
        match self.0.compare_exchange(
            std::ptr::null_mut(),
            made,
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            // SAFETY: as above: `made` is now this snapshot's.
            Ok(_) => unsafe { &*made },
            Err(first) => {
                // SAFETY: `made` was not stored: it is still this call's reference to release;
                // `first` is the snapshot's, as above.
                unsafe {
                    drop(Arc::from_raw(made));
                    &*first
                }
            }
        }
    }
}

impl Clone for Snapshot {
    fn clone(&self) -> Snapshot {
        let set = self.0.load(Ordering::Acquire);
        if !set.is_null() {
            // SAFETY: `set` is a live `Arc::into_raw` this snapshot owns: one more reference for
            // the clone.
            unsafe { Arc::increment_strong_count(set) };
        }
        Snapshot(AtomicPtr::new(set))
    }
}

impl Drop for Snapshot {
    fn drop(&mut self) {
        let set = *self.0.get_mut();
        if !set.is_null() {
            // SAFETY: the snapshot's own reference, released once.
            drop(unsafe { Arc::from_raw(set) });
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use super::*;

    /// A foreign owner that counts its drops.
    struct Counted(&'static AtomicUsize);

    impl Drop for Counted {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn counted(drops: &'static AtomicUsize) -> Shared {
        let owner: ForeignOwner = Box::new(Counted(drops));
        // SAFETY: no tensor is built on this storage: nothing reads through `ptr`.
        Shared::new(unsafe { Storage::foreign(NonNull::dangling(), owner, true, false) })
    }

    #[test]
    fn the_last_holder_releases_the_memory_at_once_and_keeps_the_allocation() {
        static DROPS: AtomicUsize = AtomicUsize::new(0);
        let first = counted(&DROPS);
        let address = Arc::as_ptr(&first);
        drop(first);
        assert_eq!(
            DROPS.load(Ordering::SeqCst),
            1,
            "the owner went with the last holder"
        );
        let next = Shared::new(Storage::from_vec(vec![1u32, 2, 3]));
        assert_eq!(
            Arc::as_ptr(&next),
            address,
            "the spare allocation served again"
        );
        assert_eq!(next.bytes(), Some(12));
        // SAFETY: the storage holds 3 `u32`s.
        let values = unsafe { std::slice::from_raw_parts(next.ptr().cast::<u32>(), 3) };
        assert_eq!(values, [1, 2, 3]);
    }

    #[test]
    fn a_thread_keeps_two_spares_and_frees_the_rest() {
        static DROPS: AtomicUsize = AtomicUsize::new(0);
        let made: Vec<Shared> = (0..3).map(|_| counted(&DROPS)).collect();
        let addresses: Vec<*const Storage> = made.iter().map(|s| Arc::as_ptr(s)).collect();
        drop(made); // dropped in order: the first is freed when the third is kept
        assert_eq!(DROPS.load(Ordering::SeqCst), 3);
        let again: Vec<*const Storage> = (0..2)
            .map(|_| Arc::as_ptr(&Shared::new(Storage::vacant())))
            .collect();
        assert_eq!(
            again,
            [addresses[2], addresses[2]],
            "the newest spare first"
        );
        let (a, b) = (
            Shared::new(Storage::vacant()),
            Shared::new(Storage::vacant()),
        );
        assert_eq!(
            [Arc::as_ptr(&a), Arc::as_ptr(&b)],
            [addresses[2], addresses[1]]
        );
    }

    #[test]
    fn a_storage_others_hold_is_neither_released_nor_reused() {
        static DROPS: AtomicUsize = AtomicUsize::new(0);
        let first = counted(&DROPS);
        let other = first.clone();
        let address = Arc::as_ptr(&first);
        drop(first);
        assert_eq!(DROPS.load(Ordering::SeqCst), 0, "still held");
        let next = Shared::new(Storage::from_vec(vec![0u8]));
        assert_ne!(Arc::as_ptr(&next), address);
        assert_eq!(Arc::as_ptr(&other), address);
        drop(other);
        assert_eq!(DROPS.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_kept_arc_outlives_the_tensor_as_usual() {
        static DROPS: AtomicUsize = AtomicUsize::new(0);
        let first = counted(&DROPS);
        let keeper: Arc<Storage> = Arc::clone(&first);
        drop(first);
        assert_eq!(DROPS.load(Ordering::SeqCst), 0);
        drop(keeper);
        assert_eq!(
            DROPS.load(Ordering::SeqCst),
            1,
            "a plain Arc frees as always"
        );
    }

    #[test]
    fn a_snapshot_is_set_once_shared_by_clones_and_released_with_the_last() {
        static DROPS: AtomicUsize = AtomicUsize::new(0);
        let snapshot = Snapshot::new();
        let first = snapshot.get_or_init(|| Arc::clone(&counted(&DROPS))) as *const Storage;
        let again = snapshot.get_or_init(|| unreachable!("set already")) as *const Storage;
        assert_eq!(first, again);
        let clone = snapshot.clone();
        assert_eq!(
            clone.get_or_init(|| unreachable!("set in the clone")) as *const Storage,
            first
        );
        drop(snapshot);
        assert_eq!(DROPS.load(Ordering::SeqCst), 0, "the clone still holds it");
        drop(clone);
        assert_eq!(DROPS.load(Ordering::SeqCst), 1);
    }
}
