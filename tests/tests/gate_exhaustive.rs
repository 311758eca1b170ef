//! CI gate: exhaustive single-crash exploration of the default workload
//! (the reference core's runner, N = 1000 items, K = 50) under every crash
//! model finds zero violations, and checks as many states as it claims.

// This file is a test crate: its helper functions are test code too, and a
// failed unwrap there is a failed test with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use crashproof_catalog::core_runner::{CoreRunnerConfig, CoreRunnerWorkload};
use crashproof_fault::CrashModel;
use crashproof_sim::explore::{ExploreOptions, Explorer, Pass, Report};

fn default_workload() -> CoreRunnerWorkload {
    let config = CoreRunnerConfig {
        items: 1000,
        checkpoint_every: 50,
        ..CoreRunnerConfig::default()
    };
    CoreRunnerWorkload::new(config)
}

/// Explores `model` and checks the bookkeeping: one crash point per step of
/// the clean run plus its end, states summed over the points, zero violations.
fn check(model: CrashModel) -> Report {
    check_workload(&default_workload(), model)
}

fn check_workload(workload: &CoreRunnerWorkload, model: CrashModel) -> Report {
    let explorer = Explorer::new(workload, ExploreOptions::default());
    let clean = explorer.clean_run().unwrap();
    let commits = workload.config().items / workload.config().checkpoint_every;
    assert!(
        clean.steps > commits * 5,
        "1000 items at K=50 commit 20 times: {} steps",
        clean.steps
    );
    let report = explorer.explore_exhaustive(model).unwrap();
    assert!(report.is_clean(), "{report}");
    assert_eq!(report.violation_count(), 0);
    let m = &report.passes[0];
    assert_eq!(m.pass, Pass::Exhaustive(model));
    assert_eq!(
        m.crash_points,
        clean.steps + 1,
        "every step of the clean run, plus its end"
    );
    assert_eq!(m.states_per_point.len() as u64, m.crash_points);
    assert!(m.states_checked > 0);
    assert_eq!(
        m.states_per_point.iter().sum::<u64>(),
        m.states_checked,
        "crash points x states"
    );
    // Independently of the images built: the simulator's own count of what
    // the model allows, point by point (sampled points check the picks).
    let (enumerated_max, picks) = (
        ExploreOptions::default().states_enumerated_max(),
        ExploreOptions::default().picks_per_capped_point,
    );
    assert_eq!(m.states_possible_per_point.len(), m.states_per_point.len());
    let counts = m.states_per_point.iter().zip(&m.states_possible_per_point);
    for (i, (&checked, &possible)) in counts.enumerate() {
        if possible <= enumerated_max as u64 {
            assert_eq!(
                checked, possible,
                "crash point {i}: every state the model allows"
            );
        } else {
            assert_eq!(checked, picks as u64, "crash point {i}: seeded picks");
        }
    }
    assert!(
        m.states_per_point.iter().all(|&n| n >= 1),
        "every crash point has at least one state"
    );
    assert!(
        (1..=m.states_checked).contains(&m.states_distinct()),
        "distinct states are some of those checked: {report}"
    );
    if m.capped_points > 0 {
        assert!(
            report
                .notes_all()
                .iter()
                .any(|n| n.contains("seeded picks")),
            "sampling must be reported: {report}"
        );
    }
    report
}

#[test]
fn drop_unsynced_every_step_has_exactly_the_synced_state() {
    let r = check(CrashModel::DropUnsynced);
    let m = &r.passes[0];
    assert_eq!(
        m.states_checked, m.crash_points,
        "one state per crash point"
    );
}

#[test]
fn prefix_every_step_every_prefix() {
    let r = check(CrashModel::Prefix);
    let m = &r.passes[0];
    assert!(
        m.states_checked > m.crash_points,
        "some steps have unsynced operations: {r}"
    );
}

#[test]
fn subset_every_step_every_subset_or_seeded_picks() {
    let r = check(CrashModel::Subset);
    let m = &r.passes[0];
    assert!(m.states_checked > m.crash_points, "{r}");
}

#[test]
fn eager_dirs_every_step() {
    let r = check(CrashModel::EagerDirs);
    let m = &r.passes[0];
    assert_eq!(
        m.states_checked, m.crash_points,
        "one state per crash point"
    );
}

/// The time-based policy (T) under the same exploration: with simulated
/// time per item, commits come every 7 items, well before K = 50.
#[test]
fn time_based_commits_every_model() {
    let config = CoreRunnerConfig {
        items: 140,
        checkpoint_every: 50,
        checkpoint_interval: Some(Duration::from_millis(70)),
        time_per_item: Duration::from_millis(10),
        ..CoreRunnerConfig::default()
    };
    let timed = CoreRunnerWorkload::new(config.clone());
    let untimed = CoreRunnerWorkload::new(CoreRunnerConfig {
        checkpoint_interval: None,
        ..config
    });
    let steps = |w: &CoreRunnerWorkload| {
        Explorer::new(w, ExploreOptions::default())
            .clean_run()
            .unwrap()
            .steps
    };
    assert!(steps(&timed) > 2 * steps(&untimed), "T must add commits");
    for model in CrashModel::ALL {
        check_workload(&timed, model);
    }
}

/// Crashes during recovery, exhaustively: every crash of the clean run, then
/// every crash of each recovery run (a smaller job keeps CI fast; the CLI's
/// `--crashes 2` runs the full default workload).
#[test]
fn two_crashes_every_step_of_every_recovery() {
    let workload = CoreRunnerWorkload::new(CoreRunnerConfig {
        items: 200,
        ..CoreRunnerConfig::default()
    });
    let explorer = Explorer::new(&workload, ExploreOptions::default());
    let clean = explorer.clean_run().unwrap();
    for model in [CrashModel::DropUnsynced, CrashModel::Prefix] {
        let report = explorer.explore_two_crashes(model).unwrap();
        assert!(report.is_clean(), "{report}");
        let m = &report.passes[0];
        assert!(
            m.crash_points > (clean.steps + 1) * 10,
            "second-level points explored: {report}"
        );
        assert_eq!(m.states_per_point.iter().sum::<u64>(), m.states_checked);
    }
}
