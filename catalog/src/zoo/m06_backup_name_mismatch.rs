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
//! The bug needs two saves: a backup of an acknowledged save must outlive a
//! later acknowledged save. Like Rooch, which resumes from the progress file
//! an earlier process left, the program starts from an initial disk holding
//! the first save (made by that earlier process, durably and acknowledged,
//! with nothing to move aside and nothing to clean up), and the explored run
//! makes the second save: a crash any time after it returns is the
//! counterexample. Like Rooch's writer, it cleans up on success only (the
//! backup, and a temp file a crash left, which each save truncates anyway).

use std::io;
use std::path::{Path, PathBuf};

use crashproof_core::fs::Fs;

use super::envelope;
use super::files;
use super::job::{Checkpoint, CountingJob};
use super::protocol::{CheckpointProtocol, first_checkpoint};
use crashproof_sim::explore::WorkloadError;

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

/// What the earlier process left: the job's first save, made durably (the
/// first save has no backup to create or remove, so the mismatch cannot
/// show in it).
fn earlier_process(
    fs: &dyn Fs,
    dir: &Path,
    job: &CountingJob,
) -> Result<Option<Checkpoint>, WorkloadError> {
    let ckpt = first_checkpoint(job);
    save(fs, dir, &ckpt, BACKUP)?;
    Ok(Some(ckpt))
}

impl CheckpointProtocol for BackupNameMismatch {
    fn name(&self) -> &'static str {
        "backup-name-mismatch"
    }

    fn initial_disk(
        &self,
        fs: &dyn Fs,
        dir: &Path,
        job: &CountingJob,
    ) -> Result<Option<Checkpoint>, WorkloadError> {
        earlier_process(fs, dir, job)
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
        // Cleanup on success, with the name the review fixed. A temp file
        // a crash left is harmless until then: every save truncates it.
        if files::remove_if_exists(fs, &at(dir, BACKUP))? {
            fs.sync_dir(dir)?;
        }
        files::remove_temps(fs, dir)
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
/// with: what the review's fix makes of it. Starts from the same initial
/// disk. It must pass, or the mutant
/// would be wrong for more than its one bug.
#[cfg(test)]
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct BackupNameFixed;

#[cfg(test)]
impl CheckpointProtocol for BackupNameFixed {
    fn name(&self) -> &'static str {
        "backup-name-fixed"
    }

    fn initial_disk(
        &self,
        fs: &dyn Fs,
        dir: &Path,
        job: &CountingJob,
    ) -> Result<Option<Checkpoint>, WorkloadError> {
        earlier_process(fs, dir, job)
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
