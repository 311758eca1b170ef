//! The explorer's own tests: each oracle is shown to fail on a workload
//! broken in exactly the way it checks, and to pass on the correct control.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use crashproof_core::fs::{Fs, OpenMode};
use crashproof_fault::{CrashModel, KillSchedule, StateSelector};

use crashproof_catalog::workload as workload_by_name;
use crashproof_sim::explore::*;

/// The zoo's correct control with one behaviour overridden.
struct Broken {
    inner: Box<dyn Workload>,
    bug: Bug,
    runs: AtomicU64,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Bug {
    /// `inspect` claims a checkpoint the program never wrote.
    InspectGarbage,
    /// `inspect` panics on any non-empty disk.
    InspectPanics,
    /// `inspect` says "start over" whatever is on disk.
    InspectForgets,
    /// A resumed run reports a different output.
    ResumedOutputDiffers,
    /// A redo bound of 0: any crash after an item redoes too much.
    RedoBoundZero,
    /// A resumed run leaves a file behind (`leftovers` reports it).
    LeavesFile,
    /// A resumed run fails instead of completing.
    ResumeFails,
    /// Each run probes a path named after a counter kept across runs.
    NonDeterministic,
    /// A resumed run claims it started fresh (inspect and recovery disagree).
    ClaimsFreshStart,
    /// Recovery rewrites the newest checkpoint in place (truncate, write,
    /// sync): harmless unless a second crash hits the rewrite.
    RewritesOnRecovery,
}

impl Broken {
    fn new(bug: Bug) -> Self {
        let inner = workload_by_name("zoo-control").unwrap();
        Self {
            inner,
            bug,
            runs: AtomicU64::new(0),
        }
    }
}

impl Workload for Broken {
    fn name(&self) -> String {
        format!("broken-{:?}", self.bug)
    }
    fn run(&self, fs: &dyn Fs, progress: &mut Progress) -> Result<Completion, WorkloadError> {
        let resumed = !fs.read_dir(Path::new("/"))?.is_empty();
        if self.bug == Bug::NonDeterministic {
            let n = self.runs.fetch_add(1, Ordering::Relaxed);
            fs.exists(Path::new(&format!("/probe-{n}")))?;
        }
        if self.bug == Bug::RewritesOnRecovery && resumed {
            let newest = fs
                .read_dir(Path::new("/"))?
                .into_iter()
                .rev()
                .find(|e| e.name.ends_with(".ckpt"));
            if let Some(entry) = newest {
                let path = Path::new("/").join(&entry.name);
                let bytes = fs.read(&path)?;
                let file = fs.open_truncate(&path)?;
                fs.write_all_at(&file, 0, &bytes)?;
                fs.sync(&file)?;
                fs.close(file)?;
            }
        }
        if self.bug == Bug::ResumeFails && resumed {
            return Err(WorkloadError::Invariant("refusing to resume".into()));
        }
        let mut c = self.inner.run(fs, progress)?;
        // On the disk, not counted in memory: every run without a crash
        // (the audit's, the clean run, its twin) is the same run.
        if self.bug == Bug::LeavesFile && resumed {
            let stray = fs.open(Path::new("/stray.tmp"), OpenMode::Create)?;
            fs.close(stray)?;
        }
        if self.bug == Bug::ResumedOutputDiffers && resumed {
            c.output.push('!');
        }
        if self.bug == Bug::ClaimsFreshStart {
            c.resumed_from = None;
        }
        Ok(c)
    }
    fn inspect(&self, fs: &dyn Fs) -> Result<Recovered, WorkloadError> {
        let r = self.inner.inspect(fs)?;
        match self.bug {
            Bug::InspectGarbage => Ok(Recovered {
                checkpoint: r.checkpoint.map(|id| CheckpointId {
                    state_digest: !id.state_digest,
                    ..id
                }),
            }),
            Bug::InspectPanics if r.checkpoint.is_some() => panic!("unwrap on a checkpoint"),
            Bug::InspectForgets => Ok(Recovered { checkpoint: None }),
            _ => Ok(r),
        }
    }
    fn redo_bound(&self) -> u64 {
        if self.bug == Bug::RedoBoundZero {
            0
        } else {
            self.inner.redo_bound()
        }
    }
    fn leftovers(&self, fs: &dyn Fs) -> Result<Vec<String>, WorkloadError> {
        let mut left = self.inner.leftovers(fs)?;
        if self.bug == Bug::LeavesFile && fs.exists(Path::new("/stray.tmp"))? {
            left.push("stray.tmp".into());
        }
        Ok(left)
    }
}

fn first_violation(w: &dyn Workload, model: CrashModel) -> Violation {
    let report = Explorer::new(w, ExploreOptions::default())
        .explore_exhaustive(model)
        .unwrap();
    assert!(
        report.violation_count() > 0,
        "{}: no violation found",
        w.name()
    );
    report.violations().next().unwrap().clone()
}

#[test]
fn correct_control_passes_every_model_and_counts_add_up() {
    let w = workload_by_name("zoo-control").unwrap();
    let ex = Explorer::new(w.as_ref(), ExploreOptions::default());
    let clean = ex.clean_run().unwrap();
    for model in CrashModel::ALL {
        let r = ex.explore_exhaustive(model).unwrap();
        assert!(r.is_clean(), "{r}");
        let m = &r.passes[0];
        assert_eq!(m.crash_points, clean.steps + 1, "every step plus the end");
        assert_eq!(m.states_per_point.len() as u64, m.crash_points);
        assert_eq!(m.states_per_point.iter().sum::<u64>(), m.states_checked);
        assert!(m.states_checked >= m.crash_points);
    }
}

#[test]
fn state_oracle_catches_garbage_panics_and_lost_progress() {
    let v = first_violation(&Broken::new(Bug::InspectGarbage), CrashModel::DropUnsynced);
    assert_eq!(v.oracle, Oracle::State);
    assert!(v.message.contains("never wrote"), "{v}");
    let v = first_violation(&Broken::new(Bug::InspectPanics), CrashModel::DropUnsynced);
    assert_eq!(v.oracle, Oracle::Panic);
    let v = first_violation(&Broken::new(Bug::InspectForgets), CrashModel::DropUnsynced);
    assert_eq!(v.oracle, Oracle::State);
    assert!(v.message.contains("acknowledged progress lost"), "{v}");
    let v = first_violation(
        &Broken::new(Bug::ClaimsFreshStart),
        CrashModel::DropUnsynced,
    );
    assert_eq!(v.oracle, Oracle::State);
    assert!(
        v.message
            .contains("inspect said recovery resumes at cursor"),
        "{v}"
    );
}

#[test]
fn result_oracle_catches_output_redo_leftovers_and_failed_resumes() {
    for (bug, needle) in [
        (Bug::ResumedOutputDiffers, "output differs"),
        (Bug::RedoBoundZero, "too much work redone"),
        (Bug::LeavesFile, "left files behind"),
        (Bug::ResumeFails, "did not complete"),
    ] {
        let v = first_violation(&Broken::new(bug), CrashModel::DropUnsynced);
        assert_eq!(v.oracle, Oracle::Result, "{bug:?}");
        assert!(v.message.contains(needle), "{bug:?}: {v}");
    }
}

#[test]
fn a_violation_replays_to_the_same_trace() {
    let w = workload_by_name("no-dir-fsync").unwrap();
    let v = first_violation(w.as_ref(), CrashModel::DropUnsynced);
    assert!(
        v.replay.contains(&format!("\"{}\"", v.schedule)),
        "{}",
        v.replay
    );
    let schedule = v.schedule.clone();
    let ex = Explorer::new(
        w.as_ref(),
        ExploreOptions {
            seed: v.seed,
            ..ExploreOptions::default()
        },
    );
    let (_, replayed) = ex.replay(&schedule).unwrap();
    let again = replayed.violation.unwrap();
    assert_eq!(again.trace.to_string(), v.trace.to_string());
    assert_eq!(again.message, v.message);
    assert!(
        v.trace.to_string().contains("==> CRASH before step"),
        "{}",
        v.trace
    );
}

#[test]
fn determinism_check_passes_the_control_and_catches_a_cross_run_counter() {
    let control = workload_by_name("zoo-control").unwrap();
    let schedule: KillSchedule = "step:9@prefix#seed=3;step:4@subset#idx=1".parse().unwrap();
    let ex = Explorer::new(control.as_ref(), ExploreOptions::default());
    let clean = ex.clean_run().unwrap();
    assert!(ex.check_determinism(&clean, &schedule).unwrap().is_none());

    let flaky = Broken::new(Bug::NonDeterministic);
    let ex = Explorer::new(&flaky, ExploreOptions::default());
    let clean = ex.clean_run().unwrap();
    // The ordinary oracles pass: only the trace depends on the counter.
    assert!(ex.run_case(&clean, &schedule).unwrap().violation.is_none());
    let v = ex
        .check_determinism(&clean, &schedule)
        .unwrap()
        .expect("non-determinism caught");
    assert_eq!(v.oracle, Oracle::NonDeterminism);
    assert!(v.message.contains("probe-"), "{v}");
}

#[test]
fn multi_crash_schedules_crash_every_run_they_name() {
    let w = workload_by_name("zoo-control").unwrap();
    let ex = Explorer::new(w.as_ref(), ExploreOptions::default());
    let clean = ex.clean_run().unwrap();
    let schedule: KillSchedule =
        "step:20@prefix#seed=1;step:3@subset#idx=0;step:6@drop-unsynced#seed=2"
            .parse()
            .unwrap();
    let out = ex.run_case(&clean, &schedule).unwrap();
    assert!(
        out.violation.is_none(),
        "{:?}",
        out.violation.map(|v| v.to_string())
    );
    assert_eq!((out.crashes, out.runs), (3, 4));
    assert_eq!(out.output.as_deref(), Some(clean.output.as_str()));
    let text = out.trace.to_string();
    assert_eq!(text.matches("==> CRASH").count(), 3, "{text}");
    assert_eq!(text.matches("--- run").count(), 4, "{text}");
}

#[test]
fn crash_at_the_end_and_unreached_points_are_handled() {
    let w = workload_by_name("zoo-control").unwrap();
    let ex = Explorer::new(w.as_ref(), ExploreOptions::default());
    let clean = ex.clean_run().unwrap();
    let at_end = KillSchedule::at_step(
        clean.steps,
        CrashModel::DropUnsynced,
        StateSelector::Index(0),
    );
    let out = ex.run_case(&clean, &at_end).unwrap();
    assert_eq!(out.crashes, 1);
    assert!(out.violation.is_none());
    let beyond = KillSchedule::at_step(
        clean.steps + 10,
        CrashModel::DropUnsynced,
        StateSelector::Index(0),
    );
    let out = ex.run_case(&clean, &beyond).unwrap();
    assert_eq!((out.crashes, out.runs), (0, 1));
    // Named, with the run's length, and refused by a replay.
    let unreached = out.unreached.unwrap();
    assert_eq!((unreached.run, unreached.steps), (1, clean.steps));
    assert!(matches!(
        ex.replay(&beyond),
        Err(HarnessError::CrashPointNotReached(_))
    ));
}

#[test]
fn failpoint_crash_points_name_a_hit() {
    let w = workload_by_name("core-runner").unwrap();
    let ex = Explorer::new(w.as_ref(), ExploreOptions::default());
    let clean = ex.clean_run().unwrap();
    assert!(
        clean
            .failpoints
            .iter()
            .any(|f| f == "replace.after_sync_before_rename"),
        "{:?}",
        clean.failpoints
    );
    let schedule: KillSchedule = "fp:replace.after_rename_before_sync_dir*3@prefix#idx=0"
        .parse()
        .unwrap();
    let out = ex.run_case(&clean, &schedule).unwrap();
    assert!(out.violation.is_none());
    assert_eq!(out.crashes, 1);
    let text = out.trace.to_string();
    let marker = text
        .lines()
        .position(|l| l.starts_with("==> CRASH"))
        .unwrap();
    let before: Vec<&str> = text.lines().take(marker).collect();
    let hits = before
        .iter()
        .filter(|l| l.contains("replace.after_rename_before_sync_dir"))
        .count();
    assert_eq!(hits, 2, "crashes before the third hit:\n{text}");
}

#[test]
fn index_past_the_cap_is_a_harness_error_not_a_silent_pick() {
    let w = workload_by_name("zoo-control").unwrap();
    let ex = Explorer::new(
        w.as_ref(),
        ExploreOptions {
            states_per_point_max: 1,
            ..ExploreOptions::default()
        },
    );
    let clean = ex.clean_run().unwrap();
    let mut seen_error = false;
    for step in 0..clean.steps {
        let s = KillSchedule::at_step(step, CrashModel::Subset, StateSelector::Index(0));
        if let Err(e) = ex.run_case(&clean, &s) {
            assert!(e.to_string().contains("--cap"), "{e}");
            seen_error = true;
        }
    }
    assert!(seen_error, "some step has more than one subset state");
}

#[test]
fn exhaustive_past_the_cap_samples_and_says_so() {
    let w = workload_by_name("zoo-control").unwrap();
    let opts = ExploreOptions {
        states_per_point_max: 1,
        picks_per_capped_point: 3,
        ..ExploreOptions::default()
    };
    let r = Explorer::new(w.as_ref(), opts)
        .explore_exhaustive(CrashModel::Subset)
        .unwrap();
    let m = &r.passes[0];
    assert!(m.capped_points > 0);
    assert!(
        r.notes_all().iter().any(|n| n.contains("seeded picks")),
        "{r}"
    );
    assert!(r.to_string().contains("NOTE"), "{r}");
    assert_eq!(m.states_per_point.iter().sum::<u64>(), m.states_checked);
    assert!(r.is_clean(), "{r}");
}

#[test]
fn random_mode_shrinks_a_mutant_to_one_early_crash() {
    let w = workload_by_name("no-dir-fsync").unwrap();
    let ex = Explorer::new(
        w.as_ref(),
        ExploreOptions {
            seed: 7,
            ..ExploreOptions::default()
        },
    );
    let r = ex
        .explore_random(
            &CrashModel::ALL,
            &RandomConfig {
                cases: 64,
                ..RandomConfig::default()
            },
        )
        .unwrap();
    assert_eq!(r.violation_count(), 1, "{r}");
    let s = &r.violations().next().unwrap().schedule;
    assert_eq!(s.points.len(), 1, "{s}");
}

#[test]
fn random_mode_passes_the_control() {
    let w = workload_by_name("zoo-control").unwrap();
    let ex = Explorer::new(
        w.as_ref(),
        ExploreOptions {
            seed: 11,
            check_determinism: true,
            ..ExploreOptions::default()
        },
    );
    let r = ex
        .explore_random(
            &CrashModel::ALL,
            &RandomConfig {
                cases: 24,
                ..RandomConfig::default()
            },
        )
        .unwrap();
    assert!(r.is_clean(), "{r}");
    assert!(r.states_checked() > 0);
}

#[test]
fn progress_rewinds_to_any_step() {
    let clock = StepClock::new();
    let mut p = Progress::new();
    let id = |c| CheckpointId {
        cursor: c,
        state_digest: c,
    };
    p.acknowledge(id(5));
    p.record_steps(clock.clone());
    clock.set(3);
    p.processed(5);
    p.attempt(id(10));
    clock.set(7);
    p.acknowledge(id(10));
    assert_eq!(p.as_of(2).acknowledged(), Some(id(5)));
    assert_eq!(p.as_of(2).processed_max(), None);
    assert_eq!(p.as_of(3).attempted().len(), 2);
    assert_eq!(p.as_of(6).acknowledged(), Some(id(5)));
    assert_eq!(p.as_of(7).acknowledged(), Some(id(10)));
    assert_eq!(p.as_of(7), p.without_journal());
}

#[test]
fn a_run_failing_on_injected_eio_is_restarted_after_a_power_loss() {
    let w = workload_by_name("zoo-control").unwrap();
    let ex = Explorer::new(w.as_ref(), ExploreOptions::default());
    let clean = ex.clean_run().unwrap();
    let sync_step = clean
        .trace
        .entries
        .iter()
        .find(|e| e.step.op == crashproof_core::fs::FsOp::Sync)
        .map(|e| e.step.index)
        .unwrap();
    let schedule: KillSchedule = format!("eio:{sync_step}").parse().unwrap();
    let out = ex.run_case(&clean, &schedule).unwrap();
    assert!(
        out.violation.is_none(),
        "{:?}",
        out.violation.map(|v| v.to_string())
    );
    assert!(out.crashes >= 1 && out.runs >= 2, "{}", out.trace);
    assert!(
        out.trace.to_string().contains("injected fault"),
        "{}",
        out.trace
    );
    assert_eq!(out.output.as_deref(), Some(clean.output.as_str()));
}

#[test]
fn violations_at_sampled_points_replay_by_seed() {
    let w = workload_by_name("no-dir-fsync").unwrap();
    let opts = ExploreOptions {
        states_per_point_max: 1,
        picks_per_capped_point: 4,
        violations_in_full_max: 50,
        ..ExploreOptions::default()
    };
    let r = Explorer::new(w.as_ref(), opts)
        .explore_exhaustive(CrashModel::Subset)
        .unwrap();
    assert!(r.passes[0].capped_points > 0);
    let by_seed: Vec<&Violation> = r
        .violations()
        .filter(|v| v.schedule.to_string().contains("#seed="))
        .collect();
    assert!(!by_seed.is_empty(), "{r}");
    for v in r.violations() {
        assert_ne!(
            v.oracle,
            Oracle::NonDeterminism,
            "the replay of every finding agrees: {v}"
        );
    }
}

#[test]
fn two_crash_exploration_finds_what_only_a_crash_during_recovery_shows() {
    let control = workload_by_name("zoo-control").unwrap();
    let r = Explorer::new(control.as_ref(), ExploreOptions::default())
        .explore_two_crashes(CrashModel::Prefix)
        .unwrap();
    assert!(r.is_clean(), "{r}");
    let m = &r.passes[0];
    assert_eq!(m.states_per_point.iter().sum::<u64>(), m.states_checked);
    assert!(m.crash_points > 10 * (m.states_per_point.len() as u64 / 100 + 1));

    let rewrites = Broken::new(Bug::RewritesOnRecovery);
    let ex = Explorer::new(&rewrites, ExploreOptions::default());
    for model in CrashModel::ALL {
        let single = ex.explore_exhaustive(model).unwrap();
        assert!(single.is_clean(), "one crash cannot see it: {single}");
    }
    let r = ex.explore_two_crashes(CrashModel::Prefix).unwrap();
    assert!(r.violation_count() > 0, "{r}");
    let v = r.violations().next().unwrap();
    assert_eq!(v.schedule.points.len(), 2, "{v}");
    let (_, replayed) = ex.replay(&v.schedule).unwrap();
    assert_eq!(
        replayed.violation.unwrap().trace.to_string(),
        v.trace.to_string()
    );
}
