//! The tuning model: what one checkpoint period K costs and risks, given
//! the measured commit cost and the item cost.
//!
//! A run of items of cost `i` that commits every K items spends `K·i` on
//! work and `c` on each commit, so checkpointing makes it `c / (K·i)`
//! slower (the overhead); a kill redoes at most the K items since the last
//! durable commit (`K·i` of work). A time period T is the same trade with
//! `K = T / i`.
//!
//! The overhead is a ratio of totals, so `c` is a *mean* commit (a median
//! would leave out the slow fsyncs every job pays for). tune-k measures it
//! per round and predicts with the median round (`c50`) and recommends with
//! the slow ones (`c90`, the 90th percentile of the rounds' means); and
//! since a commit costs more after more work, `c` is read off the measured
//! [`Curve`] at the spacing `K·i`.

use serde::Serialize;

use super::curve::{Curve, Level};

/// The smallest K for which [`overhead_fraction`] is at most
/// `max_overhead_fraction`, or `None` when the inputs are not finite
/// positive numbers or K would not fit in a `u64`.
pub fn recommended_checkpoint_every(
    commit_seconds: f64,
    item_seconds: f64,
    max_overhead_fraction: f64,
) -> Option<u64> {
    let positive = |x: f64| x.is_finite() && x > 0.0;
    if !positive(commit_seconds) || !positive(item_seconds) || !positive(max_overhead_fraction) {
        return None;
    }
    let estimate = (commit_seconds / (item_seconds * max_overhead_fraction)).ceil();
    if !estimate.is_finite() || estimate >= u64::MAX as f64 / 2.0 {
        return None;
    }
    let fits = |k: u64| overhead_fraction(commit_seconds, item_seconds, k) <= max_overhead_fraction;
    // The estimate is exact up to floating-point rounding; settle it on the
    // same function the table prints.
    let mut k = (estimate as u64).max(1);
    while !fits(k) {
        k += 1;
    }
    while k > 1 && fits(k - 1) {
        k -= 1;
    }
    Some(k)
}

/// The smallest K whose overhead at `level` of `curve` (the cost of a
/// commit after `K·i` of work) is at most `max_overhead_fraction`; the
/// curve's overhead never rises with K, so every larger K meets it too.
/// `None` as [`recommended_checkpoint_every`].
pub fn recommended_on_curve(
    curve: &Curve,
    level: Level,
    item_seconds: f64,
    max_overhead_fraction: f64,
) -> Option<u64> {
    let fits = |k: u64| {
        let c = curve.at(k as f64 * item_seconds, level);
        overhead_fraction(c, item_seconds, k) <= max_overhead_fraction
    };
    // Every spacing costs at most the curve's largest cost: that K fits.
    let mut high =
        recommended_checkpoint_every(curve.max(level), item_seconds, max_overhead_fraction)?;
    if !fits(high) {
        return None;
    }
    let mut low = 0u64; // 0 stands for "below 1": never fits.
    while high - low > 1 {
        let middle = low + (high - low) / 2;
        if fits(middle) {
            high = middle;
        } else {
            low = middle;
        }
    }
    Some(high)
}

/// How much longer the job takes with a commit every `k` items than
/// without checkpointing: `commit / (k · item)`.
pub fn overhead_fraction(commit_seconds: f64, item_seconds: f64, k: u64) -> f64 {
    commit_seconds / (k as f64 * item_seconds)
}

/// One line of the table; its costs are the curve's at the spacing `K·i`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Row {
    /// K: `RunnerConfig::checkpoint_every`.
    pub checkpoint_every: u64,
    /// The equivalent T (`RunnerConfig::checkpoint_interval`): K items' work.
    pub checkpoint_interval_seconds: f64,
    /// The mean commit after `K·i` of work, at the median round.
    pub commit_seconds: f64,
    /// The same at the 90th-percentile round.
    pub commit_p90_seconds: f64,
    /// The predicted overhead: [`overhead_fraction`] with the median
    /// round's mean commit.
    pub overhead_fraction: f64,
    /// The same with the 90th-percentile round's mean commit: the overhead
    /// of the slow stretches (what the recommendation must meet).
    pub overhead_fraction_p90: f64,
    /// Items a kill redoes at most (K; K/2 on average for a kill at a
    /// uniformly random moment).
    pub items_at_risk_max: u64,
    /// The work those items take.
    pub seconds_at_risk_max: f64,
    /// Commits per hour of running: `3600 / (K·i + c)`.
    pub commits_per_hour: f64,
}

impl Row {
    /// The row for `k` on `curve`.
    pub fn on_curve(curve: &Curve, item_seconds: f64, k: u64) -> Self {
        let spacing = k as f64 * item_seconds;
        Self::new(
            curve.at(spacing, Level::P50),
            curve.at(spacing, Level::P90),
            item_seconds,
            k,
        )
    }

    /// The row for `k`, given the median and the 90th-percentile commit.
    pub fn new(commit_seconds: f64, commit_p90_seconds: f64, item_seconds: f64, k: u64) -> Self {
        let work_seconds = k as f64 * item_seconds;
        Self {
            checkpoint_every: k,
            checkpoint_interval_seconds: work_seconds,
            commit_seconds,
            commit_p90_seconds,
            overhead_fraction: overhead_fraction(commit_seconds, item_seconds, k),
            overhead_fraction_p90: overhead_fraction(commit_p90_seconds, item_seconds, k),
            items_at_risk_max: k,
            seconds_at_risk_max: work_seconds,
            commits_per_hour: 3600.0 / (work_seconds + commit_seconds),
        }
    }
}

/// The K values the table shows: 1, 2, 5, 10, 20, 50, ... up to at least
/// ten times `recommended` (and at least 100), with `recommended` itself.
pub fn table_ks(recommended: u64) -> Vec<u64> {
    let last = recommended.saturating_mul(10).max(100);
    let mut ks = Vec::new();
    let mut decade = 1u64;
    'ladder: loop {
        for step in [1, 2, 5] {
            let k = decade.saturating_mul(step);
            if k > last {
                break 'ladder;
            }
            ks.push(k);
        }
        match decade.checked_mul(10) {
            Some(next) => decade = next,
            None => break,
        }
    }
    ks.push(recommended);
    ks.sort_unstable();
    ks.dedup();
    ks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_recommendation_is_the_smallest_k_under_the_target() {
        // (commit s, item s, target) -> K, derived by hand from c / (i · f).
        // Away from exact integers, where rounding would decide.
        for (c, i, f, k) in [
            (1e-3, 30e-6, 0.01, 3334),   // 3333.3
            (0.7e-3, 30e-6, 0.01, 2334), // 2333.3
            (1e-3, 1.0, 0.5, 1),         // any K meets it
            (2.9e-3, 1e-3, 0.5, 6),      // 5.8
            (3.1e-3, 1e-3, 0.5, 7),      // 6.2
        ] {
            let got = recommended_checkpoint_every(c, i, f);
            assert_eq!(got, Some(k), "c={c} i={i} f={f}");
            assert!(overhead_fraction(c, i, k) <= f);
            assert!(k == 1 || overhead_fraction(c, i, k - 1) > f);
        }
    }

    #[test]
    fn on_a_curve_the_recommendation_reads_the_cost_at_its_own_spacing() {
        use super::super::curve::Point;
        // 1 ms after 1 ms of work, 4 ms after 100 ms; 20 µs items, 10 %.
        let curve = Curve::new(vec![
            Point {
                spacing_seconds: 1e-3,
                p50_seconds: 0.5e-3,
                p90_seconds: 1e-3,
            },
            Point {
                spacing_seconds: 100e-3,
                p50_seconds: 2e-3,
                p90_seconds: 4e-3,
            },
        ])
        .unwrap();
        let (i, f) = (20e-6, 0.1);
        let k = recommended_on_curve(&curve, Level::P90, i, f).unwrap();
        let overhead = |k: u64| Row::on_curve(&curve, i, k).overhead_fraction_p90;
        assert!(overhead(k) <= f && overhead(k - 1) > f, "{k}");
        // Between the flat cost of 1 ms (K = 500) and of 4 ms (K = 2000).
        assert!((500..2000).contains(&k), "{k}");
        // A constant curve gives the constant rule's answer.
        let flat = Curve::new(vec![Point {
            spacing_seconds: 1e-3,
            p50_seconds: 1e-3,
            p90_seconds: 1e-3,
        }])
        .unwrap();
        assert_eq!(
            recommended_on_curve(&flat, Level::P90, 30e-6, 0.01),
            recommended_checkpoint_every(1e-3, 30e-6, 0.01)
        );
    }

    #[test]
    fn unusable_inputs_give_no_recommendation() {
        for (c, i, f) in [
            (0.0, 1e-6, 0.01),
            (1e-3, 0.0, 0.01),
            (1e-3, 1e-6, 0.0),
            (f64::NAN, 1e-6, 0.01),
            (1e-3, f64::INFINITY, 0.01),
            (1e9, 1e-12, 1e-9), // K past u64
        ] {
            assert_eq!(
                recommended_checkpoint_every(c, i, f),
                None,
                "c={c} i={i} f={f}"
            );
        }
    }

    #[test]
    fn a_row_trades_overhead_for_loss() {
        let row = Row::new(1e-3, 3e-3, 20e-6, 50);
        assert_eq!(row.items_at_risk_max, 50);
        assert!((row.seconds_at_risk_max - 1e-3).abs() < 1e-12);
        assert!((row.checkpoint_interval_seconds - 1e-3).abs() < 1e-12);
        assert!((row.overhead_fraction - 1.0).abs() < 1e-9);
        assert!((row.overhead_fraction_p90 - 3.0).abs() < 1e-9);
        assert!((row.commits_per_hour - 1.8e6).abs() < 1e-3);
    }

    #[test]
    fn the_table_climbs_in_1_2_5_steps_and_holds_the_recommendation() {
        assert_eq!(table_ks(1), vec![1, 2, 5, 10, 20, 50, 100]);
        assert_eq!(table_ks(30), vec![1, 2, 5, 10, 20, 30, 50, 100, 200]);
        let big = table_ks(u64::MAX / 3);
        assert!(big.windows(2).all(|w| w[0] < w[1]));
        assert!(big.contains(&(u64::MAX / 3)));
    }
}
