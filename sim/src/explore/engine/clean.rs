//! The clean run as a value: what the workload does from its start state
//! with no crash and no fault, which every resumed run is compared with.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use crashproof_core::fs::FsOp;

use super::case::Case;
use super::converge::{ConvergedPoints, Watch};
use super::lock::lock;
use super::run_end::RunEnd;
use super::start::Engine;
use crate::explore::vocabulary::error::HarnessError;
use crate::{FaultConfig, SimFs, SimView, Trace};

/// The clean run: the workload from its start state to completion, no
/// crash, no fault. Every resumed run is compared with it.
#[derive(Debug, Clone)]
pub struct CleanRun {
    /// The workload's output; every resumed run must reproduce it.
    pub output: String,
    /// Filesystem steps the clean run took.
    pub steps: u64,
    /// Every step of the clean run ([`crate::explore::Explorer::clean_run`];
    /// an exploration pass's own clean run keeps no trace, which would
    /// grow with the run, and leaves this empty).
    pub trace: Trace,
    /// The failpoint names the clean run passed, sorted, deduplicated.
    pub failpoints: Vec<String>,
    /// The steps that are a `sync` of a file, in order.
    syncs: Vec<u64>,
    /// The points where the clean run said it converged, with the disk
    /// there (recorded by the exhaustive, two-crash and sync-EIO passes'
    /// clean runs).
    pub(crate) converged: Arc<ConvergedPoints>,
}

impl CleanRun {
    /// The steps of the clean run that are a `sync` of a file (where the
    /// sync-EIO mode injects its fault).
    pub fn sync_steps(&self) -> Vec<u64> {
        self.syncs.clone()
    }
}

/// What a clean run's step hook saw besides the disk: the steps that synced
/// a file and the failpoints passed.
#[derive(Default)]
struct Seen {
    syncs: Vec<u64>,
    failpoints: BTreeSet<&'static str>,
}

impl Engine<'_> {
    /// Runs the workload once from its start state (a fresh filesystem plus
    /// its [`crate::explore::Workload::initial_disk`], if any) without
    /// crashes: with `traced`, every step is kept in [`CleanRun::trace`];
    /// with `watch`, the run's converged points are recorded. It must
    /// complete, without panicking and without leftovers, or the
    /// exploration cannot be trusted ([`HarnessError::CleanRunFailed`];
    /// [`HarnessError::InitialDiskFailed`] if the initial disk fails).
    /// Returns the case after it too: its history journals the progress
    /// record by step.
    pub(crate) fn run_clean(
        &self,
        traced: bool,
        watch: Option<Watch>,
    ) -> Result<(CleanRun, Case), HarnessError> {
        let (fs, progress) = self.start(FaultConfig::default())?;
        let mut case = Case::start(fs, progress, false);
        case.fs.record_trace(traced);
        if let Some(watch) = &watch {
            case.history.progress.watch(watch.listener());
        }
        let seen = Arc::new(Mutex::new(Seen::default()));
        let hook_seen = Arc::clone(&seen);
        let hook_watch = watch.clone();
        let end = case.run_observed(self, move |info, src| {
            if let Some(watch) = &hook_watch {
                watch.before_step(info.index, src);
            }
            let mut seen = lock(&hook_seen);
            if info.op == FsOp::Sync {
                seen.syncs.push(info.index);
            }
            if let Some(name) = info.failpoint {
                seen.failpoints.insert(name);
            }
        });
        let seen = std::mem::take(&mut *lock(&seen));
        let mut clean = self.finish_clean_run(&case.fs, end, seen, traced)?;
        if let Some(watch) = watch {
            clean.converged = Arc::new(watch.recorded());
        }
        Ok((clean, case))
    }

    /// The clean run from how its run on `fs` ended.
    fn finish_clean_run(
        &self,
        fs: &SimFs,
        end: RunEnd,
        seen: Seen,
        traced: bool,
    ) -> Result<CleanRun, HarnessError> {
        let failed = |reason: String| HarnessError::CleanRunFailed {
            workload: self.workload().name(),
            reason,
        };
        let completion = match end {
            RunEnd::Completed(c) => c,
            RunEnd::Failed(e) => return Err(failed(e.to_string())),
            RunEnd::Panicked(message) => return Err(failed(format!("panicked: {message}"))),
            RunEnd::Crashed { before_step, .. } => {
                return Err(failed(format!(
                    "crashed before step {before_step} without a crash point (a simulator bug)"
                )));
            }
        };
        // Read the run's length and trace before `leftovers` adds its own steps.
        let steps = fs.steps();
        let trace = if traced { fs.trace() } else { Trace::new() };
        // Every step counted is the workload's own: the initial disk's were
        // dropped with the start state (`Engine::start`), and `leftovers`
        // runs after this.
        if fs.writing_steps() == 0 {
            return Err(HarnessError::NoFilesystemStep {
                workload: self.workload().name(),
                steps,
                note: None,
            });
        }
        match self.workload().leftovers(fs) {
            Ok(left) if left.is_empty() => {}
            Ok(left) => return Err(failed(format!("left files behind: {}", left.join(", ")))),
            Err(e) => return Err(failed(format!("listing leftovers failed: {e}"))),
        }
        Ok(CleanRun {
            output: completion.output,
            steps,
            trace,
            failpoints: seen.failpoints.into_iter().map(str::to_string).collect(),
            syncs: seen.syncs,
            converged: Arc::default(),
        })
    }
}
