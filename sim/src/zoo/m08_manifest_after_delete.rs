//! Mutant 8: the list of live checkpoints is rewritten after the files it
//! drops are deleted.
//!
//! Real-world pattern: Feldera's checkpointer keeps a list of checkpoints
//! and, on GC, rewrites the list *before* deleting the files it drops; its
//! startup reads every listed checkpoint (and `expect()`ed that it could).
//! This program does the reverse: it deletes the old checkpoint and only
//! then rewrites the list. A crash in between leaves a list naming a file
//! that is gone, and recovery, which must read every listed checkpoint,
//! fails — forever.

use std::path::{Path, PathBuf};

use crashproof_core::fs::Fs;
use serde::{Deserialize, Serialize};

use super::envelope;
use super::files::{self, Generations};
use super::job::Checkpoint;
use super::protocol::CheckpointProtocol;
use crate::explore::WorkloadError;

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

impl CheckpointProtocol for ManifestAfterDelete {
    fn name(&self) -> &'static str {
        "manifest-after-delete"
    }

    fn startup(&self, fs: &dyn Fs, dir: &Path) -> Result<(), WorkloadError> {
        // Startup GC: remove temp files and checkpoints the manifest does
        // not reference (left by a crash between a write and the manifest).
        let live = read_manifest(fs, dir)?
            .map(|m| m.checkpoints)
            .unwrap_or_default();
        let mut removed = false;
        for name in files::list(fs, dir)? {
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

    fn commit(
        &self,
        fs: &dyn Fs,
        dir: &Path,
        generation: u64,
        ckpt: &Checkpoint,
    ) -> Result<(), WorkloadError> {
        let target = Generations::CKPT.path(dir, generation);
        files::replace_durably(fs, &target, &envelope::encode(ckpt))?;
        let dropped = read_manifest(fs, dir)?
            .map(|m| m.checkpoints)
            .unwrap_or_default();
        // BUG: the dropped checkpoints are deleted while the manifest still
        // lists them; the manifest is rewritten only afterwards.
        let mut removed = false;
        for old in dropped.into_iter().filter(|&g| g != generation) {
            removed |= files::remove_if_exists(fs, &Generations::CKPT.path(dir, old))?;
        }
        if removed {
            fs.sync_dir(dir)?;
        }
        let manifest = Manifest {
            checkpoints: vec![generation],
        };
        let bytes = serde_json::to_vec(&manifest)
            .map_err(|e| WorkloadError::Invariant(format!("manifest does not encode: {e}")))?;
        files::replace_durably(fs, &manifest_path(dir), &bytes)
    }

    fn load(&self, fs: &dyn Fs, dir: &Path) -> Result<Option<Checkpoint>, WorkloadError> {
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

    fn leftovers(&self, fs: &dyn Fs, dir: &Path) -> Result<Vec<String>, WorkloadError> {
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
}
