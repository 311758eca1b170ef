//! Whole cases from the start state: the clean run, one case of a
//! [`KillSchedule`] (what `replay` and the random mode run), the violation
//! a finding becomes (with its replay line), the confirmation replay of a
//! case found without its trace, and the tally that asks for it.

use std::sync::Arc;

use crashproof_fault::{KillSchedule, StateSelector};

use super::case::{Case, History, Next, Taken};
use super::clean::CleanRun;
use super::converge::Watch;
use super::lock::lock;
use super::start::Engine;
use crate::explore::report::tally::{Counted, Tally};
use crate::explore::report::violation::{Finding, Oracle, Violation};
use crate::explore::vocabulary::error::HarnessError;
use crate::explore::vocabulary::plan::Pass;
use crate::explore::vocabulary::unreached::UnreachedPoint;
use crate::{FaultConfig, RuleCount, Trace};

/// An exploration pass's clean run and the history after it
/// ([`Engine::pass_clean_run`]).
pub(crate) struct PassClean {
    /// The clean run.
    pub(crate) clean: CleanRun,
    /// Its history: the progress record journaled by step.
    pub(crate) history: History,
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
    /// What each fault rule of the schedule matched and failed in the
    /// first run (in the schedule's order).
    pub rule_counts: Vec<RuleCount>,
}

impl Engine<'_> {
    /// Runs the workload once from its start state (a fresh filesystem plus its
    /// [`crate::explore::Workload::initial_disk`], if any) without crashes,
    /// keeping every step in [`CleanRun::trace`]. It must complete, without
    /// panicking and without leftovers, or the exploration cannot be trusted
    /// ([`HarnessError::CleanRunFailed`]; [`HarnessError::InitialDiskFailed`]
    /// if the initial disk fails).
    pub(crate) fn clean_run(&self) -> Result<CleanRun, HarnessError> {
        self.run_clean(true, None).map(|(clean, _)| clean)
    }

    /// The clean run of an exploration pass: no trace, converged points
    /// recorded; with the history after it (it journals the progress record
    /// by step). Its disk is dropped: the pass's crash states come from a
    /// twin run (`stream.rs`). It depends on no model, mode or shard, so it
    /// runs once per engine ([`Engine::run_pass_clean`]: the audit's traced
    /// run, or the first pass) and every pass shares it (each pass's twin
    /// run still checks the workload took the same steps to the same
    /// output); a clean run that failed is not kept, so every pass that
    /// asks meets its error.
    pub(crate) fn pass_clean_run(&self) -> Result<Arc<PassClean>, HarnessError> {
        if let Some(kept) = &*lock(&self.pass_clean) {
            return Ok(Arc::clone(kept));
        }
        self.run_pass_clean()
    }

    /// Runs the passes' clean run and keeps it if it completed. The
    /// audit's traced clean run is this one (`strace.rs`), so with the
    /// audit on the passes run none of their own.
    pub(crate) fn run_pass_clean(&self) -> Result<Arc<PassClean>, HarnessError> {
        let (clean, case) = self.run_clean(false, Some(Watch::recording()))?;
        let ran = Arc::new(PassClean {
            clean,
            history: case.history,
        });
        *lock(&self.pass_clean) = Some(Arc::clone(&ran));
        Ok(ran)
    }

    /// Runs the clean run, then `schedule` (what `crashproof replay` does).
    /// A case that found no violation must have crashed at every point of
    /// the schedule: a point its run never reaches is
    /// [`HarnessError::CrashPointNotReached`], which says how long the run
    /// was and which failpoints it hit.
    pub(crate) fn replay(
        &self,
        schedule: &KillSchedule,
    ) -> Result<(CleanRun, CaseOutcome), HarnessError> {
        let clean = self.clean_run()?;
        let (outcome, taken) = self.run_case_taken(&clean, schedule)?;
        // An index past a point's states was taken modulo their count: the
        // case checked another state than the one named.
        for (given, (_, states)) in schedule.points.iter().zip(&taken) {
            if let (StateSelector::Index(index), Some(count)) = (given.state, *states)
                && index >= count
            {
                return Err(HarnessError::StateIndexOutOfRange {
                    point: given.clone(),
                    index,
                    count,
                });
            }
        }
        if outcome.violation.is_none()
            && let Some(unreached) = &outcome.unreached
        {
            return Err(HarnessError::CrashPointNotReached(Box::new(
                unreached.clone(),
            )));
        }
        if outcome.violation.is_none()
            && let Some(unused) = outcome.rule_counts.iter().find(|c| c.injected == 0)
        {
            // A rule that failed nothing replayed a fault that never happened.
            return Err(HarnessError::FaultRuleNeverInjected {
                workload: self.workload().name(),
                rule: unused.rule.to_string(),
                matched: unused.matched,
                steps: outcome.steps_before_first_crash.unwrap_or(clean.steps),
                hint: String::new(),
            });
        }
        Ok((clean, outcome))
    }

    /// Runs one case from the start state: the `i`-th crash point applies
    /// to the `i`-th run; after the last one the workload runs to completion.
    /// A point a run never reaches (a step past its end, a failpoint hit it
    /// does not make) lets that run end as it ends, and is reported in
    /// [`CaseOutcome::unreached`] (random schedules may hold such points;
    /// [`Engine::replay`] refuses them). A run that fails on an injected
    /// fault (see `Fault`) is restarted after a modelled power loss, at most
    /// [`crate::explore::FAULT_RESTARTS_MAX`] times; so at most
    /// `points + 1 + FAULT_RESTARTS_MAX` runs start and a case always ends.
    pub(crate) fn run_case(
        &self,
        clean: &CleanRun,
        schedule: &KillSchedule,
    ) -> Result<CaseOutcome, HarnessError> {
        self.run_case_taken(clean, schedule)
            .map(|(outcome, _)| outcome)
    }

    /// [`Engine::run_case`], with the crash points its runs were given as
    /// the states they selected name them, and the count of states each
    /// `idx=` chose from. A violation's schedule names the states taken (a
    /// random schedule's `idx=` past a point's count, as the state it
    /// selected), so its replay line replays exactly that case.
    fn run_case_taken(
        &self,
        clean: &CleanRun,
        schedule: &KillSchedule,
    ) -> Result<(CaseOutcome, Vec<Taken>), HarnessError> {
        let faults = FaultConfig {
            sync_eio_at_steps: schedule.sync_eio_steps().collect(),
            rules: schedule.rules().cloned().collect(),
            ..FaultConfig::default()
        };
        let (fs, progress) = self.start(faults)?;
        let case = Case::start(fs, progress, true);
        let (case, finding) = Next::Run(case).finish(self, clean, &schedule.points)?;
        self.check_harness()?;
        let history = case.history;
        let trace = history.trace.unwrap_or_default();
        let mut named = schedule.clone();
        for (point, (taken, _)) in named.points.iter_mut().zip(&history.taken) {
            *point = taken.clone();
        }
        let violation = finding
            .map(|f| self.violation(f, &named, trace.clone(), history.steps_before_first_crash));
        let outcome = CaseOutcome {
            trace,
            output: case.output,
            violation,
            crashes: history.crashes,
            runs: history.runs,
            state_digests: history.state_digests,
            steps_before_first_crash: history.steps_before_first_crash,
            unreached: history.unreached,
            rule_counts: history.first_run_rules,
        };
        Ok((outcome, history.taken))
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
        let name = self.workload().name();
        let replay = self
            .options()
            .replay
            .render(&name, schedule, self.options());
        Violation {
            oracle: finding.oracle,
            workload: name,
            schedule: schedule.clone(),
            seed: self.options().seed,
            message: finding.message,
            trace: trace.to_string(),
            replay,
            steps_before_first_crash,
        }
    }

    /// A tally of `pass` against `clean` that replays the first case of
    /// each violation group with [`Engine::confirm`].
    pub(crate) fn tally<'a>(&'a self, clean: &'a CleanRun, pass: Pass) -> Tally<'a> {
        let counted = Counted {
            workload: self.workload(),
            options: self.options(),
            clean_steps: clean.steps,
            clean_syncs: !clean.sync_steps().is_empty(),
            confirm: Box::new(move |schedule, seen| self.confirm(clean, schedule, seen)),
            bypass_detection: self.bypass_detection(),
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
                    Oracle::NonDeterminism,
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
