//! Mutant 13: recovery rewrites the checkpoint it resumes from in place.
//!
//! Real-world pattern: a resume path that "upgrades" or "normalises" the
//! progress file it just loaded (a new format version, a resume counter)
//! with a plain truncate-and-write, although the normal commit path is a
//! correct temp + fsync + rename. The rewrite only runs after a crash, so
//! a single crash never shows it; a second crash during recovery, between
//! the truncate and the fsync, destroys the newest checkpoint, and the
//! fallback can only go back to the previous generation — behind
//! acknowledged progress.

use std::path::Path;

use crashproof_core::fs::Fs;

use super::control::CorrectProtocol;
use super::envelope;
use super::files::{self, Generations};
use super::job::Checkpoint;
use super::protocol::CheckpointProtocol;
use crashproof_sim::explore::WorkloadError;

/// The zoo control's protocol plus an in-place rewrite of the newest
/// checkpoint at startup.
#[derive(Debug, Clone, Copy, Default)]
pub struct RecoveryRewriteInPlace;

impl CheckpointProtocol for RecoveryRewriteInPlace {
    fn name(&self) -> &'static str {
        "recovery-rewrite-in-place"
    }

    fn startup(&self, fs: &dyn Fs, dir: &Path) -> Result<(), WorkloadError> {
        CorrectProtocol.startup(fs, dir)?;
        let Some(&newest) = Generations::CKPT.list(fs, dir)?.last() else {
            return Ok(());
        };
        let path = Generations::CKPT.path(dir, newest);
        if let Some(bytes) = files::read_if_exists(fs, &path)?
            && let Ok(ckpt) = envelope::decode_checked(&bytes)
        {
            // BUG: the only copy of the newest checkpoint is truncated and
            // rewritten in place ("upgraded to the current format").
            files::write_synced(fs, &path, &envelope::encode(&ckpt))?;
        }
        Ok(())
    }

    fn commit(
        &self,
        fs: &dyn Fs,
        dir: &Path,
        generation: u64,
        ckpt: &Checkpoint,
    ) -> Result<(), WorkloadError> {
        CorrectProtocol.commit(fs, dir, generation, ckpt)
    }
}
