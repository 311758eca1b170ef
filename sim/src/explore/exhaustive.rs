//! Exhaustive single-crash exploration: every step of one clean run as the
//! crash point, times every post-crash state the model allows.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex};

use crashproof_fault::{CrashModel, KillSchedule, StateSelector};
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};

use super::case::{CaseState, CleanRun, Explorer, lock};
use super::error::HarnessError;
use super::oracle::Finding;
use super::report::{ModelReport, Report};
use super::violation::{Oracle, Violation};
use super::workload::{Completion, Progress, StepClock, WorkloadError};
use crate::{FaultConfig, SimFs, SimView, StepAction};

/// The post-crash states collected at one crash point.
pub(crate) struct PointStates {
    pub(crate) step: u64,
    /// Each state with the selector that names it in a schedule.
    pub(crate) states: Vec<(StateSelector, SimFs)>,
    pub(crate) capped: bool,
    /// How many states the model allows here (the simulator's count).
    pub(crate) possible: u64,
}

/// How a run under the collecting hook ended.
pub(crate) type Ran = std::thread::Result<Result<Completion, WorkloadError>>;

impl Explorer<'_> {
    /// Explores every single crash of one clean run under `model`: the crash
    /// images are taken from the step hook's `CrashSource` during one clean
    /// run (which the hook does not disturb), then recovery runs on each.
    /// Where a crash point has more states than `options.states_per_point_max`,
    /// `options.picks_per_capped_point` seeded picks are checked instead and the
    /// report says so. A failing case is replayed from scratch with
    /// [`Explorer::run_case`] to get its full trace (and to confirm it).
    pub fn explore_exhaustive(&self, model: CrashModel) -> Result<Report, HarnessError> {
        let (clean, points, progress) = self.collect(model)?;
        let mut report = ModelReport {
            model,
            label: model.name().to_string(),
            crash_points: points.len() as u64,
            states_checked: 0,
            states_per_point: Vec::with_capacity(points.len()),
            states_possible_per_point: Vec::with_capacity(points.len()),
            capped_points: 0,
            picks_per_capped_point: self.options().picks_per_capped_point as u64,
            violations: 0,
            elapsed: None,
        };
        let mut violations = Vec::new();
        for point in points {
            let before = progress.as_of(point.step);
            report.capped_points += u64::from(point.capped);
            report.states_per_point.push(point.states.len() as u64);
            report.states_possible_per_point.push(point.possible);
            for (selector, image) in point.states {
                report.states_checked += 1;
                let Some(finding) = self.check_image(&clean, &before, point.step, image)? else {
                    continue;
                };
                report.violations += 1;
                if violations.len() < self.options().violations_in_full_max {
                    let schedule = KillSchedule::at_step(point.step, model, selector);
                    violations.push(self.confirm(&clean, &schedule, finding)?);
                }
            }
        }
        let mut notes = Vec::new();
        if report.capped_points > 0 {
            notes.push(format!(
                "{model}: {} of {} crash points had more than {} post-crash states; {} seeded picks were checked \
                 at each of those instead of every state (raise --cap to enumerate)",
                report.capped_points,
                report.crash_points,
                self.options().states_per_point_max,
                self.options().picks_per_capped_point
            ));
        }
        if self.options().check_determinism {
            let differing = self.determinism_sample(&clean, model)?;
            notes.push(format!(
                "{model}: determinism checked: the clean run and 8 sampled cases each ran twice, \
                 {} differed",
                differing.len()
            ));
            report.violations += differing.len() as u64;
            violations.extend(differing);
        }
        Ok(Report {
            workload: self.workload().name(),
            mode: "exhaustive".into(),
            seed: self.options().seed,
            clean_steps: clean.steps,
            violation_count: report.violations,
            models: vec![report],
            cases: None,
            violations,
            notes,
            elapsed: None,
        })
    }

    /// One clean run with a hook that collects the crash states before every
    /// step, plus the states after the last step.
    pub(crate) fn collect(
        &self,
        model: CrashModel,
    ) -> Result<(CleanRun, Vec<PointStates>, Progress), HarnessError> {
        let (fs, mut progress) = self.start(FaultConfig::default())?;
        let (ran, points) = self.collect_run(&fs, &mut progress, model);
        let clean = self.finish_clean_run(&fs, ran)?;
        Ok((clean, points, progress))
    }

    /// Runs the workload on `fs` (journaling `progress` by step) with a hook
    /// that collects the crash states before every step, plus the states
    /// after the last step (taken before anyone calls `leftovers`).
    pub(crate) fn collect_run(
        &self,
        fs: &SimFs,
        progress: &mut Progress,
        model: CrashModel,
    ) -> (Ran, Vec<PointStates>) {
        let clock = StepClock::new();
        progress.record_steps(clock.clone());
        let collected: Arc<Mutex<Vec<PointStates>>> = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&collected);
        let (cap, picks, seed) = (
            self.options().states_per_point_max,
            self.options().picks_per_capped_point,
            self.options().seed,
        );
        fs.set_step_hook(Box::new(move |info, src| {
            clock.set(info.index + 1);
            let states = states_at(src, model, cap, picks, seed, info.index);
            lock(&sink).push(states);
            StepAction::Continue
        }));
        let ran = catch_unwind(AssertUnwindSafe(|| self.workload().run(fs, progress)));
        fs.clear_step_hook();
        let end = states_at(fs, model, cap, picks, seed, fs.steps());
        let mut points = std::mem::take(&mut *lock(&collected));
        points.push(end);
        (ran, points)
    }

    /// State oracle, recovery to completion, result oracle, on one image.
    pub(crate) fn check_image(
        &self,
        clean: &CleanRun,
        before: &Progress,
        step: u64,
        image: SimFs,
    ) -> Result<Option<Finding>, HarnessError> {
        let mut st = CaseState {
            fs: SimFs::default(),
            progress: before.clone(),
            trace: None,
            last_crash_processed: None,
            last_crash_recovered: None,
            crashes: 0,
            runs: 1,
            output: None,
        };
        if let Err(finding) = self.after_crash(&mut st, step, image, "") {
            return Ok(Some(finding));
        }
        match self.run_once(&mut st, None)? {
            Err(finding) => Ok(Some(finding)),
            Ok(super::case::RunEnd::Completed(c)) => {
                Ok(super::oracle::check_result(self.workload(), clean, &st, &c).err())
            }
            Ok(super::case::RunEnd::Failed(e)) => Ok(Some(Finding::new(
                Oracle::Result,
                format!("did not complete: {e}"),
            ))),
            Ok(super::case::RunEnd::Crashed { .. }) => Ok(Some(Finding::new(
                Oracle::NonDeterminism,
                "a run without a crash point crashed",
            ))),
        }
    }

    /// Replays a failing exhaustive case from scratch for its full trace.
    /// If the replay does not fail the same way, the workload is not
    /// deterministic, which is itself a violation.
    pub(crate) fn confirm(
        &self,
        clean: &CleanRun,
        schedule: &KillSchedule,
        seen: Finding,
    ) -> Result<Violation, HarnessError> {
        let replayed = self.run_case(clean, schedule)?;
        match replayed.violation {
            Some(v) if v.oracle == seen.oracle && v.message == seen.message => Ok(v),
            other => {
                let again = other.map_or("no violation".to_string(), |v| v.summary());
                let finding = Finding::new(
                    Oracle::NonDeterminism,
                    format!(
                        "the exhaustive pass saw `{}: {}` but replaying the case saw {again}",
                        seen.oracle, seen.message
                    ),
                );
                Ok(self.violation(finding, schedule, replayed.trace))
            }
        }
    }

    /// With `check_determinism`: the clean run twice, and a sample of eight
    /// crash points spread over the run, each run twice and compared.
    fn determinism_sample(
        &self,
        clean: &CleanRun,
        model: CrashModel,
    ) -> Result<Vec<Violation>, HarnessError> {
        let mut found = Vec::new();
        let again = self.clean_run()?;
        if again.trace.to_string() != clean.trace.to_string() || again.output != clean.output {
            let schedule = KillSchedule::at_step(clean.steps + 1, model, StateSelector::Seed(0));
            let finding = Finding::new(
                Oracle::NonDeterminism,
                "two clean runs differ (trace or output)",
            );
            found.push(self.violation(finding, &schedule, again.trace));
        }
        for k in 0..8u64 {
            let step = clean.steps * k / 8;
            let schedule = KillSchedule::at_step(step, model, StateSelector::Seed(k));
            if let Some(v) = self.check_determinism(clean, &schedule)? {
                found.push(v);
            }
        }
        Ok(found)
    }
}

/// Every state at this point, or seeded picks past the cap. The pick seeds
/// are drawn from the exploration seed and the step, so they are the same in
/// every run and printable in a schedule.
fn states_at(
    src: &impl SimView,
    model: CrashModel,
    cap: usize,
    picks: usize,
    seed: u64,
    step: u64,
) -> PointStates {
    let sim = model;
    let possible = src.crash_state_count(sim);
    match src.crash_images(sim, cap) {
        Ok(images) => PointStates {
            step,
            states: images
                .into_iter()
                .enumerate()
                .map(|(i, img)| (StateSelector::Index(i), img.fs))
                .collect(),
            capped: false,
            possible,
        },
        Err(_) => {
            let mut rng =
                ChaCha8Rng::seed_from_u64(seed ^ step.wrapping_mul(0x9E37_79B9_7F4A_7C15));
            let states = (0..picks)
                .map(|_| {
                    let s = rng.next_u64();
                    (StateSelector::Seed(s), src.crash_image(sim, s).fs)
                })
                .collect();
            PointStates {
                step,
                states,
                capped: true,
                possible,
            }
        }
    }
}
