//! Mutant 3: the one checkpoint file is overwritten in place (truncate,
//! write, fsync) instead of replaced through a temp file and a rename.
//!
//! Real-world pattern: `open(path, O_TRUNC); write; fsync` — the progress
//! file of many batch jobs and games' save files. Between the truncate and
//! the fsync a crash can leave the file empty or half written, and there is
//! no other copy: the last acknowledged checkpoint is destroyed by the
//! attempt to write the next one. The loader does verify the checksum, so
//! it reports the damage — and can then only fail or start over.

use std::path::{Path, PathBuf};

use crashproof_core::fs::Fs;

use super::envelope;
use super::files;
use super::job::Checkpoint;
use super::protocol::CheckpointProtocol;
use crashproof_sim::explore::WorkloadError;

const FILE: &str = "checkpoint.ckpt";

/// Overwrites `checkpoint.ckpt` in place.
#[derive(Debug, Clone, Copy, Default)]
pub struct OverwriteInPlace;

fn path(dir: &Path) -> PathBuf {
    dir.join(FILE)
}

impl CheckpointProtocol for OverwriteInPlace {
    fn name(&self) -> &'static str {
        "overwrite-in-place"
    }

    fn commit(
        &self,
        fs: &dyn Fs,
        dir: &Path,
        _generation: u64,
        ckpt: &Checkpoint,
    ) -> Result<(), WorkloadError> {
        // BUG: truncating the only copy before the new bytes are durable.
        files::write_synced(fs, &path(dir), &envelope::encode(ckpt))?;
        fs.sync_dir(dir)?;
        Ok(())
    }

    fn load(&self, fs: &dyn Fs, dir: &Path) -> Result<Option<Checkpoint>, WorkloadError> {
        match files::read_if_exists(fs, &path(dir))? {
            None => Ok(None),
            Some(bytes) => envelope::decode_checked(&bytes)
                .map(Some)
                .map_err(|e| WorkloadError::core(format!("{FILE}: {e}"))),
        }
    }

    fn leftovers(&self, fs: &dyn Fs, dir: &Path) -> Result<Vec<String>, WorkloadError> {
        Ok(files::list(fs, dir)?
            .into_iter()
            .filter(|n| n != FILE)
            .collect())
    }
}
