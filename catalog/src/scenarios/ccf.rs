//! CCF snapshot writer (seed: ccf-snapshot-writer.txt), on the core
//! envelope.
//!
//! The node applies ledger entries; every K entries the snapshotter runs two
//! ordered tasks: *serialise* (the state at that seqno, into bytes, in
//! memory) then *persist*: create `snapshot_<seqno>` with `O_CREAT|O_EXCL`,
//! write the snapshot and its receipt (a digest binding the receipt to the
//! snapshot bytes), fsync, close — checking the close error — rename to
//! `snapshot_<seqno>.committed`, fsync the directory, and drop committed
//! snapshots beyond the newest two. Recovery starts from the newest
//! committed snapshot whose receipt verifies, falling back to the one
//! before. At startup a node removes `snapshot_<seqno>` files a crash left
//! between create and rename: without that, the exclusive create of the same
//! seqno fails forever.
//!
//! The mutant is the review's bug: the leftover `O_EXCL` file is never
//! cleaned up.

use std::path::PathBuf;

use crashproof_core::envelope;
use crashproof_core::fs::Fs;
use serde::{Deserialize, Serialize};

use super::common::{checkpoint_id, list, mix, read_if_exists, remove_if_exists, state_bytes};
use crashproof_sim::explore::{Completion, Progress, Recovered, Workload, WorkloadError};

/// Ledger entries (N).
pub const ENTRIES: u64 = 40;
/// Entries between snapshots (K).
pub const SNAPSHOT_EVERY: u64 = 5;
/// Committed snapshots retained.
pub const KEEP: usize = 2;
const COMMITTED: &str = ".committed";

/// The key-value store's digest state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct KvState {
    /// Entries applied.
    pub seqno: u64,
    /// A running hash over the applied writes.
    pub root: u64,
}

/// A snapshot's receipt: binds it to its seqno and bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    /// The snapshot's seqno.
    pub seqno: u64,
    /// Digest of the serialised snapshot bytes.
    pub snapshot_digest: u64,
}

fn temp_name(seqno: u64) -> String {
    format!("snapshot_{seqno:06}")
}

fn committed_name(seqno: u64) -> String {
    format!("snapshot_{seqno:06}{COMMITTED}")
}

fn parse_committed(name: &str) -> Option<u64> {
    name.strip_prefix("snapshot_")?
        .strip_suffix(COMMITTED)?
        .parse()
        .ok()
}

/// Splits a committed file into its snapshot and receipt and verifies the
/// receipt; `None` for anything torn or mismatched.
fn verify(bytes: &[u8]) -> Option<KvState> {
    // Each envelope is header + payload + CRC (the writer's current format
    // version); the snapshot's payload length is at offset 12.
    let len_bytes: [u8; 8] = bytes.get(12..20)?.try_into().ok()?;
    let snapshot_len = usize::try_from(u64::from_le_bytes(len_bytes))
        .ok()?
        .checked_add(envelope::HEADER_LEN + envelope::TRAILER_LEN)?;
    let snapshot = bytes.get(..snapshot_len)?;
    let receipt_bytes = bytes.get(snapshot_len..)?;
    let state: KvState = envelope::decode(snapshot).ok()?;
    let receipt: Receipt = envelope::decode(receipt_bytes).ok()?;
    (receipt.seqno == state.seqno
        && receipt.snapshot_digest == crashproof_core::stable_digest(snapshot))
    .then_some(state)
}

/// The snapshot writer workload (control or mutant).
#[derive(Debug, Clone)]
pub struct CcfSnapshots {
    dir: PathBuf,
    clean_leftovers: bool,
}

impl CcfSnapshots {
    /// The correct writer in `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            clean_leftovers: true,
        }
    }

    /// The review mutant: leftover `O_EXCL` files are never removed.
    pub fn leftover_exclusive_file(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            clean_leftovers: false,
        }
    }

    /// Step one, on the consensus thread: the snapshot bytes at `state`.
    fn serialise(state: &KvState) -> Result<Vec<u8>, WorkloadError> {
        envelope::encode(state).map_err(WorkloadError::core)
    }

    /// Step two, on the snapshot task: the durable, exclusive write.
    fn persist(&self, fs: &dyn Fs, seqno: u64, snapshot: &[u8]) -> Result<(), WorkloadError> {
        let receipt = envelope::encode(&Receipt {
            seqno,
            snapshot_digest: crashproof_core::stable_digest(snapshot),
        })
        .map_err(WorkloadError::core)?;
        let temp = self.dir.join(temp_name(seqno));
        let file = fs.create_new(&temp)?;
        let written = fs
            .write_all_at(&file, 0, snapshot)
            .and_then(|()| fs.append(&file, &receipt))
            .and_then(|()| fs.sync(&file));
        // The close error is checked (the review's other finding), and
        // reported even when the write already failed.
        let closed = fs.close(file);
        written?;
        closed?;
        fs.rename(&temp, &self.dir.join(committed_name(seqno)))?;
        fs.sync_dir(&self.dir)?;
        self.retire(fs)
    }

    /// Drops committed snapshots beyond the newest [`KEEP`].
    fn retire(&self, fs: &dyn Fs) -> Result<(), WorkloadError> {
        let committed = self.committed(fs)?;
        let excess = committed.len().saturating_sub(KEEP);
        let mut removed = false;
        for &seqno in &committed[..excess] {
            removed |= remove_if_exists(fs, &self.dir.join(committed_name(seqno)))?;
        }
        if removed {
            fs.sync_dir(&self.dir)?;
        }
        Ok(())
    }

    fn committed(&self, fs: &dyn Fs) -> Result<Vec<u64>, WorkloadError> {
        let mut seqnos: Vec<u64> = list(fs, &self.dir)?
            .iter()
            .filter_map(|n| parse_committed(n))
            .collect();
        seqnos.sort_unstable();
        Ok(seqnos)
    }

    /// Startup: remove snapshot files a crash left before their rename, and
    /// committed snapshots beyond retention.
    fn startup(&self, fs: &dyn Fs) -> Result<(), WorkloadError> {
        if self.clean_leftovers {
            let mut removed = false;
            for name in list(fs, &self.dir)? {
                if name.starts_with("snapshot_") && parse_committed(&name).is_none() {
                    removed |= remove_if_exists(fs, &self.dir.join(name))?;
                }
            }
            if removed {
                fs.sync_dir(&self.dir)?;
            }
        }
        // BUG (mutant): without the cleanup above, a `snapshot_<seqno>` left
        // by a crash makes the exclusive create of that seqno fail forever.
        self.retire(fs)
    }

    /// The newest committed snapshot whose receipt verifies.
    fn load(&self, fs: &dyn Fs) -> Result<Option<KvState>, WorkloadError> {
        for seqno in self.committed(fs)?.into_iter().rev() {
            if let Some(bytes) = read_if_exists(fs, &self.dir.join(committed_name(seqno)))?
                && let Some(state) = verify(&bytes)
            {
                return Ok(Some(state));
            }
        }
        Ok(None)
    }
}

impl Workload for CcfSnapshots {
    fn name(&self) -> String {
        if self.clean_leftovers {
            "ccf-snapshot-writer".to_string()
        } else {
            "ccf-snapshot-writer/leftover-exclusive-file".to_string()
        }
    }

    fn run(&self, fs: &dyn Fs, progress: &mut Progress) -> Result<Completion, WorkloadError> {
        fs.create_dir_all(&self.dir)?;
        fs.sync_dir(crashproof_core::fs::parent_dir(&self.dir))?;
        self.startup(fs)?;
        let loaded = self.load(fs)?;
        let resumed_from = loaded.map(|s| s.seqno);
        let mut state = loaded.unwrap_or(KvState { seqno: 0, root: 0 });
        while state.seqno < ENTRIES {
            state.root = mix(state.root ^ mix(state.seqno ^ 0xccf));
            progress.processed(state.seqno);
            state.seqno += 1;
            if state.seqno.is_multiple_of(SNAPSHOT_EVERY) || state.seqno == ENTRIES {
                let id = checkpoint_id(state.seqno, &state_bytes(&state)?);
                let snapshot = Self::serialise(&state)?;
                progress.attempt(id);
                self.persist(fs, state.seqno, &snapshot)?;
                progress.acknowledge(id);
            }
        }
        Ok(Completion {
            output: format!("seqno={} root={:016x}", state.seqno, state.root),
            resumed_from,
        })
    }

    fn inspect(&self, fs: &dyn Fs) -> Result<Recovered, WorkloadError> {
        Ok(Recovered {
            checkpoint: match self.load(fs)? {
                Some(state) => Some(checkpoint_id(state.seqno, &state_bytes(&state)?)),
                None => None,
            },
        })
    }

    fn redo_bound(&self) -> u64 {
        SNAPSHOT_EVERY
    }

    fn leftovers(&self, fs: &dyn Fs) -> Result<Vec<String>, WorkloadError> {
        let committed = self.committed(fs)?;
        let live: Vec<String> = committed
            .iter()
            .rev()
            .take(KEEP)
            .map(|&s| committed_name(s))
            .collect();
        Ok(list(fs, &self.dir)?
            .into_iter()
            .filter(|n| !live.contains(n))
            .collect())
    }
}
