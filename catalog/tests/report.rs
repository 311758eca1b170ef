//! What a report says, checked against what is derived independently:
//! violation groups against every single crash replayed one by one,
//! distinct states against the simulator's own images, a plan against its
//! passes run one at a time; and the sync-EIO mode against the fsyncgate
//! mutant and the controls.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use crashproof_catalog::workload as workload_by_name;
use crashproof_fault::{CrashModel, KillSchedule, StateSelector};
use crashproof_sim::explore::{
    Event, ExploreOptions, Explorer, Mode, Oracle, Pass, Plan, Progress, RandomConfig,
};
use crashproof_sim::{SimFs, SimView, StepAction};

/// `message` with its numbers masked, as "the same reason" is defined.
fn shape(message: &str) -> String {
    let mut out = String::new();
    for c in message.chars() {
        if !c.is_ascii_digit() {
            out.push(c);
        } else if !out.ends_with('#') {
            out.push('#');
        }
    }
    out
}

#[test]
fn adjacent_crash_points_failing_the_same_way_are_one_group() {
    let w = workload_by_name("no-dir-fsync").unwrap();
    let ex = Explorer::new(w.as_ref(), ExploreOptions::default());
    let clean = ex.clean_run().unwrap();
    // Every single crash, one case at a time (drop-unsynced: one state per
    // point), grouped by hand into runs of consecutive steps that fail with
    // the same oracle and message shape.
    let mut expected: Vec<(Oracle, String, RangeInclusive<u64>, u64)> = Vec::new();
    for step in 0..=clean.steps {
        let schedule =
            KillSchedule::at_step(step, CrashModel::DropUnsynced, StateSelector::Index(0));
        let Some(v) = ex.run_case(&clean, &schedule).unwrap().violation else {
            continue;
        };
        let key = shape(&v.message);
        match expected
            .iter_mut()
            .rev()
            .find(|(o, k, r, _)| *o == v.oracle && *k == key && *r.end() + 1 == step)
        {
            Some((_, _, r, count)) => {
                *r = *r.start()..=step;
                *count += 1;
            }
            None => expected.push((v.oracle, key, step..=step, 1)),
        }
    }
    assert!(
        expected.iter().any(|(_, _, r, _)| r.start() != r.end()),
        "the mutant fails at adjacent steps, so grouping is exercised: {expected:?}"
    );

    let report = ex.explore_exhaustive(CrashModel::DropUnsynced).unwrap();
    let got: Vec<(Oracle, String, RangeInclusive<u64>, u64)> = report
        .groups
        .iter()
        .map(|g| {
            (
                g.oracle,
                shape(&g.message),
                g.crash_steps.clone().unwrap(),
                g.count,
            )
        })
        .collect();
    assert_eq!(got, expected, "{report}");
    let total: u64 = expected.iter().map(|e| e.3).sum();
    assert_eq!(report.violation_count(), total);
    assert_eq!(report.violations_per_oracle().values().sum::<u64>(), total);
    // The first groups are in full, each its group's first case.
    let in_full = ExploreOptions::default().violations_in_full_max;
    assert_eq!(report.violations().count(), in_full.min(expected.len()));
    for g in report.groups.iter().take(in_full) {
        let v = g.violation.as_ref().unwrap();
        assert_eq!(v.schedule, g.schedule);
        assert!(v.trace.to_string().contains("==> CRASH before step"), "{v}");
    }
    let text = report.to_string();
    assert!(text.contains("violations per oracle: "), "{text}");
    assert!(
        text.contains(&format!("in {} groups", expected.len())),
        "{text}"
    );
}

/// The distinct post-crash states of one clean run of `name` under
/// `model`, by the files they hold, collected with the simulator's own
/// step hook.
fn distinct_states(name: &str, model: CrashModel) -> usize {
    type Files = BTreeMap<PathBuf, Vec<u8>>;
    let w = workload_by_name(name).unwrap();
    let fs = SimFs::default();
    let seen: Arc<Mutex<BTreeSet<Files>>> = Arc::default();
    let sink = Arc::clone(&seen);
    fs.set_step_hook(Box::new(move |_, src| {
        for image in src.crash_images(model, 256).unwrap() {
            sink.lock().unwrap().insert(image.fs.files());
        }
        StepAction::Continue
    }));
    w.run(&fs, &mut Progress::new()).unwrap();
    fs.clear_step_hook();
    for image in fs.crash_images(model, 256).unwrap() {
        seen.lock().unwrap().insert(image.fs.files());
    }
    seen.lock().unwrap().len()
}

#[test]
fn distinct_states_are_counted_by_content() {
    let w = workload_by_name("zoo-control").unwrap();
    let ex = Explorer::new(w.as_ref(), ExploreOptions::default());
    for model in [
        CrashModel::DropUnsynced,
        CrashModel::Prefix,
        CrashModel::EagerDirs,
    ] {
        let r = ex.explore_exhaustive(model).unwrap();
        let p = &r.passes[0];
        assert_eq!(
            p.states_distinct() as usize,
            distinct_states("zoo-control", model),
            "{model}: {r}"
        );
        assert!(p.states_distinct() < p.states_checked, "{model}: {r}");
        assert_eq!(r.states_distinct(), p.states_distinct());
    }
}

#[test]
fn one_call_runs_every_pass_of_a_plan_and_merges_them() {
    let w = workload_by_name("zoo-control").unwrap();
    let options = ExploreOptions {
        seed: 5,
        ..ExploreOptions::default()
    };
    let ex = Explorer::new(w.as_ref(), options);
    let plan = Plan {
        models: vec![CrashModel::DropUnsynced, CrashModel::EagerDirs],
        modes: vec![
            Mode::Exhaustive,
            Mode::SyncEio,
            Mode::Random(RandomConfig {
                cases: 8,
                ..RandomConfig::default()
            }),
        ],
    };
    let mut events = Vec::new();
    let mut checking = 0;
    let report = ex
        .explore_observed(&plan, &mut |e| match e {
            Event::PassStarted(p) => events.push(format!("start {p}")),
            Event::PassFinished(p) => events.push(format!("end {}", p.pass)),
            Event::Checking { done, total, .. } => {
                assert!(done <= total);
                checking += 1;
            }
            _ => {}
        })
        .unwrap();
    assert!(checking > 0, "the exhaustive passes report their progress");
    let passes = plan.passes();
    assert_eq!(passes.len(), 5, "2 exhaustive, 2 sync-eio, 1 random");
    // The exhaustive passes run as one group (one twin run for both
    // models): both start, then both finish; every other pass on its own.
    let (exhaustive, others) = passes.split_at(2);
    assert!(exhaustive.iter().all(|p| matches!(p, Pass::Exhaustive(_))));
    let expected_events: Vec<String> = exhaustive
        .iter()
        .map(|p| format!("start {p}"))
        .chain(exhaustive.iter().map(|p| format!("end {p}")))
        .chain(
            others
                .iter()
                .flat_map(|p| [format!("start {p}"), format!("end {p}")]),
        )
        .collect();
    assert_eq!(events, expected_events);
    // The same passes one at a time give the same numbers.
    assert_eq!(report.passes.len(), passes.len());
    let mut states = 0;
    for (merged, pass) in report.passes.iter().zip(&passes) {
        let alone = ex.explore_pass(pass).unwrap();
        assert_eq!(merged, &alone.passes[0]);
        states += alone.states_checked();
    }
    assert_eq!(report.states_checked(), states);
    assert_eq!(report.modes(), vec!["exhaustive", "sync-eio", "random"]);
    assert_eq!(report.models(), plan.models);
    assert!(report.is_clean(), "{report}");
    // Deterministic to the byte.
    assert_eq!(ex.explore(&plan).unwrap().to_string(), report.to_string());
}

#[test]
fn the_sync_eio_mode_catches_fsyncgate_and_passes_the_controls() {
    let w = workload_by_name("fsync-retried").unwrap();
    let ex = Explorer::new(w.as_ref(), ExploreOptions::default());
    let r = ex.explore_sync_eio(CrashModel::DropUnsynced).unwrap();
    assert!(r.violation_count() > 0, "{r}");
    let v = r.violations().next().unwrap();
    assert_eq!(
        (v.schedule.points.len(), v.schedule.faults.len()),
        (1, 1),
        "{v}"
    );
    let (_, replayed) = ex.replay(&v.schedule).unwrap();
    let again = replayed.violation.unwrap();
    assert_eq!(again.trace.to_string(), v.trace.to_string());
    assert_eq!(again.steps_before_first_crash, v.steps_before_first_crash);

    for name in ["zoo-control", "yield-after-commit", "core-runner"] {
        let w = workload_by_name(name).unwrap();
        let ex = Explorer::new(w.as_ref(), ExploreOptions::default());
        let syncs = ex.clean_run().unwrap().sync_steps().len() as u64;
        for model in [CrashModel::DropUnsynced, CrashModel::EagerDirs] {
            let r = ex.explore_sync_eio(model).unwrap();
            assert!(r.is_clean(), "{name}: {r}");
            // A correct program stops at the failed sync: each failure is at
            // least the power loss after it.
            let p = &r.passes[0];
            assert!(p.crash_points >= syncs, "{name} {model}: {r}");
            assert_eq!(p.states_per_point.iter().sum::<u64>(), p.states_checked);
        }
    }
}

/// The per-model verdict: the missing directory fsync is caught under the
/// strict models and missed under the kinder eager-dirs model (which makes
/// every directory operation durable at once); a model that did not run is
/// `NotRun`, never clean; the answer is the passes' own counts.
#[test]
fn the_verdict_per_model_says_caught_clean_or_not_run() {
    use crashproof_sim::explore::ModelVerdict;
    let w = workload_by_name("no-dir-fsync").unwrap();
    let plan = Plan {
        models: vec![CrashModel::DropUnsynced, CrashModel::EagerDirs],
        modes: vec![Mode::Exhaustive],
    };
    let report = Explorer::new(w.as_ref(), ExploreOptions::default())
        .explore(&plan)
        .unwrap();
    let drop_unsynced = &report.passes[0];
    assert_eq!(
        report.verdict_under(CrashModel::DropUnsynced),
        ModelVerdict::Caught {
            violations: drop_unsynced.violations
        }
    );
    assert!(report.caught_under(CrashModel::DropUnsynced));
    assert!(!report.clean_under(CrashModel::DropUnsynced));
    assert_eq!(
        report.verdict_under(CrashModel::EagerDirs),
        ModelVerdict::Clean {
            states_checked: report.passes[1].states_checked
        }
    );
    assert!(report.clean_under(CrashModel::EagerDirs));
    assert!(!report.caught_under(CrashModel::EagerDirs));
    // Prefix did not run: neither caught nor clean.
    assert_eq!(
        report.verdict_under(CrashModel::Prefix),
        ModelVerdict::NotRun
    );
    assert!(!report.caught_under(CrashModel::Prefix));
    assert!(!report.clean_under(CrashModel::Prefix));
}
