//! The explorer: the start state, the clean run, one case of a schedule,
//! turning a finding into a replayable violation, and a whole plan.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, OnceLock};

use crashproof_core::fs::FsOp;
use crashproof_fault::{CrashModel, KillSchedule};

use super::case::{Case, Next, RunEnd, panic_message};
use super::converge::ConvergedPoints;
use super::report::event::Event;
use super::report::summary::Report;
use super::report::tally::{Counted, Tally};
use super::report::violation::Finding;
use super::report::violation::Violation;
use super::vocabulary::error::HarnessError;
use super::vocabulary::options::ExploreOptions;
use super::vocabulary::plan::{Pass, Plan};
use super::vocabulary::unreached::UnreachedPoint;
use super::vocabulary::workload::{Progress, Workload};
use crate::{FaultConfig, SimConfig, SimFs, SimView, Trace};

/// Drives one [`Workload`] on [`SimFs`] under kill schedules.
pub struct Explorer<'w> {
    workload: &'w dyn Workload,
    options: ExploreOptions,
    /// The threads that check crash points, built on first use.
    pool: OnceLock<Result<rayon::ThreadPool, String>>,
}

/// The clean run: the workload from its start state to completion, no
/// crash, no fault. Every resumed run is compared with it.
#[derive(Debug, Clone)]
pub struct CleanRun {
    /// The workload's output; every resumed run must reproduce it.
    pub output: String,
    /// Filesystem steps the clean run took.
    pub steps: u64,
    /// Every step of the clean run.
    pub trace: Trace,
    /// The failpoint names the clean run passed, sorted, deduplicated.
    pub failpoints: Vec<String>,
    /// The points where the clean run said it converged, with the disk
    /// there (recorded by the exhaustive and sync-EIO passes' clean runs).
    pub(crate) converged: Arc<ConvergedPoints>,
}

impl CleanRun {
    /// The steps of the clean run that are a `sync` of a file (where the
    /// sync-EIO mode injects its fault).
    pub fn sync_steps(&self) -> Vec<u64> {
        self.trace
            .entries
            .iter()
            .filter(|e| e.step.op == FsOp::Sync)
            .map(|e| e.step.index)
            .collect()
    }
}

/// What one case did.
#[derive(Debug, Clone)]
pub struct CaseOutcome {
    /// Every step of every run, crash points marked, runs under headings.
    pub trace: Trace,
    /// The final run's output, if it completed.
    pub output: Option<String>,
    /// The first oracle failure, if any (the case stops there).
    pub violation: Option<Violation>,
    /// Crash points reached plus power losses after injected faults
    /// (= post-crash states checked).
    pub crashes: u64,
    /// Runs started (clean or resumed).
    pub runs: u64,
    /// Content digests of the post-crash states checked, one per crash.
    pub state_digests: Vec<u64>,
    /// Filesystem steps the first run executed before the case's first
    /// crash; `None` if it never crashed.
    pub steps_before_first_crash: Option<u64>,
    /// The first crash point of the schedule that its run did not reach
    /// (a step past the run's end, a failpoint hit it does not make).
    pub unreached: Option<UnreachedPoint>,
}

impl<'w> Explorer<'w> {
    /// An explorer of `workload` with `options`.
    pub fn new(workload: &'w dyn Workload, options: ExploreOptions) -> Self {
        Self {
            workload,
            options,
            pool: OnceLock::new(),
        }
    }

    /// The thread pool of [`ExploreOptions::jobs`] threads (`None` for one
    /// thread: the work runs on the calling thread).
    pub(crate) fn pool(&self) -> Result<Option<&rayon::ThreadPool>, HarnessError> {
        let threads = self.options.threads();
        if threads <= 1 {
            return Ok(None);
        }
        let built = self.pool.get_or_init(|| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .thread_name(|i| format!("crashproof-explore-{i}"))
                .build()
                .map_err(|e| e.to_string())
        });
        match built {
            Ok(pool) => Ok(Some(pool)),
            Err(e) => Err(HarnessError::ThreadPool {
                threads,
                reason: e.clone(),
            }),
        }
    }

    /// The workload under exploration.
    pub fn workload(&self) -> &'w dyn Workload {
        self.workload
    }

    /// The options in force.
    pub fn options(&self) -> &ExploreOptions {
        &self.options
    }

    fn config(&self, faults: FaultConfig) -> SimConfig {
        SimConfig {
            seed: self.options.seed,
            sector_size_bytes: self.options.sector_size_bytes,
            faults,
        }
    }

    /// The disk and progress record every run of a case starts from: a new
    /// [`SimFs`] on which the workload's [`Workload::initial_disk`] wrote
    /// what an earlier process left behind, reduced to exactly its durable
    /// state (a drop-unsynced crash image: step counter 0, empty trace), so
    /// step indexes count from the first step of the real run and nothing
    /// the initial disk did is a crash point. `faults` apply from the real
    /// run's step 0 on, never to the initial disk. The progress holds the
    /// earlier process's acknowledgements (before step 0 of any journal)
    /// and none of its in-memory progress, which died with it. Checks the
    /// options first ([`HarnessError::InvalidOptions`]).
    pub(crate) fn start(&self, faults: FaultConfig) -> Result<(SimFs, Progress), HarnessError> {
        self.options.validate()?;
        let scratch = SimFs::new(self.config(FaultConfig::default()));
        let mut progress = Progress::new();
        let failed = |reason: String| HarnessError::InitialDiskFailed {
            workload: self.workload.name(),
            reason,
        };
        match catch_unwind(AssertUnwindSafe(|| {
            self.workload.initial_disk(&scratch, &mut progress)
        })) {
            Err(payload) => {
                return Err(failed(format!(
                    "panicked: {}",
                    panic_message(payload.as_ref())
                )));
            }
            Ok(Err(e)) => return Err(failed(e.to_string())),
            Ok(Ok(())) => {}
        }
        progress.crashed();
        let fs = scratch.crash_image(CrashModel::DropUnsynced, 0).fs;
        fs.set_faults(faults);
        Ok((fs, progress))
    }

    /// Runs the workload once from its start state (a fresh filesystem plus
    /// its [`Workload::initial_disk`], if any) without crashes. It must
    /// complete, without panicking and without leftovers, or the exploration
    /// cannot be trusted ([`HarnessError::CleanRunFailed`];
    /// [`HarnessError::InitialDiskFailed`] if the initial disk fails).
    pub fn clean_run(&self) -> Result<CleanRun, HarnessError> {
        let (fs, progress) = self.start(FaultConfig::default())?;
        let mut case = Case::start(fs, progress, false);
        let end = case.run(self, None)?;
        self.finish_clean_run(&case.fs, end)
    }

    /// The clean run from how its run on `fs` ended.
    pub(crate) fn finish_clean_run(
        &self,
        fs: &SimFs,
        end: RunEnd,
    ) -> Result<CleanRun, HarnessError> {
        let failed = |reason: String| HarnessError::CleanRunFailed {
            workload: self.workload.name(),
            reason,
        };
        let completion = match end {
            RunEnd::Completed(c) => c,
            RunEnd::Failed(e) => return Err(failed(e.to_string())),
            RunEnd::Panicked(message) => return Err(failed(format!("panicked: {message}"))),
            RunEnd::Crashed { before_step, .. } => {
                return Err(failed(format!(
                    "crashed before step {before_step} without a crash point (a simulator bug)"
                )));
            }
        };
        // Read the run's length and trace before `leftovers` adds its own steps.
        let (steps, trace) = (fs.steps(), fs.trace());
        match self.workload.leftovers(fs) {
            Ok(left) if left.is_empty() => {}
            Ok(left) => return Err(failed(format!("left files behind: {}", left.join(", ")))),
            Err(e) => return Err(failed(format!("listing leftovers failed: {e}"))),
        }
        let mut failpoints: Vec<String> = trace
            .entries
            .iter()
            .filter_map(|e| e.step.failpoint)
            .map(str::to_string)
            .collect();
        failpoints.sort();
        failpoints.dedup();
        Ok(CleanRun {
            output: completion.output,
            steps,
            trace,
            failpoints,
            converged: Arc::default(),
        })
    }

    /// Runs the clean run, then `schedule` (what `crashproof replay` does).
    /// A case that found no violation must have crashed at every point of
    /// the schedule: a point its run never reaches is
    /// [`HarnessError::CrashPointNotReached`], which says how long the run
    /// was and which failpoints it hit.
    pub fn replay(&self, schedule: &KillSchedule) -> Result<(CleanRun, CaseOutcome), HarnessError> {
        let clean = self.clean_run()?;
        let outcome = self.run_case(&clean, schedule)?;
        if outcome.violation.is_none()
            && let Some(unreached) = &outcome.unreached
        {
            return Err(HarnessError::CrashPointNotReached(Box::new(
                unreached.clone(),
            )));
        }
        Ok((clean, outcome))
    }

    /// Runs one case from the start state: the `i`-th crash point applies
    /// to the `i`-th run; after the last one the workload runs to completion.
    /// A point a run never reaches (a step past its end, a failpoint hit it
    /// does not make) lets that run end as it ends, and is reported in
    /// [`CaseOutcome::unreached`] (random schedules may hold such points;
    /// [`Explorer::replay`] refuses them). A run that fails on an injected
    /// fault (see `Fault`) is restarted after a modelled power loss, at most
    /// [`super::FAULT_RESTARTS_MAX`] times; so at most
    /// `points + 1 + FAULT_RESTARTS_MAX` runs start and a case always ends.
    pub fn run_case(
        &self,
        clean: &CleanRun,
        schedule: &KillSchedule,
    ) -> Result<CaseOutcome, HarnessError> {
        let faults = FaultConfig {
            sync_eio_at_steps: schedule.sync_eio_steps().collect(),
            ..FaultConfig::default()
        };
        let (fs, progress) = self.start(faults)?;
        let case = Case::start(fs, progress, true);
        let (case, finding) = Next::Run(case).finish(self, clean, &schedule.points)?;
        let history = case.history;
        let trace = history.trace.unwrap_or_default();
        let violation = finding
            .map(|f| self.violation(f, schedule, trace.clone(), history.steps_before_first_crash));
        Ok(CaseOutcome {
            trace,
            output: case.output,
            violation,
            crashes: history.crashes,
            runs: history.runs,
            state_digests: history.state_digests,
            steps_before_first_crash: history.steps_before_first_crash,
            unreached: history.unreached,
        })
    }

    /// Turns a finding into a full [`Violation`], with the replay line the
    /// options ask for.
    pub(crate) fn violation(
        &self,
        finding: Finding,
        schedule: &KillSchedule,
        trace: Trace,
        steps_before_first_crash: Option<u64>,
    ) -> Violation {
        let name = self.workload.name();
        let replay = self.options.replay.render(&name, schedule, &self.options);
        Violation {
            oracle: finding.oracle,
            workload: name,
            schedule: schedule.clone(),
            seed: self.options.seed,
            message: finding.message,
            trace: trace.to_string(),
            replay,
            steps_before_first_crash,
        }
    }

    /// A tally of `pass` against `clean` that replays the first case of
    /// each violation group with [`Explorer::confirm`].
    pub(crate) fn tally<'a>(&'a self, clean: &'a CleanRun, pass: Pass) -> Tally<'a> {
        let counted = Counted {
            workload: self.workload,
            options: &self.options,
            clean_steps: clean.steps,
            clean_syncs: !clean.sync_steps().is_empty(),
            confirm: Box::new(move |schedule, seen| self.confirm(clean, schedule, seen)),
        };
        Tally::new(counted, pass)
    }

    /// Replays a case found without a trace from scratch, for its full
    /// trace (and to confirm it). If the replay does not fail the same way,
    /// the workload is not deterministic, which is itself a violation.
    pub(crate) fn confirm(
        &self,
        clean: &CleanRun,
        schedule: &KillSchedule,
        seen: &Finding,
    ) -> Result<Violation, HarnessError> {
        let replayed = self.run_case(clean, schedule)?;
        match replayed.violation {
            Some(v) if v.oracle == seen.oracle && v.message == seen.message => Ok(v),
            other => {
                let again = other.map_or("no violation".to_string(), |v| v.summary());
                let finding = Finding::new(
                    super::report::violation::Oracle::NonDeterminism,
                    format!(
                        "the exploration saw `{}: {}` but replaying the case saw {again}",
                        seen.oracle, seen.message
                    ),
                );
                Ok(self.violation(
                    finding,
                    schedule,
                    replayed.trace,
                    replayed.steps_before_first_crash,
                ))
            }
        }
    }
}

impl Explorer<'_> {
    /// Explores under every pass of `plan` and merges the reports, keeping
    /// at most `violations_in_full_max` violation groups in full. Every
    /// pass must check something: one that checks no post-crash state and
    /// finds no violation is [`HarnessError::NothingChecked`]; a plan
    /// without a mode or model is [`HarnessError::EmptyPlan`].
    pub fn explore(&self, plan: &Plan) -> Result<Report, HarnessError> {
        self.explore_observed(plan, &mut |_| {})
    }

    /// [`Explorer::explore`], telling `observer` when each pass starts and
    /// ends.
    pub fn explore_observed(
        &self,
        plan: &Plan,
        observer: &mut dyn FnMut(Event<'_>),
    ) -> Result<Report, HarnessError> {
        let missing = match (plan.modes.is_empty(), plan.models.is_empty()) {
            (true, _) => Some("mode"),
            (false, true) => Some("crash model"),
            (false, false) => None,
        };
        if let Some(missing) = missing {
            return Err(HarnessError::EmptyPlan {
                workload: self.workload().name(),
                missing,
            });
        }
        let mut total: Option<Report> = None;
        for pass in plan.passes() {
            observer(Event::PassStarted(&pass));
            let report = self.explore_pass_observed(&pass, observer)?;
            for p in &report.passes {
                observer(Event::PassFinished(p));
            }
            match &mut total {
                None => total = Some(report),
                Some(t) => t.merge(report, self.options().violations_in_full_max),
            }
        }
        total.ok_or_else(|| HarnessError::EmptyPlan {
            workload: self.workload().name(),
            missing: "pass",
        })
    }

    /// Explores one pass.
    pub fn explore_pass(&self, pass: &Pass) -> Result<Report, HarnessError> {
        self.explore_pass_observed(pass, &mut |_| {})
    }

    /// Explores one pass, telling `observer` how far it got
    /// ([`Event::Checking`]).
    pub fn explore_pass_observed(
        &self,
        pass: &Pass,
        observer: &mut dyn FnMut(Event<'_>),
    ) -> Result<Report, HarnessError> {
        match pass {
            Pass::Exhaustive(model) => self.explore_exhaustive_observed(*model, observer),
            Pass::TwoCrashes(model) => self.explore_two_crashes_observed(*model, observer),
            Pass::SyncEio(model) => self.explore_sync_eio_observed(*model, observer),
            Pass::Random { models, config } => self.explore_random(models, config),
        }
    }
}
