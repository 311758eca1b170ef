//! Deterministic crash-consistency simulator: SimFs, crash models and the
//! crash explorer.
//!
//! - [`fs`]: `SimFs`, the in-memory filesystem that models what survives a
//!   crash;
//! - [`explore`]: the explorer, which crashes a workload at every step and
//!   checks the oracles on every post-crash state (a core `Job` as is:
//!   `JobWorkload`; a program without hooks: `ProgramWorkload`);
//! - [`check`]: `CrashTest`, one call that puts a workload under the
//!   explorer in a test and panics with a readable, replayable report.

pub mod check;
pub mod explore;
pub mod fs;

pub use fs::{
    ContentDigest, CrashChoice, CrashImage, CrashModel, CrashSource, Crashed, FaultConfig,
    SimConfig, SimFs, SimView, StepAction, StepHook, StepInfo, TooManyStates, Trace, TraceEntry,
    is_crashed,
};
