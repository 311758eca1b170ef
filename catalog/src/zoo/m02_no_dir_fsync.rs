//! Mutant 2: the directory is never fsynced after the rename.
//!
//! Real-world pattern: "fsync the file, rename it, done" — the missing
//! parent-directory fsync that LevelDB, Kafka and many others shipped and
//! later fixed. The file's bytes are durable, but its new name is not: the
//! commit is acknowledged while a crash can still roll the directory back
//! to an older generation (or to none).

use std::path::Path;

use crashproof_core::fs::Fs;

use super::control::{CorrectProtocol, KEEP};
use super::envelope;
use super::files::{self, Generations};
use super::job::Checkpoint;
use super::protocol::CheckpointProtocol;
use crashproof_sim::explore::WorkloadError;

/// Commits like the zoo control (`zoo-control`), minus every directory fsync.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoDirFsync;

impl CheckpointProtocol for NoDirFsync {
    fn name(&self) -> &'static str {
        "no-dir-fsync"
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
        files::write_synced(fs, &temp, &envelope::encode(ckpt))?;
        fs.rename(&temp, &target)?;
        // BUG: no fsync of `dir`: the rename is not durable, yet the commit
        // returns Ok. Old generations are removed without a directory fsync
        // too.
        if let Some(old) = generation.checked_sub(KEEP as u64).filter(|&o| o > 0) {
            files::remove_if_exists(fs, &Generations::CKPT.path(dir, old))?;
        }
        Ok(())
    }
}
