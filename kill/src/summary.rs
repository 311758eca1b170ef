//! A campaign's result: counts, failpoint coverage, failures, verdict, and
//! its text and JSON forms.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

use crate::case::CaseReport;
use crate::check::Check;
use crate::clean_run::CleanRun;
use crate::clip::clip;
use crate::program::Program;

/// One failing case.
#[derive(Debug, Clone, Serialize)]
pub struct Failure {
    /// Which case (`random case 7 (case seed ...)`, `failpoint X hit 3`).
    pub label: String,
    /// The kill points it tried, as a `--plan` (replays the case).
    pub plan: String,
    /// Whether replaying the plan kills at exactly the same points (only
    /// failpoint kills are exact).
    pub replay_exact: bool,
    /// Kills that landed before it failed.
    pub kills: u64,
    /// What went wrong.
    pub reason: String,
    /// The last run's stdout, clipped.
    pub stdout: String,
    /// The last run's stderr, clipped.
    pub stderr: String,
    /// The case directory, kept for inspection.
    pub dir: PathBuf,
}

/// What a campaign concluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Kills landed and every case restarted to a result that passed.
    Clean,
    /// At least one case failed.
    Violation,
    /// No kill landed before the program finished: nothing was tested.
    NothingKilled,
    /// Failpoints were to be enumerated but none was ever hit (the program
    /// is not built with `crashproof-core/failpoints`, or does not call
    /// `fail::FailScenario::setup()`): the flag would be silently ignored.
    FailpointsNeverHit,
    /// Interrupted (Ctrl-C, SIGTERM) before the campaign's end: the counts
    /// cover the cases finished so far and nothing is concluded, even when
    /// they all passed (failures found so far are still listed).
    Interrupted,
}

/// A campaign's counts and failures.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// The campaign seed.
    pub seed: u64,
    /// The program's command line, placeholders unsubstituted.
    pub program: Vec<String>,
    /// What every case was checked against.
    pub checks: Vec<String>,
    /// The clean run's duration.
    #[serde(rename = "clean_run_seconds", serialize_with = "seconds")]
    pub clean_elapsed: Duration,
    /// The clean run's progress lines.
    pub clean_progress_lines: u64,
    /// Cases run.
    pub cases: u64,
    /// Cases in which at least one kill landed.
    pub cases_killed: u64,
    /// Kills that landed.
    pub kills: u64,
    /// Of those, kills in random cases (the rest are failpoint cases).
    pub kills_random: u64,
    /// Runs started after a kill.
    pub restarts: u64,
    /// Kill points the program outran (it exited 0 first; not a kill).
    pub missed: u64,
    /// Failpoint enumeration: hits of a clean run, by name (each killed).
    pub failpoint_hits: BTreeMap<String, u64>,
    /// Failpoints whose hits were counted (random cases draw among them).
    pub failpoint_hits_counted: BTreeMap<String, u64>,
    /// Failing cases (all of them, in order).
    pub failures: Vec<Failure>,
    /// Remarks for the reader (kept directories, failpoints never hit).
    pub notes: Vec<String>,
    /// Whether the campaign was interrupted (Ctrl-C, SIGTERM) before its end.
    pub interrupted: bool,
    /// Wall time of the whole campaign, clean run included.
    #[serde(rename = "elapsed_seconds", serialize_with = "seconds")]
    pub elapsed: Duration,
}

fn seconds<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

impl Summary {
    /// An empty summary for a campaign of `program` after its clean run.
    pub fn new(seed: u64, program: &Program, checks: &[&dyn Check], clean: &CleanRun) -> Self {
        Self {
            seed,
            program: program.argv().to_vec(),
            checks: checks.iter().map(|c| c.describe()).collect(),
            clean_elapsed: clean.elapsed,
            clean_progress_lines: clean.progress_lines,
            cases: 0,
            cases_killed: 0,
            kills: 0,
            kills_random: 0,
            restarts: 0,
            missed: 0,
            failpoint_hits: BTreeMap::new(),
            failpoint_hits_counted: BTreeMap::new(),
            failures: Vec::new(),
            notes: Vec::new(),
            interrupted: false,
            elapsed: Duration::ZERO,
        }
    }

    /// Counts one case in (`random`: a random case).
    pub fn add(&mut self, label: String, random: bool, report: CaseReport) {
        self.cases += 1;
        self.cases_killed += u64::from(report.kills > 0);
        self.kills += report.kills;
        if random {
            self.kills_random += report.kills;
        }
        self.restarts += report.runs.saturating_sub(1);
        self.missed += u64::from(report.missed);
        if let Some(f) = report.failure {
            self.failures.push(Failure {
                label,
                plan: report.tried.to_string(),
                replay_exact: report.tried.is_exact(),
                kills: report.kills,
                reason: f.reason,
                stdout: clip(&f.stdout),
                stderr: clip(&f.stderr),
                dir: f.dir,
            });
        }
    }

    /// The verdict: an interrupted campaign concludes nothing; then
    /// failures; then a campaign that killed nothing (or hit no failpoint it
    /// was asked to enumerate) is not a pass.
    pub fn verdict(&self) -> Verdict {
        if self.interrupted {
            Verdict::Interrupted
        } else if !self.failures.is_empty() {
            Verdict::Violation
        } else if self.failpoints_never_hit() {
            Verdict::FailpointsNeverHit
        } else if self.kills == 0 {
            Verdict::NothingKilled
        } else {
            Verdict::Clean
        }
    }

    /// Failpoints were asked for and none of them was ever hit.
    fn failpoints_never_hit(&self) -> bool {
        let mut all = self
            .failpoint_hits
            .values()
            .chain(self.failpoint_hits_counted.values())
            .peekable();
        all.peek().is_some() && all.all(|&h| h == 0)
    }

    /// Cases per second of wall time.
    pub fn cases_per_second(&self) -> f64 {
        per_second(self.cases, self.elapsed)
    }

    /// The summary as JSON, with the verdict and cases/s.
    pub fn to_json(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(self).unwrap_or_default();
        if let Some(map) = v.as_object_mut() {
            map.insert("verdict".into(), serde_json::json!(self.verdict()));
            map.insert(
                "cases_per_second".into(),
                serde_json::json!(self.cases_per_second()),
            );
        }
        v
    }

    /// The report as text; `replay(plan)` gives the command that replays a
    /// failing case with that plan.
    pub fn render(&self, replay: &dyn Fn(&str) -> String) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = self.write(&mut out, replay);
        out
    }

    fn write(&self, out: &mut String, replay: &dyn Fn(&str) -> String) -> std::fmt::Result {
        writeln!(out, "program: {}", self.program.join(" "))?;
        writeln!(out, "checks: {}", self.checks.join("; "))?;
        writeln!(
            out,
            "clean run: {:.1} ms, {} progress lines",
            self.clean_elapsed.as_secs_f64() * 1e3,
            self.clean_progress_lines
        )?;
        if !self.failpoint_hits.is_empty() {
            writeln!(
                out,
                "failpoints (every hit of a clean run killed, one case each):"
            )?;
            for (name, hits) in &self.failpoint_hits {
                writeln!(out, "  {name:<44} {hits:>5} hits")?;
            }
        }
        if !self.failpoint_hits_counted.is_empty() {
            writeln!(
                out,
                "failpoints counted (random cases kill at random hits of every failpoint above and these):"
            )?;
            for (name, hits) in &self.failpoint_hits_counted {
                writeln!(out, "  {name:<44} {hits:>5} hits")?;
            }
        }
        writeln!(
            out,
            "cases: {} ({} with a kill), kills: {} ({} in random cases), restarts: {}, kill points outrun: {}",
            self.cases,
            self.cases_killed,
            self.kills,
            self.kills_random,
            self.restarts,
            self.missed
        )?;
        writeln!(
            out,
            "time: {:.2} s, {:.1} cases/s (seed {})",
            self.elapsed.as_secs_f64(),
            self.cases_per_second(),
            self.seed
        )?;
        for f in &self.failures {
            writeln!(out)?;
            writeln!(out, "FAILED {} after {} kills", f.label, f.kills)?;
            writeln!(out, "  kill points: {}", f.plan)?;
            for (i, line) in f.reason.lines().enumerate() {
                let lead = if i == 0 { "  reason: " } else { "  " };
                writeln!(out, "{lead}{line}")?;
            }
            writeln!(out, "  stdout (last run): {}", f.stdout.trim_end())?;
            writeln!(out, "  stderr (last run): {}", f.stderr.trim_end())?;
            writeln!(out, "  case directory (kept): {}", f.dir.display())?;
            writeln!(out, "  replay: {}", replay(&f.plan))?;
            if !f.replay_exact {
                writeln!(
                    out,
                    "  replay is approximate: time and progress kills land near, not exactly at, the recorded instants, so one try may not reproduce the failure; --repeat N runs the plan until it reappears"
                )?;
            }
        }
        for note in &self.notes {
            writeln!(out, "note: {note}")?;
        }
        let result = match self.verdict() {
            Verdict::Clean => "OK, every killed case restarted to a result that passed the checks",
            Verdict::Violation => "VIOLATION",
            Verdict::NothingKilled => {
                "NOT TESTED: no kill landed before the program finished (it finished too fast, or no failpoint was hit)"
            }
            Verdict::FailpointsNeverHit => {
                "NOT TESTED: no failpoint was ever hit; build the program with crashproof-core's `failpoints` feature and call fail::FailScenario::setup() in main"
            }
            Verdict::Interrupted => {
                "INTERRUPTED (Ctrl-C or SIGTERM): the counts above cover only the cases finished before it; nothing is concluded"
            }
        };
        writeln!(out, "result: {result}")
    }
}

/// `count` per second of `elapsed` (0 for no time).
pub fn per_second(count: u64, elapsed: Duration) -> f64 {
    let secs = elapsed.as_secs_f64();
    if secs > 0.0 { count as f64 / secs } else { 0.0 }
}
