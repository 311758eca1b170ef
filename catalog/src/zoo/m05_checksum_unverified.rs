//! Mutant 5: the checksum is written but never verified on load.
//!
//! Real-world pattern: double-buffered metadata overwritten in place — two
//! fixed slots in one file, like LMDB's two meta pages — where each record
//! carries a checksum precisely so a torn slot can be skipped, and a loader
//! that parses the newest slot and trusts it. Each commit overwrites the
//! older slot and fsyncs; a crash mid-write tears that slot at sector
//! granularity, and the torn mix of two records still parses, so recovery
//! loads a state the program never computed.

use std::path::{Path, PathBuf};

use crashproof_core::fs::{Fs, OpenMode};

use super::envelope;
use super::files;
use super::job::Checkpoint;
use super::protocol::CheckpointProtocol;
use crashproof_sim::explore::WorkloadError;

const FILE: &str = "meta.ckpt";

/// Bytes per slot: two 512-byte sectors, so each slot starts on a sector
/// boundary and a record (padded with spaces, which JSON ignores) fits.
pub const SLOT_LEN: usize = 1024;

/// Two in-place slots in `meta.ckpt`, alternated by generation, loaded
/// without a checksum check.
#[derive(Debug, Clone, Copy, Default)]
pub struct ChecksumUnverified;

fn path(dir: &Path) -> PathBuf {
    dir.join(FILE)
}

/// `ckpt` encoded and padded with spaces to exactly [`SLOT_LEN`] bytes.
fn slot_bytes(ckpt: &Checkpoint) -> Result<Vec<u8>, WorkloadError> {
    let mut bytes = envelope::encode(ckpt);
    if bytes.len() > SLOT_LEN {
        return Err(WorkloadError::Invariant(format!(
            "a {}-byte record does not fit a {SLOT_LEN}-byte slot",
            bytes.len()
        )));
    }
    bytes.resize(SLOT_LEN, b' ');
    Ok(bytes)
}

impl CheckpointProtocol for ChecksumUnverified {
    fn name(&self) -> &'static str {
        "checksum-unverified"
    }

    fn commit(
        &self,
        fs: &dyn Fs,
        dir: &Path,
        generation: u64,
        ckpt: &Checkpoint,
    ) -> Result<(), WorkloadError> {
        let path = path(dir);
        let record = slot_bytes(ckpt)?;
        if !fs.exists(&path)? {
            // Format the file with the first record in both slots.
            let file = fs.open(&path, OpenMode::CreateNew)?;
            fs.write_all_at(&file, 0, &[record.as_slice(), record.as_slice()].concat())?;
            fs.sync(&file)?;
            fs.close(file)?;
            fs.sync_dir(dir)?;
            return Ok(());
        }
        // The slot this generation owns; the other keeps the previous
        // checkpoint while this one is rewritten.
        let offset = (generation % 2) * SLOT_LEN as u64;
        let file = fs.open(&path, OpenMode::Existing)?;
        fs.write_all_at(&file, offset, &record)?;
        fs.sync(&file)?;
        fs.close(file)?;
        Ok(())
    }

    fn load(&self, fs: &dyn Fs, dir: &Path) -> Result<Option<Checkpoint>, WorkloadError> {
        let Some(bytes) = files::read_if_exists(fs, &path(dir))? else {
            return Ok(None);
        };
        let mut best: Option<Checkpoint> = None;
        for slot in bytes.chunks(SLOT_LEN) {
            // BUG: parses the slot without checking its checksum.
            if let Ok(ckpt) = envelope::decode_unchecked(slot)
                && best.as_ref().is_none_or(|b| ckpt.cursor > b.cursor)
            {
                best = Some(ckpt);
            }
        }
        Ok(best)
    }

    fn leftovers(&self, fs: &dyn Fs, dir: &Path) -> Result<Vec<String>, WorkloadError> {
        Ok(files::list(fs, dir)?
            .into_iter()
            .filter(|n| n != FILE)
            .collect())
    }
}
