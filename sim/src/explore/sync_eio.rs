//! The sync-EIO sweep: every `sync` of the clean run fails with EIO in turn
//! (Linux semantics: the dirty data is dropped from the log, a retried
//! sync returns `Ok`, a crash loses it), then the run crashes at every
//! later step. Finds programs that believe a retried fsync (fsyncgate).

use std::collections::BTreeSet;

use crashproof_fault::{CrashAt, CrashModel, CrashPoint, Fault, KillSchedule};

use super::case::Case;
use super::dedup::{Checker, CrashedRun};
use super::explorer::Explorer;
use super::report::event::Event;
use super::report::summary::{Report, Work};
use super::report::tally::Record;
use super::vocabulary::error::HarnessError;
use super::vocabulary::plan::Pass;
use crate::FaultConfig;

impl Explorer<'_> {
    /// For every sync step `E` of the clean run: one run with `eio:E`
    /// under a hook that collects the post-crash states of `model` before
    /// every later step (and after the last one, if the run completes), so
    /// each is the state `eio:E;step:C@model#...` selects; then recovery
    /// and both oracles on each. The faulted run's own end is a case too:
    /// a run that fails on the error restarts after a power loss (schedule
    /// `eio:E`), one that completes anyway meets the result oracle.
    ///
    /// Visits `E` in order, then the crash step, so the first violation is
    /// the smallest failing pair. Cost: one faulted run per sync plus one
    /// recovery per state after it; a program that stops at the error has
    /// few such states.
    pub fn explore_sync_eio(&self, model: CrashModel) -> Result<Report, HarnessError> {
        self.explore_sync_eio_observed(model, &mut |_| {})
    }

    /// [`Explorer::explore_sync_eio`], telling `observer` how far it got
    /// (in failed syncs).
    pub(crate) fn explore_sync_eio_observed(
        &self,
        model: CrashModel,
        observer: &mut dyn FnMut(Event<'_>),
    ) -> Result<Report, HarnessError> {
        let pass = Pass::SyncEio(model);
        // The clean run, recording where it converges; no states collected.
        let (clean, _, _) = self.collect(model, u64::MAX, false)?;
        let mut syncs = clean.sync_steps();
        let range = self.options().shard.range(syncs.len());
        let syncs: Vec<u64> = syncs.drain(range).collect();
        let mut tally = self.tally(&clean, pass.clone());
        // Every group's key names its failed sync (`eio:E`), so no group
        // continues into another shard.
        tally.shard(syncs.len(), None);
        let checker = Checker::new(self, &clean);
        self.check_units((&pass, model, &clean), tally, syncs, observer, |eio| {
            let mut records = Vec::new();
            let fault = Fault::SyncEio(eio);
            let faults = FaultConfig {
                sync_eio_at_steps: BTreeSet::from([eio]),
                ..FaultConfig::default()
            };
            let (fs, progress) = self.start(faults)?;
            let mut faulted = Case::start(fs, progress, false);
            let share = self.options().dedup;
            let (end, points) = faulted.run_collecting(self, model, eio + 1, None, share);
            let runs_before = faulted.history.runs;
            {
                let run = CrashedRun::new(&faulted.history);
                for point in points {
                    records.push(Record::Point(point.summary()));
                    for (selector, image) in point.states {
                        let checked = checker.check(&run, point.step, image)?;
                        let schedule = || KillSchedule {
                            points: vec![CrashPoint {
                                at: CrashAt::Step(point.step),
                                model,
                                state: selector,
                            }],
                            faults: vec![fault],
                        };
                        records.push(Record::Case {
                            digests: checked.digests,
                            work: checked.work,
                            found: checked.finding.map(|f| (f, schedule())),
                        });
                    }
                }
            }
            let (ended, finding) = faulted
                .conclude(self, &clean, end)
                .finish(self, &clean, &[])?;
            for _ in &ended.history.state_digests {
                records.push(Record::SingleStatePoint);
            }
            records.push(Record::Case {
                digests: ended.history.state_digests,
                work: Work {
                    recoveries: ended.history.runs - runs_before,
                    recoveries_converged: 0,
                },
                found: finding.map(|f| {
                    let schedule = KillSchedule {
                        points: Vec::new(),
                        faults: vec![fault],
                    };
                    (f, schedule)
                }),
            });
            Ok(records)
        })
    }
}
