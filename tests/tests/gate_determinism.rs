//! CI gate: determinism is checked, not hoped (madsim's
//! `MADSIM_TEST_CHECK_DETERMINISM`), and the check has teeth.

// This file is a test crate: its helper functions are test code too, and a
// failed unwrap there is a failed test with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use crashproof_catalog::core_runner::CoreRunnerWorkload;
use crashproof_core::fs::Fs;
use crashproof_fault::{CrashModel, KillSchedule};
use crashproof_sim::explore::{
    Completion, ExploreOptions, Explorer, Oracle, Progress, Recovered, Workload, WorkloadError,
};

const SCHEDULES: [&str; 4] = [
    "step:40@drop-unsynced#seed=1",
    "step:90@subset#seed=7;step:12@prefix#idx=2",
    "fp:replace.after_rename_before_sync_dir*4@prefix#idx=1;step:3@eager-dirs#seed=0",
    "step:150@subset#idx=5;step:30@subset#seed=2;step:8@drop-unsynced#idx=0",
];

#[test]
fn the_default_workload_is_deterministic_case_by_case() {
    let workload = CoreRunnerWorkload::default();
    let explorer = Explorer::new(&workload, ExploreOptions::default());
    let clean = explorer.clean_run().unwrap();
    for text in SCHEDULES {
        let schedule: KillSchedule = text.parse().unwrap();
        let found = explorer.check_determinism(&clean, &schedule).unwrap();
        assert!(
            found.is_none(),
            "{}",
            found.map(|v| v.to_string()).unwrap_or_default()
        );
    }
}

#[test]
fn exhaustive_with_the_determinism_option_is_clean() {
    let workload = CoreRunnerWorkload::default();
    let options = ExploreOptions {
        check_determinism: true,
        ..ExploreOptions::default()
    };
    let report = Explorer::new(&workload, options)
        .explore_exhaustive(CrashModel::DropUnsynced)
        .unwrap();
    assert!(report.is_clean(), "{report}");
}

/// The core-runner workload plus one probe per run of a path named after a
/// counter kept across runs: its output and oracles are unaffected, only
/// its trace differs from one run of a case to the next.
struct CounterAcrossRuns {
    inner: CoreRunnerWorkload,
    runs: AtomicU64,
}

impl Workload for CounterAcrossRuns {
    fn name(&self) -> String {
        "counter-across-runs".into()
    }
    fn run(&self, fs: &dyn Fs, progress: &mut Progress) -> Result<Completion, WorkloadError> {
        let n = self.runs.fetch_add(1, Ordering::Relaxed);
        fs.exists(Path::new(&format!("/probe-{n}")))?;
        self.inner.run(fs, progress)
    }
    fn inspect(&self, fs: &dyn Fs) -> Result<Recovered, WorkloadError> {
        self.inner.inspect(fs)
    }
    fn redo_bound(&self) -> u64 {
        self.inner.redo_bound()
    }
    fn leftovers(&self, fs: &dyn Fs) -> Result<Vec<String>, WorkloadError> {
        self.inner.leftovers(fs)
    }
}

#[test]
fn a_workload_with_state_across_runs_is_caught() {
    let workload = CounterAcrossRuns {
        inner: CoreRunnerWorkload::default(),
        runs: AtomicU64::new(0),
    };
    let explorer = Explorer::new(&workload, ExploreOptions::default());
    let clean = explorer.clean_run().unwrap();
    let schedule: KillSchedule = SCHEDULES[1].parse().unwrap();
    assert!(
        explorer
            .run_case(&clean, &schedule)
            .unwrap()
            .violation
            .is_none(),
        "the ordinary oracles pass"
    );
    let v = explorer
        .check_determinism(&clean, &schedule)
        .unwrap()
        .expect("caught");
    assert_eq!(v.oracle, Oracle::NonDeterminism);
    assert!(v.message.contains("traces differ"), "{v}");

    let options = ExploreOptions {
        check_determinism: true,
        ..ExploreOptions::default()
    };
    let report = Explorer::new(&workload, options)
        .explore_exhaustive(CrashModel::DropUnsynced)
        .unwrap();
    assert!(
        report
            .violations()
            .any(|v| v.oracle == Oracle::NonDeterminism),
        "{report}"
    );
}
