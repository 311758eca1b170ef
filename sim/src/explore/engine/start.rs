//! The engine's handle on one exploration ([`Engine`]: the workload, the
//! options, the thread pool) and the start state every run of a case
//! starts from.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex, OnceLock};

use crashproof_fault::CrashModel;

use super::audit::Audited;
use super::lock::lock;
use super::run_end::{Ran, panic_message};
use super::sandbox::Detection;
use super::schedule::PassClean;
use crate::explore::vocabulary::error::HarnessError;
use crate::explore::vocabulary::options::ExploreOptions;
use crate::explore::vocabulary::workload::{Progress, Workload, WorkloadError};
use crate::{FaultConfig, SimConfig, SimFs, SimView};

/// Drives one [`Workload`] on [`SimFs`]: what every part of the engine and
/// every mode is handed (the `Explorer` facade holds one).
pub(crate) struct Engine<'w> {
    workload: &'w dyn Workload,
    options: ExploreOptions,
    /// The threads that check crash points, built on first use (from a
    /// confined thread, so they are confined too: `sandbox.rs`).
    pool: OnceLock<Result<rayon::ThreadPool, String>>,
    /// The first [`WorkloadError::Harness`] any run returned: it stops the
    /// exploration at the next unit boundary.
    harness_failure: Mutex<Option<String>>,
    /// Whether runs are confined, once the first confined thread knows.
    detection: Detection,
    /// The clean run traced for denied real-disk calls, once (`audit.rs`).
    audited: Audited,
    /// The passes' clean run, once it completed (`schedule.rs`).
    pub(super) pass_clean: Mutex<Option<Arc<PassClean>>>,
}

impl<'w> Engine<'w> {
    /// An engine exploring `workload` with `options`.
    pub(crate) fn new(workload: &'w dyn Workload, options: ExploreOptions) -> Self {
        Self {
            workload,
            options,
            pool: OnceLock::new(),
            harness_failure: Mutex::new(None),
            detection: Detection::new(),
            audited: Audited::new(),
            pass_clean: Mutex::new(None),
        }
    }

    /// Runs the workload once on `fs`, panics caught; a harness failure
    /// ([`WorkloadError::Harness`]) is remembered for
    /// [`Engine::check_harness`]. Every run of the engine goes through here.
    pub(crate) fn run_workload(&self, fs: &SimFs, progress: &mut Progress) -> Ran {
        let ran = catch_unwind(AssertUnwindSafe(|| self.workload.run(fs, progress)));
        if let Ok(Err(WorkloadError::Harness(reason))) = &ran {
            lock(&self.harness_failure).get_or_insert_with(|| reason.clone());
        }
        ran
    }

    /// [`HarnessError::WorkloadHarness`] once any run failed in its harness.
    pub(crate) fn check_harness(&self) -> Result<(), HarnessError> {
        match lock(&self.harness_failure).clone() {
            None => Ok(()),
            Some(reason) => Err(HarnessError::WorkloadHarness {
                workload: self.workload.name(),
                reason,
            }),
        }
    }

    /// The thread pool of [`ExploreOptions::jobs`] threads (`None` for one
    /// thread: the work runs on the calling thread). Called from a confined
    /// thread (`sandbox.rs`), whose restriction the pool's threads inherit.
    pub(crate) fn pool(&self) -> Result<Option<&rayon::ThreadPool>, HarnessError> {
        let threads = self.options.threads();
        if threads <= 1 {
            return Ok(None);
        }
        let built = self.pool.get_or_init(|| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .thread_name(|i| format!("crashproof-explore-{i}"))
                .build()
                .map_err(|e| e.to_string())
        });
        match built {
            Ok(pool) => Ok(Some(pool)),
            Err(e) => Err(HarnessError::ThreadPool {
                threads,
                reason: e.clone(),
            }),
        }
    }

    /// Whether runs are confined (`sandbox.rs` sets it).
    pub(crate) fn detection(&self) -> &Detection {
        &self.detection
    }

    /// The traced clean run, once traced (`audit.rs` sets it).
    pub(crate) fn audited(&self) -> &Audited {
        &self.audited
    }

    /// Starts `body` on a thread of its own in `scope` (the twin clean run
    /// that streams a pass's crash points, `stream.rs`): with the pool's
    /// workers, the only threads the engine starts.
    pub(crate) fn spawn_scoped<'scope, T: Send + 'scope>(
        &self,
        scope: &'scope std::thread::Scope<'scope, '_>,
        body: impl FnOnce() -> T + Send + 'scope,
    ) -> Result<std::thread::ScopedJoinHandle<'scope, T>, HarnessError> {
        std::thread::Builder::new()
            .name("crashproof-explore-twin".to_string())
            .spawn_scoped(scope, body)
            .map_err(|e| HarnessError::ThreadPool {
                threads: 1,
                reason: e.to_string(),
            })
    }

    /// The workload under exploration.
    pub(crate) fn workload(&self) -> &'w dyn Workload {
        self.workload
    }

    /// The options in force.
    pub(crate) fn options(&self) -> &ExploreOptions {
        &self.options
    }

    fn config(&self, faults: FaultConfig) -> SimConfig {
        SimConfig {
            seed: self.options.seed,
            sector_size_bytes: self.options.sector_size_bytes,
            faults,
        }
    }

    /// The disk and progress record every run of a case starts from: a new
    /// [`SimFs`] on which the workload's [`Workload::initial_disk`] wrote
    /// what an earlier process left behind, reduced to exactly its durable
    /// state (a drop-unsynced crash image: step counter 0, empty trace), so
    /// step indexes count from the first step of the real run and nothing
    /// the initial disk did is a crash point. `faults` apply from the real
    /// run's step 0 on, never to the initial disk. The progress holds the
    /// earlier process's acknowledgements (before step 0 of any journal)
    /// and none of its in-memory progress, which died with it. Checks the
    /// options first ([`HarnessError::InvalidOptions`]).
    pub(crate) fn start(&self, faults: FaultConfig) -> Result<(SimFs, Progress), HarnessError> {
        self.options.validate()?;
        let scratch = SimFs::new(self.config(FaultConfig::default()));
        let mut progress = Progress::new();
        let failed = |reason: String| HarnessError::InitialDiskFailed {
            workload: self.workload.name(),
            reason,
        };
        match catch_unwind(AssertUnwindSafe(|| {
            self.workload.initial_disk(&scratch, &mut progress)
        })) {
            Err(payload) => {
                return Err(failed(format!(
                    "panicked: {}",
                    panic_message(payload.as_ref())
                )));
            }
            Ok(Err(e)) => return Err(failed(e.to_string())),
            Ok(Ok(())) => {}
        }
        progress.crashed();
        let fs = scratch.crash_image(CrashModel::DropUnsynced, 0).fs;
        fs.set_faults(faults);
        Ok((fs, progress))
    }
}
