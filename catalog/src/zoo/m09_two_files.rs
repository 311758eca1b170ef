//! Mutant 9: cursor and state live in two files, committed one after the
//! other.
//!
//! Real-world pattern: a job that keeps "where am I" (`cursor.json`) apart
//! from "what have I computed" (`state.json`) and saves each correctly —
//! temp, fsync, rename, directory fsync — but not atomically together. A
//! crash between the two saves pairs a new cursor with an old state: the
//! job resumes past items whose effect the state does not contain.

use std::path::Path;

use crashproof_core::fs::Fs;
use serde::{Deserialize, Serialize};

use super::files;
use super::job::{Checkpoint, JobState};
use super::protocol::CheckpointProtocol;
use crashproof_sim::explore::WorkloadError;

const CURSOR: &str = "cursor.json";
const STATE: &str = "state.json";

#[derive(Debug, Serialize, Deserialize)]
struct CursorFile {
    cursor: u64,
}

/// Cursor and state saved as two separately durable files.
#[derive(Debug, Clone, Copy, Default)]
pub struct TwoFiles;

fn to_json(value: &impl Serialize) -> Result<Vec<u8>, WorkloadError> {
    serde_json::to_vec(value).map_err(|e| WorkloadError::Invariant(format!("encode: {e}")))
}

fn from_json<T: for<'de> Deserialize<'de>>(name: &str, bytes: &[u8]) -> Result<T, WorkloadError> {
    serde_json::from_slice(bytes).map_err(|e| WorkloadError::core(format!("{name}: {e}")))
}

impl CheckpointProtocol for TwoFiles {
    fn name(&self) -> &'static str {
        "two-files"
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
        let cursor = CursorFile {
            cursor: ckpt.cursor,
        };
        files::replace_durably(fs, &dir.join(CURSOR), &to_json(&cursor)?)?;
        // BUG: a crash here pairs the new cursor with the old state.
        files::replace_durably(fs, &dir.join(STATE), &to_json(&ckpt.state)?)
    }

    fn load(&self, fs: &dyn Fs, dir: &Path) -> Result<Option<Checkpoint>, WorkloadError> {
        let Some(cursor) = files::read_if_exists(fs, &dir.join(CURSOR))? else {
            return Ok(None);
        };
        let cursor: CursorFile = from_json(CURSOR, &cursor)?;
        let state = match files::read_if_exists(fs, &dir.join(STATE))? {
            Some(bytes) => from_json(STATE, &bytes)?,
            None => JobState::initial(),
        };
        Ok(Some(Checkpoint {
            cursor: cursor.cursor,
            state,
        }))
    }

    fn leftovers(&self, fs: &dyn Fs, dir: &Path) -> Result<Vec<String>, WorkloadError> {
        Ok(files::list(fs, dir)?
            .into_iter()
            .filter(|n| n != CURSOR && n != STATE)
            .collect())
    }
}
