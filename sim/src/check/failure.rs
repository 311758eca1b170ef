//! What a crash test ends with: what it checked, or why it fails, each
//! printable as the readable report.

use std::fmt;

use crashproof_fault::KillSchedule;

use super::env::EnvError;
use crate::explore::{CaseOutcome, HarnessError, REPLAY_VAR, Report, Violation};

/// What a crash test that found nothing checked.
#[derive(Debug, Clone)]
pub enum Checked {
    /// The exploration's merged report (clean, and it checked something).
    Explored(Report),
    /// `CRASHPROOF_REPLAY` replayed one schedule and no oracle failed.
    Replayed {
        /// The workload's name.
        workload: String,
        /// The schedule replayed.
        schedule: KillSchedule,
        /// The case, with its marked trace.
        outcome: Box<CaseOutcome>,
    },
}

impl Checked {
    /// The exploration's report, unless this was a replay.
    pub fn report(&self) -> Option<&Report> {
        match self {
            Checked::Explored(report) => Some(report),
            Checked::Replayed { .. } => None,
        }
    }
}

impl fmt::Display for Checked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Checked::Explored(report) => write!(f, "{report}"),
            Checked::Replayed {
                workload,
                schedule,
                outcome,
            } => {
                writeln!(
                    f,
                    "{REPLAY_VAR}='{schedule}' replayed on workload `{workload}`: no violation \
                     ({} crashes, {} runs)",
                    outcome.crashes, outcome.runs
                )?;
                writeln!(f, "trace:")?;
                for line in outcome.trace.to_string().lines() {
                    writeln!(f, "  {line}")?;
                }
                Ok(())
            }
        }
    }
}

/// Why a crash test fails.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The exploration found violations (the report holds them, grouped).
    Violations(Box<Report>),
    /// The replayed schedule failed an oracle: the violation, and the
    /// one-case report it makes.
    Replayed {
        violation: Box<Violation>,
        report: Box<Report>,
    },
    /// The exploration could not be trusted or checked nothing.
    Harness(HarnessError),
    /// An environment variable could not be used.
    Env(EnvError),
}

impl From<HarnessError> for Failure {
    fn from(e: HarnessError) -> Self {
        Failure::Harness(e)
    }
}

impl From<EnvError> for Failure {
    fn from(e: EnvError) -> Self {
        Failure::Env(e)
    }
}

/// A crash test's finding; its `Display` is what the test panics with.
#[derive(Debug)]
pub struct CrashTestFailure {
    failure: Failure,
    test: Option<String>,
}

impl CrashTestFailure {
    pub(crate) fn new(failure: Failure, test: Option<String>) -> Self {
        Self { failure, test }
    }

    /// The report of the violations the test failed on: the exploration's,
    /// or, when `CRASHPROOF_REPLAY` replayed one schedule, the one-case
    /// report of that replay (one [`crate::explore::Pass::Replay`], its
    /// violation in full), so a test that reads the report works the same
    /// on its own replay line. `None` when the test failed for another
    /// reason (a harness or environment error).
    pub fn report(&self) -> Option<&Report> {
        match &self.failure {
            Failure::Violations(report) | Failure::Replayed { report, .. } => Some(report.as_ref()),
            _ => None,
        }
    }

    /// The replayed case's violation, if a replay failed.
    pub fn replayed(&self) -> Option<&Violation> {
        match &self.failure {
            Failure::Replayed { violation, .. } => Some(violation),
            _ => None,
        }
    }

    /// The harness error, if the exploration could not run or checked
    /// nothing.
    pub fn harness_error(&self) -> Option<&HarnessError> {
        match &self.failure {
            Failure::Harness(e) => Some(e),
            _ => None,
        }
    }

    /// The environment error, if a variable could not be used.
    pub fn env_error(&self) -> Option<&EnvError> {
        match &self.failure {
            Failure::Env(e) => Some(e),
            _ => None,
        }
    }
}

impl fmt::Display for CrashTestFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let test = self.test.as_deref().unwrap_or("(unnamed test)");
        match &self.failure {
            Failure::Violations(report) => {
                writeln!(f, "crash test {test} found violations")?;
                writeln!(f)?;
                write!(f, "{report}")
            }
            Failure::Replayed { violation, .. } => {
                writeln!(
                    f,
                    "crash test {test}: the replayed schedule ({REPLAY_VAR}) fails"
                )?;
                writeln!(f)?;
                write!(f, "{violation}")
            }
            Failure::Harness(e) => write!(
                f,
                "crash test {test} could not check anything it can vouch for: {e}"
            ),
            Failure::Env(e) => write!(f, "crash test {test}: {e}"),
        }
    }
}

impl std::error::Error for CrashTestFailure {}
