//! The commit cost as a function of the work between commits.
//!
//! On the disks this was measured on, a commit costs more the longer the
//! disk (and the rest of the I/O path) sat idle before it: commits back to
//! back are the cheapest, a commit after 20 ms of work dearer than one after
//! 1 ms. So tune-k measures the mean commit at several spacings and reads
//! the cost of K off this curve at the spacing K implies (`K·i`).
//!
//! Between two measured spacings the curve is a power law (straight on a
//! log-log plot); outside them it is flat (the nearest measurement). It is
//! made conservative where the measurements would make the overhead
//! `c(S) / S` rise with S (a commit more than 4x dearer after 4x the work:
//! noise, or a disk changing regime between two spacings): the smaller
//! spacing's cost is raised to `c(S₂) · S₁ / S₂`. So the overhead never
//! rises with K, a K whose overhead meets the target is followed by larger
//! ones that do too, and the raise only ever over-predicts.

use serde::Serialize;

/// One measured spacing.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Point {
    /// Work between two commits, in seconds.
    pub spacing_seconds: f64,
    /// The median round's mean commit there.
    pub p50_seconds: f64,
    /// The 90th-percentile round's mean commit there.
    pub p90_seconds: f64,
}

/// A commit-cost curve; see the module documentation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Curve {
    /// The measured points, ascending in spacing, after the conservative
    /// raise.
    points: Vec<Point>,
}

/// Which of the two costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// The median round's.
    P50,
    /// The 90th-percentile round's.
    P90,
}

impl Curve {
    /// The curve through `points` (any order). `None` unless there is at
    /// least one point and every value is finite and positive.
    pub fn new(mut points: Vec<Point>) -> Option<Self> {
        let usable = |x: f64| x.is_finite() && x > 0.0;
        if points.is_empty()
            || !points.iter().all(|p| {
                usable(p.spacing_seconds) && usable(p.p50_seconds) && usable(p.p90_seconds)
            })
        {
            return None;
        }
        points.sort_by(|a, b| a.spacing_seconds.total_cmp(&b.spacing_seconds));
        points.dedup_by(|b, a| a.spacing_seconds == b.spacing_seconds);
        for j in (0..points.len().saturating_sub(1)).rev() {
            let (left, right) = (points[j], points[j + 1]);
            let scale = left.spacing_seconds / right.spacing_seconds;
            points[j].p50_seconds = left.p50_seconds.max(right.p50_seconds * scale);
            points[j].p90_seconds = left.p90_seconds.max(right.p90_seconds * scale);
        }
        Some(Self { points })
    }

    /// The points, ascending in spacing, as the curve uses them.
    pub fn points(&self) -> &[Point] {
        &self.points
    }

    /// The commit cost after `spacing_seconds` of work.
    pub fn at(&self, spacing_seconds: f64, level: Level) -> f64 {
        let cost = |p: &Point| match level {
            Level::P50 => p.p50_seconds,
            Level::P90 => p.p90_seconds,
        };
        let (Some(first), Some(last)) = (self.points.first(), self.points.last()) else {
            return f64::NAN;
        };
        if spacing_seconds.is_nan() || spacing_seconds <= first.spacing_seconds {
            return cost(first);
        }
        if spacing_seconds >= last.spacing_seconds {
            return cost(last);
        }
        for pair in self.points.windows(2) {
            let (a, b) = (&pair[0], &pair[1]);
            if spacing_seconds <= b.spacing_seconds {
                let t = (spacing_seconds / a.spacing_seconds).ln()
                    / (b.spacing_seconds / a.spacing_seconds).ln();
                return (cost(a).ln() + t * (cost(b) / cost(a)).ln()).exp();
            }
        }
        cost(last)
    }

    /// The largest cost on the curve (every spacing costs at most this).
    pub fn max(&self, level: Level) -> f64 {
        self.points
            .iter()
            .map(|p| match level {
                Level::P50 => p.p50_seconds,
                Level::P90 => p.p90_seconds,
            })
            .fold(0.0, f64::max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(spacing: f64, p50: f64, p90: f64) -> Point {
        Point {
            spacing_seconds: spacing,
            p50_seconds: p50,
            p90_seconds: p90,
        }
    }

    #[test]
    fn the_curve_is_flat_outside_and_a_power_law_between_points() {
        let curve = Curve::new(vec![point(4e-3, 2e-3, 4e-3), point(1e-3, 1e-3, 2e-3)]).unwrap();
        assert_eq!(curve.points()[0].spacing_seconds, 1e-3, "sorted");
        assert_eq!(curve.at(1e-6, Level::P50), 1e-3);
        assert_eq!(curve.at(1.0, Level::P90), 4e-3);
        // Halfway on a log scale (2 ms): halfway on a log scale (√2 ms).
        assert!((curve.at(2e-3, Level::P50) - 2f64.sqrt() * 1e-3).abs() < 1e-12);
        assert!((curve.at(4e-3, Level::P50) - 2e-3).abs() < 1e-15);
        assert_eq!(curve.max(Level::P90), 4e-3);
    }

    #[test]
    fn a_cost_rising_faster_than_the_spacing_raises_the_smaller_spacing() {
        // 1 ms costs 0.1 ms, 4 ms costs 2 ms: overhead would rise from 10 %
        // to 50 %. The 1 ms point is raised to 2 ms · 1/4 = 0.5 ms.
        let curve = Curve::new(vec![point(1e-3, 1e-4, 1e-4), point(4e-3, 2e-3, 2e-3)]).unwrap();
        assert!((curve.points()[0].p50_seconds - 5e-4).abs() < 1e-15);
        // Now the overhead c(S)/S never rises with S.
        let overhead = |s: f64| curve.at(s, Level::P50) / s;
        let mut last = f64::INFINITY;
        for step in 0..=100 {
            let s = 1e-4 * 1.05f64.powi(step);
            assert!(overhead(s) <= last * (1.0 + 1e-12), "at {s}");
            last = overhead(s);
        }
    }

    #[test]
    fn unusable_points_give_no_curve() {
        assert_eq!(Curve::new(vec![]), None);
        assert_eq!(Curve::new(vec![point(0.0, 1.0, 1.0)]), None);
        assert_eq!(Curve::new(vec![point(1.0, f64::NAN, 1.0)]), None);
        assert_eq!(Curve::new(vec![point(1.0, 1.0, -1.0)]), None);
    }
}
