//! Exhaustive single-crash exploration: every step of one clean run as the
//! crash point, times every post-crash state the model allows.

use crashproof_fault::{CrashModel, KillSchedule};

use super::case::{Case, History};
use super::error::HarnessError;
use super::explorer::{CleanRun, Explorer};
use super::oracle::Finding;
use super::plan::Pass;
use super::points::PointStates;
use super::report::Report;
use super::tally::Tally;
use crate::{FaultConfig, SimFs};

impl Explorer<'_> {
    /// Explores every single crash of one clean run under `model`: the crash
    /// images are taken from the step hook's `CrashSource` during one clean
    /// run (which the hook does not disturb), then recovery runs on each.
    /// Where a crash point has more states than
    /// [`super::ExploreOptions::states_enumerated_max`],
    /// `options.picks_per_capped_point` seeded picks are checked instead and
    /// the report says so. The first failing case of each violation group
    /// is replayed from scratch with [`Explorer::run_case`] for its full
    /// trace (and to confirm it).
    pub fn explore_exhaustive(&self, model: CrashModel) -> Result<Report, HarnessError> {
        let (clean, clean_case, points) = self.collect(model)?;
        let mut tally = Tally::new(self, &clean, Pass::Exhaustive(model));
        for point in points {
            tally.point(&point);
            let history = clean_case.history.at_step(point.step);
            for (selector, image) in point.states {
                let (case, finding) =
                    self.check_crash(&clean, history.clone(), point.step, image)?;
                tally.case(&case.history.state_digests, finding, || {
                    KillSchedule::at_step(point.step, model, selector)
                })?;
            }
        }
        self.check_pass_determinism(&clean, model, &mut tally)?;
        tally.finish()
    }

    /// The clean run under a hook that collects the crash states of `model`
    /// before every step and after the last one; the case after it (its
    /// history journals the progress by step); the states.
    pub(crate) fn collect(
        &self,
        model: CrashModel,
    ) -> Result<(CleanRun, Case, Vec<PointStates>), HarnessError> {
        let (fs, progress) = self.start(FaultConfig::default())?;
        let mut case = Case::start(fs, progress, false);
        let (end, points) = case.run_collecting(self, model, 0);
        let clean = self.finish_clean_run(&case.fs, end)?;
        Ok((clean, case, points))
    }

    /// The work of one crash state, a pure function of the clean run, the
    /// case's history at the crash, the crash step and the image: the
    /// state oracle, recovery to completion, the result oracle.
    pub(crate) fn check_crash(
        &self,
        clean: &CleanRun,
        history: History,
        before_step: u64,
        image: SimFs,
    ) -> Result<(Case, Option<Finding>), HarnessError> {
        Case::from_crash(self, clean, history, before_step, image, "").finish(self, clean, &[])
    }
}
