//! A violation: an oracle said no, with everything needed to replay it.

use std::fmt;

use crate::Trace;

/// Which check failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
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

/// One failed case, as a value: which oracle, what it saw, the schedule in
/// text form, the seed, the trace with the crash points marked, and the
/// command that replays it.
#[derive(Debug, Clone)]
pub struct Violation {
    /// The check that failed.
    pub oracle: Oracle,
    /// The workload's name.
    pub workload: String,
    /// The kill schedule, in the text form `KillSchedule` parses.
    pub schedule: String,
    /// The simulator seed of the case.
    pub seed: u64,
    /// One line saying what was wrong.
    pub message: String,
    /// Every step of every run of the case, crash points marked.
    pub trace: Trace,
    /// A shell command that replays exactly this case.
    pub replay: String,
}

impl Violation {
    /// `oracle: message` on one line.
    pub fn summary(&self) -> String {
        format!(
            "{}: {} [schedule {}]",
            self.oracle, self.message, self.schedule
        )
    }
}

/// The replay command for a case (`extra` holds further options, may be empty).
pub fn replay_command(workload: &str, schedule: &str, seed: u64, extra: &str) -> String {
    let extra = if extra.is_empty() {
        String::new()
    } else {
        format!(" {extra}")
    };
    format!(
        "cargo run --release -p crashproof -- replay --workload {workload} '{schedule}' --seed {seed}{extra}"
    )
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
        for line in self.trace.to_string().lines() {
            writeln!(f, "    {line}")?;
        }
        Ok(())
    }
}
