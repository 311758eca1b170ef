//! CI gate, teeth: the bug zoo's mutants 1-5 are each reported as a
//! violation with a short counterexample, and replaying the printed case
//! reproduces the same trace.

// This file is a test crate: its helper functions are test code too, and a
// failed unwrap there is a failed test with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crashproof_catalog::workload as workload_by_name;
use crashproof_fault::{CrashAt, CrashModel, KillSchedule};
use crashproof_sim::explore::{
    ExploreOptions, Explorer, Oracle, RandomConfig, ReplayLine, Violation,
};

/// Mutants 1-5 of `crashproof_catalog::zoo`.
const MUTANTS: [&str; 5] = [
    "rename-before-fsync",
    "no-dir-fsync",
    "overwrite-in-place",
    "checksum-unverified",
    "delete-before-durable",
];

/// A counterexample is "short" when the crash comes within the first
/// commits of the program: a reader follows a handful of steps.
const FEW_STEPS: u64 = 16;

/// The first violation of an exhaustive exploration, trying the models
/// strictest first.
fn first_violation(name: &str) -> Violation {
    let workload = workload_by_name(name).unwrap();
    let options = ExploreOptions {
        replay: ReplayLine::Cli,
        ..ExploreOptions::default()
    };
    let explorer = Explorer::new(workload.as_ref(), options);
    for model in CrashModel::ALL {
        let report = explorer.explore_exhaustive(model).unwrap();
        if let Some(v) = report.violations().next() {
            return v.clone();
        }
    }
    panic!("mutant {name} survived exhaustive exploration under every model");
}

fn replay(name: &str, schedule: &str, seed: u64) -> Option<Violation> {
    let workload = workload_by_name(name).unwrap();
    let schedule: KillSchedule = schedule.parse().unwrap();
    let explorer = Explorer::new(
        workload.as_ref(),
        ExploreOptions {
            seed,
            ..ExploreOptions::default()
        },
    );
    explorer.replay(&schedule).unwrap().1.violation
}

/// The schedule inside the printed replay command.
fn schedule_in(command: &str) -> &str {
    command.split('\'').nth(1).unwrap()
}

#[test]
fn every_mutant_is_caught_with_a_short_schedule_that_replays_identically() {
    for name in MUTANTS {
        let v = first_violation(name);
        let schedule = &v.schedule;
        assert_eq!(schedule.points.len(), 1, "{name}: {v}");
        let CrashAt::Step(step) = schedule.points[0].at else {
            panic!("{name}: step crash expected")
        };
        assert!(
            step < FEW_STEPS,
            "{name}: counterexample crashes at step {step}:\n{v}"
        );
        assert!(
            v.trace.to_string().contains("==> CRASH before step"),
            "{name}: {v}"
        );
        assert!(
            v.replay.contains(&format!("--workload {name} ")),
            "{}",
            v.replay
        );
        assert_eq!(schedule_in(&v.replay), v.schedule.to_string());

        let again = replay(name, schedule_in(&v.replay), v.seed).expect("the replay fails too");
        assert_eq!(
            again.trace.to_string(),
            v.trace.to_string(),
            "{name}: replay trace differs"
        );
        assert_eq!((again.oracle, &again.message), (v.oracle, &v.message));
    }
}

#[test]
fn the_zoo_control_and_the_core_runner_pass_where_the_mutants_fail() {
    for name in ["zoo-control", "core-runner"] {
        let workload = workload_by_name(name).unwrap();
        let explorer = Explorer::new(workload.as_ref(), ExploreOptions::default());
        for model in CrashModel::ALL {
            let report = explorer.explore_exhaustive(model).unwrap();
            assert!(report.is_clean(), "{report}");
        }
    }
}

#[test]
fn random_mode_catches_mutants_and_shrinks_to_one_crash() {
    for name in [
        "rename-before-fsync",
        "no-dir-fsync",
        "delete-before-durable",
    ] {
        let workload = workload_by_name(name).unwrap();
        let explorer = Explorer::new(
            workload.as_ref(),
            ExploreOptions {
                seed: 3,
                ..ExploreOptions::default()
            },
        );
        let report = explorer
            .explore_random(
                &CrashModel::ALL,
                &RandomConfig {
                    cases: 256,
                    ..RandomConfig::default()
                },
            )
            .unwrap();
        assert_eq!(report.violation_count(), 1, "{name}: {report}");
        let v = report.violations().next().unwrap();
        assert_eq!(
            v.schedule.points.len(),
            1,
            "{name}: shrunk schedule {}",
            v.schedule
        );
        let again = replay(name, &v.schedule.to_string(), v.seed)
            .expect("the shrunk case replays as a violation");
        assert_eq!(again.trace.to_string(), v.trace.to_string());
    }
}

// Named regressions (sled style): the counterexamples the explorer printed
// for each mutant, kept so a change to the explorer that stops finding them
// fails here by name.

fn assert_regression(name: &str, schedule: &str, oracle: Oracle, needle: &str) {
    let v =
        replay(name, schedule, 0).unwrap_or_else(|| panic!("{name} `{schedule}` no longer fails"));
    assert_eq!(v.oracle, oracle, "{v}");
    assert!(v.message.contains(needle), "{v}");
}

// postmortem: the temp file is renamed into place before its data is
// fsynced; the rename's directory entry is durable but the data is not, so
// recovery finds no valid checkpoint although generation 1 was acknowledged.
#[test]
fn regression_rename_before_fsync() {
    assert_regression(
        "rename-before-fsync",
        "step:7@drop-unsynced#idx=0",
        Oracle::State,
        "acknowledged",
    );
}

// postmortem: the parent directory is never fsynced after the rename, so the
// acknowledged checkpoint's name is lost with the crash.
#[test]
fn regression_no_dir_fsync() {
    assert_regression(
        "no-dir-fsync",
        "step:7@drop-unsynced#idx=0",
        Oracle::State,
        "acknowledged",
    );
}

// postmortem: the checkpoint is truncated and rewritten in place; a crash
// keeping the truncation but not the write leaves an empty file that blocks
// every resume.
#[test]
fn regression_overwrite_in_place() {
    assert_regression(
        "overwrite-in-place",
        "step:2@prefix#idx=1",
        Oracle::Result,
        "did not complete",
    );
}

// postmortem: the loader trusts the file without verifying its checksum; a
// torn write that still parses is loaded as a checkpoint never written.
#[test]
fn regression_checksum_unverified() {
    assert_regression(
        "checksum-unverified",
        "step:10@subset#idx=1",
        Oracle::State,
        "never wrote",
    );
}

// postmortem: the old generation is deleted (and the deletion made durable)
// before the new one is; a crash in between leaves nothing to resume.
#[test]
fn regression_delete_before_durable() {
    assert_regression(
        "delete-before-durable",
        "step:10@prefix#idx=1",
        Oracle::State,
        "acknowledged",
    );
}

/// Mutant 12 (a failed fsync retried and believed) needs a sync fault, which
/// exhaustive single-crash exploration does not inject: random schedules
/// with `eio:` faults catch it, and the zoo's controls pass the same search.
#[test]
fn random_mode_with_sync_faults_catches_fsyncgate_and_passes_the_controls() {
    let config = RandomConfig {
        cases: 512,
        ..RandomConfig::default()
    };
    let options = ExploreOptions {
        seed: 1,
        ..ExploreOptions::default()
    };
    let workload = workload_by_name("fsync-retried").unwrap();
    let report = Explorer::new(workload.as_ref(), options.clone())
        .explore_random(&CrashModel::ALL, &config)
        .unwrap();
    assert_eq!(report.violation_count(), 1, "{report}");
    let schedule = &report.violations().next().unwrap().schedule;
    assert_eq!(
        (schedule.points.len(), schedule.faults.len()),
        (1, 1),
        "{schedule}"
    );
    for control in ["zoo-control", "core-runner"] {
        let workload = workload_by_name(control).unwrap();
        let report = Explorer::new(workload.as_ref(), options.clone())
            .explore_random(&CrashModel::ALL, &config)
            .unwrap();
        assert!(report.is_clean(), "{report}");
    }
}
