//! Locking the engine's shared slots (a step hook's capture, the dedup
//! cache, the convergence watch).

use std::sync::Mutex;

/// Locks `m`, poisoned or not.
pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A poisoned slot only means a hook panicked; its content is still ours.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
