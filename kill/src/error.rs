//! Why a campaign did not run, or refused to: every refusal says what to
//! change. A refused campaign tested nothing; it is never a pass.

use std::path::PathBuf;

use crate::attempt::{AttemptEnd, AttemptError};

/// The harness could not run the campaign, it would check nothing, or it
/// was interrupted before its clean runs finished.
#[derive(Debug, thiserror::Error)]
pub enum CampaignError {
    /// Running a process failed.
    #[error(transparent)]
    Attempt(#[from] AttemptError),
    /// The unkilled run did not exit 0.
    #[error(
        "the clean (unkilled) run did not succeed: {end:?}\n  stderr: {stderr}\nfix the program or its arguments first"
    )]
    CleanRunFailed {
        /// How it ended.
        end: AttemptEnd,
        /// Its stderr, clipped.
        stderr: String,
    },
    /// A check fails on the clean run, so it cannot tell a kill's damage
    /// from the program's normal result.
    #[error("the check fails on the clean (unkilled) run, so it cannot judge killed runs: {0}")]
    CheckFailsOnCleanRun(String),
    /// No check could fail.
    #[error(
        "nothing would be checked: the program prints nothing on stdout and no check command was given; print the result on stdout or pass --check"
    )]
    NothingToCheck,
    /// A clean run exited 0 and left no file in its directory: the program
    /// keeps its state elsewhere (a fixed path, the working directory), where
    /// every later run would find the finished state and pass.
    #[error(
        "the program keeps no state in {{dir}}; a kill test needs its state there: its clean run exited 0 and left no file in its directory {dir}. Each case starts from a new, empty directory; state kept anywhere else (a fixed path, the working directory) is shared by every run, so a later run finds the finished state and passes whatever a kill did. Pass `{{dir}}` (or read CRASHPROOF_DIR) where the program keeps its state"
    )]
    NoStateInDir {
        /// The clean run's directory, empty after it.
        dir: PathBuf,
    },
    /// A run changed something outside its own directory that the harness
    /// watches: another run's directory, or the campaign's directory.
    #[error(
        "the runs are not isolated: {what}. A kill test needs every run's state in its own {{dir}}; keep all state under the {{dir}} the run is given, never beside it (`{{dir}}/..`) or in a path remembered from another run"
    )]
    NotIsolated {
        /// What changed, and during which run.
        what: String,
    },
    /// With no check on stdout, every check passed on a damaged copy of the
    /// clean run's directory: the checks cannot tell a kill's damage from
    /// success.
    #[error(
        "the checks cannot tell damage from success: with stdout ignored, every check ({checks}) passes on a damaged copy of the clean run's directory ({damage}). Make --check compare the result in {{dir}} with the right one (not only that files exist), or print the result on stdout and drop --ignore-stdout"
    )]
    ChecksPassDamage {
        /// The checks, described.
        checks: String,
        /// What was damaged.
        damage: String,
    },
    /// The caller's interrupt flag was set (Ctrl-C, SIGTERM) before the
    /// clean runs finished: nothing was tested. The campaign's directory was
    /// removed and no process of the program is left.
    #[error(
        "interrupted during the clean runs, before any case: nothing was tested (the campaign's directory was removed)"
    )]
    Interrupted,
}
