//! What an exploration found, in numbers and in full for the first failures.

use std::fmt;
use std::time::Duration;

use crashproof_fault::CrashModel;

use super::violation::Violation;

/// One crash model's exhaustive pass (or the random mode's totals).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelReport {
    /// The crash model (random mode: the first of the models drawn from).
    pub model: CrashModel,
    /// How the line is labelled: the model's name, or the random mix.
    pub label: String,
    /// Crash points tried (every step of the clean run, plus its end).
    pub crash_points: u64,
    /// Post-crash states checked (state oracle, then recovery and the result
    /// oracle), summed over the crash points.
    pub states_checked: u64,
    /// States checked at each crash point, in step order (sums to
    /// `states_checked`).
    pub states_per_point: Vec<u64>,
    /// Post-crash states the model allows at each crash point, as the
    /// simulator counts them without building them (equal to
    /// `states_per_point` where the cap was not exceeded).
    pub states_possible_per_point: Vec<u64>,
    /// Crash points whose states exceeded the cap and were sampled instead.
    pub capped_points: u64,
    /// Seeded picks per capped point.
    pub picks_per_capped_point: u64,
    /// Cases that failed an oracle.
    pub violations: u64,
    /// Wall time of this pass, set by the caller that measured it (the CLI);
    /// the simulator never reads a clock.
    pub elapsed: Option<Duration>,
}

impl ModelReport {
    /// States per second, when the elapsed time is known.
    pub fn states_per_second(&self) -> Option<f64> {
        self.elapsed
            .map(|e| self.states_checked as f64 / e.as_secs_f64().max(1e-9))
    }
}

impl fmt::Display for ModelReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:<18} {:>6} crash points  {:>8} states checked  {:>4} violations",
            self.label, self.crash_points, self.states_checked, self.violations
        )?;
        if let (Some(e), Some(rate)) = (self.elapsed, self.states_per_second()) {
            write!(f, "  {:>9.3} s  {:>10.0} states/s", e.as_secs_f64(), rate)?;
        }
        if self.capped_points > 0 {
            write!(
                f,
                "\n               NOTE: {} crash points had more states than the cap; \
                 checked {} seeded picks at each of them instead of all",
                self.capped_points, self.picks_per_capped_point
            )?;
        }
        Ok(())
    }
}

/// The result of an exploration.
#[derive(Debug, Clone)]
pub struct Report {
    /// The workload's name.
    pub workload: String,
    /// `exhaustive` or `random`.
    pub mode: String,
    /// The seed everything was derived from.
    pub seed: u64,
    /// Steps of the clean run.
    pub clean_steps: u64,
    /// One line per crash model (exhaustive), or per model drawn (random).
    pub models: Vec<ModelReport>,
    /// Random mode: cases run.
    pub cases: Option<u64>,
    /// The first violations, in full.
    pub violations: Vec<Violation>,
    /// Every violation found (more than `violations.len()` when clipped).
    pub violation_count: u64,
    /// Remarks the reader must see (sampling instead of enumeration, ...).
    pub notes: Vec<String>,
    /// Total wall time, set by the caller that measured it.
    pub elapsed: Option<Duration>,
}

impl Report {
    /// Post-crash states checked over every model.
    pub fn states_checked(&self) -> u64 {
        self.models.iter().map(|m| m.states_checked).sum()
    }

    /// Whether no oracle failed.
    pub fn is_clean(&self) -> bool {
        self.violation_count == 0
    }

    /// Adds another report's models, violations and notes (same workload).
    pub fn merge(&mut self, other: Report, keep: usize) {
        self.models.extend(other.models);
        self.violation_count += other.violation_count;
        for v in other.violations {
            if self.violations.len() < keep {
                self.violations.push(v);
            }
        }
        self.notes.extend(other.notes);
        self.cases = match (self.cases, other.cases) {
            (None, None) => None,
            (a, b) => Some(a.unwrap_or(0) + b.unwrap_or(0)),
        };
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "crashproof {} exploration of workload `{}` (seed {})",
            self.mode, self.workload, self.seed
        )?;
        writeln!(f, "clean run: {} filesystem steps", self.clean_steps)?;
        if let Some(cases) = self.cases {
            writeln!(f, "random cases: {cases}")?;
        }
        for m in &self.models {
            writeln!(f, "  {m}")?;
        }
        write!(
            f,
            "total: {} post-crash states checked",
            self.states_checked()
        )?;
        if let Some(e) = self.elapsed {
            write!(
                f,
                " in {:.3} s ({:.0} states/s)",
                e.as_secs_f64(),
                self.states_checked() as f64 / e.as_secs_f64().max(1e-9)
            )?;
        }
        writeln!(f)?;
        for note in &self.notes {
            writeln!(f, "NOTE: {note}")?;
        }
        if self.is_clean() {
            writeln!(f, "result: OK, zero violations")?;
        } else {
            writeln!(
                f,
                "result: {} VIOLATIONS (first {} in full below)",
                self.violation_count,
                self.violations.len()
            )?;
            for v in &self.violations {
                writeln!(f)?;
                write!(f, "{v}")?;
            }
        }
        Ok(())
    }
}
