//! The clean run as a value: what the workload does from its start state
//! with no crash and no fault, which every resumed run is compared with.

use std::sync::Arc;

use crashproof_core::fs::{FsOp, OpenMode};

use super::converge::ConvergedPoints;
use super::run_end::RunEnd;
use super::start::Engine;
use crate::explore::vocabulary::error::HarnessError;
use crate::{SimFs, SimView, Trace, TraceEntry};

/// The clean run: the workload from its start state to completion, no
/// crash, no fault. Every resumed run is compared with it.
#[derive(Debug, Clone)]
pub struct CleanRun {
    /// The workload's output; every resumed run must reproduce it.
    pub output: String,
    /// Filesystem steps the clean run took.
    pub steps: u64,
    /// Every step of the clean run.
    pub trace: Trace,
    /// The failpoint names the clean run passed, sorted, deduplicated.
    pub failpoints: Vec<String>,
    /// The points where the clean run said it converged, with the disk
    /// there (recorded by the exhaustive and sync-EIO passes' clean runs).
    pub(crate) converged: Arc<ConvergedPoints>,
}

impl CleanRun {
    /// The steps of the clean run that are a `sync` of a file (where the
    /// sync-EIO mode injects its fault).
    pub fn sync_steps(&self) -> Vec<u64> {
        self.trace
            .entries
            .iter()
            .filter(|e| e.step.op == FsOp::Sync)
            .map(|e| e.step.index)
            .collect()
    }
}

impl Engine<'_> {
    /// The clean run from how its run on `fs` ended.
    pub(crate) fn finish_clean_run(
        &self,
        fs: &SimFs,
        end: RunEnd,
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
        let (steps, trace) = (fs.steps(), fs.trace());
        // Every step of the trace is the workload's own: the initial disk's
        // were dropped with the start state (`Engine::start`), and
        // `leftovers` runs after this.
        if !trace.entries.iter().any(writes) {
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
        let mut failpoints: Vec<String> = trace
            .entries
            .iter()
            .filter_map(|e| e.step.failpoint)
            .map(str::to_string)
            .collect();
        failpoints.sort();
        failpoints.dedup();
        Ok(CleanRun {
            output: completion.output,
            steps,
            trace,
            failpoints,
            converged: Arc::default(),
        })
    }
}

/// Whether a step of a run changed the simulated disk (or would have, had
/// it succeeded): a write, a truncation, a create, a link, a rename, a
/// remove, a directory made or removed. Opening for reading, reads,
/// metadata, syncs, closes, locks and failpoints change nothing a crash
/// could lose. An open that creates or truncates is a write; one of an
/// existing file (`OpenMode::Existing`, `OpenMode::Read`) is not.
fn writes(entry: &TraceEntry) -> bool {
    match entry.step.op {
        FsOp::CreateDirAll
        | FsOp::CreateDir
        | FsOp::RemoveDir
        | FsOp::HardLink
        | FsOp::SetLen
        | FsOp::WriteAllAt
        | FsOp::Append
        | FsOp::Rename
        | FsOp::RemoveFile => true,
        // `SimFs::open` labels the step with the mode it was given (`{mode:?}`).
        FsOp::Open => [OpenMode::CreateNew, OpenMode::Truncate, OpenMode::Create]
            .iter()
            .any(|mode| format!("{mode:?}") == entry.detail),
        FsOp::ReadAt
        | FsOp::FileMetadata
        | FsOp::SyncData
        | FsOp::Sync
        | FsOp::Close
        | FsOp::SyncDir
        | FsOp::Read
        | FsOp::ReadDir
        | FsOp::Metadata
        | FsOp::TryLock
        | FsOp::Failpoint => false,
    }
}
