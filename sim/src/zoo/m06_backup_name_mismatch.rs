//! Mutant 6: the backup is created under one name and removed under another.
//!
//! Real-world pattern: Rooch's snapshot progress (review of PR #3874) made
//! `snapshot_progress.backup` before overwriting the progress file and
//! cleaned up `snapshot_progress_backup.json`. The review fixed the final
//! cleanup; this program has the same mismatch in the other cleanup site.
//! Each save moves the old progress aside as `progress.json.backup` (the
//! first save has none to move: its rename fails with `NotFound`), replaces `progress.json` durably (temp +
//! fsync + rename + directory fsync), then removes `progress_backup.json` —
//! a name that never exists. The loader treats a backup that still exists
//! as the sign of an interrupted save and restores it, so after any crash
//! from the second acknowledged save on, recovery goes back to a stale
//! backup behind acknowledged progress. Only the cleanup on success (which
//! uses the right name) hides the bug from a run without crashes.
//!
//! The smallest counterexample is two saves long: the bug needs a backup of
//! an acknowledged save to outlive a later acknowledged save.

use std::io;
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

/// Progress file whose previous version is moved aside as a backup before
/// each replace.
#[derive(Debug, Clone, Copy, Default)]
pub struct BackupNameMismatch;

fn at(dir: &Path, name: &str) -> PathBuf {
    dir.join(name)
}

fn load_valid(fs: &dyn Fs, path: &Path) -> Result<Option<Checkpoint>, WorkloadError> {
    Ok(files::read_if_exists(fs, path)?.and_then(|b| envelope::decode_checked(&b).ok()))
}

/// Moves the current progress file aside as the backup; the first save has
/// none to move.
fn move_aside(fs: &dyn Fs, dir: &Path) -> Result<(), WorkloadError> {
    match fs.rename(&at(dir, MAIN), &at(dir, BACKUP)) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e.into()),
        _ => Ok(()),
    }
}

/// One save, then removal of the backup under the name `cleaned` (also a
/// backup an interrupted save left behind, which recovery resumed from).
fn save(fs: &dyn Fs, dir: &Path, ckpt: &Checkpoint, cleaned: &str) -> Result<(), WorkloadError> {
    move_aside(fs, dir)?;
    files::replace_durably(fs, &at(dir, MAIN), &envelope::encode(ckpt))?;
    if files::remove_if_exists(fs, &at(dir, cleaned))? {
        fs.sync_dir(dir)?;
    }
    Ok(())
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
        // BUG: the backup was created as `progress.json.backup`.
        save(fs, dir, ckpt, BACKUP_AS_CLEANED)
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

/// The same program with the backup removed under the name it was created
/// with: what the review's fix makes of it. It must pass, or the mutant
/// would be wrong for more than its one bug.
#[cfg(test)]
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct BackupNameFixed;

#[cfg(test)]
impl CheckpointProtocol for BackupNameFixed {
    fn name(&self) -> &'static str {
        "backup-name-fixed"
    }

    fn startup(&self, fs: &dyn Fs, dir: &Path) -> Result<(), WorkloadError> {
        BackupNameMismatch.startup(fs, dir)
    }

    fn commit(
        &self,
        fs: &dyn Fs,
        dir: &Path,
        _generation: u64,
        ckpt: &Checkpoint,
    ) -> Result<(), WorkloadError> {
        save(fs, dir, ckpt, BACKUP)
    }

    fn finish(&self, fs: &dyn Fs, dir: &Path) -> Result<(), WorkloadError> {
        BackupNameMismatch.finish(fs, dir)
    }

    fn load(&self, fs: &dyn Fs, dir: &Path) -> Result<Option<Checkpoint>, WorkloadError> {
        BackupNameMismatch.load(fs, dir)
    }

    fn leftovers(&self, fs: &dyn Fs, dir: &Path) -> Result<Vec<String>, WorkloadError> {
        BackupNameMismatch.leftovers(fs, dir)
    }
}
