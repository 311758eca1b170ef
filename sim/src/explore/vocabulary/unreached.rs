//! A crash point its run never reached, said in terms a user can act on:
//! how long the run was and which failpoints it hit.

use std::fmt;

use crashproof_fault::{CrashAt, CrashPoint};

use crate::Trace;

/// A crash point of a schedule that its run never reached (a step past the
/// run's end, a failpoint the run does not hit, or a hit count above its
/// hits), with what the run did instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnreachedPoint {
    /// The crash point.
    pub point: CrashPoint,
    /// The run of the case it applied to (1 = the first run).
    pub run: u64,
    /// Filesystem steps that run took: its crash points are `step:0` to
    /// `step:<steps>`.
    pub steps: u64,
    /// Every failpoint the run hit with its number of hits, sorted by name.
    pub failpoint_hits: Vec<(String, u32)>,
}

impl UnreachedPoint {
    /// `point` was not reached by run `run`, whose steps are `trace`.
    pub(crate) fn new(point: &CrashPoint, run: u64, steps: u64, trace: &Trace) -> Self {
        let mut failpoint_hits: Vec<(String, u32)> = Vec::new();
        let mut names: Vec<&str> = trace
            .entries
            .iter()
            .filter_map(|e| e.step.failpoint)
            .collect();
        names.sort_unstable();
        for name in names {
            match failpoint_hits.last_mut() {
                Some((last, hits)) if last == name => *hits += 1,
                _ => failpoint_hits.push((name.to_string(), 1)),
            }
        }
        Self {
            point: point.clone(),
            run,
            steps,
            failpoint_hits,
        }
    }
}

impl fmt::Display for UnreachedPoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "crash point `{}` is never reached: ", self.point)?;
        let run = self.run;
        match &self.point.at {
            CrashAt::Step(_) => write!(
                f,
                "run {run} ended after {} filesystem steps, so its crash points are `step:0` to \
                 `step:{}`",
                self.steps, self.steps
            )?,
            CrashAt::Failpoint { name, .. } => {
                let hits = self
                    .failpoint_hits
                    .iter()
                    .find(|(n, _)| n == name)
                    .map_or(0, |(_, h)| *h);
                match hits {
                    0 => write!(f, "run {run} never hits failpoint `{name}`")?,
                    1 => write!(f, "run {run} hits failpoint `{name}` only once")?,
                    n => write!(f, "run {run} hits failpoint `{name}` only {n} times")?,
                }
                write!(f, " in its {} filesystem steps", self.steps)?;
            }
        }
        if self.failpoint_hits.is_empty() {
            write!(f, "; it hits no failpoint")?;
        } else {
            let hits: Vec<String> = self
                .failpoint_hits
                .iter()
                .map(|(name, hits)| format!("{name} (x{hits})"))
                .collect();
            write!(f, "; the failpoints it hits: {}", hits.join(", "))?;
        }
        write!(f, ". Name a step or a failpoint hit the run reaches.")
    }
}
