//! Exhaustive two-crash exploration: every single crash of the clean run,
//! then every crash of the recovery run from each of those states. Finds
//! bugs that only a crash *during recovery* exposes (cleanup, migration or
//! rewriting done at startup).

use crashproof_fault::{CrashAt, CrashModel, CrashPoint, KillSchedule, StateSelector};

use super::case::{Case, History, Next};
use super::error::HarnessError;
use super::explorer::{CleanRun, Explorer};
use super::plan::Pass;
use super::report::Report;
use super::tally::Tally;
use crate::SimFs;

impl Explorer<'_> {
    /// Explores every crash point of the clean run under `model` and, from
    /// each post-crash state, every crash point of its recovery run (same
    /// model, same cap and seeded picks). Every state gets the state
    /// oracle, and every resumed run that completes the result oracle.
    /// Counts in the report add up over both levels: `crash_points` is the
    /// clean run's points plus the points of every recovery run explored.
    ///
    /// Cost: (states of the first crash) x (steps of recovery) x (states
    /// of the second crash) runs; use the cheaper models on big workloads.
    pub fn explore_two_crashes(&self, model: CrashModel) -> Result<Report, HarnessError> {
        let (clean, clean_case, points) = self.collect(model)?;
        let mut tally = Tally::new(self, &clean, Pass::TwoCrashes(model));
        for first in points {
            tally.point(&first);
            let history = clean_case.history.at_step(first.step);
            for (selector, image) in first.states {
                let crash1 = point(first.step, model, selector);
                self.second_level(
                    &clean,
                    &mut tally,
                    history.clone(),
                    (first.step, crash1),
                    image,
                )?;
            }
        }
        self.check_pass_determinism(&clean, model, &mut tally)?;
        tally.finish()
    }

    /// One first-crash state: its state oracle, its recovery run (collecting
    /// crash states) and result oracle, then every second crash of it.
    fn second_level(
        &self,
        clean: &CleanRun,
        tally: &mut Tally<'_, '_>,
        history: History,
        (step1, crash1): (u64, CrashPoint),
        image: SimFs,
    ) -> Result<(), HarnessError> {
        let only_first = || KillSchedule::single(crash1.clone());
        let mut recovery = match Case::from_crash(self, clean, history, step1, image, "") {
            Next::Done(case, finding) => {
                return tally.case(&case.history.state_digests, finding, only_first);
            }
            Next::Run(case) => case,
        };
        let (end, points) = recovery.run_collecting(self, crash1.model, 0);
        let (recovery, finding) = recovery
            .conclude(self, clean, end)
            .finish(self, clean, &[])?;
        let failed = finding.is_some();
        tally.case(&recovery.history.state_digests, finding, only_first)?;
        if failed {
            return Ok(());
        }
        for second in points {
            tally.point(&second);
            let history = recovery.history.at_step(second.step);
            for (selector, image) in second.states {
                let (case, finding) =
                    self.check_crash(clean, history.clone(), second.step, image)?;
                tally.case(&case.history.state_digests, finding, || KillSchedule {
                    points: vec![crash1.clone(), point(second.step, crash1.model, selector)],
                    faults: Vec::new(),
                })?;
            }
        }
        Ok(())
    }
}

fn point(step: u64, model: CrashModel, state: StateSelector) -> CrashPoint {
    CrashPoint {
        at: CrashAt::Step(step),
        model,
        state,
    }
}
