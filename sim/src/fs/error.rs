//! The simulator's typed errors: the crash itself, injected faults, and an
//! enumeration that would be too large.

use std::error::Error;
use std::io;

/// The payload of every error a crashed [`super::SimFs`] returns: the
/// simulated process is dead, so the workload must unwind, not retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "simulated crash: the process is dead (this call and every later one fail; recover from a crash image)"
)]
pub struct Crashed;

impl Crashed {
    /// The `io::Error` (kind `Other`) that carries this payload.
    pub fn io_error() -> io::Error {
        io::Error::other(Crashed)
    }
}

/// Whether `err` is the simulator's [`Crashed`] error, or wraps it anywhere
/// in its chain (through [`crashproof_core::fs::FsOpError`], nested `io::Error`s, or any error's
/// `source()`), so a workload that wraps filesystem errors in its own types
/// is still recognised as having been killed.
pub fn is_crashed(err: &io::Error) -> bool {
    err.get_ref().is_some_and(|inner| chain_has_crashed(inner))
}

fn chain_has_crashed(mut e: &(dyn Error + 'static)) -> bool {
    loop {
        if e.is::<Crashed>() {
            return true;
        }
        // io::Error's `source()` skips its own payload, so look inside it.
        if let Some(io) = e.downcast_ref::<io::Error>()
            && let Some(inner) = io.get_ref()
            && chain_has_crashed(inner)
        {
            return true;
        }
        match e.source() {
            Some(next) => e = next,
            None => return false,
        }
    }
}

/// [`super::SimView::crash_images`] would return more than `cap` states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "the crash model allows at least {at_least} post-crash states, more than the cap of {cap}; \
     raise the cap, crash earlier, or pick states at random with crash_image"
)]
pub struct TooManyStates {
    /// The cap that was passed.
    pub cap: usize,
    /// How many states the model allows (exact unless it overflowed `u64`,
    /// then `u64::MAX`).
    pub at_least: u64,
}

/// A fault the simulator injected (see [`super::FaultConfig`]); the payload
/// of the `io::Error` the faulted call returned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InjectedFault {
    /// `sync` failed with EIO; the data it covered is lost on a crash even if
    /// a later `sync` returns `Ok`.
    #[error(
        "simulated EIO on fsync: the unsynced data of this file is lost on a crash \
         even if a later sync succeeds; treat the data as gone"
    )]
    SyncEio,
    /// A write past the configured capacity; nothing was written.
    #[error(
        "simulated ENOSPC: writing {requested_bytes} bytes would exceed the capacity of {capacity_bytes} bytes; nothing was written"
    )]
    NoSpace {
        /// The configured capacity.
        capacity_bytes: u64,
        /// The bytes the write asked for.
        requested_bytes: u64,
    },
    /// A fault rule ([`crashproof_fault::FaultRule`]) failed the call.
    #[error(
        "simulated {errno} injected by fault rule `{rule}`: {}",
        rule_effect(*.lost_on_crash)
    )]
    Rule {
        /// The rule's text form.
        rule: String,
        /// `EIO` or `ENOSPC`.
        errno: &'static str,
        /// A failed fsync: the data it covered is lost on a crash.
        lost_on_crash: bool,
    },
    /// A short write: only a prefix was written.
    #[error("simulated short write: only {written_bytes} of {requested_bytes} bytes were written")]
    ShortWrite {
        /// Bytes written (a prefix of the request).
        written_bytes: u64,
        /// Bytes requested.
        requested_bytes: u64,
    },
}

/// What a rule's failed call did, for its message.
fn rule_effect(lost_on_crash: bool) -> &'static str {
    if lost_on_crash {
        "the unsynced data of this file is lost on a crash even if a later sync succeeds; treat \
         the data as gone"
    } else {
        "the call changed nothing"
    }
}
