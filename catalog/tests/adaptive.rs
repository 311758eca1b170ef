//! K chosen online under the explorer: the adaptive runner keeps its redo
//! bound (`max_redo`) under every crash model in both commit modes, and the
//! planted variant that ignores `max_redo` is caught by the redo bound under
//! every model, with a replay line that reproduces it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crashproof_catalog::adaptive::{AdaptiveRunner, MAX_REDO};
use crashproof_catalog::workload as workload_by_name;
use crashproof_sim::explore::{ExploreOptions, Explorer, Oracle, Plan, Report, Workload};

/// Exhaustive single crashes under every model.
fn explore(workload: &dyn Workload) -> Report {
    Explorer::new(workload, ExploreOptions::default())
        .explore(&Plan::default())
        .unwrap()
}

#[test]
fn the_adaptive_runner_keeps_max_redo_under_every_model() {
    let workload = workload_by_name("core-runner-adaptive").unwrap();
    assert_eq!(workload.redo_bound(), MAX_REDO);
    assert!(workload.checks().redo_bound);
    let report = explore(&*workload);
    assert_eq!(report.models().len(), 4);
    assert!(report.states_checked() > 0);
    assert!(report.is_clean(), "{report}");
}

#[test]
fn the_adaptive_runner_with_background_commits_keeps_max_redo_under_every_model() {
    let workload = workload_by_name("core-runner-adaptive-background").unwrap();
    assert_eq!(workload.redo_bound(), MAX_REDO);
    let report = explore(&*workload);
    assert_eq!(report.models().len(), 4);
    assert!(report.states_checked() > 0);
    assert!(report.is_clean(), "{report}");
}

#[test]
fn a_runner_ignoring_max_redo_is_caught_by_the_redo_bound_under_every_model() {
    let workload = workload_by_name("adaptive-ignores-max-redo").unwrap();
    let report = explore(&*workload);
    assert_eq!(report.models().len(), 4);
    for pass in &report.passes {
        assert!(
            pass.violations_per_oracle.get(&Oracle::Result) > Some(&0),
            "{:?}: {report}",
            pass.pass
        );
    }
    let violation = report
        .violations()
        .next()
        .expect("a violation with its trace");
    assert!(
        violation
            .message
            .contains(&format!("> redo bound {MAX_REDO}")),
        "{}",
        violation.message
    );
    // Only the redo bound: output, recovery and leftovers are all right.
    assert_eq!(
        report.violations_per_oracle().keys().collect::<Vec<_>>(),
        [&Oracle::Result]
    );
    // The same runner with the cap is the control: the only difference.
    assert!(
        AdaptiveRunner::synchronous()
            .runner_config()
            .checkpoint_every_max()
            <= MAX_REDO
    );
    assert!(
        AdaptiveRunner::ignoring_max_redo()
            .runner_config()
            .checkpoint_every_max()
            > MAX_REDO
    );
}
