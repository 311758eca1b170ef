//! Kill schedules for the crash explorer, and the crash-model type.
//!
//! The failpoint names a schedule's `fp:` points refer to, with their
//! documentation, live in `crashproof_core::failpoint`.
//!
//! - [`KillSchedule`]: where a case crashes (one or more [`CrashPoint`]s,
//!   one per run), which post-crash state it keeps, and which faults it
//!   injects. It prints in a compact text form that parses back, so a failing
//!   case can be pasted into a replay command or a test.
//! - [`rule`]: fault rules (`eio:fsync:*.wal`): an error injected by
//!   operation kind and path glob, every time or the `n`-th time, the way
//!   Pebble's `errorfs` injects; a schedule carries them as faults.
//! - [`strategy`]: proptest strategies over schedules (shrinking toward fewer,
//!   earlier crash points); [`arbitrary::Arbitrary`] impls for fuzzing.
//!
//! ```
//! use crashproof_fault::{CrashModel, KillSchedule, StateSelector};
//!
//! // Crash before step 7 under drop-unsynced, keep its first post-crash
//! // state; the text form is what a failing report prints to replay it.
//! let schedule = KillSchedule::at_step(7, CrashModel::DropUnsynced, StateSelector::Index(0));
//! assert_eq!(schedule.to_string(), "step:7@drop-unsynced#idx=0");
//! let parsed: KillSchedule = "step:7@drop-unsynced#idx=0".parse()?;
//! assert_eq!(parsed, schedule);
//! // Two crashes (one per run) and a failed fsync at step 12.
//! let two: KillSchedule =
//!     "step:37@subset#seed=9;fp:replace.after_sync_before_rename*2@prefix#idx=3;eio:12".parse()?;
//! assert_eq!(two.points.len(), 2);
//! # Ok::<(), crashproof_fault::ParseScheduleError>(())
//! ```
//!
//! # The crash model enum lives here
//!
//! [`CrashModel`] is the project's one crash-model type: schedules name it
//! and `crashproof_sim` re-exports it (the simulator depends on this crate,
//! not the other way round).

mod parse;
pub mod rule;
mod schedule;
pub mod strategy;

mod fuzz;

pub use parse::ParseScheduleError;
pub use rule::{FaultRule, ParseRuleError, RuleError, RuleHits, RuleOp};
pub use schedule::{CrashAt, CrashModel, CrashPoint, Fault, KillSchedule, StateSelector};
