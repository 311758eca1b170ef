//! Mutant 10: resume trusts the newest checkpoint file and has no fallback.
//!
//! Real-world pattern: "load the newest `ckpt-N`" by file name alone. The
//! generations are written straight under their final names (no temp file:
//! the number in the name is thought to make them safe), so a crash while
//! writing leaves the newest name holding an empty or torn file. The loader
//! verifies the checksum but then gives up instead of falling back to the
//! intact previous generation, so the job cannot resume.

use std::path::Path;

use crashproof_core::fs::Fs;

use super::control::KEEP;
use super::envelope;
use super::files::{self, Generations};
use super::job::Checkpoint;
use super::protocol::CheckpointProtocol;
use crashproof_sim::explore::WorkloadError;

/// Generations written in place under their final names; newest trusted.
#[derive(Debug, Clone, Copy, Default)]
pub struct TrustNewest;

impl CheckpointProtocol for TrustNewest {
    fn name(&self) -> &'static str {
        "trust-newest"
    }

    fn commit(
        &self,
        fs: &dyn Fs,
        dir: &Path,
        generation: u64,
        ckpt: &Checkpoint,
    ) -> Result<(), WorkloadError> {
        files::write_synced(
            fs,
            &Generations::CKPT.path(dir, generation),
            &envelope::encode(ckpt),
        )?;
        fs.sync_dir(dir)?;
        Generations::CKPT.retire(fs, dir, generation, KEEP)
    }

    fn load(&self, fs: &dyn Fs, dir: &Path) -> Result<Option<Checkpoint>, WorkloadError> {
        // BUG: the newest name is trusted; an unreadable newest file is fatal
        // although the previous generation is intact.
        let Some(&newest) = Generations::CKPT.list(fs, dir)?.last() else {
            return Ok(None);
        };
        let path = Generations::CKPT.path(dir, newest);
        let bytes = files::read_if_exists(fs, &path)?.unwrap_or_default();
        envelope::decode_checked(&bytes)
            .map(Some)
            .map_err(|e| WorkloadError::core(format!("{}: {e}", path.display())))
    }

    fn leftovers(&self, fs: &dyn Fs, dir: &Path) -> Result<Vec<String>, WorkloadError> {
        Generations::CKPT.leftovers(fs, dir, KEEP)
    }
}
