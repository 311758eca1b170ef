//! Errors of the harness itself (not findings about the workload).

use crashproof_fault::CrashPoint;

/// The explorer could not do its job. Distinct from a [`super::Violation`]:
/// a harness error means the exploration is not trustworthy, not that the
/// workload is wrong.
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
    /// The workload's [`super::Workload::initial_disk`] failed or panicked:
    /// there is no start state to explore from. Fix the workload.
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
}
