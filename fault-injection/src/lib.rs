//! Failpoint catalogue and kill schedules for the crash explorer.
//!
//! - [`catalogue`]: every named protocol point the core calls through
//!   `Fs::failpoint`, with a line of documentation each.
//! - [`KillSchedule`]: where a case crashes (one or more [`CrashPoint`]s,
//!   one per run), which post-crash state it keeps, and which faults it
//!   injects. It prints in a compact text form that parses back, so a failing
//!   case can be pasted into a replay command or a test.
//! - [`strategy`]: proptest strategies over schedules (shrinking toward fewer,
//!   earlier crash points); [`arbitrary::Arbitrary`] impls for fuzzing.
//!
//! # The crash model enum lives here
//!
//! `crashproof-sim` depends on this crate, so this crate cannot name the
//! simulator's `CrashModel`. [`Model`] is the schedule's own copy of the four
//! models; the explorer maps it one to one onto `crashproof_sim::CrashModel`.

pub mod catalogue;
mod parse;
mod schedule;
pub mod strategy;

mod fuzz;

pub use catalogue::{CATALOGUE, FailpointDoc};
pub use parse::ParseScheduleError;
pub use schedule::{CrashAt, CrashPoint, Fault, KillSchedule, Model, StateSelector};
