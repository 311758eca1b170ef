//! Mutant 12: a failed fsync is retried and the retry's success believed.
//!
//! Real-world pattern: "fsyncgate" (PostgreSQL, 2018). On Linux a failed
//! `fsync` drops the dirty pages it could not write and clears the error,
//! so the next `fsync` returns `Ok` with the data still not on disk. This
//! program retries the temp file's fsync until it succeeds, renames it and
//! acknowledges the checkpoint; a crash then exposes a checkpoint whose
//! bytes never reached the disk.

use std::path::Path;

use crashproof_core::fs::Fs;

use super::control::{CorrectProtocol, KEEP};
use super::envelope;
use super::files::{self, Generations};
use super::job::Checkpoint;
use super::protocol::CheckpointProtocol;
use crashproof_sim::explore::WorkloadError;

/// How many times the fsync is attempted before giving up.
const SYNC_ATTEMPTS: usize = 3;

/// The zoo control's commit with the temp file's fsync retried on error.
#[derive(Debug, Clone, Copy, Default)]
pub struct FsyncRetried;

impl CheckpointProtocol for FsyncRetried {
    fn name(&self) -> &'static str {
        "fsync-retried"
    }

    fn startup(&self, fs: &dyn Fs, dir: &Path) -> Result<(), WorkloadError> {
        CorrectProtocol.startup(fs, dir)
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
        let file = fs.open_truncate(&temp)?;
        fs.write_all_at(&file, 0, &envelope::encode(ckpt))?;
        // BUG: after an EIO the retry returns Ok, but the data is gone.
        let mut synced = fs.sync(&file);
        for _ in 1..SYNC_ATTEMPTS {
            if synced.is_ok() {
                break;
            }
            synced = fs.sync(&file);
        }
        synced?;
        fs.close(file)?;
        fs.rename(&temp, &target)?;
        fs.sync_dir(dir)?;
        Generations::CKPT.retire(fs, dir, generation, KEEP)
    }
}
