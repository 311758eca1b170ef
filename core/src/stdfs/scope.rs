//! The per-thread "current filesystem": set for the duration of a closure
//! by [`with_fs`], read by every facade call.

use std::io;
use std::sync::{Arc, Weak};

use scoped_tls_hkt::scoped_thread_local;

use crate::fs::Fs;

/// What a scope puts in the thread-local slot: the filesystem and the
/// scope's liveness token (files opened in the scope keep a `Weak` of it).
#[derive(Clone, Copy)]
pub(crate) struct Scope<'a> {
    pub(crate) fs: &'a (dyn Fs + 'a),
    token: &'a Arc<()>,
}

// One slot per thread, holding a borrowed `&dyn Fs` only while `with_fs`
// runs: no process-global, so tests in parallel threads each have their own.
scoped_thread_local!(static CURRENT: for<'a> Scope<'a>);

/// Runs `f` with every `crashproof_core::stdfs` call **on this thread**
/// going to `fs`, and returns what `f` returns. Outside any scope the
/// facade is `std::fs` itself.
///
/// Scopes nest: the innermost wins, and the outer one is back when it
/// returns (also on a panic). A [`super::File`] opened inside works only
/// inside a scope on the same filesystem while its own scope is still
/// running; used anywhere else it returns an error (it never falls
/// through to the real disk).
///
/// **Per thread.** A thread spawned inside the scope does not inherit it:
/// its calls go to the real filesystem. Code that spawns threads carries
/// the scope over by calling `with_fs` again in the child with the same
/// filesystem (for a `SimFs` in a test: `std::thread::scope` and a
/// `&SimFs`, which is `Sync`); files opened by the parent keep working
/// there. [`with_current`] hands the current filesystem to code that needs
/// it.
pub fn with_fs<R>(fs: &dyn Fs, f: impl FnOnce() -> R) -> R {
    let token = Arc::new(());
    CURRENT.set(Scope { fs, token: &token }, f)
}

/// Calls `f` with the current scope's filesystem (`None` outside any
/// scope, where the facade is `std::fs`).
pub fn with_current<R>(f: impl FnOnce(Option<&dyn Fs>) -> R) -> R {
    current(|scope| f(scope.map(|scope| scope.fs)))
}

/// Whether this thread is inside a [`with_fs`] scope.
pub fn in_scope() -> bool {
    CURRENT.is_set()
}

/// The current scope, if any.
pub(crate) fn current<R>(f: impl FnOnce(Option<Scope<'_>>) -> R) -> R {
    if CURRENT.is_set() {
        CURRENT.with(|scope| f(Some(scope)))
    } else {
        f(None)
    }
}

/// Where a file was opened: which filesystem, and whether the scope it was
/// opened in is still running.
#[derive(Debug, Clone)]
pub(crate) struct Origin {
    scope: Weak<()>,
    fs_addr: usize,
}

fn addr(fs: &dyn Fs) -> usize {
    // The data pointer only: the same filesystem behind two vtables (a
    // `&SimFs` and an `&Arc<SimFs>` deref'd) is still one filesystem.
    std::ptr::from_ref(fs).cast::<()>() as usize
}

impl Origin {
    pub(crate) fn of(scope: Scope<'_>) -> Self {
        Self {
            scope: Arc::downgrade(scope.token),
            fs_addr: addr(scope.fs),
        }
    }

    /// Runs `f` on the current filesystem if this file may use it: its own
    /// scope still runs and the current scope is on the same filesystem.
    pub(crate) fn with_fs<R>(&self, f: impl FnOnce(&dyn Fs) -> io::Result<R>) -> io::Result<R> {
        current(|scope| match scope {
            Some(scope) if self.scope.strong_count() > 0 && addr(scope.fs) == self.fs_addr => {
                f(scope.fs)
            }
            _ => Err(io::Error::other(
                "this File was opened inside a stdfs::with_fs scope that has ended, or on \
                 another filesystem than the current scope's; open it again inside the \
                 current scope (a scope is per thread: call with_fs in a spawned thread too)",
            )),
        })
    }
}
