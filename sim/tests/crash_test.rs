//! The one-call crash test: what it explores, how it fails (the readable
//! report with a replay line for the very test), how that line replays
//! the case, and that it never passes without checking something. Every
//! environment is given as a value: no test sets a process variable.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::counter;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use counter::Bug;
use crashproof_core::fs::Fs;
use crashproof_sim::CrashModel;
use crashproof_sim::check::{Checked, CrashTest, TestEnv};
use crashproof_sim::explore::{HarnessError, Mode, Pass, ProgramWorkload, TestTarget};

/// An environment naming the test and package, nothing else set.
fn env() -> TestEnv {
    TestEnv {
        package: Some("my-app".into()),
        test: Some("tests::counter_survives".into()),
        ..TestEnv::default()
    }
}

#[test]
fn a_correct_program_passes_every_model_by_default() {
    let workload = counter::checked(Bug::None);
    let checked = CrashTest::new(&workload).env(env()).check().unwrap();
    let report = checked.report().expect("an exploration, not a replay");
    assert!(report.is_clean());
    assert_eq!(report.models(), CrashModel::ALL.to_vec());
    assert_eq!(report.modes(), ["exhaustive"]);
    assert!(report.states_checked() > 0);
}

#[test]
fn a_violation_fails_with_the_report_and_a_line_that_replays_this_test() {
    let workload = counter::checked(Bug::NoFsyncBeforeRename);
    let failure = CrashTest::new(&workload)
        .env(TestEnv {
            seed: Some("7".into()),
            ..env()
        })
        .check()
        .unwrap_err();
    let report = failure.report().expect("violations");
    assert_eq!(report.seed, 7);
    let violation = report.violations().next().unwrap();
    let text = failure.to_string();
    let replay = format!(
        "CRASHPROOF_REPLAY='{}' CRASHPROOF_SEED=7 cargo test -p my-app -- --exact \
         tests::counter_survives --nocapture",
        violation.schedule
    );
    for part in [
        "crash test tests::counter_survives found violations",
        "state oracle checks: recovery does not panic; recovery never fails",
        "VIOLATION (state oracle) in workload `counter-NoFsyncBeforeRename`",
        "what:     recovery fails on this post-crash state",
        "==> CRASH before step",
        "group 1: exhaustive drop-unsynced, state oracle",
        &replay,
    ] {
        assert!(text.contains(part), "missing `{part}` in\n{text}");
    }
    assert!(
        !text.contains("crashproof -- replay"),
        "no CLI command: {text}"
    );

    // The printed line replays the case: same violation, same trace.
    let replayed = CrashTest::new(&workload)
        .env(TestEnv {
            seed: Some("7".into()),
            replay: Some(violation.schedule.to_string()),
            ..env()
        })
        .check()
        .unwrap_err();
    let again = replayed.replayed().expect("the replayed case fails");
    assert_eq!(again.summary(), violation.summary());
    assert_eq!(again.trace.to_string(), violation.trace.to_string());
    // A test that reads the report works on its own replay line: the
    // replay's one-case report holds the violation.
    let one_case = replayed.report().expect("the replay's report");
    assert_eq!(one_case.violation_count(), 1);
    assert!(!one_case.is_clean());
    assert_eq!(one_case.passes.len(), 1);
    assert_eq!(one_case.passes[0].pass, Pass::replay(&violation.schedule));
    assert_eq!(one_case.passes[0].states_checked, 1);
    assert_eq!(
        one_case.violations().next().unwrap().summary(),
        violation.summary()
    );
    assert!(
        one_case
            .to_string()
            .contains(&format!("replay `{}`", violation.schedule)),
        "{one_case}"
    );
    assert!(
        replayed
            .to_string()
            .contains("the replayed schedule (CRASHPROOF_REPLAY) fails"),
        "{replayed}"
    );
}

#[test]
fn run_panics_with_the_readable_report() {
    let workload = counter::hookless(Bug::NoFsyncBeforeRename);
    let panicked = catch_unwind(AssertUnwindSafe(|| {
        CrashTest::new(&workload)
            .models(&[CrashModel::Prefix])
            .env(env())
            .run()
    }))
    .unwrap_err();
    let message = panicked
        .downcast_ref::<String>()
        .expect("a formatted panic");
    assert!(message.contains("VIOLATION (result oracle)"), "{message}");
    assert!(message.contains("CRASHPROOF_REPLAY='step:"), "{message}");
}

#[test]
fn a_replay_that_passes_prints_the_trace_and_verdict() {
    let workload = counter::checked(Bug::None);
    let checked = CrashTest::new(&workload)
        .env(TestEnv {
            replay: Some("step:9@prefix#idx=0".into()),
            ..env()
        })
        .check()
        .unwrap();
    assert!(matches!(checked, Checked::Replayed { .. }));
    let text = checked.to_string();
    assert!(
        text.starts_with(
            "CRASHPROOF_REPLAY='step:9@prefix#idx=0' replayed on workload `counter-None`: no \
             violation (1 crashes, 2 runs)"
        ),
        "{text}"
    );
    assert!(text.contains("==> CRASH before step 9"), "{text}");
}

#[test]
fn without_the_test_name_the_line_says_how_to_replay_in_code() {
    let workload = counter::hookless(Bug::NoFsyncBeforeRename);
    let failure = CrashTest::new(&workload)
        .models(&[CrashModel::Prefix])
        .env(TestEnv::default())
        .check()
        .unwrap_err();
    let v = failure.report().unwrap().violations().next().unwrap();
    assert!(
        v.replay.starts_with("in code, with workload `counter-"),
        "{}",
        v.replay
    );
}

#[test]
fn more_modes_by_option_and_random_cases_from_the_environment() {
    let workload = counter::checked(Bug::None);
    let checked = CrashTest::new(&workload)
        .models(&[CrashModel::DropUnsynced])
        .two_crashes()
        .sync_eio()
        .random()
        .env(TestEnv {
            cases: Some("5".into()),
            ..env()
        })
        .check()
        .unwrap();
    let report = checked.report().unwrap();
    assert_eq!(
        report.modes(),
        ["exhaustive", "two-crashes", "sync-eio", "random"]
    );
    let random = report.passes.last().unwrap();
    assert!(
        matches!(&random.pass, Pass::Random { config, .. } if config.cases == 5),
        "{:?}",
        random.pass
    );
    assert_eq!(random.cases, Some(5));
}

#[test]
fn a_test_that_checks_nothing_fails_and_says_why() {
    // A program that never touches the disk: its clean run makes no step
    // through the simulator, whatever the plan (it used to pass the
    // exhaustive mode with the start state as its one post-crash state).
    let workload = ProgramWorkload::new("no-disk", |_: &dyn Fs, _| Ok::<_, String>("x".into()));
    for modes in [vec![Mode::Exhaustive], vec![Mode::SyncEio]] {
        let failure = CrashTest::new(&workload)
            .modes(modes)
            .env(env())
            .check()
            .unwrap_err();
        assert!(
            matches!(
                failure.harness_error(),
                Some(HarnessError::NoFilesystemStep { steps: 0, .. })
            ),
            "{failure}"
        );
        let text = failure.to_string();
        for part in [
            "crash test tests::counter_survives could not check anything it can vouch for",
            "its clean run made no filesystem step through the simulator",
            "`use` lines still import `std::fs`: change them to `crashproof_core::stdfs`",
        ] {
            assert!(text.contains(part), "missing `{part}` in\n{text}");
        }
    }
    // A program that writes but never syncs has no sync to fail.
    let no_sync = ProgramWorkload::new("no-sync", |fs: &dyn Fs, _| {
        let file = fs.open_truncate(Path::new("/out"))?;
        fs.write_all_at(&file, 0, b"x")?;
        fs.close(file)?;
        Ok::<_, std::io::Error>("x".to_string())
    });
    let failure = CrashTest::new(&no_sync)
        .modes(vec![Mode::SyncEio])
        .env(env())
        .check()
        .unwrap_err();
    assert!(
        matches!(
            failure.harness_error(),
            Some(HarnessError::NothingChecked { .. })
        ),
        "{failure}"
    );
    assert!(
        failure.to_string().contains("there is no sync to fail"),
        "{failure}"
    );
}

#[test]
fn a_replayed_state_index_past_the_points_states_is_refused_with_the_count() {
    let workload = counter::checked(Bug::None);
    let failure = CrashTest::new(&workload)
        .env(TestEnv {
            replay: Some("step:9@prefix#idx=99".into()),
            ..env()
        })
        .check()
        .unwrap_err();
    let Some(HarnessError::StateIndexOutOfRange { index, count, .. }) = failure.harness_error()
    else {
        panic!("{failure}");
    };
    assert_eq!(*index, 99);
    assert!(*count > 0 && *count < 99, "{failure}");
    assert!(
        failure.to_string().contains(&format!(
            "crash point `step:9@prefix#idx=99` selects state 99, but the prefix model allows \
             only {count} post-crash states there (idx=0 to idx={})",
            count - 1
        )),
        "{failure}"
    );
    // The last index there is is replayed as before.
    let last = format!("step:9@prefix#idx={}", count - 1);
    CrashTest::new(&workload)
        .env(TestEnv {
            replay: Some(last),
            ..env()
        })
        .check()
        .unwrap();
}

#[test]
fn the_replay_line_keeps_the_profile_package_and_target_the_test_ran_in() {
    let workload = counter::hookless(Bug::NoFsyncBeforeRename);
    let failure = CrashTest::new(&workload)
        .models(&[CrashModel::Prefix])
        .env(TestEnv {
            target: Some(TestTarget::Test("crash_test".into())),
            release: true,
            ..env()
        })
        .check()
        .unwrap_err();
    let v = failure.report().unwrap().violations().next().unwrap();
    assert_eq!(
        v.replay,
        format!(
            "CRASHPROOF_REPLAY='{}' CRASHPROOF_SEED=0 cargo test --release -p my-app --test \
             crash_test -- --exact tests::counter_survives --nocapture",
            v.schedule
        )
    );
    // Read from this very process: this binary's target (every file of
    // sim/tests is a module of the `sim` test target) and this build's
    // profile.
    let here = TestEnv::from_process();
    assert_eq!(here.target, Some(TestTarget::Test("sim".into())));
    assert_eq!(here.release, !cfg!(debug_assertions));
}

#[test]
fn an_unusable_variable_is_an_error_naming_it() {
    let workload = counter::checked(Bug::None);
    for (bad, var) in [
        (
            TestEnv {
                seed: Some("seven".into()),
                ..env()
            },
            "CRASHPROOF_SEED",
        ),
        (
            TestEnv {
                replay: Some("step:x".into()),
                ..env()
            },
            "CRASHPROOF_REPLAY",
        ),
    ] {
        let failure = CrashTest::new(&workload).env(bad).check().unwrap_err();
        assert_eq!(failure.env_error().map(|e| e.var), Some(var), "{failure}");
    }
    // PROPTEST_CASES matters only to the random mode.
    let failure = CrashTest::new(&workload)
        .random()
        .env(TestEnv {
            cases: Some("many".into()),
            ..env()
        })
        .check()
        .unwrap_err();
    assert_eq!(failure.env_error().map(|e| e.var), Some("PROPTEST_CASES"));
}
