//! What `crashproof tune-k` prints: the table and the recommendation as
//! text, or the same as JSON.

use std::fmt;
use std::path::PathBuf;

use serde::Serialize;

use super::curve::Point;
use super::model::Row;

/// The commit cost at one spacing, summarized.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SpacingSummary {
    /// Work between two commits.
    pub spacing_seconds: f64,
    /// K of the probe (items per spacing).
    pub probe_checkpoint_every: u64,
    /// Each round's mean commit, in the order the rounds ran.
    pub round_means_seconds: Vec<f64>,
    /// The median round's mean commit.
    pub round_p50_seconds: f64,
    /// The 90th-percentile round's mean commit.
    pub round_p90_seconds: f64,
    /// How much the rounds disagree: p90 over p10 of their means.
    pub round_spread: f64,
    /// Per commit: mean, 10th percentile, median, 90th percentile.
    pub mean_seconds: f64,
    /// Per commit: 10th percentile.
    pub p10_seconds: f64,
    /// Per commit: median.
    pub p50_seconds: f64,
    /// Per commit: 90th percentile.
    pub p90_seconds: f64,
}

/// The commit cost, summarized.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CommitSummary {
    /// Commits timed.
    pub samples: usize,
    /// Rounds they came from.
    pub rounds: u64,
    /// Timed commits per round and spacing.
    pub commits_per_round: u64,
    /// Per spacing, ascending.
    pub spacings: Vec<SpacingSummary>,
    /// The curve the table reads (the spacings' p50 and p90, made
    /// conservative where the overhead would rise with K).
    pub curve: Vec<Point>,
    /// The largest spread of any spacing.
    pub round_spread_max: f64,
    /// Whether that spread is past [`super::REGIME_SPREAD`]: the disk
    /// changed regime while tune-k measured.
    pub noisy: bool,
    /// Bytes of encoded state each commit wrote.
    pub state_bytes_encoded: u64,
}

/// The whole result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Tuning {
    /// The directory measured (the commits ran in a fresh subdirectory).
    pub dir: PathBuf,
    /// `--state-size`.
    pub state_size_bytes: u64,
    /// The commit cost measured there.
    pub commit: CommitSummary,
    /// The item cost the table uses.
    pub item_cost_seconds: f64,
    /// Where it came from: `given`, or the command and sample size.
    pub item_cost_source: String,
    /// What the probe's items cost in the no-commit segments (median over
    /// the rounds): far from the probe's target, the CPU was busy.
    pub probe_item_measured_seconds: f64,
    /// The probe item's target at the smallest spacing.
    pub probe_item_seconds: f64,
    /// `--max-overhead`, as a fraction.
    pub max_overhead_fraction: f64,
    /// One row per K, ascending; the recommended K is one of them.
    pub rows: Vec<Row>,
    /// The recommendation: the smallest K whose overhead at the p90 round
    /// is at most the target, with its equivalent T and its predicted
    /// overhead (at the median round).
    pub recommended: Row,
    /// The smallest K that meets the target at the median round (equal to
    /// the recommendation on a steady disk, smaller on a noisy one).
    pub recommended_at_p50: u64,
    /// The SVG plot written.
    pub plot: PathBuf,
}

impl fmt::Display for Tuning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.commit;
        writeln!(
            f,
            "crashproof tune-k on {:?} (measured in a fresh subdirectory, removed afterwards)",
            self.dir
        )?;
        writeln!(
            f,
            "commit cost: the core's Runner (default configuration, {}-byte state), {} rounds x {} commits at each spacing (work between commits)",
            c.state_bytes_encoded, c.rounds, c.commits_per_round,
        )?;
        writeln!(
            f,
            "  {:>10} {:>7} {:>10} {:>10} {:>7}  mean commit per round, in order",
            "spacing", "K", "p50 round", "p90 round", "spread"
        )?;
        for sp in &c.spacings {
            let rounds: Vec<String> = sp
                .round_means_seconds
                .iter()
                .map(|s| format_seconds(*s))
                .collect();
            writeln!(
                f,
                "  {:>10} {:>7} {:>10} {:>10} {:>6.2}x  {}",
                format_seconds(sp.spacing_seconds),
                sp.probe_checkpoint_every,
                format_seconds(sp.round_p50_seconds),
                format_seconds(sp.round_p90_seconds),
                sp.round_spread,
                rounds.join(", ")
            )?;
        }
        writeln!(
            f,
            "item cost:   {} ({}); probe items of {} took {} without commits",
            format_seconds(self.item_cost_seconds),
            self.item_cost_source,
            format_seconds(self.probe_item_seconds),
            format_seconds(self.probe_item_measured_seconds),
        )?;
        writeln!(
            f,
            "target:      overhead at most {} %, met at the p90 round",
            self.max_overhead_fraction * 100.0
        )?;
        writeln!(f)?;
        writeln!(
            f,
            "{:>12} {:>10} {:>10} {:>13} {:>13} {:>29} {:>13}",
            "K",
            "T",
            "commit",
            "overhead p50",
            "overhead p90",
            "lost on a kill, at most",
            "commits/hour"
        )?;
        for row in &self.rows {
            let mark = if row.checkpoint_every == self.recommended.checkpoint_every {
                "  <- recommended"
            } else {
                ""
            };
            writeln!(
                f,
                "{:>12} {:>10} {:>10} {:>13} {:>13} {:>12} items {:>10} {:>13.0}{mark}",
                row.checkpoint_every,
                format_seconds(row.checkpoint_interval_seconds),
                format_seconds(row.commit_seconds),
                format_percent_ceil(row.overhead_fraction),
                format_percent_ceil(row.overhead_fraction_p90),
                row.items_at_risk_max,
                format_seconds(row.seconds_at_risk_max),
                row.commits_per_hour,
            )?;
        }
        writeln!(f)?;
        let r = &self.recommended;
        writeln!(
            f,
            "recommended: K = {} (RunnerConfig::checkpoint_every), or T = {} (checkpoint_interval)",
            r.checkpoint_every,
            format_seconds(r.checkpoint_interval_seconds)
        )?;
        writeln!(
            f,
            "  predicted overhead {} (p50 round), {} (p90 round) <= {} %; a kill redoes at most {} items ({} of work), half that on average",
            format_percent_ceil(r.overhead_fraction),
            format_percent_ceil(r.overhead_fraction_p90),
            self.max_overhead_fraction * 100.0,
            r.items_at_risk_max,
            format_seconds(r.seconds_at_risk_max)
        )?;
        if self.recommended_at_p50 != r.checkpoint_every {
            writeln!(
                f,
                "  at the median round the target needs only K = {}",
                self.recommended_at_p50
            )?;
        }
        writeln!(
            f,
            "  or let the runner pick K as the disk changes: RunnerConfig::adaptive(AdaptiveK {{ max_overhead: {}, max_redo: N }}), N >= {} to meet the target on this disk",
            self.max_overhead_fraction, r.checkpoint_every
        )?;
        writeln!(f, "plot: {}", self.plot.display())
    }
}

/// `fraction` as a percentage rounded *up* at the printed precision (3
/// significant digits or more), so a printed overhead never looks under a
/// target it exceeds.
pub fn format_percent_ceil(fraction: f64) -> String {
    let percent = fraction * 100.0;
    let decimals: i32 = match percent {
        p if p < 10.0 => 3,
        p if p < 100.0 => 2,
        p if p < 1000.0 => 1,
        _ => 0,
    };
    let scale = 10f64.powi(decimals);
    format!(
        "{:.*} %",
        decimals as usize,
        (percent * scale).ceil() / scale
    )
}

/// `seconds` in the unit that keeps it readable (ns, µs, ms, s, min, h).
pub fn format_seconds(seconds: f64) -> String {
    let abs = seconds.abs();
    if abs < 1e-6 {
        format!("{:.1} ns", seconds * 1e9)
    } else if abs < 1e-3 {
        format!("{:.1} µs", seconds * 1e6)
    } else if abs < 1.0 {
        format!("{:.2} ms", seconds * 1e3)
    } else if abs < 120.0 {
        format!("{seconds:.2} s")
    } else if abs < 7200.0 {
        format!("{:.1} min", seconds / 60.0)
    } else {
        format!("{:.1} h", seconds / 3600.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_round_up_never_down() {
        for (fraction, text) in [
            (0.01, "1.000 %"),
            (0.010_000_1, "1.001 %"),
            (0.009_999, "1.000 %"),
            (0.123_41, "12.35 %"),
            (35.615, "3562 %"),
        ] {
            assert_eq!(format_percent_ceil(fraction), text, "{fraction}");
        }
    }

    #[test]
    fn seconds_pick_a_readable_unit() {
        for (seconds, text) in [
            (2.5e-8, "25.0 ns"),
            (2e-5, "20.0 µs"),
            (7.124e-2, "71.24 ms"),
            (3.25, "3.25 s"),
            (600.0, "10.0 min"),
            (36000.0, "10.0 h"),
        ] {
            assert_eq!(format_seconds(seconds), text);
        }
    }
}
