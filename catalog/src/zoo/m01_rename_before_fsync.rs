//! Mutant 1: the temp file is renamed into place without being fsynced.
//!
//! Real-world pattern: "write to a temp file and rename it, rename is
//! atomic" — the ext4 zero-length-file bug of 2009 and countless config
//! writers. The rename (and the directory fsync after it) can reach the disk
//! before the file's data, so after a power cut the checkpoint name points
//! at an empty file. Both kept generations were written this way, so the
//! checksum-verifying loader has nothing valid to fall back to.

use std::path::Path;

use crashproof_core::fs::Fs;

use super::control::{CorrectProtocol, KEEP};
use super::envelope;
use super::files::{self, Generations};
use super::job::Checkpoint;
use super::protocol::CheckpointProtocol;
use crashproof_sim::explore::WorkloadError;

/// Commits like the zoo control (`zoo-control`), minus the temp file's fsync.
#[derive(Debug, Clone, Copy, Default)]
pub struct RenameBeforeFsync;

impl CheckpointProtocol for RenameBeforeFsync {
    fn name(&self) -> &'static str {
        "rename-before-fsync"
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
        // BUG: no fsync of the temp file before the rename.
        files::write_unsynced(fs, &temp, &envelope::encode(ckpt))?;
        fs.rename(&temp, &target)?;
        fs.sync_dir(dir)?;
        Generations::CKPT.retire(fs, dir, generation, KEEP)
    }
}
