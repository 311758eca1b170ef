//! Code that reaches the real disk behind the simulator's back is caught,
//! not trusted, and never writes there: every run happens on a thread that
//! Linux Landlock does not let create, write, rename or remove a real file,
//! and the error names the call and its path (from the run's own error, or
//! from a traced re-run of the clean run). A clean run that made no step
//! through the simulator that writes is refused too, and a denial the
//! program swallowed while writing through the simulator is found by the
//! audit (the clean run traced once per explorer); where the audit cannot
//! look, the report says so.
//!
//! Each test writes (or tries to) into a fresh temporary directory made on
//! the test's own thread, and checks afterwards that nothing arrived there.
//! Where this kernel has no Landlock the tests check what the run says
//! instead ("bypass detection: off, because ...").

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crashproof_core::fs::{Fs, OpenMode};
use crashproof_sim::CrashModel;
use crashproof_sim::check::{CrashTest, CrashTestFailure, TestEnv};
use crashproof_sim::explore::{
    BypassDetection, Checks, Completion, ExploreOptions, Explorer, HarnessError, Mode, Plan,
    ProgramWorkload, Progress, RealDiskCall, Recovered, Sandbox, SwallowedDenials, Workload,
    WorkloadError,
};

/// Code as a user wrote it, whose `use` line was not changed to
/// `crashproof_core::stdfs`: its `fs::write` goes to the real disk.
mod forgot_the_use_line {
    use std::fs;
    use std::io;
    use std::path::Path;

    pub fn save(path: &Path, value: u64) -> io::Result<()> {
        fs::write(path, value.to_string())
    }
}

fn env() -> TestEnv {
    TestEnv {
        package: Some("my-app".into()),
        test: Some("tests::writes_its_result".into()),
        ..TestEnv::default()
    }
}

/// Whether this kernel can confine a thread with Landlock, asked of the
/// kernel on a throwaway thread (not through the explorer, so a sandbox
/// that silently stopped working is not taken for a kernel without it).
fn landlock_available() -> bool {
    #[cfg(target_os = "linux")]
    {
        use landlock::{ABI, AccessFs, Ruleset, RulesetAttr, RulesetStatus};
        std::thread::spawn(|| {
            Ruleset::default()
                .handle_access(AccessFs::from_write(ABI::V1))
                .and_then(|r| r.create())
                .and_then(|r| r.restrict_self())
                .is_ok_and(|status| status.ruleset != RulesetStatus::NotEnforced)
        })
        .join()
        .unwrap()
    }
    #[cfg(not(target_os = "linux"))]
    false
}

/// Whether this machine confines runs: what a report of a workload that
/// writes only through the simulator says. It must agree with the kernel.
fn detection() -> BypassDetection {
    let honest = ProgramWorkload::new("honest", |fs: &dyn Fs, _| write_through(fs, "/out"));
    let detection = Explorer::new(&honest, ExploreOptions::default())
        .explore_exhaustive(CrashModel::DropUnsynced)
        .unwrap()
        .bypass_detection;
    assert_eq!(detection.is_on(), landlock_available(), "{detection}");
    detection
}

/// A write through the simulator (so the clean run has a step that
/// writes).
fn write_through(fs: &dyn Fs, path: &str) -> io::Result<String> {
    let file = fs.open(Path::new(path), OpenMode::Create)?;
    fs.write_all_at(&file, 0, b"1")?;
    fs.sync(&file)?;
    fs.close(file)?;
    fs.sync_dir(Path::new("/"))?;
    Ok("done".to_string())
}

/// The calls a bypass error names.
fn bypassed(failure: &CrashTestFailure) -> &[RealDiskCall] {
    match failure.harness_error() {
        Some(HarnessError::BypassedSimulator { calls, .. }) => calls,
        _ => panic!("not a bypass of the simulator: {failure}"),
    }
}

fn entries(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect()
}

/// A `strace` that does not exist (`ExploreOptions::strace`), as on a
/// machine without it.
const MISSING_STRACE: &str = "/nonexistent/strace";

/// Whether `strace` can be started (it names a path no error carries).
fn have_strace() -> bool {
    std::process::Command::new("strace")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn a_std_fs_write_behind_the_simulators_back_fails_a_crash_test_with_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("result.txt");
    let path = target.clone();
    let workload = ProgramWorkload::std_fs("forgot-the-use-line", move |done| {
        forgot_the_use_line::save(&path, 42)?;
        done.committed(42);
        Ok::<_, io::Error>("42".to_string())
    });
    let failure = CrashTest::new(&workload).env(env()).check().unwrap_err();
    let text = failure.to_string();
    if !detection().is_on() {
        // Unconfined, the write reached the real disk; the run made no step
        // through the simulator, which is refused all the same.
        assert!(
            matches!(
                failure.harness_error(),
                Some(HarnessError::NoFilesystemStep { .. })
            ),
            "{text}"
        );
        return;
    }
    assert!(!target.exists(), "the run wrote the real disk: {text}");
    assert!(text.contains("this call bypassed the simulator"), "{text}");
    assert!(
        text.contains(
            "`use` lines still import `std::fs`: change them to `crashproof_core::stdfs`"
        ),
        "{text}"
    );
    // Without `strace` (a program that does not exist, as on a machine
    // without it): the call is still refused, saying why the path is not
    // named.
    let without = CrashTest::new(&workload)
        .options(ExploreOptions {
            strace: MISSING_STRACE.into(),
            ..ExploreOptions::default()
        })
        .env(env())
        .check()
        .unwrap_err()
        .to_string();
    assert!(
        without.contains("this call bypassed the simulator")
            && without.contains("its path could not be named: `strace` is not installed"),
        "{without}"
    );
    assert!(!target.exists(), "the run wrote the real disk: {without}");
    if have_strace() {
        // `std::fs::write`'s error carries no path: the traced re-run names it.
        let calls = bypassed(&failure);
        assert_eq!(
            calls,
            [RealDiskCall {
                syscall: Some("openat".into()),
                path: target.clone()
            }],
            "{text}"
        );
        assert!(
            text.contains(&format!(
                "`openat` of {} was denied (EACCES)",
                target.display()
            )),
            "{text}"
        );
    } else {
        assert!(text.contains("`strace` is not installed"), "{text}");
    }
}

#[test]
fn a_denial_the_program_swallows_is_caught_with_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("swallowed.txt");
    let path = target.clone();
    let workload = ProgramWorkload::std_fs("swallows-the-error", move |_| {
        let _ = forgot_the_use_line::save(&path, 7);
        Ok::<_, io::Error>("7".to_string())
    });
    let failure = CrashTest::new(&workload).env(env()).check().unwrap_err();
    let text = failure.to_string();
    assert!(!detection().is_on() || !target.exists(), "{text}");
    match (detection().is_on(), have_strace()) {
        // Nothing went through the simulator; the trace names the call.
        (true, true) => {
            let calls = bypassed(&failure);
            assert_eq!(calls.len(), 1, "{text}");
            assert_eq!(calls[0].path, target, "{text}");
            assert!(text.contains("this call bypassed the simulator"), "{text}");
        }
        // Without a trace: refused as a run that wrote nothing through the
        // simulator, saying why the path is not named.
        (true, false) => {
            assert!(
                matches!(
                    failure.harness_error(),
                    Some(HarnessError::NoFilesystemStep { .. })
                ),
                "{text}"
            );
            assert!(text.contains("`strace` is not installed"), "{text}");
        }
        (false, _) => assert!(
            matches!(
                failure.harness_error(),
                Some(HarnessError::NoFilesystemStep { .. })
            ),
            "{text}"
        ),
    }
}

#[test]
fn a_crate_that_writes_files_itself_is_caught_with_the_path_its_error_names() {
    let dir = tempfile::tempdir().unwrap();
    let scratch = dir.path().to_path_buf();
    let workload = ProgramWorkload::new("tempfile-in-the-run", move |fs: &dyn Fs, _| {
        write_through(fs, "/progress")?;
        let mut file = tempfile::NamedTempFile::new_in(&scratch)?;
        std::io::Write::write_all(&mut file, b"42")?;
        file.persist(scratch.join("result.txt"))
            .map_err(|e| e.error)?;
        Ok::<_, io::Error>("42".to_string())
    });
    let failure = CrashTest::new(&workload).env(env()).check().unwrap_err();
    let text = failure.to_string();
    if !detection().is_on() {
        assert!(
            matches!(
                failure.harness_error(),
                Some(HarnessError::CleanRunFailed { .. }) | None
            ),
            "{text}"
        );
        return;
    }
    assert!(entries(dir.path()).is_empty(), "{text}");
    // tempfile's error says `at path "<dir>/.tmpXXXX"`: no trace needed.
    let calls = bypassed(&failure);
    assert_eq!(calls.len(), 1, "{text}");
    assert_eq!(calls[0].syscall, None, "{text}");
    assert_eq!(calls[0].path.parent(), Some(dir.path()), "{text}");
    assert!(text.contains("this call bypassed the simulator"), "{text}");
    assert!(text.contains(&dir.path().display().to_string()), "{text}");
}

/// Writes through the simulator; a run that finds its own marker (a
/// recovery) also writes `target` on the real disk, propagating the error.
struct WritesForRealOnRecovery {
    target: PathBuf,
}

impl Workload for WritesForRealOnRecovery {
    fn name(&self) -> String {
        "writes-for-real-on-recovery".into()
    }
    fn run(&self, fs: &dyn Fs, _: &mut Progress) -> Result<Completion, WorkloadError> {
        if fs.exists(Path::new("/marker"))? {
            std::fs::write(&self.target, b"recovered")?;
        }
        write_through(fs, "/marker")?;
        Ok(Completion {
            output: "done".into(),
            resumed_from: None,
        })
    }
    fn inspect(&self, _: &dyn Fs) -> Result<Recovered, WorkloadError> {
        Ok(Recovered { checkpoint: None })
    }
    fn redo_bound(&self) -> u64 {
        u64::MAX
    }
    fn leftovers(&self, _: &dyn Fs) -> Result<Vec<String>, WorkloadError> {
        Ok(Vec::new())
    }
    fn checks(&self) -> Checks {
        Checks {
            attempts: false,
            acknowledgements: false,
            recovery_never_fails: false,
            resume_cursor: false,
            redo_bound: false,
            leftovers: false,
            state_predicate: None,
            final_state: None,
        }
    }
}

#[test]
fn every_thread_that_runs_the_workload_is_confined_and_the_callers_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("recovered.txt");
    let workload = WritesForRealOnRecovery {
        target: target.clone(),
    };
    for jobs in [1, 2] {
        let report = Explorer::new(
            &workload,
            ExploreOptions {
                jobs,
                ..ExploreOptions::default()
            },
        )
        .explore_exhaustive(CrashModel::DropUnsynced)
        .unwrap();
        assert_eq!(report.bypass_detection.is_on(), landlock_available());
        if !report.bypass_detection.is_on() {
            // Unconfined, the recovery wrote the real disk and passed.
            assert!(report.is_clean(), "{report}");
            std::fs::remove_file(&target).unwrap();
            continue;
        }
        // Recovery runs (on the pool's threads with 2 jobs) were denied.
        assert!(!report.is_clean(), "jobs {jobs}: {report}");
        let v = report.violations().next().unwrap();
        assert!(
            v.message.contains("Permission denied (os error 13)")
                && v.message.contains("this call bypassed the simulator"),
            "jobs {jobs}: {}",
            v.message
        );
        assert!(!target.exists(), "jobs {jobs}: the real disk was written");
    }
    // The test's own thread was never restricted: it still writes.
    std::fs::write(&target, b"the caller writes").unwrap();
    assert_eq!(std::fs::read(&target).unwrap(), b"the caller writes");
}

#[test]
fn the_report_says_once_whether_bypass_detection_is_on() {
    let honest = ProgramWorkload::new("honest", |fs: &dyn Fs, _| write_through(fs, "/out"));
    let checked = CrashTest::new(&honest).env(env()).check().unwrap();
    let text = checked.to_string();
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("bypass detection: "))
        .collect();
    assert_eq!(lines.len(), 1, "{text}");
    // The line says what happened: on, a real write was denied; off, it
    // was not (and the reason is given).
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("x");
    let workload = writes_real_file(Sandbox::NoRealWrites, target.clone());
    let result = CrashTest::new(workload.as_ref()).env(env()).check();
    let on = lines[0].strip_prefix("bypass detection: on (Landlock ABI ");
    assert_eq!(on.is_some(), landlock_available(), "{text}");
    if let Some(rest) = on {
        let (abi, audit) = rest.split_once("); ").unwrap();
        assert!(abi.parse::<u32>().unwrap() >= 1, "{text}");
        let expected = if have_strace() {
            "swallowed denials checked (clean run traced)"
        } else {
            "swallowed denials not checked: `strace` is not installed (apt-get install strace)"
        };
        assert_eq!(audit, expected, "{text}");
        assert!(result.is_err() && !target.exists(), "{text}");
    } else {
        assert!(
            lines[0].starts_with("bypass detection: off, because "),
            "{text}"
        );
        assert!(result.is_ok() && target.exists(), "{text}");
    }
}

/// A workload with a declared sandbox that writes `real` on the real disk
/// and `/out` through the simulator.
fn writes_real_file(sandbox: Sandbox, real: PathBuf) -> Arc<dyn Workload> {
    struct Declared {
        sandbox: Sandbox,
        program: ProgramWorkload,
    }
    impl Workload for Declared {
        fn name(&self) -> String {
            self.program.name()
        }
        fn run(&self, fs: &dyn Fs, p: &mut Progress) -> Result<Completion, WorkloadError> {
            self.program.run(fs, p)
        }
        fn inspect(&self, fs: &dyn Fs) -> Result<Recovered, WorkloadError> {
            self.program.inspect(fs)
        }
        fn redo_bound(&self) -> u64 {
            self.program.redo_bound()
        }
        fn leftovers(&self, fs: &dyn Fs) -> Result<Vec<String>, WorkloadError> {
            Workload::leftovers(&self.program, fs)
        }
        fn checks(&self) -> Checks {
            self.program.checks()
        }
        fn sandbox(&self) -> Sandbox {
            self.sandbox.clone()
        }
    }
    let program = ProgramWorkload::new("declares-its-sandbox", move |fs: &dyn Fs, _| {
        std::fs::write(&real, b"allowed")?;
        write_through(fs, "/out")
    });
    Arc::new(Declared { sandbox, program })
}

#[test]
fn a_workload_may_declare_where_it_writes_for_real_or_turn_detection_off() {
    let allowed = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let inside = allowed.path().join("mount").join("x");
    std::fs::create_dir(allowed.path().join("mount")).unwrap();
    let beneath = Sandbox::WritableBeneath(vec![allowed.path().to_path_buf()]);

    let workload = writes_real_file(beneath.clone(), inside.clone());
    let checked = CrashTest::new(workload.as_ref())
        .models(&[CrashModel::DropUnsynced])
        .env(env())
        .check()
        .unwrap();
    assert_eq!(std::fs::read(&inside).unwrap(), b"allowed", "{checked}");

    // The allowance is exactly the paths declared.
    let outside = elsewhere.path().join("y");
    let workload = writes_real_file(beneath, outside.clone());
    let result = CrashTest::new(workload.as_ref())
        .models(&[CrashModel::DropUnsynced])
        .env(env())
        .check();
    if detection().is_on() {
        let failure = result.unwrap_err();
        assert!(
            failure
                .to_string()
                .contains("this call bypassed the simulator"),
            "{failure}"
        );
        assert!(!outside.exists(), "{failure}");
    }

    let unrestricted = Sandbox::Unrestricted {
        reason: "mounts a FUSE filesystem in every run".into(),
    };
    let workload = writes_real_file(unrestricted, outside.clone());
    let checked = CrashTest::new(workload.as_ref())
        .models(&[CrashModel::DropUnsynced])
        .env(env())
        .check()
        .unwrap();
    assert!(
        checked.to_string().contains(
            "bypass detection: off, because the workload declared Sandbox::Unrestricted (mounts \
             a FUSE filesystem in every run)"
        ),
        "{checked}"
    );
    assert_eq!(std::fs::read(&outside).unwrap(), b"allowed");

    // A declared path that does not exist is an error, not a silent denial.
    let missing = Sandbox::WritableBeneath(vec![allowed.path().join("missing")]);
    let workload = writes_real_file(missing, inside);
    let failure = CrashTest::new(workload.as_ref())
        .env(env())
        .check()
        .unwrap_err();
    if cfg!(target_os = "linux") {
        assert!(
            matches!(
                failure.harness_error(),
                Some(HarnessError::SandboxPath { .. })
            ),
            "{failure}"
        );
    }
}

#[test]
fn a_clean_run_that_writes_nothing_through_the_simulator_is_refused() {
    // Reads only: steps, none that writes.
    let reads = ProgramWorkload::new("reads-only", |fs: &dyn Fs, _| {
        Ok::<_, io::Error>(format!("{}", fs.exists(Path::new("/progress"))?))
    });
    let failure = CrashTest::new(&reads).env(env()).check().unwrap_err();
    assert!(
        matches!(
            failure.harness_error(),
            Some(HarnessError::NoFilesystemStep { steps: 1, .. })
        ),
        "{failure}"
    );
    assert!(
        failure
            .to_string()
            .contains("made 1 filesystem step through the simulator and it writes nothing"),
        "{failure}"
    );
    if detection().is_on() && have_strace() {
        assert!(
            failure
                .to_string()
                .contains("A traced re-run shows no call to the real disk that was denied"),
            "{failure}"
        );
    }
    // Creating an empty file is a write: checked, not refused.
    let creates = ProgramWorkload::new("creates-a-marker", |fs: &dyn Fs, _| {
        let file = fs.open(Path::new("/marker"), OpenMode::Create)?;
        fs.close(file)?;
        Ok::<_, io::Error>("done".to_string())
    });
    CrashTest::new(&creates).env(env()).check().unwrap();
}

/// A program that swallows the denial of its real write (`let _ =
/// std::fs::write(..)`) and writes through the simulator too: every run
/// looks sound.
fn swallows_and_writes_through(target: PathBuf, runs: Arc<AtomicU64>) -> ProgramWorkload {
    ProgramWorkload::new("swallows-and-writes-through", move |fs: &dyn Fs, _| {
        runs.fetch_add(1, Ordering::SeqCst);
        let _ = std::fs::write(&target, b"lost");
        write_through(fs, "/out")
    })
}

#[test]
fn a_swallowed_denial_beside_writes_through_the_simulator_is_caught_by_the_audit() {
    if !detection().is_on() || !have_strace() {
        // Unconfined nothing is denied; without `strace` the report says
        // the audit did not look (next test).
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("swallowed.txt");
    let runs = Arc::new(AtomicU64::new(0));
    let workload = swallows_and_writes_through(target.clone(), runs.clone());
    let failure = CrashTest::new(&workload).env(env()).check().unwrap_err();
    let text = failure.to_string();
    assert_eq!(
        bypassed(&failure),
        [RealDiskCall {
            syscall: Some("openat".into()),
            path: target.clone()
        }],
        "{text}"
    );
    assert!(
        matches!(
            failure.harness_error(),
            Some(HarnessError::BypassedSimulator {
                swallowed: true,
                ..
            })
        ),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "`openat` of {} was denied (EACCES); this call bypassed the simulator, so what it \
             writes is never crashed or checked (the run was denied it and swallowed the error, \
             so the run looked sound)",
            target.display()
        )),
        "{text}"
    );
    assert!(!target.exists(), "the run wrote the real disk: {text}");
    // Found before any exploring: the audit's run and the clean run it
    // judged, nothing more.
    assert_eq!(runs.load(Ordering::SeqCst), 1, "{text}");

    // The broken variant, the audit turned off by hand: the same program
    // passes (what this test guards against), and the report says the
    // check was not made.
    let checked = CrashTest::new(&workload)
        .options(ExploreOptions {
            audit: false,
            ..ExploreOptions::default()
        })
        .env(env())
        .check()
        .unwrap();
    let text = checked.to_string();
    assert!(
        text.contains(
            "); swallowed denials not checked: the audit is turned off (ExploreOptions::audit)\n"
        ),
        "{text}"
    );
    assert!(!target.exists(), "{text}");
}

#[test]
fn every_entry_point_audits_once_per_explorer() {
    if !detection().is_on() || !have_strace() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let runs = Arc::new(AtomicU64::new(0));
    let workload = swallows_and_writes_through(dir.path().join("x"), runs.clone());
    let caught = |result: Result<_, HarnessError>| match result {
        Err(HarnessError::BypassedSimulator {
            calls,
            swallowed: true,
            ..
        }) => calls.len() == 1,
        _ => false,
    };
    let explorer = Explorer::new(&workload, ExploreOptions::default());
    assert!(caught(explorer.clean_run().map(|_| ())));
    assert!(caught(
        explorer
            .explore_exhaustive(CrashModel::DropUnsynced)
            .map(|_| ())
    ));
    let schedule = "step:1@drop-unsynced#idx=0".parse().unwrap();
    assert!(caught(explorer.replay(&schedule).map(|_| ())));
    let rules = vec!["eio:fsync:*".parse().unwrap()];
    assert!(caught(
        explorer
            .explore_fault_rules(CrashModel::DropUnsynced, &rules)
            .map(|_| ())
    ));
    let plan = Plan {
        modes: vec![Mode::Exhaustive, Mode::SyncEio],
        models: vec![CrashModel::DropUnsynced],
    };
    assert!(caught(explorer.explore(&plan).map(|_| ())));
    // One traced run for all of them: the trace is kept.
    assert_eq!(runs.load(Ordering::SeqCst), 1);

    // An honest workload: no run more than without the audit, however many
    // passes and entry points: the traced run is the passes' clean run.
    let runs_of = |audit: bool| {
        let runs = Arc::new(AtomicU64::new(0));
        let counted = runs.clone();
        let honest = ProgramWorkload::new("honest", move |fs: &dyn Fs, _| {
            counted.fetch_add(1, Ordering::SeqCst);
            write_through(fs, "/out")
        });
        let explorer = Explorer::new(
            &honest,
            ExploreOptions {
                audit,
                ..ExploreOptions::default()
            },
        );
        let report = explorer.explore(&plan).unwrap();
        explorer.clean_run().unwrap();
        (runs.load(Ordering::SeqCst), report.bypass_detection)
    };
    let (audited, detection) = runs_of(true);
    let (unaudited, _) = runs_of(false);
    assert_eq!(audited, unaudited);
    assert!(
        matches!(
            detection,
            BypassDetection::On {
                swallowed_denials: SwallowedDenials::Checked,
                ..
            }
        ),
        "{detection}"
    );
}

#[test]
fn where_the_audit_cannot_look_the_report_says_so_once() {
    if !detection().is_on() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("swallowed.txt");
    let workload = swallows_and_writes_through(target.clone(), Arc::default());
    // No `strace`, and one that cannot attach (`false` exits at once, as a
    // `strace` refused by ptrace restrictions does): the swallowed denial
    // passes, and the report's bypass line says why it was not checked.
    for (strace, why) in [
        (
            MISSING_STRACE,
            "swallowed denials not checked: `strace` is not installed: /nonexistent/strace was \
             not found (ExploreOptions::strace)",
        ),
        (
            "false",
            "swallowed denials not checked: `strace` could not attach to the run's thread (it \
             ended without a word; ptrace may be restricted",
        ),
    ] {
        let checked = CrashTest::new(&workload)
            .options(ExploreOptions {
                strace: strace.into(),
                ..ExploreOptions::default()
            })
            .env(env())
            .check()
            .unwrap();
        let text = checked.to_string();
        let lines: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("bypass detection: "))
            .collect();
        assert_eq!(lines.len(), 1, "{text}");
        assert!(
            lines[0].starts_with("bypass detection: on (Landlock ABI "),
            "{text}"
        );
        assert!(lines[0].contains(&format!("); {why}")), "{text}");
        // JSON carries it.
        let json = serde_json::to_value(checked.report().unwrap()).unwrap();
        let audit = &json["bypass_detection"]["swallowed_denials"];
        assert_eq!(audit["state"], "not-checked", "{json}");
        assert!(
            audit["because"]
                .as_str()
                .unwrap()
                .starts_with(why.trim_start_matches("swallowed denials not checked: ")),
            "{json}"
        );
        assert!(!target.exists(), "{text}");
    }
}

#[test]
fn a_run_that_starts_threads_or_processes_is_audited_on_its_own_thread_only() {
    if !detection().is_on() || !have_strace() {
        return;
    }
    // A thread the run starts swallows a denial: the trace, which follows
    // only the run's own thread, cannot see it, and the report says so.
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("from-a-thread.txt");
    let path = target.clone();
    let threads = ProgramWorkload::new("starts-a-thread", move |fs: &dyn Fs, _| {
        std::thread::scope(|s| {
            s.spawn(|| {
                let _ = std::fs::write(&path, b"lost");
            });
        });
        write_through(fs, "/out")
    });
    let report = CrashTest::new(&threads)
        .models(&[CrashModel::DropUnsynced])
        .env(env())
        .check()
        .unwrap()
        .to_string();
    assert!(
        report.contains(
            "); swallowed denials checked on the clean run's own thread only: it starts \
             threads, which the trace does not follow\n"
        ),
        "{report}"
    );
    assert!(!target.exists(), "{report}");
    // A child process (what a program on a mount is): the same.
    let process = ProgramWorkload::new("starts-a-process", |fs: &dyn Fs, _| {
        std::process::Command::new("true").status()?;
        write_through(fs, "/out")
    });
    let report = CrashTest::new(&process)
        .models(&[CrashModel::DropUnsynced])
        .env(env())
        .check()
        .unwrap()
        .to_string();
    assert!(
        report.contains("own thread only: it starts child processes, which the trace"),
        "{report}"
    );
}
