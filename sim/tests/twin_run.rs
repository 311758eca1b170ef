//! A pass's crash states come from a twin of its clean run (streamed in
//! batches, never all held): a workload whose two runs without a crash
//! differ is refused, not explored, in every mode that streams, and so is
//! one whose twin fails (it streamed only part of the run); the same
//! deterministic workload explores clean.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use crashproof_core::fs::Fs;
use crashproof_sim::CrashModel;
use crashproof_sim::explore::{
    Completion, ExploreOptions, Explorer, HarnessError, Mode, Plan, Progress, Recovered, Workload,
    WorkloadError,
};

/// Writes `/out` durably and outputs a fixed text, or (`drifting`) a text
/// that changes with every run: a program whose result depends on
/// something besides its disk (a clock, a counter in memory). With
/// `fails_in_twin`, a run on the twin's thread fails after its writes
/// (one that depends on which thread runs it).
struct Writer {
    drifting: bool,
    fails_in_twin: bool,
    runs: AtomicU64,
}

impl Writer {
    fn new(drifting: bool) -> Self {
        Self {
            drifting,
            fails_in_twin: false,
            runs: AtomicU64::new(0),
        }
    }
}

impl Workload for Writer {
    fn name(&self) -> String {
        "writer".to_string()
    }

    fn run(&self, fs: &dyn Fs, _: &mut Progress) -> Result<Completion, WorkloadError> {
        let run = self.runs.fetch_add(1, Ordering::Relaxed);
        let out = Path::new("/out");
        if !fs.exists(out)? {
            let f = fs.create_new(out)?;
            fs.write_all_at(&f, 0, b"done")?;
            fs.sync(&f)?;
            fs.close(f)?;
            fs.sync_dir(Path::new("/"))?;
        }
        if self.fails_in_twin && std::thread::current().name() == Some("crashproof-explore-twin") {
            return Err(std::io::Error::other("the twin's thread").into());
        }
        let output = if self.drifting {
            format!("run {run}")
        } else {
            "done".to_string()
        };
        Ok(Completion {
            output,
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
}

fn explore(workload: &Writer, mode: Mode, jobs: usize) -> Result<u64, HarnessError> {
    let options = ExploreOptions {
        jobs,
        ..ExploreOptions::default()
    };
    let plan = Plan {
        models: vec![CrashModel::DropUnsynced],
        modes: vec![mode],
    };
    Explorer::new(workload, options)
        .explore(&plan)
        .map(|r| r.states_checked())
}

#[test]
fn a_workload_whose_clean_runs_differ_is_refused() {
    for mode in [Mode::Exhaustive, Mode::TwoCrashes] {
        for jobs in [1, 2] {
            let e = explore(&Writer::new(true), mode.clone(), jobs).unwrap_err();
            assert!(
                matches!(&e, HarnessError::CleanRunFailed { reason, .. }
                    if reason.contains("not deterministic")),
                "{mode:?}, {jobs} threads: {e}"
            );
        }
    }
}

#[test]
fn the_same_workload_run_deterministically_explores_clean() {
    for mode in [Mode::Exhaustive, Mode::TwoCrashes] {
        for jobs in [1, 2] {
            let states = explore(&Writer::new(false), mode.clone(), jobs).unwrap();
            assert!(states > 0, "{mode:?}, {jobs} threads");
        }
    }
}

#[test]
fn a_workload_whose_twin_fails_is_refused_not_checked_in_part() {
    // The twin fails after all its writes: every crash point but the one
    // after the last step was streamed, so the pass would have checked all
    // of them but one and said nothing.
    for jobs in [1, 2] {
        let workload = Writer {
            fails_in_twin: true,
            ..Writer::new(false)
        };
        let e = explore(&workload, Mode::Exhaustive, jobs).unwrap_err();
        assert!(
            matches!(&e, HarnessError::CleanRunFailed { reason, .. }
                if reason.contains("its twin (the second run, which streams the pass's crash \
                                    states) failed after 6 steps: filesystem error: the twin's \
                                    thread; the workload is not deterministic")),
            "{jobs} threads: {e}"
        );
    }
}
