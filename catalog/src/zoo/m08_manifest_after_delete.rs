//! Mutant 8: the list of live checkpoints is rewritten after the files it
//! drops are deleted.
//!
//! Real-world pattern: Feldera's checkpointer keeps a list of checkpoints
//! (in memory and in `checkpoints.json`) and, on GC, rewrites the list
//! *before* deleting the files it drops; its startup reads every listed
//! checkpoint (and `expect()`ed that it could). This program keeps only the
//! newest checkpoint. A commit writes the new checkpoint file and fsyncs it
//! (it is unreferenced until the list names it, so it needs no temp file),
//! then — the bug — deletes the checkpoint it drops, fsyncs the directory
//! (one fsync for the new file's name and the deletion) and only then
//! rewrites the list (temp + fsync + rename + directory fsync). A crash
//! in between leaves a list naming a file that is gone, and recovery, which
//! must read every listed checkpoint, fails — forever.
//!
//! The bug needs two commits: the list must durably name a checkpoint
//! before a later commit can delete it. Like a Feldera pipeline restarting
//! with the checkpoint list an earlier process left, the program starts from
//! an initial disk holding the first commit (checkpoint file and list, made
//! durably and acknowledged by that earlier process; a first commit drops
//! nothing, so the bug cannot show in it), and the explored run makes the
//! second commit, whose deletion is the counterexample.

use std::path::{Path, PathBuf};

use crashproof_core::fs::Fs;
use serde::{Deserialize, Serialize};

use super::envelope;
use super::files::{self, Generations};
use super::job::{Checkpoint, CountingJob};
use super::protocol::{CheckpointProtocol, first_checkpoint};
use crashproof_sim::explore::WorkloadError;

const MANIFEST: &str = "checkpoints.json";

/// The manifest: live generations, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Manifest {
    checkpoints: Vec<u64>,
}

/// Checkpoint files plus a manifest; keeps only the newest checkpoint.
#[derive(Debug, Clone, Copy, Default)]
pub struct ManifestAfterDelete;

fn manifest_path(dir: &Path) -> PathBuf {
    dir.join(MANIFEST)
}

fn read_manifest(fs: &dyn Fs, dir: &Path) -> Result<Option<Manifest>, WorkloadError> {
    match files::read_if_exists(fs, &manifest_path(dir))? {
        None => Ok(None),
        Some(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| WorkloadError::core(format!("{MANIFEST} does not parse: {e}"))),
    }
}

/// The order of a commit's GC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Order {
    /// Delete the dropped checkpoint, then rewrite the list (the bug).
    DeleteFirst,
    /// Rewrite the list, then delete (Feldera's order): the earlier
    /// process's commit and the fixed variant the tests run.
    ListFirst,
}

/// Startup GC: removes temp files and checkpoints the list does not name
/// (left by a crash between a checkpoint write and the list rewrite).
fn startup_gc(fs: &dyn Fs, dir: &Path) -> Result<(), WorkloadError> {
    let names = files::list(fs, dir)?;
    let live = if names.iter().any(|n| n == MANIFEST) {
        read_manifest(fs, dir)?
            .map(|m| m.checkpoints)
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    let mut removed = false;
    for name in names {
        let orphan = Generations::CKPT
            .parse(&name)
            .is_some_and(|g| !live.contains(&g));
        if orphan || name.ends_with(files::TEMP_SUFFIX) {
            removed |= files::remove_if_exists(fs, &dir.join(name))?;
        }
    }
    if removed {
        fs.sync_dir(dir)?;
    }
    Ok(())
}

fn write_manifest(fs: &dyn Fs, dir: &Path, generation: u64) -> Result<(), WorkloadError> {
    let manifest = Manifest {
        checkpoints: vec![generation],
    };
    let bytes = serde_json::to_vec(&manifest)
        .map_err(|e| WorkloadError::Invariant(format!("manifest does not encode: {e}")))?;
    files::replace_durably(fs, &manifest_path(dir), &bytes)
}

/// The file of the checkpoint a commit of `generation` drops. The
/// checkpointer's in-memory list names one checkpoint (one is kept): the
/// previous generation, resumed from or committed by this run, if any.
fn dropped(dir: &Path, generation: u64) -> Option<PathBuf> {
    let old = generation.checked_sub(1).filter(|&g| g > 0)?;
    Some(Generations::CKPT.path(dir, old))
}

fn commit(
    fs: &dyn Fs,
    dir: &Path,
    generation: u64,
    ckpt: &Checkpoint,
    order: Order,
) -> Result<(), WorkloadError> {
    files::write_synced(
        fs,
        &Generations::CKPT.path(dir, generation),
        &envelope::encode(ckpt),
    )?;
    // The list may name the new file only once its name is durable too: a
    // directory may persist the list's rename before the file's create.
    match order {
        Order::DeleteFirst => {
            // BUG: the dropped checkpoint is deleted while the list still
            // names it (one directory fsync for the new name and the
            // deletion); the list is rewritten only afterwards.
            if let Some(old) = dropped(dir, generation) {
                files::remove_if_exists(fs, &old)?;
            }
            fs.sync_dir(dir)?;
            write_manifest(fs, dir, generation)
        }
        Order::ListFirst => {
            fs.sync_dir(dir)?;
            write_manifest(fs, dir, generation)?;
            if let Some(old) = dropped(dir, generation)
                && files::remove_if_exists(fs, &old)?
            {
                fs.sync_dir(dir)?;
            }
            Ok(())
        }
    }
}

/// What the earlier process left: the job's first commit, made durably in
/// the correct order (it drops nothing either way).
fn earlier_process(
    fs: &dyn Fs,
    dir: &Path,
    job: &CountingJob,
) -> Result<Option<Checkpoint>, WorkloadError> {
    let ckpt = first_checkpoint(job);
    commit(
        fs,
        dir,
        job.generation(ckpt.cursor),
        &ckpt,
        Order::ListFirst,
    )?;
    Ok(Some(ckpt))
}

fn load(fs: &dyn Fs, dir: &Path) -> Result<Option<Checkpoint>, WorkloadError> {
    let Some(manifest) = read_manifest(fs, dir)? else {
        return Ok(None);
    };
    let mut newest = None;
    for g in manifest.checkpoints {
        let path = Generations::CKPT.path(dir, g);
        let bytes = files::read_if_exists(fs, &path)?.ok_or_else(|| {
            WorkloadError::core(format!(
                "checkpoint {g} is listed in {MANIFEST} but {} is missing",
                path.display()
            ))
        })?;
        let ckpt = envelope::decode_checked(&bytes)
            .map_err(|e| WorkloadError::core(format!("checkpoint {g}: {e}")))?;
        newest = Some(ckpt);
    }
    Ok(newest)
}

fn leftovers(fs: &dyn Fs, dir: &Path) -> Result<Vec<String>, WorkloadError> {
    let live: Vec<String> = read_manifest(fs, dir)?
        .map(|m| m.checkpoints)
        .unwrap_or_default()
        .into_iter()
        .map(|g| Generations::CKPT.name(g))
        .collect();
    Ok(files::list(fs, dir)?
        .into_iter()
        .filter(|n| n != MANIFEST && !live.contains(n))
        .collect())
}

impl CheckpointProtocol for ManifestAfterDelete {
    fn name(&self) -> &'static str {
        "manifest-after-delete"
    }

    fn initial_disk(
        &self,
        fs: &dyn Fs,
        dir: &Path,
        job: &CountingJob,
    ) -> Result<Option<Checkpoint>, WorkloadError> {
        earlier_process(fs, dir, job)
    }

    fn startup(&self, fs: &dyn Fs, dir: &Path) -> Result<(), WorkloadError> {
        startup_gc(fs, dir)
    }

    fn commit(
        &self,
        fs: &dyn Fs,
        dir: &Path,
        generation: u64,
        ckpt: &Checkpoint,
    ) -> Result<(), WorkloadError> {
        commit(fs, dir, generation, ckpt, Order::DeleteFirst)
    }

    fn load(&self, fs: &dyn Fs, dir: &Path) -> Result<Option<Checkpoint>, WorkloadError> {
        load(fs, dir)
    }

    fn leftovers(&self, fs: &dyn Fs, dir: &Path) -> Result<Vec<String>, WorkloadError> {
        leftovers(fs, dir)
    }
}

/// The same program in Feldera's order (list rewritten, then files
/// deleted), from the same initial disk. It must pass, or the mutant would
/// be wrong for more than its one bug.
#[cfg(test)]
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ManifestFirst;

#[cfg(test)]
impl CheckpointProtocol for ManifestFirst {
    fn name(&self) -> &'static str {
        "manifest-first"
    }

    fn initial_disk(
        &self,
        fs: &dyn Fs,
        dir: &Path,
        job: &CountingJob,
    ) -> Result<Option<Checkpoint>, WorkloadError> {
        earlier_process(fs, dir, job)
    }

    fn startup(&self, fs: &dyn Fs, dir: &Path) -> Result<(), WorkloadError> {
        startup_gc(fs, dir)
    }

    fn commit(
        &self,
        fs: &dyn Fs,
        dir: &Path,
        generation: u64,
        ckpt: &Checkpoint,
    ) -> Result<(), WorkloadError> {
        commit(fs, dir, generation, ckpt, Order::ListFirst)
    }

    fn load(&self, fs: &dyn Fs, dir: &Path) -> Result<Option<Checkpoint>, WorkloadError> {
        load(fs, dir)
    }

    fn leftovers(&self, fs: &dyn Fs, dir: &Path) -> Result<Vec<String>, WorkloadError> {
        leftovers(fs, dir)
    }
}
