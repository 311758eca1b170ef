//! The control: the correct protocol, written the same way as the mutants.
//!
//! Commit writes generation `n` to a temp file, fsyncs it, renames it to its
//! final name, fsyncs the directory, and only then prunes to the newest
//! [`KEEP`] generations. Load verifies the checksum and falls back to the
//! previous generation past anything torn (these two are the
//! [`CheckpointProtocol`] defaults). Startup removes temp files and
//! excess generations left by a crash. Every exploration must pass it.

use std::path::Path;

use crashproof_core::fs::Fs;

use super::envelope;
use super::files::{self, Generations};
use super::job::Checkpoint;
use super::protocol::CheckpointProtocol;
pub use super::protocol::KEEP;
use crashproof_sim::explore::WorkloadError;

/// The correct checkpoint protocol (temp + fsync + rename + dir fsync +
/// checksum + fallback).
#[derive(Debug, Clone, Copy, Default)]
pub struct CorrectProtocol;

impl CheckpointProtocol for CorrectProtocol {
    fn name(&self) -> &'static str {
        "zoo-control"
    }

    fn startup(&self, fs: &dyn Fs, dir: &Path) -> Result<(), WorkloadError> {
        Generations::CKPT.clean(fs, dir, KEEP)
    }

    fn commit(
        &self,
        fs: &dyn Fs,
        dir: &Path,
        generation: u64,
        ckpt: &Checkpoint,
    ) -> Result<(), WorkloadError> {
        let target = Generations::CKPT.path(dir, generation);
        let temp = files::temp_of(&target);
        files::write_synced(fs, &temp, &envelope::encode(ckpt))?;
        fs.rename(&temp, &target)?;
        fs.sync_dir(dir)?;
        Generations::CKPT.retire(fs, dir, generation, KEEP)
    }
}
