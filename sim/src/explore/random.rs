//! Random multi-crash exploration: proptest over kill schedules, shrinking
//! a failure to a minimal schedule.

use std::cell::Cell;

use crashproof_fault::strategy::{ScheduleStrategy, schedules};
use crashproof_fault::{CrashModel, KillSchedule};
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};

use super::case::{CleanRun, Explorer};
use super::error::HarnessError;
use super::report::{ModelReport, Report};

/// What random mode draws.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RandomConfig {
    /// Cases (schedules) to run before declaring success.
    pub cases: u32,
    /// Most crash points per schedule (crashes during recovery included).
    pub max_points: usize,
    /// Models crash points draw from.
    pub models: Vec<CrashModel>,
    /// Whether schedules may also make a sync of the first run fail with
    /// EIO (`eio:N`), to catch programs that believe a retried fsync.
    pub sync_faults: bool,
}

impl Default for RandomConfig {
    fn default() -> Self {
        Self {
            cases: 64,
            max_points: 3,
            models: CrashModel::ALL.to_vec(),
            sync_faults: true,
        }
    }
}

impl Explorer<'_> {
    /// The schedule strategy for this workload: steps up to the clean run's
    /// length, the failpoints the clean run passed, `config`'s models.
    pub fn schedule_strategy(&self, clean: &CleanRun, config: &RandomConfig) -> ScheduleStrategy {
        ScheduleStrategy {
            max_points: config.max_points,
            max_step: clean.steps,
            models: config.models.clone(),
            failpoints: clean.failpoints.clone(),
            with_faults: config.sync_faults,
        }
    }

    /// Runs `config.cases` random schedules (seeded from `options.seed`); on
    /// the first failure proptest shrinks the schedule and the report holds
    /// the violation of the minimal one. With `check_determinism`, every case
    /// is run twice and compared.
    pub fn explore_random(&self, config: &RandomConfig) -> Result<Report, HarnessError> {
        let clean = self.clean_run()?;
        let strategy = schedules(self.schedule_strategy(&clean, config));
        let mut seed_bytes = [0u8; 32];
        ChaCha8Rng::seed_from_u64(self.options().seed).fill_bytes(&mut seed_bytes);
        let proptest_config = Config {
            cases: config.cases,
            failure_persistence: None,
            ..Config::default()
        };
        let mut runner = TestRunner::new_with_rng(
            proptest_config,
            TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes),
        );
        let (cases, crashes) = (Cell::new(0u64), Cell::new(0u64));
        let outcome = runner.run(&strategy, |schedule| {
            cases.set(cases.get() + 1);
            let fail = |e: HarnessError| TestCaseError::fail(format!("harness error: {e}"));
            let outcome = self.run_case(&clean, &schedule).map_err(fail)?;
            crashes.set(crashes.get() + outcome.crashes);
            if let Some(v) = outcome.violation {
                return Err(TestCaseError::fail(v.summary()));
            }
            if self.options().check_determinism
                && let Some(v) = self.check_determinism(&clean, &schedule).map_err(fail)?
            {
                return Err(TestCaseError::fail(v.summary()));
            }
            Ok(())
        });
        let mut violations = Vec::new();
        let mut notes = Vec::new();
        match outcome {
            Ok(()) => {}
            Err(TestError::Abort(reason)) => return Err(HarnessError::Aborted(reason.to_string())),
            Err(TestError::Fail(_, minimal)) => {
                notes.push(format!(
                    "shrunk to the minimal schedule `{minimal}` (cases include shrinking steps)"
                ));
                violations.push(self.minimal_violation(&clean, &minimal)?);
            }
        }
        let names: Vec<&str> = config.models.iter().map(|m| m.name()).collect();
        let model = ModelReport {
            label: if config.models.len() == 1 {
                names.join("")
            } else {
                "random mix".to_string()
            },
            model: config
                .models
                .first()
                .copied()
                .unwrap_or(CrashModel::DropUnsynced),
            crash_points: crashes.get(),
            states_checked: crashes.get(),
            states_per_point: Vec::new(),
            states_possible_per_point: Vec::new(),
            capped_points: 0,
            picks_per_capped_point: 0,
            violations: violations.len() as u64,
            elapsed: None,
        };
        notes.insert(
            0,
            format!(
                "random schedules of up to {} crash points over models {}{}{}",
                config.max_points,
                names.join(", "),
                if config.sync_faults {
                    ", with up to 2 injected sync EIOs"
                } else {
                    ""
                },
                if self.options().check_determinism {
                    "; every case ran twice to check determinism"
                } else {
                    ""
                }
            ),
        );
        Ok(Report {
            workload: self.workload().name(),
            mode: "random".into(),
            seed: self.options().seed,
            clean_steps: clean.steps,
            models: vec![model],
            cases: Some(cases.get()),
            violation_count: violations.len() as u64,
            violations,
            notes,
            elapsed: None,
        })
    }

    /// The full violation of a shrunk schedule (its own oracle failure, or
    /// the non-determinism that made proptest fail it).
    fn minimal_violation(
        &self,
        clean: &CleanRun,
        minimal: &KillSchedule,
    ) -> Result<super::violation::Violation, HarnessError> {
        if let Some(v) = self.run_case(clean, minimal)?.violation {
            return Ok(v);
        }
        if let Some(v) = self.check_determinism(clean, minimal)? {
            return Ok(v);
        }
        let finding = super::oracle::Finding::new(
            super::violation::Oracle::NonDeterminism,
            "proptest saw this schedule fail but a rerun passes",
        );
        Ok(self.violation(finding, minimal, self.run_case(clean, minimal)?.trace))
    }
}
