//! The acceptance test of the mount: real Python programs explored by the
//! unchanged engine. The correct job (temp file, fsync, rename, fsync of
//! the directory) is clean under every crash model and every mode; the
//! buggy one (`json.dump` in place, no fsync) is caught, and the replay of
//! its schedule reproduces the violation. Each oracle is shown failing on a
//! program built to fail it, and the preflight refuses programs that could
//! only pass vacuously.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use crashproof_fuse::{CommandWorkload, PreflightError, preflight};
use crashproof_sim::CrashModel;
use crashproof_sim::explore::{ExploreOptions, Explorer, Mode, Oracle, Plan, RandomConfig};

use common::{assert_no_mounts_under, example_program, pool, python3, test_program};

fn job(script: &str, items: u32, check: bool) -> CommandWorkload {
    let script = example_program(script);
    let mut w = CommandWorkload::new(
        vec![
            python3(),
            script.clone(),
            "{dir}".into(),
            "--items".into(),
            items.to_string(),
        ],
        pool(),
    )
    .unwrap();
    if check {
        // Always the correct job's check: it is the state oracle.
        let check_script = example_program("progress.py");
        w = w.with_check(format!("{} {check_script} --check {{dir}}", python3()));
    }
    w
}

/// Drops the workload (its pool of mounts) and checks no mount is left.
fn finish(w: CommandWorkload) {
    let base = w.mount_base();
    drop(w);
    assert_no_mounts_under(&base);
}

fn options() -> ExploreOptions {
    ExploreOptions {
        jobs: 2,
        ..ExploreOptions::default()
    }
}

#[test]
fn the_correct_python_job_is_clean_under_every_crash_model() {
    let w = job("progress.py", 5, true);
    let ex = Explorer::new(&w, options());
    let pre = preflight(&ex, &w).unwrap();
    assert!(pre.clean.steps >= 30, "{} steps", pre.clean.steps);
    let plan = Plan {
        models: CrashModel::ALL.to_vec(),
        modes: vec![Mode::Exhaustive],
    };
    let report = ex.explore(&plan).unwrap();
    assert!(report.is_clean(), "{report}");
    assert_eq!(report.passes.len(), 4);
    for pass in &report.passes {
        assert_eq!(pass.crash_points, pre.clean.steps + 1, "{pass}");
        assert!(pass.states_checked >= pass.crash_points, "{pass}");
    }
    // The check ran on post-crash states, and its runs were shared.
    let stats = w.stats();
    assert!(
        stats.check_runs > 0 && stats.check_cache_hits > 0,
        "{stats:?}"
    );
    assert!(w.unmodelled().is_empty(), "{}", w.unmodelled());
    finish(w);
}

#[test]
fn the_correct_python_job_is_clean_with_two_crashes_sync_eio_and_random_schedules() {
    let w = job("progress.py", 2, true);
    let ex = Explorer::new(&w, options());
    let plan = Plan {
        models: vec![CrashModel::DropUnsynced],
        modes: vec![
            Mode::TwoCrashes,
            Mode::SyncEio,
            Mode::Random(RandomConfig {
                cases: 8,
                points_per_case_max: 2,
                sync_faults: true,
            }),
        ],
    };
    let report = ex.explore(&plan).unwrap();
    assert!(report.is_clean(), "{report}");
    assert_eq!(report.modes(), ["two-crashes", "sync-eio", "random"]);
    assert!(
        report.passes.iter().all(|p| p.states_checked > 0),
        "{report}"
    );
    drop(ex);
    finish(w);
}

#[test]
fn the_buggy_python_job_is_caught_and_its_replay_reproduces_the_violation() {
    let w = job("progress_buggy.py", 3, true);
    let ex = Explorer::new(&w, options());
    let plan = Plan {
        models: vec![CrashModel::DropUnsynced],
        modes: vec![Mode::Exhaustive],
    };
    let report = ex.explore(&plan).unwrap();
    assert!(!report.is_clean());
    let v = report.violations().next().expect("a violation in full");
    assert_eq!(v.oracle, Oracle::State);
    assert!(
        v.message
            .contains("0 items committed, but 1 were acknowledged"),
        "{}",
        v.message
    );
    assert!(v.trace.contains("==> CRASH before step"), "{}", v.trace);
    let (_, replayed) = ex.replay(&v.schedule).unwrap();
    let again = replayed.violation.expect("the replay fails too");
    assert_eq!((again.oracle, &again.message), (v.oracle, &v.message));
    drop(ex);
    finish(w);
}

#[test]
fn the_result_oracle_catches_a_torn_file_that_breaks_recovery_without_any_check() {
    // No check command: only the resumed run can fail. A torn state.json
    // (Subset) makes the buggy job's recovery crash on parsing it.
    let w = job("progress_buggy.py", 1, false);
    let ex = Explorer::new(&w, options());
    let plan = Plan {
        models: vec![CrashModel::Subset],
        modes: vec![Mode::Exhaustive],
    };
    let report = ex.explore(&plan).unwrap();
    let v = report.violations().next().expect("a violation");
    assert_eq!(v.oracle, Oracle::Result, "{report}");
    assert!(v.message.contains("did not complete"), "{}", v.message);
    drop(ex);
    finish(w);
}

#[test]
fn the_result_oracle_compares_stdout_with_the_clean_run() {
    let w = CommandWorkload::new(
        vec!["sh".into(), test_program("append_count.sh"), "{dir}".into()],
        pool(),
    )
    .unwrap();
    let ex = Explorer::new(&w, options());
    let plan = Plan {
        models: vec![CrashModel::Prefix],
        modes: vec![Mode::Exhaustive],
    };
    let report = ex.explore(&plan).unwrap();
    let v = report.violations().next().expect("a violation");
    assert_eq!(v.oracle, Oracle::Result, "{report}");
    assert!(v.message.contains("output differs"), "{}", v.message);
    drop(ex);
    finish(w);
}

#[test]
fn programs_that_could_only_pass_vacuously_are_refused() {
    let refuse = |argv: &[&str]| {
        let w =
            CommandWorkload::new(argv.iter().map(ToString::to_string).collect(), pool()).unwrap();
        let ex = Explorer::new(&w, options());
        let refused = preflight(&ex, &w).expect_err("refused");
        drop(ex);
        finish(w);
        refused
    };
    // Keeps its data somewhere else.
    let e = refuse(&["sh", "-c", "echo result"]);
    assert!(matches!(e, PreflightError::NoSteps), "{e}");
    // Names a file by its PID: the steps differ between two runs.
    let e = refuse(&["sh", "-c", "echo x > \"$CRASHPROOF_DIR/f.$$\"; echo result"]);
    assert!(matches!(e, PreflightError::Nondeterministic { .. }), "{e}");
    assert!(e.to_string().contains("/f."), "{e}");
    // Prints a time: stdout differs between two runs.
    let e = refuse(&["sh", "-c", "touch \"$CRASHPROOF_DIR/f\"; date +%N"]);
    assert!(matches!(e, PreflightError::OutputDiffers { .. }), "{e}");
    // Nothing on stdout and no check: no state could be told from a good one.
    let e = refuse(&["sh", "-c", "touch \"$CRASHPROOF_DIR/f\""]);
    assert!(matches!(e, PreflightError::NothingCouldFail { .. }), "{e}");
}
