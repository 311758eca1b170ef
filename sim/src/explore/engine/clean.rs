//! The clean run as a value: what the workload does from its start state
//! with no crash and no fault, which every resumed run is compared with.

use std::sync::Arc;

use crashproof_core::fs::FsOp;

use super::converge::ConvergedPoints;
use super::run_end::RunEnd;
use super::start::Engine;
use crate::explore::vocabulary::error::HarnessError;
use crate::{SimFs, SimView, Trace};

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
        match self.workload().leftovers(fs) {
            Ok(left) if left.is_empty() => {}
            Ok(left) => return Err(failed(format!("left files behind: {}", left.join(", ")))),
            Err(e) => return Err(failed(format!("listing leftovers failed: {e}"))),
        }
        if let Err(finding) = super::oracle::check_final_state(self.workload(), fs) {
            return Err(failed(finding.message));
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
