//! The crash explorer: kill schedules, the two oracles, modes, replay.
//!
//! An [`Explorer`] drives any [`Workload`] on [`crate::SimFs`] (a core
//! `Job` as is: [`JobWorkload`]; a program without progress hooks, from
//! closures: [`ProgramWorkload`]; or a hand-written one):
//!
//! 1. the **clean run** (no crash, no fault) gives the output every resumed
//!    run must reproduce and the steps that are crash points;
//! 2. a **case** runs to a crash point of a `KillSchedule`, takes the
//!    post-crash image, and checks the **state oracle** on it
//!    ([`oracle::check_state`]: recovery does not panic, loads only a
//!    checkpoint the program attempted, never older than the last
//!    acknowledged one, or finds the job completed with the clean run's
//!    output; the workload's own predicate holds);
//! 3. the case resumes from the image (crashing again if the schedule says
//!    so) and runs to completion; the **result oracle**
//!    (`oracle::check_result`) wants the clean run's output, no leftovers,
//!    and the redo bound kept after every crash.
//!
//! Each check applies as far as the workload reports the facts it needs
//! ([`Checks`]); a report lists the checks that ran.
//!
//! A case is one type (`engine/case.rs`): every mode builds it from the
//! start state or from a crash image and one function turns the end of
//! each run into the next run or the case's finding.
//!
//! Modes ([`Mode`]): exhaustive single crashes (every step x every state of
//! one model, images from one clean run's step hook), two crashes (and then
//! every crash of each recovery run), the sync-EIO sweep, random schedules
//! (proptest, shrinking). [`Explorer::explore`] runs a [`Plan`] (modes x
//! models) and returns one merged [`Report`]; [`Explorer::replay`] runs one
//! case; [`Explorer::check_determinism`] runs one case twice.
//!
//! **Nothing is OK unless something was checked:** a pass that checks no
//! post-crash state is [`HarnessError::NothingChecked`], a replayed crash
//! point the run never reaches is [`HarnessError::CrashPointNotReached`].
//!
//! **Invariant:** nothing here reads a clock, the OS RNG or a process-global;
//! a report is a pure function of the workload, the plan and
//! [`ExploreOptions`]. Wall time goes into a [`Report`] only from outside
//! (the CLI measures it around [`Explorer::explore_observed`]).
//!
//! # Layers
//!
//! The code is in five layers, bottom first; a file names items of its own
//! layer and of the layers below it, never above (`sim/tests/layers.rs`
//! fails otherwise):
//!
//! 1. `vocabulary/`: what a user writes against and every layer shares
//!    (workloads, the progress record, checks, options, replay line,
//!    shard, plan, harness errors);
//! 2. `report/`: what an exploration concludes, as data (report,
//!    violation, finding, tally, events, shard merge);
//! 3. `engine/`: the start state, the clean run, one case, post-crash
//!    states, the oracles, dedup, convergence, threads;
//! 4. `modes/`: exhaustive, two crashes, sync-EIO, random, determinism,
//!    each a function over the engine;
//! 5. `explorer.rs`: [`Explorer`], the facade that runs a [`Plan`] and
//!    forwards to the modes and the engine; this file's re-exports are the
//!    public API.
//!
//! Where a lower layer needs something from above, it is handed a
//! function or a trait instead: the tally gets its confirmation replay
//! from the engine, the progress record tells the engine's convergence
//! watch through a listener trait of the vocabulary.

mod engine;
mod explorer;
mod modes;
mod report;
mod vocabulary;

pub use engine::oracle;

pub use engine::case::FAULT_RESTARTS_MAX;
pub use engine::clean::CleanRun;
pub use engine::schedule::CaseOutcome;
pub use explorer::Explorer;
pub use report::event::Event;
pub use report::merge::MergeError;
pub use report::summary::{ModelVerdict, PassReport, Report, ViolationGroup, Work};
pub use report::violation::{Oracle, Violation};
pub use vocabulary::checks::Checks;
pub use vocabulary::error::HarnessError;
pub use vocabulary::job_workload::{JOB_DIR_DEFAULT, JobWorkload};
pub use vocabulary::observer::ProgressObserver;
pub use vocabulary::options::{
    Cancel, ExploreOptions, InvalidOptions, SECTOR_SIZE_BYTES_MAX, validate_sector_size_bytes,
};
pub use vocabulary::plan::{Mode, Pass, Plan, RandomConfig};
pub use vocabulary::program::{Found, ProgramWorkload, Reporter};
pub use vocabulary::replay_line::{REPLAY_VAR, ReplayLine, SEED_VAR, TestTarget};
pub use vocabulary::sandbox::{BypassDetection, RealDiskCall, Sandbox, SwallowedDenials};
pub use vocabulary::shard::{ParseShardError, Shard};
pub use vocabulary::unmodelled::UnmodelledOp;
pub use vocabulary::unreached::UnreachedPoint;
pub use vocabulary::workload::{
    CheckpointId, Completion, Progress, Recovered, StepClock, Workload, WorkloadError,
};
#[cfg(test)]
mod initial_disk_tests;
