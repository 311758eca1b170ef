//! Nothing is OK unless something was checked: every way the library could
//! pass vacuously (zero states, a crash point never reached, an empty plan,
//! options a disk cannot have) is a typed error whose message says what to
//! do.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crashproof_catalog::workload as workload_by_name;
use crashproof_fault::{CrashAt, CrashModel, KillSchedule, StateSelector};
use crashproof_sim::explore::{
    ExploreOptions, Explorer, HarnessError, InvalidOptions, Mode, Plan, RandomConfig,
    SECTOR_SIZE_BYTES_MAX,
};

/// The error of exploring `name` under `plan` with `options`; its message
/// must hold every needle.
fn check_error(name: &str, options: ExploreOptions, plan: &Plan, needles: &[&str]) -> HarnessError {
    let w = workload_by_name(name).unwrap();
    let err = Explorer::new(w.as_ref(), options)
        .explore(plan)
        .unwrap_err();
    let text = err.to_string();
    for needle in needles {
        assert!(text.contains(needle), "{name}: no {needle:?} in {text}");
    }
    err
}

fn plan(modes: Vec<Mode>) -> Plan {
    Plan {
        models: vec![CrashModel::DropUnsynced],
        modes,
    }
}

#[test]
fn zero_states_checked_is_an_error_not_a_pass() {
    // No state taken at any crash point: refused before anything runs.
    let no_states = ExploreOptions {
        states_per_point_max: 0,
        picks_per_capped_point: 0,
        ..ExploreOptions::default()
    };
    let random = Mode::Random(RandomConfig::default());
    for mode in [Mode::Exhaustive, Mode::TwoCrashes, Mode::SyncEio, random] {
        let err = check_error(
            "zoo-control",
            no_states.clone(),
            &plan(vec![mode.clone()]),
            &["no post-crash state would be checked", "raise either"],
        );
        assert!(
            matches!(
                err,
                HarnessError::InvalidOptions(InvalidOptions::NoStatesPerPoint)
            ),
            "{err}"
        );
    }
    let no_cases = Mode::Random(RandomConfig {
        cases: 0,
        ..RandomConfig::default()
    });
    check_error(
        "zoo-control",
        ExploreOptions::default(),
        &plan(vec![no_cases]),
        &["random drop-unsynced pass checked zero", "run at least one"],
    );
    // A program that never syncs a file gives the sync-EIO sweep nothing
    // to fail.
    check_error(
        "rename-before-fsync",
        ExploreOptions::default(),
        &plan(vec![Mode::SyncEio]),
        &["makes no `sync`"],
    );
}

#[test]
fn a_plan_without_a_mode_or_a_model_is_an_error() {
    let err = check_error(
        "zoo-control",
        ExploreOptions::default(),
        &plan(Vec::new()),
        &["names no mode"],
    );
    assert!(matches!(err, HarnessError::EmptyPlan { .. }), "{err}");
    check_error(
        "zoo-control",
        ExploreOptions::default(),
        &Plan {
            models: Vec::new(),
            modes: vec![Mode::Exhaustive],
        },
        &["names no crash model"],
    );
}

#[test]
fn the_cap_at_0_alone_enumerates_small_points_instead_of_repeating_picks() {
    let w = workload_by_name("zoo-control").unwrap();
    let options = ExploreOptions {
        states_per_point_max: 0,
        ..ExploreOptions::default()
    };
    let picks = options.picks_per_capped_point as u64;
    for model in CrashModel::ALL {
        let r = Explorer::new(w.as_ref(), options.clone())
            .explore_exhaustive(model)
            .unwrap();
        let p = &r.passes[0];
        for (&checked, &possible) in p.states_per_point.iter().zip(&p.states_possible_per_point) {
            // Never more states than exist; all of them when they fit the picks.
            if possible <= picks {
                assert_eq!(checked, possible, "{model}: {r}");
            } else {
                assert_eq!(checked, picks, "{model}: {r}");
            }
        }
        if model == CrashModel::DropUnsynced {
            assert_eq!(p.states_checked, p.crash_points, "{r}");
            assert_eq!(p.capped_points, 0, "one state per point is enumerated: {r}");
        }
    }
}

/// The error of replaying `schedule` on `name`.
fn replay_error(name: &str, schedule: &str) -> String {
    let w = workload_by_name(name).unwrap();
    let schedule: KillSchedule = schedule.parse().unwrap();
    let err = Explorer::new(w.as_ref(), ExploreOptions::default())
        .replay(&schedule)
        .unwrap_err();
    assert!(
        matches!(err, HarnessError::CrashPointNotReached(_)),
        "{err}"
    );
    err.to_string()
}

#[test]
fn replaying_a_crash_point_the_run_never_reaches_is_an_error_with_the_run_length() {
    let w = workload_by_name("core-runner").unwrap();
    let ex = Explorer::new(w.as_ref(), ExploreOptions::default());
    let clean = ex.clean_run().unwrap();
    let steps = clean.steps;
    let text = replay_error("core-runner", &format!("step:{}@prefix#idx=0", steps + 1));
    assert!(
        text.contains(&format!("run 1 ended after {steps} filesystem steps")),
        "{text}"
    );
    // Every failpoint the clean run hit is listed with its count, derived
    // here from the clean run's trace.
    for name in &clean.failpoints {
        let hits = clean
            .trace
            .entries
            .iter()
            .filter(|e| e.step.failpoint == Some(name.as_str()))
            .count();
        assert!(
            text.contains(&format!("{name} (x{hits})")),
            "{name}: {text}"
        );
    }

    let text = replay_error("core-runner", "fp:not.a.failpoint@prefix#idx=0");
    assert!(
        text.contains("never hits failpoint `not.a.failpoint`"),
        "{text}"
    );

    let name = &clean.failpoints[0];
    let hits = clean
        .trace
        .entries
        .iter()
        .filter(|e| e.step.failpoint == Some(name.as_str()))
        .count();
    let text = replay_error(
        "core-runner",
        &format!("fp:{name}*{}@prefix#idx=0", hits + 1),
    );
    assert!(text.contains(&format!("only {hits} times")), "{text}");

    // The last hit and the step after the last are reached.
    for reached in [
        format!("fp:{name}*{hits}@prefix#idx=0"),
        format!("step:{steps}@prefix#idx=0"),
    ] {
        let (_, outcome) = ex.replay(&reached.parse().unwrap()).unwrap();
        assert_eq!(outcome.crashes, 1, "{reached}");
        assert!(outcome.unreached.is_none(), "{reached}");
    }
}

#[test]
fn an_unreached_point_of_a_later_run_is_named_with_that_run() {
    let w = workload_by_name("zoo-control").unwrap();
    let ex = Explorer::new(w.as_ref(), ExploreOptions::default());
    let clean = ex.clean_run().unwrap();
    let schedule = KillSchedule {
        points: vec![
            "step:3@drop-unsynced#idx=0".parse().unwrap(),
            KillSchedule::at_step(
                10 * clean.steps,
                CrashModel::Prefix,
                StateSelector::Index(0),
            )
            .points[0]
                .clone(),
        ],
        faults: Vec::new(),
    };
    // Random schedules may hold such points: a case runs them leniently...
    let outcome = ex.run_case(&clean, &schedule).unwrap();
    assert!(outcome.violation.is_none());
    let unreached = outcome.unreached.unwrap();
    assert_eq!(unreached.run, 2);
    assert_eq!(unreached.point.at, CrashAt::Step(10 * clean.steps));
    // ... but a replay refuses them.
    let err = ex.replay(&schedule).unwrap_err();
    assert!(err.to_string().contains("run 2 ended after"), "{err}");
}

#[test]
fn a_sector_size_no_disk_has_is_an_error() {
    let w = workload_by_name("zoo-control").unwrap();
    for (bytes, expect) in [
        (0, InvalidOptions::SectorSizeZero),
        (3, InvalidOptions::SectorSizeNotPowerOfTwo(3)),
        (
            2 * SECTOR_SIZE_BYTES_MAX,
            InvalidOptions::SectorSizeTooLarge(2 * SECTOR_SIZE_BYTES_MAX),
        ),
    ] {
        let options = ExploreOptions {
            sector_size_bytes: bytes,
            ..ExploreOptions::default()
        };
        let err = Explorer::new(w.as_ref(), options).clean_run().unwrap_err();
        assert!(
            matches!(&err, HarnessError::InvalidOptions(e) if *e == expect),
            "{bytes}: {err}"
        );
        assert!(err.to_string().contains("such as 512 or 4096"), "{err}");
    }
    let largest = ExploreOptions {
        sector_size_bytes: SECTOR_SIZE_BYTES_MAX,
        ..ExploreOptions::default()
    };
    assert!(Explorer::new(w.as_ref(), largest).clean_run().is_ok());
}
