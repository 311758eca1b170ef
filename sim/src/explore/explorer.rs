//! Layer 5, the top: [`Explorer`], the thin facade a user calls. It holds
//! the engine and forwards: a whole [`Plan`] (every pass of its modes under
//! its models, merged into one report), one pass, one mode, the clean run,
//! one case or its replay, a determinism check.
//!
//! Every method that runs the workload first audits it, once per explorer,
//! for real-disk calls it was denied and swallowed (`engine/audit.rs`),
//! then runs it on a confined thread (`engine/sandbox.rs`: it cannot write
//! the real disk) and explains a clean run that bypassed the simulator
//! (`engine/bypass.rs`); an observer is called on the caller's thread.
//!
//! **Imports:** any layer below (modes, engine, report, vocabulary);
//! nothing imports it back but the crate's re-exports.

use std::sync::mpsc;

use crashproof_fault::strategy::ScheduleStrategy;
use crashproof_fault::{CrashModel, KillSchedule};

use super::engine::clean::CleanRun;
use super::engine::schedule::CaseOutcome;
use super::engine::start::Engine;
use super::modes::{determinism, exhaustive, fault_rules, random, replay, sync_eio, two_crashes};
use super::report::event::{Event, Told};
use super::report::summary::Report;
use super::report::violation::Violation;
use super::vocabulary::error::HarnessError;
use super::vocabulary::options::ExploreOptions;
use super::vocabulary::plan::{Pass, Plan, RandomConfig};
use super::vocabulary::workload::Workload;

/// Drives one [`Workload`] on [`crate::SimFs`] under kill schedules.
pub struct Explorer<'w> {
    engine: Engine<'w>,
}

impl<'w> Explorer<'w> {
    /// An explorer of `workload` with `options`.
    pub fn new(workload: &'w dyn Workload, options: ExploreOptions) -> Self {
        Self {
            engine: Engine::new(workload, options),
        }
    }

    /// The workload under exploration.
    pub fn workload(&self) -> &'w dyn Workload {
        self.engine.workload()
    }

    /// The options in force.
    pub fn options(&self) -> &ExploreOptions {
        self.engine.options()
    }

    /// Runs the workload once from its start state (a fresh filesystem plus
    /// its [`Workload::initial_disk`], if any) without crashes. It must
    /// complete, without panicking and without leftovers, or the exploration
    /// cannot be trusted ([`HarnessError::CleanRunFailed`];
    /// [`HarnessError::InitialDiskFailed`] if the initial disk fails).
    pub fn clean_run(&self) -> Result<CleanRun, HarnessError> {
        self.engine.sandboxed(Engine::clean_run)
    }

    /// Runs the clean run, then `schedule` (what `crashproof replay` does).
    /// A case that found no violation must have crashed at every point of
    /// the schedule: a point its run never reaches is
    /// [`HarnessError::CrashPointNotReached`], which says how long the run
    /// was and which failpoints it hit; a state index the crash point does
    /// not have is [`HarnessError::StateIndexOutOfRange`], which gives the
    /// count.
    pub fn replay(&self, schedule: &KillSchedule) -> Result<(CleanRun, CaseOutcome), HarnessError> {
        self.engine.sandboxed(|engine| engine.replay(schedule))
    }

    /// The one-case report of a replayed `schedule` ([`Explorer::replay`]'s
    /// result): one [`Pass::Replay`] with its crash points, states and
    /// violation, as [`Explorer::explore`] would report it.
    pub fn replay_report(
        &self,
        clean: &CleanRun,
        schedule: &KillSchedule,
        outcome: &CaseOutcome,
    ) -> Result<Report, HarnessError> {
        replay::report(&self.engine, clean, schedule, outcome)
    }

    /// Runs one case from the start state: the `i`-th crash point applies
    /// to the `i`-th run; after the last one the workload runs to completion.
    /// A point a run never reaches (a step past its end, a failpoint hit it
    /// does not make) lets that run end as it ends, and is reported in
    /// [`CaseOutcome::unreached`] (random schedules may hold such points;
    /// [`Explorer::replay`] refuses them). A run that fails on an injected
    /// fault (see `Fault`) is restarted after a modelled power loss, at most
    /// [`crate::explore::FAULT_RESTARTS_MAX`] times; so at most
    /// `points + 1 + FAULT_RESTARTS_MAX` runs start and a case always ends.
    pub fn run_case(
        &self,
        clean: &CleanRun,
        schedule: &KillSchedule,
    ) -> Result<CaseOutcome, HarnessError> {
        self.engine
            .sandboxed(|engine| engine.run_case(clean, schedule))
    }

    /// Runs `schedule` twice (madsim's `MADSIM_TEST_CHECK_DETERMINISM`) and
    /// compares the two traces, outputs and verdicts. `Some` violation of
    /// [`crate::explore::Oracle::NonDeterminism`] if they differ, with the
    /// first differing trace line.
    pub fn check_determinism(
        &self,
        clean: &CleanRun,
        schedule: &KillSchedule,
    ) -> Result<Option<Violation>, HarnessError> {
        self.engine
            .sandboxed(|engine| determinism::check_case(engine, clean, schedule))
    }

    /// Explores under every pass of `plan` and merges the reports, keeping
    /// at most `violations_in_full_max` violation groups in full. Every
    /// pass must check something: one that checks no post-crash state and
    /// finds no violation is [`HarnessError::NothingChecked`]; a plan
    /// without a mode or model is [`HarnessError::EmptyPlan`].
    pub fn explore(&self, plan: &Plan) -> Result<Report, HarnessError> {
        self.explore_observed(plan, &mut |_| {})
    }

    /// [`Explorer::explore`], telling `observer` when each pass starts and
    /// ends (on the caller's thread). With
    /// [`ExploreOptions::cancel`] set, stops between units of work and
    /// returns the report so far, marked [`Report::interrupted`]
    /// ([`HarnessError::Interrupted`] if no pass had begun).
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
        self.observed(observer, |engine, tell| explore_plan(engine, plan, tell))
    }

    /// Explores one pass.
    pub fn explore_pass(&self, pass: &Pass) -> Result<Report, HarnessError> {
        self.explore_pass_observed(pass, &mut |_| {})
    }

    /// Explores one pass, telling `observer` how far it got
    /// ([`Event::Checking`]; on the caller's thread).
    pub fn explore_pass_observed(
        &self,
        pass: &Pass,
        observer: &mut dyn FnMut(Event<'_>),
    ) -> Result<Report, HarnessError> {
        self.observed(observer, |engine, tell| explore_one(engine, pass, tell))
    }

    /// Audits the workload once, runs `work` confined, telling `observer`
    /// on this thread what it tells (events cross as owned copies), and
    /// explains its error (as `Engine::sandboxed` does). The
    /// work waits until the observer has handled each event, so events
    /// stay in step with the work as if the observer ran in it.
    fn observed<W>(
        &self,
        observer: &mut dyn FnMut(Event<'_>),
        work: W,
    ) -> Result<Report, HarnessError>
    where
        W: FnOnce(&Engine<'w>, &mut dyn FnMut(Event<'_>)) -> Result<Report, HarnessError> + Send,
    {
        self.engine.audit()?;
        let (sender, told) = mpsc::channel::<Told>();
        let (handled, wait) = mpsc::channel::<()>();
        let result = self.engine.confined(
            move |engine| {
                // The receiver lives until this returns.
                let mut tell = |event: Event<'_>| {
                    if sender.send(Told::of(event)).is_ok() {
                        let _ = wait.recv();
                    }
                };
                work(engine, &mut tell)
            },
            || {
                for told in told {
                    observer(told.event());
                    let _ = handled.send(());
                }
            },
        );
        result.map_err(|e| self.engine.explain(e))
    }

    /// Explores every single crash of one clean run under `model`: the crash
    /// images are taken from the step hook's `CrashSource` during one clean
    /// run (which the hook does not disturb), then recovery runs on each.
    /// Where a crash point has more states than
    /// [`ExploreOptions::states_enumerated_max`],
    /// `options.picks_per_capped_point` seeded picks are checked instead and
    /// the report says so. The first failing case of each violation group
    /// is replayed from scratch with [`Explorer::run_case`] for its full
    /// trace (and to confirm it).
    pub fn explore_exhaustive(&self, model: CrashModel) -> Result<Report, HarnessError> {
        self.engine
            .sandboxed(|engine| exhaustive::explore(engine, model, &mut |_| {}))
    }

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
        self.engine
            .sandboxed(|engine| two_crashes::explore(engine, model, &mut |_| {}))
    }

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
        self.engine
            .sandboxed(|engine| sync_eio::explore(engine, model, &mut |_| {}))
    }

    /// One run with `rules` in force (every call they match fails; see
    /// [`crashproof_fault::FaultRule`]) under a hook that collects the
    /// post-crash states of `model` before every step (and after the last
    /// one, if the run completes), each the state
    /// `step:C@model#...;RULES` selects; then recovery (fault-free) and both
    /// oracles on each. The faulted run's own end is a case too (schedule
    /// `RULES`): a run that fails on the error restarts after a power loss,
    /// one that completes anyway meets the result oracle. The report notes
    /// what each rule matched; a rule that failed no call is
    /// [`HarnessError::FaultRuleNeverInjected`], and no rule at all is
    /// [`HarnessError::EmptyPlan`].
    pub fn explore_fault_rules(
        &self,
        model: CrashModel,
        rules: &[crashproof_fault::FaultRule],
    ) -> Result<Report, HarnessError> {
        self.engine
            .sandboxed(|engine| fault_rules::explore(engine, model, rules, &mut |_| {}))
    }

    /// The schedule strategy for this workload: steps up to the clean run's
    /// length, the failpoints the clean run passed, crash points under
    /// `models`.
    pub fn schedule_strategy(
        &self,
        clean: &CleanRun,
        models: &[CrashModel],
        config: &RandomConfig,
    ) -> ScheduleStrategy {
        random::schedule_strategy(clean, models, config)
    }

    /// Runs `config.cases` random schedules over `models` (seeded from
    /// `options.seed`); on the first failure proptest shrinks the schedule
    /// and the report holds the violation of the minimal one. With
    /// `check_determinism`, every case is run twice and compared.
    pub fn explore_random(
        &self,
        models: &[CrashModel],
        config: &RandomConfig,
    ) -> Result<Report, HarnessError> {
        self.engine
            .sandboxed(|engine| random::explore(engine, models, config))
    }
}

/// Every pass of `plan`, merged; stops after a pass that was interrupted
/// or before one when the caller's cancel flag is set. Consecutive
/// exhaustive passes (one per model) run as one group
/// (`exhaustive::explore_models`: one twin run for all of them), told as
/// every pass of the group starting, then every one finishing; each
/// pass's report is the one it makes alone.
fn explore_plan(
    engine: &Engine<'_>,
    plan: &Plan,
    observer: &mut dyn FnMut(Event<'_>),
) -> Result<Report, HarnessError> {
    let mut total: Option<Report> = None;
    for group in groups(plan.passes()) {
        if engine.options().cancel.is_set() {
            let Some(total) = &mut total else {
                return Err(HarnessError::Interrupted);
            };
            total.interrupted = true;
            break;
        }
        for pass in &group {
            observer(Event::PassStarted(pass));
        }
        let explored = match group.as_slice() {
            [pass] => explore_one(engine, pass, observer).map(|report| vec![report]),
            passes => {
                let models: Vec<CrashModel> = passes.iter().filter_map(exhaustive_model).collect();
                exhaustive::explore_models(engine, &models, observer)
            }
        };
        let reports = match explored {
            Ok(reports) => reports,
            // A pass the interruption broke off (its clean run or twin
            // stopped, a program on a mount killed): what it did is not
            // counted; the passes before it stand.
            Err(_) if engine.options().cancel.is_set() => {
                let Some(total) = &mut total else {
                    return Err(HarnessError::Interrupted);
                };
                total.interrupted = true;
                break;
            }
            Err(e) => return Err(e),
        };
        let mut interrupted = false;
        for report in reports {
            for p in &report.passes {
                observer(Event::PassFinished(p));
            }
            interrupted |= report.interrupted;
            match &mut total {
                None => total = Some(report),
                Some(t) => t.merge(report, engine.options().violations_in_full_max),
            }
        }
        if interrupted {
            break;
        }
    }
    let mut total = total.ok_or_else(|| HarnessError::EmptyPlan {
        workload: engine.workload().name(),
        missing: "pass",
    })?;
    total.unmodelled = engine.workload().unmodelled();
    Ok(total)
}

/// `passes` in order, consecutive exhaustive passes in one group, every
/// other pass in a group of its own.
fn groups(passes: Vec<Pass>) -> Vec<Vec<Pass>> {
    let mut groups: Vec<Vec<Pass>> = Vec::new();
    for pass in passes {
        match groups.last_mut() {
            Some(group)
                if exhaustive_model(&pass).is_some()
                    && group.last().and_then(exhaustive_model).is_some() =>
            {
                group.push(pass);
            }
            _ => groups.push(vec![pass]),
        }
    }
    groups
}

/// The model of an exhaustive pass.
fn exhaustive_model(pass: &Pass) -> Option<CrashModel> {
    match pass {
        Pass::Exhaustive(model) => Some(*model),
        _ => None,
    }
}

/// One pass.
fn explore_one(
    engine: &Engine<'_>,
    pass: &Pass,
    observer: &mut dyn FnMut(Event<'_>),
) -> Result<Report, HarnessError> {
    match pass {
        Pass::Exhaustive(model) => exhaustive::explore(engine, *model, observer),
        Pass::TwoCrashes(model) => two_crashes::explore(engine, *model, observer),
        Pass::SyncEio(model) => sync_eio::explore(engine, *model, observer),
        Pass::Random { models, config } => random::explore(engine, models, config),
        Pass::Replay { schedule, .. } => replay::explore(engine, schedule),
        Pass::FaultRules { model, rules } => fault_rules::explore(engine, *model, rules, observer),
    }
}
