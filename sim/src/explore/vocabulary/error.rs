//! Errors of the harness itself (not findings about the workload).

use crashproof_fault::CrashPoint;

use super::options::InvalidOptions;
use super::unreached::UnreachedPoint;

/// The explorer could not do its job. Distinct from a
/// [`crate::explore::Violation`]: a harness error means the exploration is not
/// trustworthy, not that the workload is wrong.
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    /// The clean run (no crash, no fault) failed: nothing can be compared
    /// with it. Fix the workload or its configuration first.
    #[error("workload `{workload}` failed its clean run (no crash, no fault): {reason}")]
    CleanRunFailed {
        /// The workload's name.
        workload: String,
        /// What went wrong.
        reason: String,
    },
    /// The workload's [`crate::explore::Workload::initial_disk`] failed or
    /// panicked: there is no start state to explore from. Fix the workload.
    #[error("workload `{workload}` could not write its initial disk: {reason}")]
    InitialDiskFailed {
        /// The workload's name.
        workload: String,
        /// What went wrong.
        reason: String,
    },
    /// A crash point selects a state by index but the model has more states
    /// than the cap, so the enumeration (and the index) is not available.
    #[error(
        "crash point `{point}` selects a state by index, but there are more than {cap} states \
         (at least {at_least}): raise --cap or select the state with `#seed=<n>`"
    )]
    TooManyStates {
        /// The crash point.
        point: CrashPoint,
        /// The cap in force.
        cap: usize,
        /// How many states the model has, at least.
        at_least: u64,
    },
    /// The model allows no post-crash state at all (a simulator bug).
    #[error("crash point `{point}`: the simulator enumerated no post-crash state")]
    NoStates {
        /// The crash point.
        point: CrashPoint,
    },
    /// Random exploration aborted (for example every case was rejected).
    #[error("random exploration aborted: {0}")]
    Aborted(String),
    /// An option no exploration can run with.
    #[error("invalid option: {0}")]
    InvalidOptions(#[from] InvalidOptions),
    /// A pass of an exploration checked no post-crash state and found no
    /// violation: it vouches for nothing, so it is not a pass.
    #[error(
        "workload `{workload}`: the {pass} pass checked zero post-crash states, so it vouches for \
         nothing: {hint}"
    )]
    NothingChecked {
        /// The workload's name.
        workload: String,
        /// The pass (mode and model) that checked nothing.
        pass: String,
        /// Why, and what to change.
        hint: String,
    },
    /// An exploration plan without a mode or without a crash model: it
    /// would check nothing.
    #[error(
        "workload `{workload}`: the exploration plan names no {missing}, so it would check \
         nothing: add at least one"
    )]
    EmptyPlan {
        /// The workload's name.
        workload: String,
        /// What the plan lacks (`mode`, `crash model`).
        missing: &'static str,
    },
    /// The threads that check crash points could not be started.
    #[error(
        "could not start {threads} exploring threads ({reason}): lower --jobs (ExploreOptions::jobs)"
    )]
    ThreadPool {
        /// How many were asked for.
        threads: usize,
        /// What the system said.
        reason: String,
    },
    /// A fault rule failed no call of the run it was in force in: it
    /// checked nothing (a glob that names no path the program uses, an
    /// operation it never makes, a `*N` past its matches).
    #[error(
        "workload `{workload}`: fault rule `{rule}` failed no call: it matched {matched} calls of \
         the run ({steps} filesystem steps), so it checked nothing{hint}. Fix its operation or \
         glob (a glob without `/` matches the file name, one with `/` the path from the data \
         directory), or drop it"
    )]
    FaultRuleNeverInjected {
        /// The workload's name.
        workload: String,
        /// The rule's text form (`eio:fsync:*.wal`).
        rule: String,
        /// Calls it matched (fewer than its `*N`, when it has one).
        matched: u64,
        /// The run's length.
        steps: u64,
        /// `: the run's paths are ...`, or nothing.
        hint: String,
    },
    /// A run of the workload failed in its harness
    /// ([`crate::explore::WorkloadError::Harness`]: a mount, a process) in
    /// the middle of the exploration: what it found is not trustworthy.
    #[error(
        "workload `{workload}`: the harness failed in the middle of the exploration, so nothing \
         it found can be trusted: {reason}"
    )]
    WorkloadHarness {
        /// The workload's name.
        workload: String,
        /// The first failure.
        reason: String,
    },
    /// A replayed schedule names a crash point its run never reaches, and
    /// the case found no violation: it replayed a crash that never happened.
    #[error("{0}")]
    CrashPointNotReached(Box<UnreachedPoint>),
}
