//! Feldera DBSP checkpointer (seed: feldera-checkpointer.txt), on the core
//! envelope and durable [`replace`].
//!
//! A checkpoint is a set of batch files (here two: the running sum and the
//! histogram, as a spine keeps several batches) plus an entry in the list
//! of checkpoints, `checkpoints.json`, that names them and carries the
//! pipeline's fingerprint. A commit writes its batches durably, then the
//! list with the new entry. GC keeps at least the newest two checkpoints
//! plus an exception set (checkpoint 1, pinned as the one a running backup
//! reads), and rewrites the list *before* deleting the files it dropped.
//! Startup GC removes every file no listed checkpoint references (orphans of
//! a crash mid-commit or mid-GC). Resume refuses a list whose newest
//! checkpoint has another fingerprint, and falls back to the previous
//! listed checkpoint if the newest one's batches cannot be read.
//!
//! The mutant is the review's bug: listing a checkpoint's batches with
//! `expect()`, which panics when they cannot be read. A correct writer never
//! leaves a listed checkpoint unreadable, so the mutant also writes its
//! batch files without fsync (trusting the list's directory fsync): a crash
//! then leaves a listed, empty batch file, and the `expect()` panics in
//! recovery instead of falling back.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crashproof_core::fs::Fs;
use crashproof_core::{envelope, replace, stable_digest};
use serde::{Deserialize, Serialize};

use super::common::{checkpoint_id, list, mix, read_if_exists, remove_if_exists, state_bytes};
use crashproof_sim::explore::{Completion, Progress, Recovered, Workload, WorkloadError};

/// Input records (N).
pub const RECORDS: u64 = 40;
/// Records per checkpoint (K).
pub const CHECKPOINT_EVERY: u64 = 5;
/// Checkpoints GC always keeps (Feldera's `MIN_CHECKPOINT_THRESHOLD`).
pub const KEEP: usize = 2;
/// Checkpoints exempt from GC (pinned by a running backup).
pub const PINNED: [u64; 1] = [1];
const LIST: &str = "checkpoints.json";
const BUCKETS: usize = 8;
const PIPELINE: &str = "feldera-pipeline/v1";

/// The pipeline's state: a running sum and a histogram of the records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PipelineState {
    /// Wrapping sum of the records.
    pub sum: u64,
    /// Records per bucket (`record % 8`).
    pub histogram: Vec<u64>,
}

impl PipelineState {
    fn initial() -> Self {
        Self {
            sum: 0,
            histogram: vec![0; BUCKETS],
        }
    }

    fn step(&mut self, index: u64) {
        let record = mix(index ^ 0xfe1d);
        self.sum = self.sum.wrapping_add(record);
        if let Some(b) = self.histogram.get_mut((record % BUCKETS as u64) as usize) {
            *b += 1;
        }
    }
}

/// One entry of the checkpoint list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListEntry {
    /// The checkpoint's number.
    pub checkpoint: u64,
    /// The pipeline fingerprint it was written under.
    pub fingerprint: u64,
    /// Records processed.
    pub cursor: u64,
    /// Its batch files.
    pub batches: Vec<String>,
}

/// The list of live checkpoints, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointList {
    /// The live checkpoints.
    pub entries: Vec<ListEntry>,
}

#[derive(Debug, Serialize, Deserialize)]
enum Batch {
    Sum(u64),
    Histogram(Vec<u64>),
}

fn fingerprint() -> u64 {
    stable_digest(format!("{PIPELINE}/records={RECORDS}").as_bytes())
}

fn batch_names(checkpoint: u64) -> Vec<String> {
    (0..2)
        .map(|j| format!("cp-{checkpoint:06}-b{j}.batch"))
        .collect()
}

/// How the checkpointer writes batches and reads them back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Variant {
    /// Batches durable before the list names them; unreadable batches fall
    /// back to the previous checkpoint.
    Correct,
    /// Batches not fsynced, read with `expect()` (the mutant).
    ExpectOnBatches,
}

/// The checkpointer workload (control or mutant).
#[derive(Debug, Clone)]
pub struct FelderaCheckpointer {
    dir: PathBuf,
    variant: Variant,
}

impl FelderaCheckpointer {
    /// The correct checkpointer in `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            variant: Variant::Correct,
        }
    }

    /// The review mutant in `dir`.
    pub fn expect_on_batches(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            variant: Variant::ExpectOnBatches,
        }
    }

    fn read_list(&self, fs: &dyn Fs) -> Result<CheckpointList, WorkloadError> {
        match read_if_exists(fs, &self.dir.join(LIST))? {
            None => Ok(CheckpointList::default()),
            Some(bytes) => {
                envelope::decode(&bytes).map_err(|e| WorkloadError::core(format!("{LIST}: {e}")))
            }
        }
    }

    fn write_list(&self, fs: &dyn Fs, list: &CheckpointList) -> Result<(), WorkloadError> {
        let bytes = envelope::encode(list).map_err(WorkloadError::core)?;
        replace(fs, &self.dir.join(LIST), &bytes)?;
        Ok(())
    }

    /// The state of `entry`, read from its batch files.
    fn read_batches(&self, fs: &dyn Fs, entry: &ListEntry) -> Result<PipelineState, String> {
        let mut state = PipelineState::initial();
        for name in &entry.batches {
            let bytes = fs
                .read(&self.dir.join(name))
                .map_err(|e| format!("batch {name}: {e}"))?;
            match envelope::decode::<Batch>(&bytes).map_err(|e| format!("batch {name}: {e}"))? {
                Batch::Sum(s) => state.sum = s,
                Batch::Histogram(h) => state.histogram = h,
            }
        }
        Ok(state)
    }

    /// The checkpoint to resume from: the newest listed one whose batches
    /// read back (fingerprint checked first).
    fn load(&self, fs: &dyn Fs) -> Result<Option<(u64, PipelineState)>, WorkloadError> {
        let list = self.read_list(fs)?;
        if let Some(newest) = list.entries.last()
            && newest.fingerprint != fingerprint()
        {
            return Err(WorkloadError::core(format!(
                "checkpoint {} was written by another pipeline (fingerprint {:016x}); \
                 refusing to resume",
                newest.checkpoint, newest.fingerprint
            )));
        }
        for entry in list.entries.iter().rev() {
            match (self.variant, self.read_batches(fs, entry)) {
                (_, Ok(state)) => return Ok(Some((entry.cursor, state))),
                // The keep-at-least-2 rule is what makes this fallback exist.
                (Variant::Correct, Err(_)) => continue,
                (Variant::ExpectOnBatches, Err(e)) => {
                    // BUG: Feldera's `list_checkpoint_batches(..).expect(..)`.
                    #[allow(clippy::panic)] // the review's bug, reproduced on purpose
                    {
                        panic!(
                            "cannot list the batches of checkpoint {}: {e}",
                            entry.checkpoint
                        )
                    }
                }
            }
        }
        Ok(None)
    }

    /// Startup GC: removes every file no listed checkpoint references.
    fn startup_gc(&self, fs: &dyn Fs) -> Result<(), WorkloadError> {
        let list = self.read_list(fs)?;
        let referenced: BTreeSet<String> = list
            .entries
            .iter()
            .flat_map(|e| e.batches.iter().cloned())
            .chain([LIST.to_string()])
            .collect();
        let mut removed = false;
        for name in list_files(fs, &self.dir)? {
            if !referenced.contains(&name) {
                removed |= remove_if_exists(fs, &self.dir.join(name))?;
            }
        }
        if removed {
            fs.sync_dir(&self.dir)?;
        }
        Ok(())
    }

    fn write_batch(&self, fs: &dyn Fs, name: &str, batch: &Batch) -> Result<(), WorkloadError> {
        let bytes = envelope::encode(batch).map_err(WorkloadError::core)?;
        let path = self.dir.join(name);
        match self.variant {
            Variant::Correct => replace(fs, &path, &bytes)?,
            Variant::ExpectOnBatches => {
                // (The mutant's second deviation: no fsync of the batch; the
                // list's directory fsync makes only its name durable.)
                let file = fs.open_truncate(&path)?;
                fs.write_all_at(&file, 0, &bytes)?;
                fs.close(file)?;
            }
        }
        Ok(())
    }

    fn commit(
        &self,
        fs: &dyn Fs,
        checkpoint: u64,
        cursor: u64,
        state: &PipelineState,
    ) -> Result<(), WorkloadError> {
        let names = batch_names(checkpoint);
        let batches = [
            Batch::Sum(state.sum),
            Batch::Histogram(state.histogram.clone()),
        ];
        for (name, batch) in names.iter().zip(&batches) {
            self.write_batch(fs, name, batch)?;
        }
        let mut list = self.read_list(fs)?;
        list.entries.retain(|e| e.checkpoint != checkpoint);
        list.entries.push(ListEntry {
            checkpoint,
            fingerprint: fingerprint(),
            cursor,
            batches: names,
        });
        self.write_list(fs, &list)?;
        self.gc(fs, list)
    }

    /// Drops checkpoints beyond the newest [`KEEP`] that are not pinned:
    /// the list is rewritten first, then their files are deleted.
    fn gc(&self, fs: &dyn Fs, mut list: CheckpointList) -> Result<(), WorkloadError> {
        let keep_from = list.entries.len().saturating_sub(KEEP);
        let (mut doomed, mut kept) = (Vec::new(), Vec::new());
        for (i, e) in list.entries.drain(..).enumerate() {
            if i < keep_from && !PINNED.contains(&e.checkpoint) {
                doomed.push(e);
            } else {
                kept.push(e);
            }
        }
        if doomed.is_empty() {
            return Ok(());
        }
        list.entries = kept;
        self.write_list(fs, &list)?;
        for e in doomed {
            for name in e.batches {
                remove_if_exists(fs, &self.dir.join(name))?;
            }
        }
        fs.sync_dir(&self.dir)?;
        Ok(())
    }
}

fn list_files(fs: &dyn Fs, dir: &Path) -> Result<Vec<String>, WorkloadError> {
    list(fs, dir)
}

impl Workload for FelderaCheckpointer {
    fn name(&self) -> String {
        match self.variant {
            Variant::Correct => "feldera-checkpointer".to_string(),
            Variant::ExpectOnBatches => "feldera-checkpointer/expect-on-batches".to_string(),
        }
    }

    fn run(&self, fs: &dyn Fs, progress: &mut Progress) -> Result<Completion, WorkloadError> {
        fs.create_dir_all(&self.dir)?;
        fs.sync_dir(crashproof_core::fs::parent_dir(&self.dir))?;
        self.startup_gc(fs)?;
        let (mut cursor, mut state, resumed_from) = match self.load(fs)? {
            Some((c, s)) => (c, s, Some(c)),
            None => (0, PipelineState::initial(), None),
        };
        while cursor < RECORDS {
            state.step(cursor);
            progress.processed(cursor);
            cursor += 1;
            if cursor.is_multiple_of(CHECKPOINT_EVERY) || cursor == RECORDS {
                let id = checkpoint_id(cursor, &state_bytes(&state)?);
                progress.attempt(id);
                self.commit(fs, cursor.div_ceil(CHECKPOINT_EVERY), cursor, &state)?;
                progress.acknowledge(id);
            }
        }
        Ok(Completion {
            output: format!(
                "records={RECORDS} sum={:016x} histogram={:?}",
                state.sum, state.histogram
            ),
            resumed_from,
        })
    }

    fn inspect(&self, fs: &dyn Fs) -> Result<Recovered, WorkloadError> {
        Ok(Recovered {
            checkpoint: match self.load(fs)? {
                Some((cursor, state)) => Some(checkpoint_id(cursor, &state_bytes(&state)?)),
                None => None,
            },
        })
    }

    fn redo_bound(&self) -> u64 {
        CHECKPOINT_EVERY
    }

    fn leftovers(&self, fs: &dyn Fs) -> Result<Vec<String>, WorkloadError> {
        let list = self.read_list(fs)?;
        let referenced: BTreeSet<String> = list
            .entries
            .iter()
            .flat_map(|e| e.batches.iter().cloned())
            .chain([LIST.to_string()])
            .collect();
        Ok(list_files(fs, &self.dir)?
            .into_iter()
            .filter(|n| !referenced.contains(n))
            .collect())
    }
}
