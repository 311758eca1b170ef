//! Merging the reports of shards (`vocabulary/shard.rs`) back into the
//! whole run's.
//!
//! [`Report::merge_shards`] puts the parts back together: counts add up,
//! digests unite, per-point lists concatenate, and a violation group that
//! starts at a shard's first unit joins the group it continues in the
//! shard before, exactly as one run would have grouped them. So the merged
//! report equals the whole run's report (tested), wall time aside.

use std::time::Duration;

use super::summary::{PassReport, Report, ViolationGroup};
use super::tally::joins;

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
        self.peak_memory_bytes = self.peak_memory_bytes.max(next.peak_memory_bytes);
        // The whole vouches for no more than its weakest shard.
        self.interrupted |= next.interrupted;
        let ours = std::mem::take(&mut self.bypass_detection);
        self.bypass_detection = ours.weaker(next.bypass_detection);
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
