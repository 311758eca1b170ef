//! Layer 3: the engine, which runs cases and judges them.
//!
//! An [`start::Engine`] holds the workload, the options and the thread
//! pool, and builds the start state every run starts from. On it:
//!
//! - the clean run ([`clean::CleanRun`]) and whole cases of a schedule, the
//!   violation a finding becomes and the confirmation replay
//!   (`schedule.rs`);
//! - one case as a type ([`case::Case`], `History`, `Next`): every run of
//!   every mode ends in `Case::conclude`; how a run ended (`run_end.rs`);
//! - the post-crash states of a crash point (`points.rs`, `images.rs`),
//!   their digests (`digest.rs`), the oracles ([`oracle`]), each distinct
//!   state checked once (`dedup.rs`), the progress record at every step
//!   (`timeline.rs`), resumed runs stopped once they equal the clean run
//!   (`converge.rs`), units checked on every core in unit order
//!   (`parallel.rs`), and the poison-proof lock they share (`lock.rs`);
//! - every entry point's work on a thread that cannot write the real disk
//!   (`sandbox.rs`), the audit of a clean run for real-disk calls it was
//!   denied and swallowed (`audit.rs`), and what a run that tried did
//!   (`bypass.rs`); both read the one trace of `strace.rs`.
//!
//! **Imports:** this folder, the report (`super::report`) and the
//! vocabulary (`super::vocabulary`); never the modes or the `Explorer`
//! facade. The engine hands the tally its confirmation replay
//! (`Engine::tally`) and listens to a run's progress through the
//! vocabulary's `Listener`, so nothing below calls back up.

pub(crate) mod audit;
pub(crate) mod bypass;
pub(crate) mod case;
pub(crate) mod clean;
pub(crate) mod converge;
pub(crate) mod dedup;
pub(crate) mod digest;
pub(crate) mod images;
pub(crate) mod lock;
pub mod oracle;
pub(crate) mod parallel;
pub(crate) mod points;
pub(crate) mod run_end;
pub(crate) mod sandbox;
pub(crate) mod schedule;
pub(crate) mod start;
pub(crate) mod strace;
pub(crate) mod stream;
pub(crate) mod timeline;
