//! Any core `Job` under the explorer as is (`JobWorkload`): a correct job
//! passes every model with every check, a job that keeps state outside its
//! checkpoint is caught, the redo bound is exact (for K, and for T with a
//! simulated time per item), and configurations it cannot explore are
//! refused.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crashproof_core::fs::Fs;
use crashproof_core::{Job, JobError, ResumeMode, RunnerConfig, stable_digest};
use crashproof_sim::CrashModel;
use crashproof_sim::explore::{
    Completion, ExploreOptions, Explorer, HarnessError, JobWorkload, Oracle, Plan, Progress,
    Recovered, Report, Workload, WorkloadError,
};

/// Sums a value per item. With `outside`, it also counts items in a field
/// the checkpoint does not hold, and adds that count to its output: the
/// classic bug of state kept outside the checkpoint.
struct SumJob {
    items: u64,
    outside: Option<u64>,
}

impl SumJob {
    fn new(items: u64) -> Self {
        Self {
            items,
            outside: None,
        }
    }
}

impl Job for SumJob {
    type State = u64;
    type Output = u64;

    fn name(&self) -> &str {
        "sum"
    }

    fn fingerprint(&self) -> u64 {
        stable_digest(format!("sum/v1/items={}", self.items).as_bytes())
    }

    fn item_count(&self) -> u64 {
        self.items
    }

    fn initial_state(&self) -> u64 {
        0
    }

    fn process(&mut self, index: u64, state: &mut u64) -> Result<(), JobError> {
        *state += index * index + 1;
        if let Some(outside) = &mut self.outside {
            *outside += 1;
        }
        Ok(())
    }

    fn finalize(&mut self, state: &u64) -> Result<u64, JobError> {
        Ok(*state + self.outside.unwrap_or(0))
    }
}

fn explore(workload: &dyn Workload, plan: &Plan) -> Result<Report, HarnessError> {
    Explorer::new(workload, ExploreOptions::default()).explore(plan)
}

#[test]
fn a_correct_job_passes_every_model_with_every_check() {
    let workload = JobWorkload::new(|| SumJob::new(12), RunnerConfig::every(5));
    assert_eq!(workload.name(), "sum");
    let report = explore(&workload, &Plan::default()).unwrap();
    assert!(report.is_clean(), "{report}");
    assert_eq!(report.models(), CrashModel::ALL.to_vec());
    let text = report.to_string();
    for check in [
        "loads only checkpoints the program attempted",
        "never resumes before the last acknowledged checkpoint",
        "no leftovers",
        "resumes where inspection said",
        "at most 5 items redone per crash",
    ] {
        assert!(text.contains(check), "missing `{check}` in\n{text}");
    }
}

#[test]
fn state_kept_outside_the_checkpoint_is_caught() {
    let workload = JobWorkload::new(
        || SumJob {
            outside: Some(0),
            ..SumJob::new(12)
        },
        RunnerConfig::every(5),
    );
    let plan = Plan {
        models: vec![CrashModel::DropUnsynced],
        ..Plan::default()
    };
    let report = explore(&workload, &plan).unwrap();
    let group = report.groups.first().expect("a violation");
    assert_eq!(group.oracle, Oracle::Result);
    assert!(
        group
            .message
            .starts_with("output differs from the clean run"),
        "{report}"
    );
}

/// `inner` claiming a redo bound one item smaller than its own.
struct TighterBound<'w>(&'w dyn Workload);

impl Workload for TighterBound<'_> {
    fn name(&self) -> String {
        format!("{}-tighter", self.0.name())
    }
    fn run(&self, fs: &dyn Fs, progress: &mut Progress) -> Result<Completion, WorkloadError> {
        self.0.run(fs, progress)
    }
    fn inspect(&self, fs: &dyn Fs) -> Result<Recovered, WorkloadError> {
        self.0.inspect(fs)
    }
    fn redo_bound(&self) -> u64 {
        self.0.redo_bound() - 1
    }
    fn leftovers(&self, fs: &dyn Fs) -> Result<Vec<String>, WorkloadError> {
        self.0.leftovers(fs)
    }
}

/// The redo bound a `JobWorkload` derives holds on every state, and one
/// item less does not: it is exact. K alone, and T committing first.
#[test]
fn the_redo_bound_is_exact_for_k_and_for_t() {
    let ms = Duration::from_millis;
    let cases = [
        (RunnerConfig::every(5), ms(10), 5),
        (
            RunnerConfig {
                checkpoint_interval: Some(ms(30)),
                ..RunnerConfig::every(50)
            },
            ms(10),
            3,
        ),
        (
            RunnerConfig {
                checkpoint_interval: Some(ms(25)),
                ..RunnerConfig::every(2)
            },
            ms(10),
            2,
        ),
    ];
    let plan = Plan {
        models: vec![CrashModel::DropUnsynced],
        ..Plan::default()
    };
    for (config, time_per_item, bound) in cases {
        let workload =
            JobWorkload::new(|| SumJob::new(12), config.clone()).time_per_item(time_per_item);
        assert_eq!(workload.redo_bound(), bound, "{config:?}");
        let report = explore(&workload, &plan).unwrap();
        assert!(report.is_clean(), "{config:?}: {report}");
        let tighter = explore(&TighterBound(&workload), &plan).unwrap();
        let group = tighter.groups.first().expect("one item less is too tight");
        assert!(
            group.message.starts_with("too much work redone"),
            "{config:?}: {tighter}"
        );
    }
}

#[test]
fn a_mode_that_starts_over_by_design_is_refused() {
    let workload = JobWorkload::new(
        || SumJob::new(3),
        RunnerConfig {
            resume: ResumeMode::ForceRestart,
            ..RunnerConfig::every(1)
        },
    );
    let e = explore(&workload, &Plan::default()).unwrap_err();
    assert!(
        matches!(&e, HarnessError::CleanRunFailed { reason, .. }
            if reason.contains("explores ResumeMode::Resume only")),
        "{e}"
    );
}

#[test]
fn a_factory_that_builds_another_job_each_time_is_refused() {
    let built = Arc::new(AtomicU64::new(0));
    let workload = JobWorkload::new(
        move || SumJob::new(3 + built.fetch_add(1, Ordering::Relaxed)),
        RunnerConfig::every(1),
    );
    let e = explore(&workload, &Plan::default()).unwrap_err();
    assert!(
        matches!(&e, HarnessError::CleanRunFailed { reason, .. }
            if reason.contains("it must build the same job every time")),
        "{e}"
    );
}
