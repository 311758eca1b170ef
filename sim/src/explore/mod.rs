//! The crash explorer: kill schedules, the two oracles, replay and shrinking.
//!
//! An [`Explorer`] drives any [`Workload`] on [`crate::SimFs`]:
//!
//! 1. a **clean run** gives the reference output and step count;
//! 2. a **case** runs to a crash point of a `KillSchedule`, takes the
//!    post-crash image, and checks the **state oracle** on it
//!    ([`oracle::check_state`]: recovery does not panic, loads only a
//!    checkpoint the program attempted, never older than the last
//!    acknowledged one);
//! 3. the case resumes from the image (crashing again if the schedule says
//!    so) and runs to completion; the **result oracle**
//!    (`oracle::check_result`) wants the clean output, no leftovers, and
//!    the redo bound kept after every crash.
//!
//! Modes: [`Explorer::explore_exhaustive`] (every step x every state of one
//! model, images from one clean run),
//! [`Explorer::explore_exhaustive_two_crashes`] (and then every crash of
//! each recovery run), [`Explorer::explore_random`]
//! (proptest over schedules, shrinking), [`Explorer::replay`] of one case,
//! and [`Explorer::check_determinism`].
//!
//! **Invariant:** nothing here reads a clock, the OS RNG or a process-global;
//! a report is a pure function of the workload and [`ExploreOptions`]. Wall
//! time goes into a [`Report`] only from outside (the CLI measures it).

mod case;
mod determinism;
mod error;
mod exhaustive;
mod images;
mod options;
pub mod oracle;
mod random;
mod report;
mod two_crashes;
mod violation;
mod workload;

pub use case::{CaseOutcome, CleanRun, Explorer, MAX_FAULT_RESTARTS};
pub use error::HarnessError;
pub use options::ExploreOptions;
pub use random::RandomConfig;
pub use report::{ModelReport, Report};
pub use violation::{Oracle, Violation, replay_command};
pub use workload::{
    CheckpointId, Completion, Progress, Recovered, StepClock, Workload, WorkloadError,
};
#[cfg(test)]
mod initial_disk_tests;
