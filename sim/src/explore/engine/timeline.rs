//! The progress record at every step of a journaled run, answered in
//! constant time: what [`Progress::as_of`] gives, without replaying the
//! journal for each crash point (which costs the run's length per point,
//! so the run's length squared per pass).

use std::collections::{BTreeMap, BTreeSet};

use crate::explore::vocabulary::workload::{CheckpointId, Event, Progress};

/// The record of one journaled run, indexed by step.
#[derive(Debug, Clone)]
pub(crate) struct Timeline {
    start_attempted: BTreeSet<CheckpointId>,
    start_acknowledged: Option<CheckpointId>,
    start_processed_max: Option<u64>,
    /// Each checkpoint attempted (or acknowledged) during the run, with the
    /// stamp of its first event.
    first_attempted: BTreeMap<CheckpointId, u64>,
    /// After each acknowledgement that changed it: (stamp, acknowledged).
    acknowledged: Vec<(u64, CheckpointId)>,
    /// After each processed item that raised it: (stamp, processed_max).
    processed_max: Vec<(u64, u64)>,
}

/// The record as it was when some number of steps had started.
#[derive(Debug, Clone, Copy)]
pub(crate) struct At<'t> {
    timeline: &'t Timeline,
    steps: u64,
    /// The newest checkpoint acknowledged durable.
    pub(crate) acknowledged: Option<CheckpointId>,
    /// The highest item processed (what a crash now forgets).
    pub(crate) processed_max: Option<u64>,
}

impl At<'_> {
    /// Whether the program had attempted `id`.
    pub(crate) fn attempted(&self, id: &CheckpointId) -> bool {
        self.timeline.start_attempted.contains(id)
            || self
                .timeline
                .first_attempted
                .get(id)
                .is_some_and(|&stamp| stamp <= self.steps)
    }
}

impl Timeline {
    /// The timeline of `progress`'s journaled run (of `progress` itself at
    /// every step if nothing is journaled).
    pub(crate) fn of(progress: &Progress) -> Timeline {
        // Nothing journaled: the record is `progress` itself at every step.
        let (start, events) = progress.journal().unwrap_or((progress, &[]));
        let mut timeline = Timeline {
            start_attempted: start.attempted().clone(),
            start_acknowledged: start.acknowledged(),
            start_processed_max: start.processed_max(),
            first_attempted: BTreeMap::new(),
            acknowledged: Vec::new(),
            processed_max: Vec::new(),
        };
        let mut acknowledged = start.acknowledged();
        let mut processed_max = start.processed_max();
        for &(stamp, event) in events {
            match event {
                Event::Attempt(id) => {
                    timeline.first_attempted.entry(id).or_insert(stamp);
                }
                Event::Acknowledge(id) => {
                    timeline.first_attempted.entry(id).or_insert(stamp);
                    // The rule of `Progress::acknowledge`.
                    if acknowledged.is_none_or(|a| a.cursor <= id.cursor) {
                        acknowledged = Some(id);
                        timeline.acknowledged.push((stamp, id));
                    }
                }
                Event::Processed(index) => {
                    let max = processed_max.map_or(index, |m| m.max(index));
                    if processed_max != Some(max) {
                        processed_max = Some(max);
                        timeline.processed_max.push((stamp, max));
                    }
                }
            }
        }
        timeline
    }

    /// The record when `steps` steps had started (events stamped `<=
    /// steps`), as [`Progress::as_of`] gives it.
    pub(crate) fn at(&self, steps: u64) -> At<'_> {
        // Stamps never decrease: a run's step clock only moves forward.
        let last = |n: usize| n.checked_sub(1);
        let acks = self.acknowledged.partition_point(|&(s, _)| s <= steps);
        let processed = self.processed_max.partition_point(|&(s, _)| s <= steps);
        At {
            timeline: self,
            steps,
            acknowledged: last(acks)
                .map(|i| self.acknowledged[i].1)
                .or(self.start_acknowledged),
            processed_max: last(processed)
                .map(|i| self.processed_max[i].1)
                .or(self.start_processed_max),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::explore::vocabulary::workload::StepClock;

    fn id(cursor: u64, state_digest: u64) -> CheckpointId {
        CheckpointId {
            cursor,
            state_digest,
        }
    }

    /// Every answer equals `Progress::as_of` at every step, for a journal
    /// with acknowledgements out of order, repeated items and a start
    /// state (the record a recovery run starts from).
    #[test]
    fn answers_what_as_of_gives_at_every_step() {
        let mut progress = Progress::new();
        progress.acknowledge(id(10, 1));
        progress.attempt(id(20, 2));
        let clock = StepClock::new();
        progress.record_steps(clock.clone());
        let script: &[(u64, Event)] = &[
            (1, Event::Processed(10)),
            (1, Event::Processed(11)),
            (3, Event::Attempt(id(20, 3))),
            (4, Event::Acknowledge(id(20, 3))),
            (4, Event::Processed(9)),
            (6, Event::Acknowledge(id(15, 4))),
            (7, Event::Processed(30)),
            (9, Event::Attempt(id(40, 5))),
            (9, Event::Acknowledge(id(40, 5))),
        ];
        for &(stamp, event) in script {
            clock.set(stamp);
            match event {
                Event::Attempt(i) => progress.attempt(i),
                Event::Acknowledge(i) => progress.acknowledge(i),
                Event::Processed(i) => progress.processed(i),
            }
        }
        let timeline = Timeline::of(&progress);
        let ids = [
            id(10, 1),
            id(20, 2),
            id(20, 3),
            id(15, 4),
            id(40, 5),
            id(99, 9),
        ];
        for steps in 0..=10 {
            let want = progress.as_of(steps);
            let got = timeline.at(steps);
            assert_eq!(got.acknowledged, want.acknowledged(), "step {steps}");
            assert_eq!(got.processed_max, want.processed_max(), "step {steps}");
            for i in &ids {
                assert_eq!(
                    got.attempted(i),
                    want.attempted().contains(i),
                    "step {steps} {i:?}"
                );
            }
        }
    }
}
