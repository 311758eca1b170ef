//! Splitting a pass's crash points over machines, and merging the parts.
//!
//! A pass's **units** are what it visits in order: the crash points of the
//! clean run (exhaustive), the first crash points (two crashes, each with
//! every crash of its recovery run), the syncs that fail (sync-EIO). Shard
//! `i` of `n` takes the contiguous run of units `[u*(i-1)/n, u*i/n)`:
//! contiguous, so nearby crash points (which share post-crash states and
//! violation groups) stay together, and so the shards' reports concatenate
//! in order. Every shard runs the clean run; the determinism sample (with
//! `check_determinism`) runs in the last shard only, where a whole run adds
//! it too (at the end of the pass).
//!
//! [`Report::merge_shards`] puts the parts back together: counts add up,
//! digests unite, per-point lists concatenate, and a violation group that
//! starts at a shard's first unit joins the group it continues in the
//! shard before, exactly as one run would have grouped them. So the merged
//! report equals the whole run's report (tested), wall time aside.

use std::fmt;
use std::ops::Range;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::options::InvalidOptions;
use crate::explore::report::{PassReport, Report, ViolationGroup};
use crate::explore::tally::joins;

/// One part of a split exploration: shard `index + 1` of `count`
/// (printed and parsed 1-based, `2/4`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct Shard {
    /// 0-based index, below `count`.
    pub index: u64,
    /// How many shards the exploration is split into, at least 1.
    pub count: u64,
}

impl Shard {
    /// The whole exploration: shard 1 of 1.
    pub const WHOLE: Shard = Shard { index: 0, count: 1 };

    /// Whether this is the whole exploration.
    pub fn is_whole(&self) -> bool {
        self.count == 1
    }

    /// Whether this shard runs the last units (and the determinism sample).
    pub fn is_last(&self) -> bool {
        self.index + 1 == self.count
    }

    /// The units this shard takes out of `units`.
    pub fn range(&self, units: usize) -> Range<usize> {
        let units = units as u128;
        let (i, n) = (u128::from(self.index), u128::from(self.count.max(1)));
        let start = units * i / n;
        let end = units * (i + 1) / n;
        start as usize..end as usize
    }

    /// Checks the index is below the count and the count is at least 1.
    pub fn validate(&self) -> Result<(), InvalidOptions> {
        if self.count == 0 || self.index >= self.count {
            return Err(InvalidOptions::ShardOutOfRange {
                index: self.index.saturating_add(1),
                count: self.count,
            });
        }
        Ok(())
    }
}

impl Default for Shard {
    fn default() -> Self {
        Shard::WHOLE
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index.saturating_add(1), self.count)
    }
}

/// A shard that is not `i/n` with `1 <= i <= n`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a shard: write i/n with 1 <= i <= n, e.g. 2/4")]
pub struct ParseShardError(String);

impl FromStr for Shard {
    type Err = ParseShardError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || ParseShardError(s.to_string());
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let index: u64 = i.trim().parse().map_err(|_| bad())?;
        let count: u64 = n.trim().parse().map_err(|_| bad())?;
        if index == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard {
            index: index - 1,
            count,
        })
    }
}

impl From<Shard> for String {
    fn from(shard: Shard) -> String {
        shard.to_string()
    }
}

impl TryFrom<String> for Shard {
    type Error = ParseShardError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

/// Why shard reports do not merge.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MergeError {
    /// No report to merge.
    #[error("no shard report to merge: pass every shard's report")]
    Empty,
    /// Reports of different explorations.
    #[error(
        "shard reports of different explorations do not merge: {what} differs ({first} vs \
         {other}); merge the reports of one command run with --shard 1/n ... n/n"
    )]
    Different {
        /// Which field differs.
        what: &'static str,
        /// The first report's value.
        first: String,
        /// The differing report's value.
        other: String,
    },
}

impl Report {
    /// Merges the reports of shards `1/n ... n/n` of one exploration, given
    /// in shard order, into the report the whole run gives (wall time: the
    /// sum of the shards'). Keeps at most `in_full_max` violation groups in
    /// full. Refuses reports of different workloads, seeds, clean runs or
    /// passes.
    pub fn merge_shards(reports: Vec<Report>, in_full_max: usize) -> Result<Report, MergeError> {
        let mut reports = reports.into_iter();
        let mut whole = reports.next().ok_or(MergeError::Empty)?;
        for next in reports {
            whole.append_shard(next)?;
        }
        whole.keep_in_full(in_full_max);
        Ok(whole)
    }

    /// Adds the next shard's report to this one (the shards before it).
    fn append_shard(&mut self, next: Report) -> Result<(), MergeError> {
        let differ = |what, a: String, b: String| MergeError::Different {
            what,
            first: a,
            other: b,
        };
        if self.workload != next.workload {
            return Err(differ("workload", self.workload.clone(), next.workload));
        }
        if self.seed != next.seed {
            return Err(differ("seed", self.seed.to_string(), next.seed.to_string()));
        }
        if self.clean_steps != next.clean_steps {
            return Err(differ(
                "clean run length (steps)",
                self.clean_steps.to_string(),
                next.clean_steps.to_string(),
            ));
        }
        let passes = |r: &Report| {
            r.passes
                .iter()
                .map(|p| p.pass.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        if self.passes.len() != next.passes.len()
            || self
                .passes
                .iter()
                .zip(&next.passes)
                .any(|(a, b)| a.pass != b.pass)
        {
            return Err(differ("passes", passes(self), passes(&next)));
        }
        for (mine, theirs) in self.passes.iter_mut().zip(next.passes) {
            mine.append_shard(theirs);
        }
        // Groups stay in pass order: each pass's groups of every shard,
        // then the next pass's.
        let mut merged: Vec<ViolationGroup> = Vec::new();
        let mut theirs = next.groups;
        for pass in self.passes.iter().map(|p| p.pass.clone()) {
            merged.extend(self.groups.iter().filter(|g| g.pass == pass).cloned());
            let start = merged.len();
            let (this_pass, rest): (Vec<_>, Vec<_>) =
                theirs.into_iter().partition(|g| g.pass == pass);
            theirs = rest;
            for group in this_pass {
                join_or_push(&mut merged, start, group);
            }
        }
        self.groups = merged;
        self.notes.extend(next.notes);
        self.elapsed = elapsed_sum(self.elapsed, next.elapsed);
        Ok(())
    }
}

/// The wall time of two parts, as far as either was measured.
fn elapsed_sum(a: Option<Duration>, b: Option<Duration>) -> Option<Duration> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a + b),
        (a, b) => a.or(b),
    }
}

/// Adds `group` (of a later shard) to `groups`: to the group of the same
/// pass it continues, if any (as one run would have grouped its
/// violations), else at the end. `groups[..first_new]` are the earlier
/// shards' groups of its pass and earlier passes.
fn join_or_push(groups: &mut Vec<ViolationGroup>, first_new: usize, group: ViolationGroup) {
    let start = group.crash_steps.as_ref().map(|r| *r.start());
    let found = groups[..first_new].iter().rposition(|g| {
        g.pass == group.pass && joins(g, group.oracle, &group.message, &group.schedule, start)
    });
    match found {
        Some(i) => {
            let g = &mut groups[i];
            g.count += group.count;
            if let (Some(a), Some(b)) = (&g.crash_steps, &group.crash_steps) {
                g.crash_steps = Some((*a.start()).min(*b.start())..=(*a.end()).max(*b.end()));
            }
        }
        None => groups.push(group),
    }
}

impl PassReport {
    /// Adds the next shard's counts of the same pass.
    fn append_shard(&mut self, next: PassReport) {
        self.crash_points += next.crash_points;
        self.states_checked += next.states_checked;
        self.state_digests.extend(next.state_digests);
        self.states_per_point.extend(next.states_per_point);
        self.states_possible_per_point
            .extend(next.states_possible_per_point);
        self.capped_points += next.capped_points;
        self.violations += next.violations;
        for (oracle, n) in next.violations_per_oracle {
            *self.violations_per_oracle.entry(oracle).or_insert(0) += n;
        }
        self.work.add(&next.work);
        self.elapsed = elapsed_sum(self.elapsed, next.elapsed);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn ranges_cover_every_unit_once_in_order() {
        for units in [0usize, 1, 2, 7, 245, 1000] {
            for count in 1..=9u64 {
                let mut next = 0;
                for index in 0..count {
                    let r = Shard { index, count }.range(units);
                    assert_eq!(r.start, next, "{units} units, shard {index}/{count}");
                    next = r.end;
                }
                assert_eq!(next, units);
            }
        }
    }

    #[test]
    fn text_form_is_one_based_and_round_trips() {
        let s: Shard = "2/4".parse().unwrap();
        assert_eq!(s, Shard { index: 1, count: 4 });
        assert_eq!(s.to_string(), "2/4");
        for bad in ["0/4", "5/4", "1/0", "1", "a/b", "", "/"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
        assert!(Shard { index: 4, count: 4 }.validate().is_err());
        assert!(Shard { index: 0, count: 0 }.validate().is_err());
        assert!(Shard::WHOLE.validate().is_ok());
    }
}
