//! Mutant 4: the old checkpoint is deleted before the new one is in place.
//!
//! Real-world pattern: rotation code that drops the old checkpoint first
//! (to free space, or because a Windows-era `rename` could not replace an
//! existing file: `os.remove(dst)` then write and rename). The new data is
//! fsynced and renamed correctly, but between the unlink and the rename
//! there is no checkpoint at all, and a crash there loses the acknowledged
//! one.

use std::path::{Path, PathBuf};

use crashproof_core::fs::Fs;

use super::envelope;
use super::files;
use super::job::Checkpoint;
use super::protocol::CheckpointProtocol;
use crashproof_sim::explore::WorkloadError;

const FILE: &str = "checkpoint.ckpt";

/// Removes `checkpoint.ckpt`, then renames the synced temp file over it.
#[derive(Debug, Clone, Copy, Default)]
pub struct DeleteBeforeDurable;

fn path(dir: &Path) -> PathBuf {
    dir.join(FILE)
}

impl CheckpointProtocol for DeleteBeforeDurable {
    fn name(&self) -> &'static str {
        "delete-before-durable"
    }

    fn startup(&self, fs: &dyn Fs, dir: &Path) -> Result<(), WorkloadError> {
        files::remove_temps(fs, dir)
    }

    fn commit(
        &self,
        fs: &dyn Fs,
        dir: &Path,
        _generation: u64,
        ckpt: &Checkpoint,
    ) -> Result<(), WorkloadError> {
        let target = path(dir);
        let temp = files::temp_of(&target);
        // BUG: the acknowledged checkpoint is gone before its successor is
        // even written.
        files::remove_if_exists(fs, &target)?;
        files::write_synced(fs, &temp, &envelope::encode(ckpt))?;
        fs.rename(&temp, &target)?;
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
