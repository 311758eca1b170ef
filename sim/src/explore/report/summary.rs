//! What an exploration found: per pass in numbers, violations grouped by
//! bug, the first groups in full.
//!
//! Reports merge ([`Report::merge`]): every count is a sum, the distinct
//! states a union of digests, the groups a concatenation in pass order. So
//! passes can be explored apart and merged into the same report; shards of
//! one exploration merge with [`Report::merge_shards`] (`merge.rs`).
//!
//! Reports are data (serde), so a CI shard can write one as JSON and
//! another machine can read it back and merge it.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::ops::RangeInclusive;
use std::time::Duration;

use crashproof_fault::{CrashModel, KillSchedule};
use serde::{Deserialize, Serialize};

use super::violation::{Oracle, Violation};
use crate::explore::vocabulary::plan::Pass;
use crate::explore::vocabulary::sandbox::BypassDetection;

/// What a process did to reach a pass's verdict, besides the states it counts:
/// not part of the verdict (it differs with
/// [`crate::explore::ExploreOptions::dedup`],
/// [`crate::explore::ExploreOptions::converge`] and sharding, and shards' work
/// adds up to more than one run's).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Work {
    /// Resumed runs started to check post-crash states (one per distinct
    /// state with dedup, one per state without).
    pub recoveries: u64,
    /// Of those, runs stopped once they converged with the clean run.
    pub recoveries_converged: u64,
}

impl Work {
    /// Adds `other`'s counts.
    pub fn add(&mut self, other: &Work) {
        self.recoveries += other.recoveries;
        self.recoveries_converged += other.recoveries_converged;
    }
}

/// One pass of an exploration: one mode under one crash model (random
/// schedules: under the models they draw from).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PassReport {
    /// The mode and model(s).
    pub pass: Pass,
    /// Crash points tried (exhaustive: every step of the clean run plus its
    /// end; two crashes: plus every point of every recovery run explored;
    /// sync-EIO: every point after each failed sync, plus each restart
    /// after a run failed on it; random: crashes of every case).
    pub crash_points: u64,
    /// Post-crash states checked (state oracle, then recovery and the
    /// result oracle), summed over the crash points.
    pub states_checked: u64,
    /// Content digests of the post-crash states checked, deduplicated (two
    /// states with the same files are one); kept so merged reports count
    /// distinct states over every pass.
    pub state_digests: BTreeSet<u64>,
    /// States checked at each crash point, in the order visited (sums to
    /// `states_checked`; empty for random schedules).
    pub states_per_point: Vec<u64>,
    /// Post-crash states the model allows at each crash point, as the
    /// simulator counts them without building them (equal to
    /// `states_per_point` where they were enumerated).
    pub states_possible_per_point: Vec<u64>,
    /// Crash points whose states exceeded the cap and were sampled instead.
    pub capped_points: u64,
    /// Seeded picks per capped point.
    pub picks_per_capped_point: u64,
    /// Most states a crash point may have and still be enumerated
    /// ([`crate::explore::ExploreOptions::states_enumerated_max`]).
    pub states_enumerated_max: u64,
    /// Random schedules: cases run (shrinking steps included).
    pub cases: Option<u64>,
    /// Cases that failed an oracle.
    pub violations: u64,
    /// `violations` by the oracle that failed.
    pub violations_per_oracle: BTreeMap<Oracle, u64>,
    /// What this process did to check the states (not part of the verdict).
    pub work: Work,
    /// Wall time of this pass, set by the caller that measured it (the CLI);
    /// the simulator never reads a clock.
    pub elapsed: Option<Duration>,
}

impl PassReport {
    /// An empty report of `pass`.
    pub(crate) fn new(pass: Pass, picks_per_capped_point: u64, states_enumerated_max: u64) -> Self {
        Self {
            pass,
            crash_points: 0,
            states_checked: 0,
            state_digests: BTreeSet::new(),
            states_per_point: Vec::new(),
            states_possible_per_point: Vec::new(),
            capped_points: 0,
            picks_per_capped_point,
            states_enumerated_max,
            cases: None,
            violations: 0,
            violations_per_oracle: BTreeMap::new(),
            work: Work::default(),
            elapsed: None,
        }
    }

    /// The remark a pass that sampled capped crash points must show, if it
    /// did: derived from the counts, so merged shard reports say the same.
    pub fn capped_note(&self) -> Option<String> {
        (self.capped_points > 0).then(|| {
            format!(
                "{}: {} of {} crash points had more than {} post-crash states; {} seeded picks \
                 were checked at each of those instead of every state (raise --cap / \
                 states_per_point_max to enumerate)",
                self.pass,
                self.capped_points,
                self.crash_points,
                self.states_enumerated_max,
                self.picks_per_capped_point
            )
        })
    }

    /// Distinct post-crash states checked (by content).
    pub fn states_distinct(&self) -> u64 {
        self.state_digests.len() as u64
    }

    /// States per second, when the elapsed time is known.
    pub fn states_per_second(&self) -> Option<f64> {
        self.elapsed
            .map(|e| self.states_checked as f64 / e.as_secs_f64().max(1e-9))
    }
}

impl fmt::Display for PassReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:<26} {:>7} crash points  {:>8} states checked ({:>7} distinct)  {:>5} violations",
            self.pass.to_string(),
            self.crash_points,
            self.states_checked,
            self.states_distinct(),
            self.violations
        )?;
        if let Some(cases) = self.cases {
            write!(f, "  {cases} cases")?;
        }
        if let (Some(e), Some(rate)) = (self.elapsed, self.states_per_second()) {
            write!(f, "  {:>9.3} s  {:>8.0} states/s", e.as_secs_f64(), rate)?;
        }
        Ok(())
    }
}

/// Violations of one pass that fail the same way (same oracle, same message
/// up to its numbers, same kind of schedule) at adjacent crash points: one
/// bug, reported once with the range of steps it spans.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ViolationGroup {
    /// The pass that found it.
    pub pass: Pass,
    /// The oracle that failed.
    pub oracle: Oracle,
    /// The first violation's message.
    pub message: String,
    /// The first violation's schedule.
    #[serde(with = "crate::explore::vocabulary::json::schedule_text")]
    pub schedule: KillSchedule,
    /// The steps of the first crash point the group spans, first to last
    /// (`None` when its schedules crash at a failpoint or not at a point).
    pub crash_steps: Option<RangeInclusive<u64>>,
    /// Violations in the group.
    pub count: u64,
    /// The first violation in full (trace, replay line), for the first
    /// `ExploreOptions::violations_in_full_max` groups of a report.
    pub violation: Option<Violation>,
}

impl ViolationGroup {
    /// One line: pass, oracle, steps, count, message, schedule.
    pub fn summary(&self) -> String {
        let steps = match &self.crash_steps {
            Some(r) if r.start() == r.end() => format!("crash step {}", r.start()),
            Some(r) => format!("crash steps {}-{}", r.start(), r.end()),
            None => "no step crash point".to_string(),
        };
        format!(
            "{}, {}, {steps}, {} violation{}: {} [first schedule {}]",
            self.pass,
            self.oracle,
            self.count,
            if self.count == 1 { "" } else { "s" },
            self.message,
            self.schedule
        )
    }
}

/// What an exploration concluded about one crash model
/// ([`Report::verdict_under`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelVerdict {
    /// No pass ran under this model alone: the report says nothing about it.
    NotRun,
    /// Passes ran under it, checked this many post-crash states and found
    /// no violation.
    Clean {
        /// Post-crash states checked under the model.
        states_checked: u64,
    },
    /// Passes under it found this many violations.
    Caught {
        /// Violations found under the model.
        violations: u64,
    },
}

/// The result of an exploration: one or more passes over one workload.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    /// The workload's name.
    pub workload: String,
    /// The seed everything was derived from.
    pub seed: u64,
    /// Steps of the clean run.
    pub clean_steps: u64,
    /// One entry per pass, in the order run.
    pub passes: Vec<PassReport>,
    /// Every violation group, in pass order then crash step order; the
    /// first `violations_in_full_max` carry their first violation in full.
    pub groups: Vec<ViolationGroup>,
    /// Remarks the reader must see (determinism checked, random schedules'
    /// shapes, ...); the capped-points remark of each pass is derived from
    /// its counts instead ([`PassReport::capped_note`], in
    /// [`Report::notes_all`]).
    pub notes: Vec<String>,
    /// Total wall time, set by the caller that measured it.
    pub elapsed: Option<Duration>,
    /// The process's peak resident memory in bytes, set by the caller that
    /// read it from the OS (the simulator never does; a merged report: the
    /// largest shard's).
    #[serde(default)]
    pub peak_memory_bytes: Option<u64>,
    /// The checks the oracles made on this workload, one phrase each
    /// (`Checks::describe`): a check needing a fact the workload does not
    /// report is skipped, and this says so by leaving it out.
    pub oracles: Vec<String>,
    /// Whether the runs could have written the real disk unnoticed
    /// (`crate::explore::Sandbox`): on, with the Landlock ABI, or off and
    /// why. Printed once.
    #[serde(default)]
    pub bypass_detection: BypassDetection,
    /// The exploration was stopped before its end
    /// ([`crate::explore::ExploreOptions::cancel`]): the counts cover what
    /// was done so far and nothing is concluded; never clean.
    #[serde(default)]
    pub interrupted: bool,
}

impl Report {
    /// Post-crash states checked over every pass.
    pub fn states_checked(&self) -> u64 {
        self.passes.iter().map(|p| p.states_checked).sum()
    }

    /// Distinct post-crash states checked over every pass (by content).
    pub fn states_distinct(&self) -> u64 {
        let mut all: BTreeSet<u64> = BTreeSet::new();
        for p in &self.passes {
            all.extend(&p.state_digests);
        }
        all.len() as u64
    }

    /// Violations over every pass.
    pub fn violation_count(&self) -> u64 {
        self.passes.iter().map(|p| p.violations).sum()
    }

    /// Violations over every pass, by oracle.
    pub fn violations_per_oracle(&self) -> BTreeMap<Oracle, u64> {
        let mut all = BTreeMap::new();
        for p in &self.passes {
            for (oracle, n) in &p.violations_per_oracle {
                *all.entry(*oracle).or_insert(0) += n;
            }
        }
        all
    }

    /// The violations kept in full, one per group, in group order.
    pub fn violations(&self) -> impl Iterator<Item = &Violation> {
        self.groups.iter().filter_map(|g| g.violation.as_ref())
    }

    /// Every remark: each pass's capped-points note, then [`Report::notes`].
    pub fn notes_all(&self) -> Vec<String> {
        self.passes
            .iter()
            .filter_map(PassReport::capped_note)
            .chain(self.notes.iter().cloned())
            .collect()
    }

    /// What every pass did to check its states, summed.
    pub fn work(&self) -> Work {
        let mut work = Work::default();
        for p in &self.passes {
            work.add(&p.work);
        }
        work
    }

    /// Whether no oracle failed and the exploration ran to its end (an
    /// [`Report::interrupted`] one is never clean, even without a violation).
    pub fn is_clean(&self) -> bool {
        self.violation_count() == 0 && !self.interrupted
    }

    /// The modes that ran, in order, each once.
    pub fn modes(&self) -> Vec<&'static str> {
        let mut modes = Vec::new();
        for p in &self.passes {
            if !modes.contains(&p.pass.mode_name()) {
                modes.push(p.pass.mode_name());
            }
        }
        modes
    }

    /// The crash models that ran, in order, each once.
    pub fn models(&self) -> Vec<CrashModel> {
        let mut models = Vec::new();
        for p in &self.passes {
            for m in p.pass.models() {
                if !models.contains(m) {
                    models.push(*m);
                }
            }
        }
        models
    }

    /// What the passes run under `model` alone concluded: the exhaustive,
    /// two-crash and sync-EIO passes of that model, and random passes that
    /// draw from it alone. A random pass drawing from several models is
    /// left out: its violations belong to no one model. A model no such
    /// pass ran under is [`ModelVerdict::NotRun`], never "clean".
    /// Tests assert a verdict per model with it (and [`Report::caught_under`],
    /// [`Report::clean_under`]) instead of walking [`Report::passes`].
    pub fn verdict_under(&self, model: CrashModel) -> ModelVerdict {
        let passes: Vec<&PassReport> = self
            .passes
            .iter()
            .filter(|p| p.pass.models() == [model])
            .collect();
        if passes.is_empty() {
            return ModelVerdict::NotRun;
        }
        let violations: u64 = passes.iter().map(|p| p.violations).sum();
        if violations > 0 {
            return ModelVerdict::Caught { violations };
        }
        ModelVerdict::Clean {
            states_checked: passes.iter().map(|p| p.states_checked).sum(),
        }
    }

    /// Whether some pass under `model` alone found a violation
    /// ([`Report::verdict_under`]).
    pub fn caught_under(&self, model: CrashModel) -> bool {
        matches!(self.verdict_under(model), ModelVerdict::Caught { .. })
    }

    /// Whether passes ran under `model` alone, checked at least one
    /// post-crash state, and found no violation ([`Report::verdict_under`]):
    /// false for a model that did not run.
    pub fn clean_under(&self, model: CrashModel) -> bool {
        matches!(
            self.verdict_under(model),
            ModelVerdict::Clean { states_checked } if states_checked > 0
        )
    }

    /// Adds `other`'s passes, groups and notes (same workload, seed and
    /// clean run), keeping at most `in_full_max` groups in full overall.
    pub fn merge(&mut self, other: Report, in_full_max: usize) {
        debug_assert_eq!(
            (&self.workload, self.seed, self.clean_steps),
            (&other.workload, other.seed, other.clean_steps),
            "only reports of one workload, seed and clean run merge"
        );
        self.passes.extend(other.passes);
        self.groups.extend(other.groups);
        self.keep_in_full(in_full_max);
        self.notes.extend(other.notes);
        self.interrupted |= other.interrupted;
        let ours = std::mem::take(&mut self.bypass_detection);
        self.bypass_detection = ours.weaker(other.bypass_detection);
    }

    /// Drops the full violation of every group past the first
    /// `in_full_max` that carry one (the rule both merges keep).
    pub(crate) fn keep_in_full(&mut self, in_full_max: usize) {
        for g in self
            .groups
            .iter_mut()
            .filter(|g| g.violation.is_some())
            .skip(in_full_max)
        {
            g.violation = None;
        }
    }
}

/// `oracle: check` phrases grouped by oracle, in first-seen order.
fn grouped(phrases: &[String]) -> Vec<(&str, Vec<&str>)> {
    let mut groups: Vec<(&str, Vec<&str>)> = Vec::new();
    for phrase in phrases {
        let (oracle, check) = phrase.split_once(": ").unwrap_or(("", phrase));
        match groups.iter_mut().find(|(o, _)| *o == oracle) {
            Some((_, checks)) => checks.push(check),
            None => groups.push((oracle, vec![check])),
        }
    }
    groups
}

/// Groups listed one line each before the full ones; the rest are counted.
const GROUPS_LISTED_MAX: usize = 20;

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "crashproof exploration of workload `{}` (seed {})",
            self.workload, self.seed
        )?;
        writeln!(f, "clean run: {} filesystem steps", self.clean_steps)?;
        writeln!(f, "bypass detection: {}", self.bypass_detection)?;
        let models: Vec<&str> = self.models().iter().map(|m| m.name()).collect();
        writeln!(
            f,
            "modes: {}; crash models: {}",
            self.modes().join(", "),
            models.join(", ")
        )?;
        for (oracle, checks) in grouped(&self.oracles) {
            writeln!(f, "{oracle} oracle checks: {}", checks.join("; "))?;
        }
        for p in &self.passes {
            writeln!(f, "  {p}")?;
        }
        write!(
            f,
            "total: {} post-crash states checked ({} distinct)",
            self.states_checked(),
            self.states_distinct()
        )?;
        if let Some(e) = self.elapsed {
            write!(
                f,
                " in {:.3} s ({:.0} states/s)",
                e.as_secs_f64(),
                self.states_checked() as f64 / e.as_secs_f64().max(1e-9)
            )?;
        }
        if let Some(bytes) = self.peak_memory_bytes {
            write!(f, ", peak memory {:.1} MB", bytes as f64 / 1e6)?;
        }
        writeln!(f)?;
        for note in self.notes_all() {
            writeln!(f, "NOTE: {note}")?;
        }
        if self.interrupted && self.violation_count() == 0 {
            return writeln!(
                f,
                "result: INTERRUPTED (Ctrl-C, SIGTERM or the caller's cancel flag): the counts \
                 above cover only what was done before it; nothing is concluded"
            );
        }
        if self.is_clean() {
            return writeln!(f, "result: OK, zero violations");
        }
        if self.interrupted {
            writeln!(
                f,
                "INTERRUPTED (Ctrl-C, SIGTERM or the caller's cancel flag): the violations below \
                 were found before it; the rest was not explored"
            )?;
        }
        let per_oracle: Vec<String> = self
            .violations_per_oracle()
            .iter()
            .map(|(oracle, n)| format!("{oracle} {n}"))
            .collect();
        writeln!(f, "violations per oracle: {}", per_oracle.join(", "))?;
        let in_full = self.violations().count();
        writeln!(
            f,
            "result: {} VIOLATIONS in {} groups (adjacent crash points failing the same way are \
             one group; the first violation of the first {in_full} in full below)",
            self.violation_count(),
            self.groups.len(),
        )?;
        for (i, g) in self.groups.iter().take(GROUPS_LISTED_MAX).enumerate() {
            writeln!(f, "  group {}: {}", i + 1, g.summary())?;
        }
        if self.groups.len() > GROUPS_LISTED_MAX {
            writeln!(
                f,
                "  ... and {} more groups",
                self.groups.len() - GROUPS_LISTED_MAX
            )?;
        }
        for (i, g) in self.groups.iter().enumerate() {
            if let Some(v) = &g.violation {
                writeln!(f)?;
                writeln!(f, "=== group {} of {} ===", i + 1, self.groups.len())?;
                write!(f, "{v}")?;
            }
        }
        Ok(())
    }
}
