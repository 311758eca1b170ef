//! Errors of the harness itself (not findings about the workload).

use crashproof_fault::CrashPoint;

use super::options::InvalidOptions;
use super::sandbox::RealDiskCall;
use super::unreached::UnreachedPoint;

/// What to change when the code under test does not persist through the
/// `Fs` its run is given: the two usual causes.
const NOT_THROUGH_FS: &str = "the code under test does not persist through the `Fs` its run is \
     given. If it is written with `std::fs`, its `use` lines still import `std::fs`: change them \
     to `crashproof_core::stdfs` (`use crashproof_core::stdfs as fs;`, `use \
     crashproof_core::stdfs::{File, OpenOptions};`) and run it as `ProgramWorkload::std_fs`; if \
     it takes an `Fs`, pass it the one the run gets, not `StdFs`";

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
    /// The explorer broke one of its own invariants (a thread of its own
    /// panicked or stopped, a unit's records went missing): not the
    /// workload's fault, and nothing of the exploration can be trusted.
    #[error(
        "the explorer failed: {what}. This is a bug in crashproof, not in the workload: please \
         report it with the command that ran"
    )]
    ExplorerBug {
        /// What went wrong, in the explorer's words.
        what: String,
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
    /// A replayed schedule selects a post-crash state by an index the crash
    /// point does not have (`#idx=4` where the model allows 3 states): it
    /// would verify another state than the one named.
    #[error(
        "crash point `{point}` selects state {index}, but the {} model allows only {count} \
         post-crash states there (idx=0 to idx={}): name an index below {count}, as `explore` \
         printed it",
        point.model,
        count.saturating_sub(1)
    )]
    StateIndexOutOfRange {
        /// The crash point as given.
        point: CrashPoint,
        /// The index it names.
        index: usize,
        /// How many states the model allows there.
        count: usize,
    },
    /// The clean run made no filesystem step through the simulator, or none
    /// that writes: no crash can lose anything, so the exploration would
    /// check nothing. The code under test persists elsewhere (usually
    /// `std::fs` still imported) or not at all.
    #[error(
        "workload `{workload}`: its clean run made {}, so no crash can lose anything and nothing \
         would be checked: {NOT_THROUGH_FS}{}",
        steps_phrase(*steps),
        note.as_deref().map_or(String::new(), |n| format!(". {n}"))
    )]
    NoFilesystemStep {
        /// The workload's name.
        workload: String,
        /// Steps the clean run made through the simulator (none of them a
        /// write).
        steps: u64,
        /// What a trace of the run for calls to the real disk showed, or
        /// why there was none.
        note: Option<String>,
    },
    /// A run called the real disk behind the simulator's back (a write,
    /// create, rename or remove the explorer's restricted threads refused
    /// with `EACCES`): what it writes is never crashed or checked.
    #[error(
        "workload `{workload}`: its clean run called the real disk behind the simulator's back: \
         {}; this call bypassed the simulator, so what it writes is never crashed or checked \
         ({}): {NOT_THROUGH_FS}; a crate that writes files itself cannot be crash-tested this way",
        calls_phrase(calls, unnamed.as_deref()),
        if *swallowed {
            "the run was denied it and swallowed the error, so the run looked sound"
        } else {
            "and the run was denied it"
        }
    )]
    BypassedSimulator {
        /// The workload's name.
        workload: String,
        /// The denied calls, each with its real path (empty if none could
        /// be named).
        calls: Vec<RealDiskCall>,
        /// Why no path could be named, when `calls` is empty.
        unnamed: Option<String>,
        /// Whether the run went on after the denial as if the call had
        /// succeeded (found by the audit of a clean run that passed, or
        /// behind a clean run that wrote nothing through the simulator).
        swallowed: bool,
    },
    /// A path of the workload's [`crate::explore::Sandbox::WritableBeneath`]
    /// cannot be opened, so the runs cannot be allowed to write there.
    #[error(
        "workload `{workload}` declares {} writable in its sandbox, but it cannot be opened \
         ({reason}): create it before the exploration, or drop it",
        path.display()
    )]
    SandboxPath {
        /// The workload's name.
        workload: String,
        /// The path.
        path: std::path::PathBuf,
        /// What the system said.
        reason: String,
    },
    /// The caller's [`crate::explore::ExploreOptions::cancel`] was set
    /// before any pass finished: nothing was checked. (A pass under way
    /// returns its report so far, marked interrupted, instead.)
    #[error(
        "interrupted (Ctrl-C, SIGTERM or the caller's cancel flag) before any pass finished: \
         nothing was checked"
    )]
    Interrupted,
}

fn steps_phrase(steps: u64) -> String {
    match steps {
        0 => "no filesystem step through the simulator".to_string(),
        1 => "1 filesystem step through the simulator and it writes nothing".to_string(),
        n => format!("{n} filesystem steps through the simulator and none of them writes"),
    }
}

fn calls_phrase(calls: &[RealDiskCall], unnamed: Option<&str>) -> String {
    if calls.is_empty() {
        return format!(
            "a real file was denied to it (EACCES), but its path could not be named: {}",
            unnamed.unwrap_or("no trace of the run named it")
        );
    }
    let named: Vec<String> = calls.iter().map(ToString::to_string).collect();
    format!("{} was denied (EACCES)", named.join(", "))
}
