//! The concurrency primitives of background commits and the yield flag,
//! chosen at compile time: `std::sync` normally, `loom::sync` with the
//! `loom` feature, so `tests/loom.rs` model-checks the very code the runner
//! runs ([`crate::runner::background`], [`crate::YieldSignal`]).
//!
//! Nothing else in the core may take a lock, wait or share an atomic across
//! threads without going through here; a primitive imported from
//! `std::sync` directly would be invisible to loom.
//!
//! With the `loom` feature on, these types work only inside `loom::model`
//! (loom panics otherwise), so the feature is for the loom test alone.
//! Under the simulator nothing here is used by more than one thread: the
//! explorer runs background commits on the calling thread
//! ([`crate::CommitInterleaving`]).

#[cfg(feature = "loom")]
pub use loom::sync::{Arc, Condvar, Mutex, MutexGuard, atomic::AtomicBool};

#[cfg(not(feature = "loom"))]
pub use std::sync::{Arc, Condvar, Mutex, MutexGuard, atomic::AtomicBool};

/// Locks `mutex`, taking the data of a poisoned one as it is: every value
/// the seam guards stays consistent between statements (a panicking holder
/// leaves nothing half-written), and a poisoned lock must not hide the
/// committer's report.
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Waits on `condvar` with `guard`, as [`lock`] treats poisoning.
pub fn wait<'m, T>(condvar: &Condvar, guard: MutexGuard<'m, T>) -> MutexGuard<'m, T> {
    condvar
        .wait(guard)
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
