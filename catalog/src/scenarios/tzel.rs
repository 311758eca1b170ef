//! tzel wallet sync (seed: tzel-cooperative-yield-sync.txt), on the core
//! [`crashproof_core::Runner`].
//!
//! The wallet scans commitments `[scanned, tree_size)` in order, recovering
//! the notes that are its own along the way, and persists `{scanned, state}`
//! every K commitments. A daemon that wants the wallet lock touches
//! `wallet.yield`; at the next checkpoint the sync exits cleanly and the
//! daemon, after its own operation, removes the sentinel and starts the sync
//! again, which resumes from the persisted cursor. After the last batch a
//! final prune pass runs once over every commitment seen (spent notes are
//! dropped by their nullifiers).
//!
//! The review's real bug (unchecked `cursor + K`) is fixed in the core
//! ([`crashproof_core::runner::batch_end`] saturates). The mutant here is
//! the other order of the batch boundary: check the sentinel and yield —
//! reporting the batch as synced — before persisting it.

use std::path::{Path, PathBuf};

use crashproof_core::fs::Fs;
use crashproof_core::runner::batch_end;
use crashproof_core::{CheckpointStore, Job, JobError, JobIdentity, RunnerConfig, stable_digest};
use serde::{Deserialize, Serialize};

use super::common::{
    Ended, checkpoint_id, core_leftovers, mix, peek_core, remove_if_exists, run_core, state_bytes,
    state_from, touch,
};
use crashproof_sim::explore::{Completion, Progress, Recovered, Workload, WorkloadError};

/// Commitments in the scanned tree (N).
pub const TREE_SIZE: u64 = 40;
/// Commitments per checkpoint (tzel's `--checkpoint-every`, K).
pub const CHECKPOINT_EVERY: u64 = 5;
/// The wallet's name: the job name and the sentinel's stem.
pub const WALLET: &str = "wallet";
/// The sentinel file the daemon touches (`<wallet>.yield`).
pub const SENTINEL: &str = "wallet.yield";
/// Valid checkpoint generations retained.
const KEEP: usize = 2;

/// One recovered note: the commitment index it came from and its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    /// Index of the commitment that carried it.
    pub index: u64,
    /// Its value.
    pub value: u64,
}

/// The wallet's scan state: notes recovered and every commitment seen (the
/// cumulative set the final prune pass needs).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WalletState {
    /// Notes recovered so far.
    pub notes: Vec<Note>,
    /// Every commitment seen so far, in order.
    pub seen: Vec<u64>,
}

/// The scan as a core [`Job`].
#[derive(Debug, Clone, Copy)]
pub struct WalletScan {
    /// Commitments to scan.
    pub tree_size: u64,
}

impl WalletScan {
    /// The identity checkpoints are written under.
    pub fn identity(&self) -> JobIdentity {
        JobIdentity {
            name: WALLET.to_string(),
            fingerprint: self.fingerprint(),
        }
    }
}

impl Job for WalletScan {
    type State = WalletState;
    type Output = String;

    fn name(&self) -> &str {
        WALLET
    }

    fn fingerprint(&self) -> u64 {
        stable_digest(format!("tzel-wallet/v1/tree_size={}", self.tree_size).as_bytes())
    }

    fn item_count(&self) -> u64 {
        self.tree_size
    }

    fn initial_state(&self) -> WalletState {
        WalletState::default()
    }

    fn process(&mut self, index: u64, state: &mut WalletState) -> Result<(), JobError> {
        let cm = mix(index);
        state.seen.push(cm);
        // Trial decryption: one commitment in three is ours.
        if cm.is_multiple_of(3) {
            state.notes.push(Note {
                index,
                value: cm % 1000,
            });
        }
        Ok(())
    }

    fn finalize(&mut self, state: &WalletState) -> Result<String, JobError> {
        // Final prune over the cumulative set: an odd commitment reveals the
        // nullifier of the note at index `mix(cm) % tree_size`.
        let spent: std::collections::BTreeSet<u64> = state
            .seen
            .iter()
            .filter(|cm| *cm % 2 == 1)
            .map(|cm| mix(*cm) % self.tree_size.max(1))
            .collect();
        let unspent: Vec<&Note> = state
            .notes
            .iter()
            .filter(|n| !spent.contains(&n.index))
            .collect();
        let balance: u64 = unspent.iter().map(|n| n.value).sum();
        Ok(format!(
            "scanned={} notes={} unspent={} balance={balance}",
            state.seen.len(),
            state.notes.len(),
            unspent.len()
        ))
    }
}

/// The correct wallet sync on the core runner, driven by a daemon that asks
/// it to yield once per process start.
#[derive(Debug, Clone)]
pub struct TzelSync {
    dir: PathBuf,
    job: WalletScan,
}

impl TzelSync {
    /// The sync of [`TREE_SIZE`] commitments into `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            job: WalletScan {
                tree_size: TREE_SIZE,
            },
        }
    }
}

/// The daemon's side, shared by the control and the mutant: a sentinel left
/// by a crash is stale (no operation is waiting after a restart); then the
/// daemon admits a slow operation and touches the sentinel.
fn daemon_start(fs: &dyn Fs, dir: &Path) -> Result<(), WorkloadError> {
    let sentinel = dir.join(SENTINEL);
    if remove_if_exists(fs, &sentinel)? {
        fs.sync_dir(dir)?;
    }
    fs.create_dir_all(dir)?;
    touch(fs, &sentinel)
}

/// The daemon's operation finished (or the sync completed first): it
/// removes its sentinel, as tzel-infra's RAII guard does.
fn daemon_done(fs: &dyn Fs, dir: &Path) -> Result<(), WorkloadError> {
    remove_if_exists(fs, &dir.join(SENTINEL))?;
    Ok(())
}

impl Workload for TzelSync {
    fn name(&self) -> String {
        "tzel-sync".to_string()
    }

    fn run(&self, fs: &dyn Fs, progress: &mut Progress) -> Result<Completion, WorkloadError> {
        daemon_start(fs, &self.dir)?;
        let mut first_resume = None;
        for session in 0.. {
            let mut job = self.job;
            let config = RunnerConfig {
                keep: KEEP,
                ..RunnerConfig::every(CHECKPOINT_EVERY)
            };
            let ended = run_core(fs, &self.dir, &mut job, config, progress)?.into();
            match ended {
                Ended::Completed {
                    output,
                    resumed_from,
                } => {
                    daemon_done(fs, &self.dir)?;
                    return Ok(Completion {
                        output,
                        resumed_from: if session == 0 {
                            resumed_from
                        } else {
                            first_resume
                        },
                    });
                }
                Ended::Yielded { resumed_from } => {
                    if session == 0 {
                        first_resume = resumed_from;
                    }
                    // The daemon's operation is done; it runs the sync again.
                    daemon_done(fs, &self.dir)?;
                }
            }
        }
        Err(WorkloadError::Invariant("the sync never finished".into()))
    }

    fn inspect(&self, fs: &dyn Fs) -> Result<Recovered, WorkloadError> {
        peek_core(fs, &self.dir, &self.job.identity())
    }

    fn redo_bound(&self) -> u64 {
        CHECKPOINT_EVERY
    }

    fn leftovers(&self, fs: &dyn Fs) -> Result<Vec<String>, WorkloadError> {
        core_leftovers(fs, &self.dir, KEEP, &[])
    }
}

/// The mutant: a hand-written sync loop on the core store whose batch
/// boundary checks the sentinel first and, when it is present, reports the
/// batch as synced and exits without persisting it.
#[derive(Debug, Clone)]
pub struct TzelYieldBeforeCommit {
    dir: PathBuf,
    job: WalletScan,
}

impl TzelYieldBeforeCommit {
    /// The mutant sync of [`TREE_SIZE`] commitments into `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            job: WalletScan {
                tree_size: TREE_SIZE,
            },
        }
    }

    /// One sync invocation; `Ok(None)` when it yielded.
    fn session<F: Fs + ?Sized>(
        &self,
        fs: &F,
        store: &mut CheckpointStore<'_, F>,
        progress: &mut Progress,
    ) -> Result<(Option<String>, Option<u64>), WorkloadError> {
        let mut job = self.job;
        let (mut cursor, mut state, resumed_from) =
            match store.latest().map_err(WorkloadError::core)? {
                Some(c) => (
                    c.cursor,
                    state_from::<WalletState>(&c.state)?,
                    Some(c.cursor),
                ),
                None => (0, job.initial_state(), None),
            };
        while cursor < job.tree_size {
            let end = batch_end(cursor, CHECKPOINT_EVERY, job.tree_size);
            while cursor < end {
                job.process(cursor, &mut state)
                    .map_err(WorkloadError::core)?;
                progress.processed(cursor);
                cursor += 1;
            }
            let bytes = state_bytes(&state)?;
            if fs.exists(&self.dir.join(SENTINEL))? {
                // BUG: reports `scanned = cursor` to the daemon and exits
                // before the batch is persisted.
                progress.acknowledge(checkpoint_id(cursor, &bytes));
                return Ok((None, resumed_from));
            }
            progress.attempt(checkpoint_id(cursor, &bytes));
            store.commit(cursor, &bytes).map_err(WorkloadError::core)?;
            progress.acknowledge(checkpoint_id(cursor, &bytes));
        }
        let output = job.finalize(&state).map_err(WorkloadError::core)?;
        Ok((Some(output), resumed_from))
    }
}

impl Workload for TzelYieldBeforeCommit {
    fn name(&self) -> String {
        "tzel-sync/yield-before-commit".to_string()
    }

    fn run(&self, fs: &dyn Fs, progress: &mut Progress) -> Result<Completion, WorkloadError> {
        daemon_start(fs, &self.dir)?;
        let mut store = CheckpointStore::open(fs, self.dir.clone(), self.job.identity(), KEEP)
            .map_err(WorkloadError::core)?;
        let mut first_resume = None;
        for session in 0.. {
            let (output, resumed_from) = self.session(fs, &mut store, progress)?;
            if session == 0 {
                first_resume = resumed_from;
            }
            match output {
                Some(output) => {
                    daemon_done(fs, &self.dir)?;
                    return Ok(Completion {
                        output,
                        resumed_from: first_resume,
                    });
                }
                None => daemon_done(fs, &self.dir)?,
            }
        }
        Err(WorkloadError::Invariant("the sync never finished".into()))
    }

    fn inspect(&self, fs: &dyn Fs) -> Result<Recovered, WorkloadError> {
        peek_core(fs, &self.dir, &self.job.identity())
    }

    fn redo_bound(&self) -> u64 {
        CHECKPOINT_EVERY
    }

    fn leftovers(&self, fs: &dyn Fs) -> Result<Vec<String>, WorkloadError> {
        core_leftovers(fs, &self.dir, KEEP, &[])
    }
}
