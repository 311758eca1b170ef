//! Random multi-crash exploration: proptest over kill schedules, shrinking
//! a failure to a minimal schedule.

use std::cell::RefCell;

use crashproof_fault::strategy::{ScheduleStrategy, schedules};
use crashproof_fault::{CrashModel, KillSchedule};
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};

use super::determinism;
use crate::explore::engine::clean::CleanRun;
use crate::explore::engine::start::Engine;
use crate::explore::report::summary::Report;
use crate::explore::report::violation::{Finding, Oracle, Violation};
use crate::explore::vocabulary::error::HarnessError;
use crate::explore::vocabulary::options::InvalidOptions;
use crate::explore::vocabulary::plan::{Pass, RandomConfig};

/// What the proptest closure accumulates across cases.
#[derive(Default)]
struct Seen {
    cases: u64,
    crashes: u64,
    state_digests: Vec<u64>,
}

/// Runs `config.cases` random schedules over `models`, shrinking the first
/// failure ([`crate::explore::Explorer::explore_random`]).
pub(crate) fn explore(
    engine: &Engine<'_>,
    models: &[CrashModel],
    config: &RandomConfig,
) -> Result<Report, HarnessError> {
    if !engine.options().shard.is_whole() {
        return Err(InvalidOptions::ShardedRandom.into());
    }
    let clean = engine.clean_run()?;
    let strategy = schedules(schedule_strategy(&clean, models, config));
    let mut seed_bytes = [0u8; 32];
    ChaCha8Rng::seed_from_u64(engine.options().seed).fill_bytes(&mut seed_bytes);
    let proptest_config = Config {
        cases: config.cases,
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner = TestRunner::new_with_rng(
        proptest_config,
        TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes),
    );
    let seen = RefCell::new(Seen::default());
    let outcome = if config.cases == 0 {
        // proptest would still draw; zero cases check nothing (below).
        Ok(())
    } else {
        runner.run(&strategy, |schedule| {
            if engine.options().cancel.is_set() {
                // Every later case is rejected at once; the pass reports
                // what it ran, marked interrupted (below).
                return Err(TestCaseError::reject("interrupted"));
            }
            let fail = |e: HarnessError| TestCaseError::fail(format!("harness error: {e}"));
            let outcome = engine.run_case(&clean, &schedule).map_err(fail)?;
            {
                let mut seen = seen.borrow_mut();
                seen.cases += 1;
                seen.crashes += outcome.crashes;
                seen.state_digests.extend(&outcome.state_digests);
            }
            if let Some(v) = outcome.violation {
                return Err(TestCaseError::fail(v.summary()));
            }
            if engine.options().check_determinism
                && let Some(v) = determinism::check_case(engine, &clean, &schedule).map_err(fail)?
            {
                return Err(TestCaseError::fail(v.summary()));
            }
            Ok(())
        })
    };
    let seen = seen.into_inner();
    let pass = Pass::Random {
        models: models.to_vec(),
        config: config.clone(),
    };
    let mut tally = engine.tally(&clean, pass.clone());
    tally.report.cases = Some(seen.cases);
    tally.report.crash_points = seen.crashes;
    tally.states(&seen.state_digests);
    tally.note(format!(
        "{pass}: schedules of up to {} crash points{}{}",
        config.points_per_case_max,
        if config.sync_faults {
            ", with up to 2 injected sync EIOs"
        } else {
            ""
        },
        if engine.options().check_determinism {
            "; every case ran twice to check determinism"
        } else {
            ""
        }
    ));
    let interrupted = engine.options().cancel.is_set();
    match outcome {
        Ok(()) | Err(TestError::Abort(_)) if interrupted => return Ok(tally.finish_interrupted()),
        Ok(()) => {}
        Err(TestError::Abort(reason)) => return Err(HarnessError::Aborted(reason.to_string())),
        Err(TestError::Fail(_, minimal)) => {
            // The violation names the states its crash points took (an
            // `idx=` drawn past a point's count, as the state it selected).
            let violation = minimal_violation(engine, &clean, &minimal)?;
            tally.note(format!(
                "{pass}: shrunk to the minimal schedule `{}` (cases include shrinking steps)",
                violation.schedule
            ));
            tally.violation(violation);
        }
    }
    if interrupted {
        return Ok(tally.finish_interrupted());
    }
    tally.finish()
}

/// The full violation of a shrunk schedule (its own oracle failure, or
/// the non-determinism that made proptest fail it).
fn minimal_violation(
    engine: &Engine<'_>,
    clean: &CleanRun,
    minimal: &KillSchedule,
) -> Result<Violation, HarnessError> {
    let outcome = engine.run_case(clean, minimal)?;
    if let Some(v) = outcome.violation {
        return Ok(v);
    }
    if let Some(v) = determinism::check_case(engine, clean, minimal)? {
        return Ok(v);
    }
    let finding = Finding::new(
        Oracle::NonDeterminism,
        "proptest saw this schedule fail but a rerun passes",
    );
    Ok(engine.violation(
        finding,
        minimal,
        outcome.trace,
        outcome.steps_before_first_crash,
    ))
}

/// The schedule strategy for this workload: steps up to the clean run's
/// length, the failpoints the clean run passed, crash points under
/// `models`.
pub(crate) fn schedule_strategy(
    clean: &CleanRun,
    models: &[CrashModel],
    config: &RandomConfig,
) -> ScheduleStrategy {
    ScheduleStrategy {
        max_points: config.points_per_case_max,
        max_step: clean.steps,
        models: models.to_vec(),
        failpoints: clean.failpoints.clone(),
        with_faults: config.sync_faults,
    }
}
