//! Mutant 7: an `O_EXCL` temp file left by a crash blocks every later commit.
//!
//! Real-world pattern: CCF's snapshot writer (review) creates its temp file
//! with `O_CREAT | O_EXCL` so two writers cannot collide — and nothing
//! removes a temp file orphaned by a crash. Once a crash leaves one behind,
//! the next commit of that generation fails with `AlreadyExists`, and so
//! does every retry: the job can never finish.

use std::path::Path;

use crashproof_core::fs::Fs;

use super::control::KEEP;
use super::envelope;
use super::files::{self, Generations};
use super::job::Checkpoint;
use super::protocol::CheckpointProtocol;
use crashproof_sim::explore::WorkloadError;

/// The zoo control's commit with an exclusive-create temp file and no startup
/// cleanup.
#[derive(Debug, Clone, Copy, Default)]
pub struct ExclusiveTempBlocks;

impl CheckpointProtocol for ExclusiveTempBlocks {
    fn name(&self) -> &'static str {
        "exclusive-temp-blocks"
    }

    // BUG: no startup cleanup of temp files left by a crash.

    fn commit(
        &self,
        fs: &dyn Fs,
        dir: &Path,
        generation: u64,
        ckpt: &Checkpoint,
    ) -> Result<(), WorkloadError> {
        let target = Generations::CKPT.path(dir, generation);
        let temp = files::temp_of(&target);
        let file = fs.create_new(&temp)?;
        fs.write_all_at(&file, 0, &envelope::encode(ckpt))?;
        fs.sync(&file)?;
        fs.close(file)?;
        fs.rename(&temp, &target)?;
        fs.sync_dir(dir)?;
        Generations::CKPT.retire(fs, dir, generation, KEEP)
    }
}
