//! crashproof-kill: the kill -9 harness for real processes, and the
//! core-runner job as a real program.
//!
//! The simulator (`crashproof_sim`) crashes a workload inside one process
//! and builds every disk a power loss may leave. This crate is the other
//! half: it runs a real program (any language) on a real directory, kills
//! it with SIGKILL, restarts it until it exits 0, and checks the result.
//! A process kill keeps the page cache, so it never produces the power-loss
//! states the simulator enumerates; in exchange it runs the real binary's
//! real syscalls, which the simulator never sees. `docs/real-process.md`
//! says how to use it.
//!
//! Modules, lowest layer first (each imports only modules above it in this
//! list, so imports run one way):
//!
//! - [`clip`]: program output shown in a report, clipped.
//! - [`plan`]: kill points (`time:`, `progress:`, `fp:`) and their text form.
//! - [`program`]: the command line (`{dir}`) and the environment contract
//!   (`CRASHPROOF_DIR`, `CRASHPROOF_PROGRESS_FD`).
//! - [`attempt`]: one run, killed at its point (process group, SIGKILL,
//!   a kill that lands after exit does not count).
//! - [`dir_state`]: whether a directory holds state, snapshots that tell
//!   whether a run touched it, damaged copies.
//! - [`check`]: what a finished case is checked against.
//! - [`case`]: kill, restart, ..., run to completion, check.
//! - [`error`]: why a campaign did not run, or refused to.
//! - [`clean_run`]: the two clean runs and the refusals they decide; the
//!   isolation of runs' directories.
//! - [`summary`]: counts, failures, verdict, text and JSON.
//! - [`campaign`]: clean run, failpoint enumeration, random cases.
//! - [`core_runner_job`]: the explorer's `core-runner` job as a real program,
//!   with its journal check and deliberately broken variants.

pub mod attempt;
pub mod campaign;
pub mod case;
pub mod check;
pub mod clean_run;
pub mod clip;
pub mod core_runner_job;
pub mod dir_state;
pub mod error;
pub mod plan;
pub mod program;
pub mod summary;

pub use attempt::{Attempt, AttemptEnd, AttemptError, run_attempt};
pub use campaign::{CampaignOptions, Tally, run_campaign};
pub use case::{CaseFailure, CaseReport, CaseSetup, run_case};
pub use check::{Check, CheckInput, ShellCheck, StdoutEquals};
pub use clean_run::CleanRun;
pub use error::CampaignError;
pub use plan::{KillPoint, ParsePlanError, Plan};
pub use program::{EmptyProgram, Program};
pub use summary::{Failure, Summary, Verdict};
