//! The step log: what a user reads when a crash test fails.

use std::fmt;
use std::io;
use std::path::PathBuf;

use crashproof_core::fs::FsOp;

use crate::text::escape_line;

/// One step about to run: every `Fs` call (failpoints included) is one step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepInfo {
    /// The step's index in this run (0-based; the image of a crash restarts at 0).
    pub index: u64,
    /// The `Fs` method.
    pub op: FsOp,
    /// The path it applies to; for handle operations the path the handle was
    /// opened with; for a failpoint its name.
    pub path: PathBuf,
    /// The rename target.
    pub to: Option<PathBuf>,
    /// The byte count of a write.
    pub len_bytes: Option<u64>,
    /// The failpoint name, for [`FsOp::Failpoint`].
    pub failpoint: Option<&'static str>,
}

impl fmt::Display for StepInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:<14} ", self.op.name())?;
        match self.failpoint {
            Some(name) => f.write_str(name)?,
            None => f.write_str(&escape_line(&self.path.to_string_lossy()))?,
        }
        if let Some(to) = &self.to {
            write!(f, " -> {}", escape_line(&to.to_string_lossy()))?;
        }
        if let Some(len_bytes) = self.len_bytes {
            write!(f, " ({len_bytes} bytes)")?;
        }
        Ok(())
    }
}

/// How a step ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StepOutcome {
    /// It succeeded; the text says what it returned (`"handle 3"`, `"10 bytes"`), may be empty.
    Ok(String),
    /// It failed with this kind and message.
    Err {
        /// The `io::ErrorKind` the caller saw.
        kind: io::ErrorKind,
        /// The error's message.
        message: String,
    },
}

/// One executed step: its label, its result and any fault injected into it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceEntry {
    /// The step's label.
    pub step: StepInfo,
    /// Extra arguments worth reading (handle, offset), may be empty.
    pub detail: String,
    /// The result the caller saw.
    pub outcome: StepOutcome,
    /// Faults injected at this step (EIO, ENOSPC, short write, bit flip).
    pub faults: Vec<String>,
}

impl fmt::Display for TraceEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:>5}  {}", self.step.index, self.step)?;
        // Every part may quote what a program wrote (paths, error
        // messages), so each is escaped: one printable line per step.
        if !self.detail.is_empty() {
            write!(f, " [{}]", escape_line(&self.detail))?;
        }
        match &self.outcome {
            StepOutcome::Ok(text) if text.is_empty() => f.write_str("  => ok")?,
            StepOutcome::Ok(text) => write!(f, "  => ok: {}", escape_line(text))?,
            StepOutcome::Err { kind, message } => {
                write!(f, "  => ERROR {kind:?}: {}", escape_line(message))?
            }
        }
        for fault in &self.faults {
            write!(f, "  !! fault: {}", escape_line(fault))?;
        }
        Ok(())
    }
}

/// A marker line between entries: a crash point or a run heading.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Marker {
    /// The marker goes before `entries[at]` (at the end if `at == len`).
    at: usize,
    text: String,
}

/// Every step of one or more runs, with crash points and run headings.
/// `Display` prints one step a line, markers on their own lines.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Trace {
    /// The executed steps, in order (indexes restart at 0 in each appended run).
    pub entries: Vec<TraceEntry>,
    markers: Vec<Marker>,
    /// Where the current run starts in `entries` (after the last `append`).
    run_start: usize,
}

impl Trace {
    /// An empty trace.
    pub fn new() -> Self {
        Self::default()
    }

    /// Marks a crash before step `before_step` of the current (last appended)
    /// run, with a description of the post-crash state chosen. Printed as
    /// `==> CRASH before step N: <choice>`.
    pub fn mark_crash(&mut self, before_step: u64, choice: &str) {
        let at = self.entries[self.run_start..]
            .iter()
            .position(|e| e.step.index >= before_step)
            .map_or(self.entries.len(), |i| self.run_start + i);
        self.markers.push(Marker {
            at,
            text: format!("==> CRASH before step {before_step}: {choice}"),
        });
        // Stable: markers at the same place keep the order they were added.
        self.markers.sort_by_key(|m| m.at);
    }

    /// Appends the steps (and markers) of `other`, a later run, under a
    /// heading line `--- <heading> ---`.
    pub fn append(&mut self, other: Trace, heading: &str) {
        let base = self.entries.len();
        self.markers.push(Marker {
            at: base,
            text: format!("--- {heading} ---"),
        });
        self.markers
            .extend(other.markers.into_iter().map(|m| Marker {
                at: base + m.at,
                text: m.text,
            }));
        self.entries.extend(other.entries);
        self.run_start = base + other.run_start;
    }

    /// The marker lines (crash points, headings), in order.
    pub fn markers(&self) -> impl Iterator<Item = &str> {
        self.markers.iter().map(|m| m.text.as_str())
    }

    pub(crate) fn push(&mut self, entry: TraceEntry) {
        self.entries.push(entry);
    }
}

impl fmt::Display for Trace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut markers = self.markers.iter().peekable();
        for (i, entry) in self.entries.iter().enumerate() {
            while let Some(m) = markers.next_if(|m| m.at <= i) {
                writeln!(f, "{}", escape_line(&m.text))?;
            }
            writeln!(f, "{entry}")?;
        }
        for m in markers {
            writeln!(f, "{}", escape_line(&m.text))?;
        }
        Ok(())
    }
}
