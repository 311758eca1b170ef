//! The sync-EIO sweep: every `sync` of the clean run fails with EIO in turn
//! (Linux semantics: the dirty data is dropped from the log, a retried
//! sync returns `Ok`, a crash loses it), then the run crashes at every
//! later step. Finds programs that believe a retried fsync (fsyncgate).

use std::collections::BTreeSet;

use crashproof_fault::{CrashAt, CrashModel, CrashPoint, Fault, KillSchedule};

use super::case::Case;
use super::error::HarnessError;
use super::explorer::Explorer;
use super::plan::Pass;
use super::report::Report;
use super::tally::Tally;
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
        let clean = self.clean_run()?;
        let mut tally = Tally::new(self, &clean, Pass::SyncEio(model));
        for eio in clean.sync_steps() {
            let fault = Fault::SyncEio(eio);
            let faults = FaultConfig {
                sync_eio_at_steps: BTreeSet::from([eio]),
                ..FaultConfig::default()
            };
            let (fs, progress) = self.start(faults)?;
            let mut faulted = Case::start(fs, progress, false);
            let (end, points) = faulted.run_collecting(self, model, eio + 1);
            for point in points {
                tally.point(&point);
                let history = faulted.history.at_step(point.step);
                for (selector, image) in point.states {
                    let (case, finding) =
                        self.check_crash(&clean, history.clone(), point.step, image)?;
                    tally.case(&case.history.state_digests, finding, || KillSchedule {
                        points: vec![CrashPoint {
                            at: CrashAt::Step(point.step),
                            model,
                            state: selector,
                        }],
                        faults: vec![fault],
                    })?;
                }
            }
            let (ended, finding) = faulted
                .conclude(self, &clean, end)
                .finish(self, &clean, &[])?;
            for _ in &ended.history.state_digests {
                tally.single_state_point();
            }
            tally.case(&ended.history.state_digests, finding, || KillSchedule {
                points: Vec::new(),
                faults: vec![fault],
            })?;
        }
        self.check_pass_determinism(&clean, model, &mut tally)?;
        tally.finish()
    }
}
