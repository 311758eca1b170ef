//! Mutant 6: the backup is created under one name and removed under another.
//!
//! Real-world pattern: Rooch's snapshot progress (review of PR #3874) made
//! `snapshot_progress.backup` before overwriting the progress file and
//! cleaned up `snapshot_progress_backup.json`. The review fixed the final
//! cleanup; this program has the same mismatch in the other cleanup site.
//! Each save copies the old progress to `progress.json.backup`, replaces
//! `progress.json` durably, then removes `progress_backup.json` — a name
//! that never exists. The loader treats a backup that still exists as the
//! sign of an interrupted save and restores it, so after any crash from the
//! second save on, recovery goes back to a stale backup behind acknowledged
//! progress. Only the cleanup on success (which uses the right name) hides
//! the bug from a run without crashes.

use std::path::{Path, PathBuf};

use crashproof_core::fs::Fs;

use super::envelope;
use super::files;
use super::job::Checkpoint;
use super::protocol::CheckpointProtocol;
use crate::explore::WorkloadError;

const MAIN: &str = "progress.json";
const BACKUP: &str = "progress.json.backup";
const BACKUP_AS_CLEANED: &str = "progress_backup.json";

/// Progress file with a backup taken before each overwrite.
#[derive(Debug, Clone, Copy, Default)]
pub struct BackupNameMismatch;

fn at(dir: &Path, name: &str) -> PathBuf {
    dir.join(name)
}

fn load_valid(fs: &dyn Fs, path: &Path) -> Result<Option<Checkpoint>, WorkloadError> {
    Ok(files::read_if_exists(fs, path)?.and_then(|b| envelope::decode_checked(&b).ok()))
}

impl CheckpointProtocol for BackupNameMismatch {
    fn name(&self) -> &'static str {
        "backup-name-mismatch"
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
        if let Some(previous) = files::read_if_exists(fs, &at(dir, MAIN))? {
            files::write_synced(fs, &at(dir, BACKUP), &previous)?;
            fs.sync_dir(dir)?;
        }
        files::replace_durably(fs, &at(dir, MAIN), &envelope::encode(ckpt))?;
        // BUG: the backup was created as `progress.json.backup`.
        if files::remove_if_exists(fs, &at(dir, BACKUP_AS_CLEANED))? {
            fs.sync_dir(dir)?;
        }
        Ok(())
    }

    fn finish(&self, fs: &dyn Fs, dir: &Path) -> Result<(), WorkloadError> {
        // Cleanup on success, with the name the review fixed.
        if files::remove_if_exists(fs, &at(dir, BACKUP))? {
            fs.sync_dir(dir)?;
        }
        Ok(())
    }

    fn load(&self, fs: &dyn Fs, dir: &Path) -> Result<Option<Checkpoint>, WorkloadError> {
        // A save removes its backup once the new progress is durable, so a
        // backup that is still here means the save was interrupted.
        if let Some(backup) = load_valid(fs, &at(dir, BACKUP))? {
            return Ok(Some(backup));
        }
        load_valid(fs, &at(dir, MAIN))
    }

    fn leftovers(&self, fs: &dyn Fs, dir: &Path) -> Result<Vec<String>, WorkloadError> {
        Ok(files::list(fs, dir)?
            .into_iter()
            .filter(|n| n != MAIN)
            .collect())
    }
}
