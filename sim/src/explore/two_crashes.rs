//! Exhaustive two-crash exploration: every single crash of the clean run,
//! then every crash of the recovery run from each of those states. Finds
//! bugs that only a crash *during recovery* exposes (cleanup, migration or
//! rewriting done at startup).

use crashproof_fault::{CrashAt, CrashModel, CrashPoint, KillSchedule, StateSelector};

use super::case::{CaseState, CleanRun, Explorer, RunEnd, panic_message};
use super::error::HarnessError;
use super::exhaustive::Ran;
use super::oracle::{Finding, check_result};
use super::report::{ModelReport, Report};
use super::violation::{Oracle, Violation};
use super::workload::Progress;
use crate::SimFs;

/// Running totals of a two-crash pass.
struct Tally {
    report: ModelReport,
    violations: Vec<Violation>,
}

impl Explorer<'_> {
    /// Explores every crash point of the clean run under `model` and, from
    /// each post-crash state, every crash point of its recovery run (same
    /// model, same cap and seeded fallback). Every state gets the state
    /// oracle, and every resumed run that completes the result oracle.
    /// Counts in the report add up over both levels: `crash_points` is the
    /// clean run's points plus the points of every recovery run explored.
    ///
    /// Cost: (states of the first crash) x (steps of recovery) x (states
    /// of the second crash) runs; use the cheaper models on big workloads.
    pub fn explore_exhaustive_two_crashes(
        &self,
        model: CrashModel,
    ) -> Result<Report, HarnessError> {
        let (clean, points, progress) = self.collect(model)?;
        let mut tally = Tally {
            report: ModelReport {
                model,
                label: format!("{model} x2"),
                crash_points: points.len() as u64,
                states_checked: 0,
                states_per_point: Vec::new(),
                states_possible_per_point: Vec::new(),
                capped_points: 0,
                picks_per_capped_point: self.options().picks_per_capped_point as u64,
                violations: 0,
                elapsed: None,
            },
            violations: Vec::new(),
        };
        for first in points {
            let before = progress.as_of(first.step);
            tally.report.capped_points += u64::from(first.capped);
            tally
                .report
                .states_per_point
                .push(first.states.len() as u64);
            tally.report.states_possible_per_point.push(first.possible);
            for (selector, image) in first.states {
                let crash1 = point(first.step, model, selector);
                self.second_level(&clean, &mut tally, &before, (first.step, crash1), image)?;
            }
        }
        let mut notes = vec![format!(
            "{model} x2: every crash of the clean run, then every crash of each recovery run"
        )];
        if tally.report.capped_points > 0 {
            notes.push(format!(
                "{model} x2: {} crash points had more than {} states; {} seeded picks were checked at each",
                tally.report.capped_points,
                self.options().states_per_point_max,
                self.options().picks_per_capped_point
            ));
        }
        Ok(Report {
            workload: self.workload().name(),
            mode: "exhaustive two-crash".into(),
            seed: self.options().seed,
            clean_steps: clean.steps,
            violation_count: tally.report.violations,
            models: vec![tally.report],
            cases: None,
            violations: tally.violations,
            notes,
            elapsed: None,
        })
    }

    /// One first-crash state: its state oracle, its recovery run (collecting
    /// crash states) and result oracle, then every second crash of it.
    fn second_level(
        &self,
        clean: &CleanRun,
        tally: &mut Tally,
        before: &Progress,
        (step1, crash1): (u64, CrashPoint),
        image: SimFs,
    ) -> Result<(), HarnessError> {
        tally.report.states_checked += 1;
        let mut st = fresh_state(before.clone(), 0, 1);
        let model = crash1.model;
        if let Err(finding) = self.after_crash(&mut st, step1, image, "") {
            return self.record(clean, tally, vec![crash1], finding);
        }
        st.runs += 1;
        let (ran, points) = self.collect_run(&st.fs, &mut st.progress, model);
        if let Some(finding) = self.verdict(clean, &st, ran) {
            return self.record(clean, tally, vec![crash1], finding);
        }
        tally.report.crash_points += points.len() as u64;
        for second in points {
            let before2 = st.progress.as_of(second.step);
            tally.report.capped_points += u64::from(second.capped);
            tally
                .report
                .states_per_point
                .push(second.states.len() as u64);
            tally.report.states_possible_per_point.push(second.possible);
            for (selector, image2) in second.states {
                tally.report.states_checked += 1;
                let mut st2 = fresh_state(before2.clone(), st.crashes, st.runs);
                let finding = match self.after_crash(&mut st2, second.step, image2, "") {
                    Err(finding) => Some(finding),
                    Ok(()) => self.finish(clean, &mut st2)?,
                };
                if let Some(finding) = finding {
                    let crash2 = point(second.step, model, selector);
                    self.record(clean, tally, vec![crash1.clone(), crash2], finding)?;
                }
            }
        }
        Ok(())
    }

    /// The last run of a case, to completion, and its verdict.
    fn finish(
        &self,
        clean: &CleanRun,
        st: &mut CaseState,
    ) -> Result<Option<Finding>, HarnessError> {
        Ok(match self.run_once(st, None)? {
            Err(finding) => Some(finding),
            Ok(RunEnd::Completed(c)) => check_result(self.workload(), clean, st, &c).err(),
            Ok(RunEnd::Failed(e)) => Some(Finding::new(
                Oracle::Result,
                format!("did not complete: {e}"),
            )),
            Ok(RunEnd::Crashed { .. }) => Some(Finding::new(
                Oracle::NonDeterminism,
                "a run without a crash point crashed",
            )),
        })
    }

    /// The verdict on a recovery run that ran under the collecting hook.
    fn verdict(&self, clean: &CleanRun, st: &CaseState, ran: Ran) -> Option<Finding> {
        match ran {
            Err(payload) => Some(Finding::new(
                Oracle::Panic,
                format!(
                    "run {} panicked: {}",
                    st.runs,
                    panic_message(payload.as_ref())
                ),
            )),
            Ok(Err(e)) => Some(Finding::new(
                Oracle::Result,
                format!("did not complete: {e}"),
            )),
            Ok(Ok(c)) => check_result(self.workload(), clean, st, &c).err(),
        }
    }

    /// Counts a finding and keeps the first few in full (replayed).
    fn record(
        &self,
        clean: &CleanRun,
        tally: &mut Tally,
        points: Vec<CrashPoint>,
        finding: Finding,
    ) -> Result<(), HarnessError> {
        tally.report.violations += 1;
        if tally.violations.len() < self.options().violations_in_full_max {
            let schedule = KillSchedule {
                points,
                faults: Vec::new(),
            };
            tally
                .violations
                .push(self.confirm(clean, &schedule, finding)?);
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

fn fresh_state(progress: Progress, crashes: u64, runs: u64) -> CaseState {
    CaseState {
        fs: SimFs::default(),
        progress,
        trace: None,
        last_crash_processed: None,
        last_crash_recovered: None,
        crashes,
        runs,
        output: None,
    }
}
