//! Exhaustive single-crash exploration: every step of one clean run as the
//! crash point, times every post-crash state the model allows.

use crashproof_fault::{CrashModel, KillSchedule};

use super::case::{Case, History};
use super::converge::Watch;
use super::dedup::{Checker, CrashedRun};
use super::explorer::{CleanRun, Explorer};
use super::points::PointStates;
use super::report::event::Event;
use super::report::summary::Report;
use super::report::tally::Record;
use super::report::violation::Finding;
use super::vocabulary::error::HarnessError;
use super::vocabulary::plan::Pass;
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
        self.explore_exhaustive_observed(model, &mut |_| {})
    }

    /// [`Explorer::explore_exhaustive`], telling `observer` how far it got.
    pub(crate) fn explore_exhaustive_observed(
        &self,
        model: CrashModel,
        observer: &mut dyn FnMut(Event<'_>),
    ) -> Result<Report, HarnessError> {
        let pass = Pass::Exhaustive(model);
        let (clean, clean_case, mut points) = self.collect(model, 0, self.options().dedup)?;
        let range = self.options().shard.range(points.len());
        let points: Vec<PointStates> = points.drain(range).collect();
        let mut tally = self.tally(&clean, pass.clone());
        tally.shard(points.len(), points.first().map(|p| p.step));
        let checker = Checker::new(self, &clean);
        let run = CrashedRun::new(&clean_case.history);
        self.check_units((&pass, model, &clean), tally, points, observer, |point| {
            let mut records = vec![Record::Point(point.summary())];
            for (selector, image) in point.states {
                let checked = checker.check(&run, point.step, image)?;
                records.push(Record::Case {
                    digests: checked.digests,
                    work: checked.work,
                    found: checked
                        .finding
                        .map(|f| (f, KillSchedule::at_step(point.step, model, selector))),
                });
            }
            Ok(records)
        })
    }

    /// The clean run under a hook that collects the crash states of `model`
    /// before every step from `from_step` on and after the last one, and
    /// records where it converged; the case after it (its history journals
    /// the progress by step); the states (with `share`, one image per
    /// distinct content).
    pub(crate) fn collect(
        &self,
        model: CrashModel,
        from_step: u64,
        share: bool,
    ) -> Result<(CleanRun, Case, Vec<PointStates>), HarnessError> {
        let (fs, progress) = self.start(FaultConfig::default())?;
        let mut case = Case::start(fs, progress, false);
        let watch = Watch::recording();
        let (end, points) = case.run_collecting(self, model, from_step, Some(watch.clone()), share);
        let mut clean = self.finish_clean_run(&case.fs, end)?;
        clean.converged = std::sync::Arc::new(watch.recorded());
        Ok((clean, case, points))
    }

    /// The work of one crash state, a pure function of the clean run, the
    /// case's history at the crash, the crash step and the image: the
    /// state oracle, recovery to completion, the result oracle. Every state
    /// on its own, to the end of its run (the naive path; see `dedup.rs`
    /// for the shared one).
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
