//! An oracle's no: the finding (which oracle, why) and the violation it
//! becomes, with everything needed to replay it.

use std::fmt;

use crashproof_fault::KillSchedule;
use serde::{Deserialize, Serialize};

/// Which check failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Oracle {
    /// A post-crash state would load garbage, a torn file, or lose
    /// acknowledged progress.
    State,
    /// The resumed run did not complete, or produced a different result than
    /// the clean run, or left files behind, or redid too much work.
    Result,
    /// Recovery or the resumed run panicked.
    Panic,
    /// Two runs of the same case differed.
    NonDeterminism,
}

impl fmt::Display for Oracle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Oracle::State => "state oracle",
            Oracle::Result => "result oracle",
            Oracle::Panic => "panic",
            Oracle::NonDeterminism => "non-determinism",
        })
    }
}

/// An oracle's "no": which one and why. Becomes a `Violation` with the
/// schedule, seed and trace attached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The check that failed.
    pub oracle: Oracle,
    /// What it saw, one line.
    pub message: String,
}

impl Finding {
    /// A finding of `oracle` saying `message`.
    pub fn new(oracle: Oracle, message: impl Into<String>) -> Self {
        Self {
            oracle,
            message: message.into(),
        }
    }
}

/// One failed case, as a value: which oracle, what it saw, the schedule,
/// the seed, the trace with the crash points marked, and the line that
/// replays it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Violation {
    /// The check that failed.
    pub oracle: Oracle,
    /// The workload's name.
    pub workload: String,
    /// The kill schedule of the case (its `Display` is the text form).
    #[serde(with = "crate::explore::vocabulary::json::schedule_text")]
    pub schedule: KillSchedule,
    /// The simulator seed of the case.
    pub seed: u64,
    /// One line saying what was wrong.
    pub message: String,
    /// Every step of every run of the case, crash points marked, as printed
    /// (one step a line; the `Trace` rendered, so a report is plain data).
    pub trace: String,
    /// How to replay exactly this case, in the form
    /// [`crate::explore::ExploreOptions::replay`] asked for.
    pub replay: String,
    /// Filesystem steps the first run executed before the case's first
    /// crash (a crash point, or the power loss after a run failed on an
    /// injected fault); `None` if the case never crashed. How much of the
    /// program a reader follows to see the bug.
    pub steps_before_first_crash: Option<u64>,
}

impl Violation {
    /// `oracle: message [schedule ...]` on one line.
    pub fn summary(&self) -> String {
        format!(
            "{}: {} [schedule {}]",
            self.oracle, self.message, self.schedule
        )
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "VIOLATION ({}) in workload `{}`",
            self.oracle, self.workload
        )?;
        writeln!(f, "  what:     {}", self.message)?;
        writeln!(f, "  schedule: {}", self.schedule)?;
        writeln!(f, "  seed:     {}", self.seed)?;
        writeln!(f, "  replay:   {}", self.replay)?;
        writeln!(f, "  trace:")?;
        for line in self.trace.lines() {
            writeln!(f, "    {line}")?;
        }
        Ok(())
    }
}
