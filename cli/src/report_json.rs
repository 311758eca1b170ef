//! The machine-readable report of `crashproof explore --json` and
//! `crashproof merge --json`: what was asked (everything that decides the
//! cases, so `merge` can refuse reports of different explorations), which
//! shard, a summary (crash points, states, distinct states, wall time,
//! states per second, verdict), and the simulator's [`Report`] itself.

use std::io::Write;

use serde::{Deserialize, Serialize};

use crashproof_sim::explore::{Report, Shard, Work};

/// The format's name and version; `merge` refuses any other.
pub const FORMAT: &str = "crashproof-explore-report/1";

/// Everything that decides which cases an exploration checks and how, as
/// given on the command line (shards, threads, dedup and convergence
/// change how the work is done, never the verdict, and are left out).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invocation {
    /// `--workload`.
    pub workload: String,
    /// `--items` (core-runner only).
    pub items: Option<u64>,
    /// `--every` (core-runner only).
    pub every: Option<u64>,
    /// The passes, in order (`exhaustive drop-unsynced`, ...).
    pub passes: Vec<String>,
    /// `--seed`.
    pub seed: u64,
    /// `--cap`.
    pub cap: usize,
    /// `--picks`.
    pub picks: usize,
    /// `--sector-size`.
    pub sector_size_bytes: usize,
    /// `--check-determinism`.
    pub check_determinism: bool,
}

impl Invocation {
    /// The fields in which `other` differs from this invocation, one
    /// `name: this vs other` phrase each (values as in the JSON report).
    pub fn differences(&self, other: &Invocation) -> Vec<String> {
        let fields = |i: &Invocation| match serde_json::to_value(i) {
            Ok(serde_json::Value::Object(map)) => map,
            _ => serde_json::Map::new(),
        };
        let (mine, theirs) = (fields(self), fields(other));
        let mut differences: Vec<String> = mine
            .iter()
            .filter(|(name, value)| theirs.get(*name) != Some(value))
            .map(|(name, value)| {
                let other = theirs
                    .get(name)
                    .map_or("nothing".to_string(), |v| v.to_string());
                format!("{name}: {value} vs {other}")
            })
            .collect();
        if differences.is_empty() && self != other {
            // Unreachable while every field serializes; never report "the
            // same" for invocations that differ.
            differences.push(format!("{self:?} vs {other:?}"));
        }
        differences
    }
}

/// How this process did the work (not part of the verdict).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Execution {
    /// `--jobs` (threads used).
    pub jobs: usize,
    /// Whether each distinct state was checked once.
    pub dedup: bool,
    /// Whether resumed runs stopped once converged.
    pub converge: bool,
}

/// The numbers a reader (or a growth script) wants first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Crash points tried, over every pass.
    pub crash_points: u64,
    /// Post-crash states checked.
    pub states_checked: u64,
    /// Distinct post-crash states checked (by content digest).
    pub states_distinct: u64,
    /// Violations found.
    pub violations: u64,
    /// Wall time in seconds (a merged report: the shards' sum).
    pub wall_time_seconds: Option<f64>,
    /// `states_checked` per second of wall time.
    pub states_per_second: Option<f64>,
    /// The process's peak resident memory in bytes, as the OS reports it
    /// (a merged report: the largest shard's).
    #[serde(default)]
    pub peak_memory_bytes: Option<u64>,
    /// Resumed runs started, and how many converged (this process's work).
    pub work: Work,
    /// `clean`, `violations`, or `interrupted` (Ctrl-C or SIGTERM: the
    /// counts cover what was done before it; never clean).
    pub verdict: String,
}

impl Summary {
    /// The summary of `report`.
    pub fn of(report: &Report) -> Self {
        let seconds = report.elapsed.map(|e| e.as_secs_f64());
        Self {
            crash_points: report.passes.iter().map(|p| p.crash_points).sum(),
            states_checked: report.states_checked(),
            states_distinct: report.states_distinct(),
            violations: report.violation_count(),
            wall_time_seconds: seconds,
            states_per_second: seconds.map(|s| report.states_checked() as f64 / s.max(1e-9)),
            peak_memory_bytes: report.peak_memory_bytes,
            work: report.work(),
            verdict: if report.interrupted {
                "interrupted"
            } else if report.is_clean() {
                "clean"
            } else {
                "violations"
            }
            .to_string(),
        }
    }
}

/// One `--json` report.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReportJson {
    /// [`FORMAT`].
    pub format: String,
    /// What was asked.
    pub invocation: Invocation,
    /// Which part of the exploration this is (`1/1`: all of it).
    pub shard: Shard,
    /// How it was done.
    pub execution: Execution,
    /// The numbers.
    pub summary: Summary,
    /// The simulator's report.
    pub report: Report,
    /// `explore-cmd` only: the program, its check, and what the model
    /// refused or did not keep.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub program: Option<ProgramJson>,
}

/// What `crashproof explore-cmd` adds to its report: the program explored
/// through the mount and the operations the model has no rule for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProgramJson {
    /// The command line, `{dir}` as given.
    pub argv: Vec<String>,
    /// `--check`.
    pub check: Option<String>,
    /// Whether stdout was compared (not `--ignore-stdout`).
    pub compares_stdout: bool,
    /// Requests refused (with their errno) or accepted but not kept, by
    /// operation, over every run.
    pub unmodelled: crashproof_fuse::Unmodelled,
    /// Program runs (clean and resumed) and check command runs.
    pub program_runs: u64,
    /// Check command runs (verdicts shared by equal post-crash trees are
    /// counted once).
    pub check_runs: u64,
    /// FUSE requests served over every run.
    pub requests: u64,
    /// Wall time of program runs, summed over threads.
    pub program_seconds: f64,
    /// Wall time of check runs, summed over threads.
    pub check_seconds: f64,
}

impl ReportJson {
    /// The document of `report`.
    pub fn new(invocation: Invocation, shard: Shard, execution: Execution, report: Report) -> Self {
        Self {
            format: FORMAT.to_string(),
            invocation,
            shard,
            execution,
            summary: Summary::of(&report),
            report,
            program: None,
        }
    }

    /// Writes the document, pretty-printed and newline-terminated, to `out`
    /// as it is serialised (a report of a long run lists every crash
    /// point's states: it is never held whole as text).
    pub fn write_json(&self, out: impl std::io::Write) -> std::io::Result<()> {
        let mut out = std::io::BufWriter::new(out);
        serde_json::to_writer_pretty(&mut out, self)?;
        out.write_all(b"\n")?;
        out.flush()
    }
}
