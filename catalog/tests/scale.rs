//! Exploration that scales, without changing a verdict: checking each
//! distinct post-crash state once and stopping converged runs gives the
//! naive path's report for every catalogue workload; the report does not
//! depend on the number of threads; the shards of an exploration merge
//! into the whole run's report.
//!
//! Reports are compared as data (serde), without the two fields that say
//! how the work was done: wall time and `work` (resumed runs started).

// This file is a test crate: its helpers are test code too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crashproof_catalog::catalogue;
use crashproof_catalog::core_runner::{CoreRunnerConfig, CoreRunnerWorkload};
use crashproof_fault::CrashModel;
use crashproof_sim::explore::{
    ExploreOptions, Explorer, Mode, Plan, ReplayLine, Report, Shard, Workload,
};
use serde_json::Value;

/// The options of a run: the shared path (dedup and convergence) or the
/// naive one, on `jobs` threads.
fn options(shared: bool, jobs: usize) -> ExploreOptions {
    ExploreOptions {
        dedup: shared,
        converge: shared,
        jobs,
        replay: ReplayLine::Cli,
        ..ExploreOptions::default()
    }
}

/// What a report says, as data, without wall time and work counts.
fn verdict(report: &Report) -> Value {
    fn strip(v: &mut Value) {
        match v {
            Value::Object(fields) => {
                fields.remove("work");
                fields.remove("elapsed");
                fields.values_mut().for_each(strip);
            }
            Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let mut v = serde_json::to_value(report).unwrap();
    strip(&mut v);
    v
}

/// The verdict of exploring `workload` under `plan`, or the harness
/// error's text (which must then be the same too).
fn explore(workload: &dyn Workload, plan: &Plan, options: ExploreOptions) -> Result<Value, String> {
    Explorer::new(workload, options)
        .explore(plan)
        .map(|r| verdict(&r))
        .map_err(|e| e.to_string())
}

/// Asserts the shared path reports what the naive path reports.
fn assert_equivalent(workload: &dyn Workload, plan: &Plan) {
    let naive = explore(workload, plan, options(false, 1));
    let shared = explore(workload, plan, options(true, 2));
    assert!(
        naive == shared,
        "{} under {:?}: the shared path reports\n{shared:#?}\nthe naive path\n{naive:#?}",
        workload.name(),
        plan
    );
}

/// A core-runner small enough for two crashes on every model in a test.
fn small_core_runner() -> CoreRunnerWorkload {
    CoreRunnerWorkload::new(CoreRunnerConfig {
        items: 120,
        checkpoint_every: 20,
        ..CoreRunnerConfig::default()
    })
}

/// Every catalogue workload (zoo mutants and controls, scenarios and their
/// mutants, the core runner at its default size), every model, single
/// crashes and the sync-EIO sweep: same violations (schedules, oracles,
/// messages, first violations in full with their traces), same counts.
#[test]
#[ignore = "heavy: minutes at the test profile's opt-level; .ci/run runs it in release (cargo test --release -p crashproof-catalog --test scale -- --ignored)"]
fn shared_path_equals_naive_path_for_every_catalogue_workload() {
    let plan = Plan {
        models: CrashModel::ALL.to_vec(),
        modes: vec![Mode::Exhaustive, Mode::SyncEio],
    };
    for workload in catalogue() {
        assert_equivalent(workload.as_ref(), &plan);
    }
}

/// Two crashes (quadratic in the run, so sized for a test on 2 cores):
/// every catalogue workload under drop-unsynced (one state per crash
/// point), except the core runner, which runs at
/// N=120, K=20 under every model (at N=1000 the naive path alone takes
/// half a minute), the Feldera control (5 s per model on the naive path; its
/// mutant is in) and the adaptive runners (no convergence: every resumed
/// run goes to the end, so two crashes are cubic; their planted variant,
/// which fails early, is in); and prefix, a model with many states per point, on the
/// zoo's control and the mutant only two crashes catch (subset, the
/// costliest, runs on the small core runner only).
#[test]
#[ignore = "heavy: minutes at the test profile's opt-level; .ci/run runs it in release (cargo test --release -p crashproof-catalog --test scale -- --ignored)"]
fn shared_path_equals_naive_path_with_two_crashes() {
    let plan = |models: &[CrashModel]| Plan {
        models: models.to_vec(),
        modes: vec![Mode::TwoCrashes],
    };
    let one_state = plan(&[CrashModel::DropUnsynced]);
    let many_states = plan(&[CrashModel::Prefix]);
    assert_equivalent(&small_core_runner(), &plan(&CrashModel::ALL));
    for workload in catalogue() {
        let name = workload.name();
        if name == "core-runner"
            || name == "feldera-checkpointer"
            || name.starts_with("core-runner-adaptive")
        {
            continue;
        }
        assert_equivalent(workload.as_ref(), &one_state);
        if name == "zoo-control" || name == "recovery-rewrite-in-place" {
            assert_equivalent(workload.as_ref(), &many_states);
        }
    }
}

/// The shared path does share: the core runner's resumed runs are fewer
/// than its states (dedup) and most stop at a converged point.
#[test]
fn the_core_runner_is_checked_once_per_distinct_state_and_converges() {
    let workload = CoreRunnerWorkload::default();
    let report = Explorer::new(&workload, options(true, 1))
        .explore_exhaustive(CrashModel::DropUnsynced)
        .unwrap();
    let work = report.work();
    assert!(report.is_clean(), "{report}");
    assert_eq!(work.recoveries, report.states_distinct(), "{work:?}");
    assert!(work.recoveries < report.states_checked() / 2, "{work:?}");
    assert!(
        work.recoveries_converged * 10 >= work.recoveries * 9,
        "{work:?}"
    );
}

/// The same report (text and data) for 1 and 4 threads, on workloads with
/// violation groups (so the order of groups and of their first violations
/// counts) and on the core runner.
#[test]
fn the_report_does_not_depend_on_the_number_of_threads() {
    let plans = [
        Plan {
            models: vec![CrashModel::DropUnsynced, CrashModel::Subset],
            modes: vec![Mode::Exhaustive, Mode::SyncEio],
        },
        Plan {
            models: vec![CrashModel::DropUnsynced],
            modes: vec![Mode::TwoCrashes],
        },
    ];
    let names = [
        "core-runner",
        "no-dir-fsync",
        "trust-newest",
        "fsync-retried",
        "rooch-snapshot-resume/backup-name-mismatch",
    ];
    let all = catalogue();
    for name in names {
        let small = small_core_runner();
        let workload: &dyn Workload = if name == "core-runner" {
            &small
        } else {
            all.iter()
                .find(|w| w.name() == name)
                .unwrap_or_else(|| panic!("no workload {name}"))
                .as_ref()
        };
        for plan in &plans {
            let one = Explorer::new(workload, options(true, 1))
                .explore(plan)
                .unwrap();
            let four = Explorer::new(workload, options(true, 4))
                .explore(plan)
                .unwrap();
            assert_eq!(one.to_string(), four.to_string(), "{name}");
            assert_eq!(verdict(&one), verdict(&four), "{name}");
        }
    }
}

/// The core runner at its default size (N=1000: 231 crash points per pass,
/// streamed from the twin run in several batches, handed to the threads in
/// many): the same report, text and data, for 1 thread and for 3 (an odd
/// count, so batches finish out of order), under every model, single
/// crashes and two crashes under drop-unsynced; and the naive path (no
/// dedup, no convergence) gives the same verdict through the same stream.
#[test]
fn streamed_batches_give_the_same_report_for_any_thread_count() {
    let workload = CoreRunnerWorkload::default();
    let plans = [
        Plan {
            models: CrashModel::ALL.to_vec(),
            modes: vec![Mode::Exhaustive],
        },
        Plan {
            models: vec![CrashModel::DropUnsynced],
            modes: vec![Mode::TwoCrashes],
        },
    ];
    for plan in &plans {
        let one = Explorer::new(&workload, options(true, 1))
            .explore(plan)
            .unwrap();
        let three = Explorer::new(&workload, options(true, 3))
            .explore(plan)
            .unwrap();
        assert!(one.states_checked() > 0);
        assert_eq!(one.to_string(), three.to_string(), "{plan:?}");
        assert_eq!(verdict(&one), verdict(&three), "{plan:?}");
    }
    let single = &plans[0];
    let naive = explore(&workload, single, options(false, 3));
    let shared = explore(&workload, single, options(true, 1));
    assert!(naive == shared, "the naive path differs");
}

/// Shards `1/n ... n/n` merged equal the whole run, for several `n` (more
/// shards than some passes have units included), on workloads whose
/// violation groups span shard boundaries.
#[test]
#[ignore = "heavy: tens of seconds at the test profile's opt-level; .ci/run runs it in release (cargo test --release -p crashproof-catalog --test scale -- --ignored)"]
fn merged_shards_equal_the_whole_run() {
    let plan = Plan {
        models: vec![CrashModel::DropUnsynced, CrashModel::Prefix],
        modes: vec![Mode::Exhaustive, Mode::SyncEio, Mode::TwoCrashes],
    };
    for name in ["no-dir-fsync", "two-files", "trust-newest", "zoo-control"] {
        assert_shards_merge_to_the_whole_run(name, &plan, &[2, 5, 64]);
    }
}

/// Merging refuses shards of different explorations.
#[test]
fn shards_of_different_explorations_do_not_merge() {
    let all = catalogue();
    let report = |name: &str, seed: u64| {
        let workload = all.iter().find(|w| w.name() == name).unwrap();
        let mut o = options(true, 1);
        o.seed = seed;
        o.shard = Shard { index: 0, count: 2 };
        Explorer::new(workload.as_ref(), o)
            .explore_exhaustive(CrashModel::DropUnsynced)
            .unwrap()
    };
    let a = report("no-dir-fsync", 0);
    for other in [report("zoo-control", 0), report("no-dir-fsync", 1)] {
        let e = Report::merge_shards(vec![a.clone(), other], 3).unwrap_err();
        assert!(e.to_string().contains("differs"), "{e}");
    }
}

/// The core runner, plus a bug its converged points do not name: a run that
/// resumed from a checkpoint leaves a stray file behind at its end. Its
/// declared points claim the rest of the run depends on the disk and the
/// checkpoint alone, which this bug makes false.
struct StrayAfterResume(CoreRunnerWorkload);

impl Workload for StrayAfterResume {
    fn name(&self) -> String {
        "core-runner/stray-after-resume".to_string()
    }

    fn run(
        &self,
        fs: &dyn crashproof_core::fs::Fs,
        progress: &mut crashproof_sim::explore::Progress,
    ) -> Result<crashproof_sim::explore::Completion, crashproof_sim::explore::WorkloadError> {
        let completion = self.0.run(fs, progress)?;
        if completion.resumed_from.is_some() {
            let stray = fs.create_new(std::path::Path::new("/job/stray"))?;
            fs.close(stray)?;
        }
        Ok(completion)
    }

    fn inspect(
        &self,
        fs: &dyn crashproof_core::fs::Fs,
    ) -> Result<crashproof_sim::explore::Recovered, crashproof_sim::explore::WorkloadError> {
        self.0.inspect(fs)
    }

    fn redo_bound(&self) -> u64 {
        self.0.redo_bound()
    }

    fn leftovers(
        &self,
        fs: &dyn crashproof_core::fs::Fs,
    ) -> Result<Vec<String>, crashproof_sim::explore::WorkloadError> {
        self.0.leftovers(fs)
    }
}

/// Convergence is only as exact as the workload's points: with a point
/// that does not name what the rest of the run depends on, the shared path
/// misses a leftover the naive path finds, and comparing the two (what the
/// equivalence tests above do for the catalogue) shows it.
#[test]
fn a_converged_point_that_lies_is_caught_by_comparing_with_the_naive_path() {
    let workload = StrayAfterResume(small_core_runner());
    let plan = Plan {
        models: vec![CrashModel::DropUnsynced],
        modes: vec![Mode::Exhaustive],
    };
    let naive = Explorer::new(&workload, options(false, 1))
        .explore(&plan)
        .unwrap();
    assert!(
        naive
            .groups
            .iter()
            .any(|g| g.message.contains("left files behind")),
        "{naive}"
    );
    let shared = Explorer::new(&workload, options(true, 1))
        .explore(&plan)
        .unwrap();
    assert_ne!(verdict(&naive), verdict(&shared));
    // Without convergence, dedup alone is exact for it.
    let mut dedup_only = options(true, 1);
    dedup_only.converge = false;
    let deduped = Explorer::new(&workload, dedup_only).explore(&plan).unwrap();
    assert_eq!(verdict(&naive), verdict(&deduped));
}

/// The default tier's sample of the two sweeps above (which run in the
/// heavy tier): a mutant caught by single crashes, one caught only by two,
/// a mutant of a scenario, the zoo's control and the small core runner,
/// under a model with one state per point and one with many, single
/// crashes, the sync-EIO sweep and two crashes.
#[test]
fn shared_path_equals_naive_path_on_a_sample() {
    let all = catalogue();
    let named = |name: &str| {
        all.iter()
            .find(|w| w.name() == name)
            .unwrap_or_else(|| panic!("no workload {name}"))
            .as_ref()
    };
    let single = Plan {
        models: vec![CrashModel::DropUnsynced, CrashModel::Prefix],
        modes: vec![Mode::Exhaustive, Mode::SyncEio],
    };
    let two = Plan {
        models: vec![CrashModel::DropUnsynced],
        modes: vec![Mode::TwoCrashes],
    };
    for name in [
        "no-dir-fsync",
        "recovery-rewrite-in-place",
        "rooch-snapshot-resume/backup-name-mismatch",
        "zoo-control",
    ] {
        assert_equivalent(named(name), &single);
    }
    assert_equivalent(named("recovery-rewrite-in-place"), &two);
    assert_equivalent(&small_core_runner(), &two);
}

/// The default tier's sample of `merged_shards_equal_the_whole_run`: two
/// workloads whose violation groups span shard boundaries, two crashes
/// under drop-unsynced only, 2 shards and more shards than units.
#[test]
fn merged_shards_equal_the_whole_run_on_a_sample() {
    let plan = Plan {
        models: vec![CrashModel::DropUnsynced],
        modes: vec![Mode::Exhaustive, Mode::SyncEio, Mode::TwoCrashes],
    };
    for name in ["no-dir-fsync", "trust-newest"] {
        assert_shards_merge_to_the_whole_run(name, &plan, &[2, 64]);
    }
}

/// Explores catalogue workload `name` under `plan` whole and in `1/n ...
/// n/n` shards for each `n` of `counts`, and asserts the merged shards give
/// the whole run's verdict and report, to the byte.
fn assert_shards_merge_to_the_whole_run(name: &str, plan: &Plan, counts: &[u64]) {
    let all = catalogue();
    let workload = all
        .iter()
        .find(|w| w.name() == name)
        .unwrap_or_else(|| panic!("no workload {name}"))
        .as_ref();
    let whole = Explorer::new(workload, options(true, 2))
        .explore(plan)
        .unwrap();
    for &count in counts {
        let shards: Vec<Report> = (0..count)
            .map(|index| {
                let mut o = options(true, 2);
                o.shard = Shard { index, count };
                Explorer::new(workload, o).explore(plan).unwrap()
            })
            .collect();
        let merged = Report::merge_shards(shards, 3).unwrap();
        assert_eq!(verdict(&merged), verdict(&whole), "{name}, {count} shards");
        assert_eq!(
            merged.to_string(),
            whole.to_string(),
            "{name}, {count} shards"
        );
    }
}
