//! Arbitrary kill schedules replayed by the explorer.

use arbitrary::Unstructured;
use crashproof_catalog::core_runner::{CoreRunnerConfig, CoreRunnerWorkload};
use crashproof_fault::{CrashAt, KillSchedule};
use crashproof_sim::explore::{ExploreOptions, Explorer, HarnessError, Workload};

/// The workload [`check_kill_schedule`] explores: the core runner on a
/// small job (N = 60 items, K = 7), so one case takes a few hundred steps.
pub fn fuzz_workload() -> CoreRunnerWorkload {
    CoreRunnerWorkload::new(CoreRunnerConfig {
        items: 60,
        checkpoint_every: 7,
        ..CoreRunnerConfig::default()
    })
}

/// [`check_kill_schedule_on`] the [`fuzz_workload`].
///
/// A finding's replay line says how to replay the case in code; its
/// workload is this small core-runner job (N = 60, K = 7), not the
/// registry's `core-runner` (N = 1000, K = 50), so the error also says that
/// the input bytes replayed through this function reproduce it exactly.
pub fn check_kill_schedule(data: &[u8]) -> Result<(), String> {
    check_kill_schedule_on(&fuzz_workload(), data).map_err(|finding| {
        format!(
            "{finding}\n(fuzzed workload: core-runner with N = 60, K = 7, built by \
             crashproof_tests::fuzz_bodies::fuzz_workload; reproduce with \
             crashproof_tests::fuzz_bodies::check_kill_schedule on the input bytes)"
        )
    })
}

/// Draws a simulator seed and an arbitrary [`KillSchedule`] from `data`
/// (too little data: nothing to check), folds each step crash point into
/// the clean run's length so it lands on a real step, and runs the case
/// with the [`Explorer`].
///
/// `Err` means a real bug: the explorer reported a violation (its Display,
/// with the trace and the replay command), or the harness failed for a
/// reason other than an index-selected state past the enumeration cap
/// (which is a property of the schedule, not a bug).
pub fn check_kill_schedule_on(workload: &dyn Workload, data: &[u8]) -> Result<(), String> {
    let mut u = Unstructured::new(data);
    let Ok(seed) = u.arbitrary::<u64>() else {
        return Ok(());
    };
    let Ok(mut schedule) = u.arbitrary::<KillSchedule>() else {
        return Ok(());
    };
    let explorer = Explorer::new(
        workload,
        ExploreOptions {
            seed,
            ..ExploreOptions::default()
        },
    );
    let clean = explorer.clean_run().map_err(|e| e.to_string())?;
    for point in &mut schedule.points {
        if let CrashAt::Step(step) = &mut point.at {
            *step %= clean.steps + 1;
        }
    }
    match explorer.run_case(&clean, &schedule) {
        Ok(outcome) => match outcome.violation {
            None => Ok(()),
            Some(violation) => Err(violation.to_string()),
        },
        Err(HarnessError::TooManyStates { .. }) => Ok(()),
        Err(e) => Err(format!("schedule `{schedule}` (seed {seed}): {e}")),
    }
}
