//! Rooch state-prune snapshot resume (seed: rooch-snapshot-resume.txt), on
//! the core [`crashproof_core::Runner`].
//!
//! The snapshot builder walks the state tree from its root with a worklist,
//! writing every node once (nodes reachable along several paths are
//! deduplicated against the set already written), and persists its progress
//! — worklist, written set, running root — every K nodes. The core store's
//! previous generation is the backup. The job's fingerprint carries the
//! state root being snapshotted, so progress of another root is refused
//! (Rooch's state-root validation), and `finalize` checks the snapshot's
//! root against the tree's. `--force-restart` and `--no-resume` map to
//! [`ResumeMode::ForceRestart`] and [`ResumeMode::NoResume`].
//!
//! The mutant is the review's bug: a hand-written progress file whose
//! backup is created as `progress.json.backup` and removed after each save
//! as `progress_backup.json`, so the loader — which restores a backup that
//! still exists, taking it for the sign of an interrupted save — restores a
//! stale one after a crash.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crashproof_core::fs::Fs;
use crashproof_core::runner::batch_end;
use crashproof_core::{
    Job, JobError, JobIdentity, ResumeMode, RunnerConfig, envelope, replace, stable_digest,
};
use serde::{Deserialize, Serialize};

use super::common::{
    Ended, checkpoint_id, core_leftovers, list, mix, peek_core, read_if_exists, remove_if_exists,
    run_core, state_bytes,
};
use crashproof_sim::explore::{Completion, Progress, Recovered, Workload, WorkloadError};

/// Nodes in the state tree (N).
pub const NODES: u64 = 40;
/// Nodes written per progress save (K).
pub const SAVE_EVERY: u64 = 5;
const KEEP: usize = 2;
const JOB_NAME: &str = "state-prune-snapshot";

/// The tree: node `n` has children `2n+1`, `2n+2` and a shared edge to
/// `(7n+3) mod N` when that is a later node, so some nodes are reachable
/// along several paths and must be written once.
pub fn children(n: u64) -> Vec<u64> {
    let mut c: Vec<u64> = [2 * n + 1, 2 * n + 2]
        .into_iter()
        .filter(|&c| c < NODES)
        .collect();
    let shared = (7 * n + 3) % NODES;
    if shared > n && !c.contains(&shared) {
        c.push(shared);
    }
    c
}

/// The builder's progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotState {
    /// Nodes still to visit (a stack: depth first).
    pub worklist: Vec<u64>,
    /// Nodes already written to the snapshot (the dedup set).
    pub written: BTreeSet<u64>,
    /// Running root over the nodes written, in order.
    pub root: u64,
}

/// The snapshot build as a core [`Job`]: one item per node written.
#[derive(Debug, Clone, Copy)]
pub struct SnapshotBuild;

impl SnapshotBuild {
    /// The identity progress is written under.
    pub fn identity(&self) -> JobIdentity {
        JobIdentity {
            name: JOB_NAME.to_string(),
            fingerprint: self.fingerprint(),
        }
    }

    /// The root a complete snapshot must have: the same walk, done at once.
    pub fn expected_root() -> Result<u64, JobError> {
        let mut job = SnapshotBuild;
        let mut state = job.initial_state();
        for i in 0..NODES {
            job.process(i, &mut state)?;
        }
        Ok(state.root)
    }
}

/// The state root being snapshotted (the tree's identity).
fn tree_state_root() -> u64 {
    (0..NODES).fold(0, |acc, n| mix(acc ^ mix(n)))
}

impl Job for SnapshotBuild {
    type State = SnapshotState;
    type Output = String;

    fn name(&self) -> &str {
        JOB_NAME
    }

    fn fingerprint(&self) -> u64 {
        stable_digest(
            format!(
                "rooch-snapshot/v1/nodes={NODES}/state_root={:016x}",
                tree_state_root()
            )
            .as_bytes(),
        )
    }

    fn item_count(&self) -> u64 {
        NODES
    }

    fn initial_state(&self) -> SnapshotState {
        SnapshotState {
            worklist: vec![0],
            written: BTreeSet::new(),
            root: 0,
        }
    }

    fn process(&mut self, index: u64, state: &mut SnapshotState) -> Result<(), JobError> {
        loop {
            let Some(node) = state.worklist.pop() else {
                return Err(JobError::new(format!(
                    "worklist empty before node {index} was written"
                )));
            };
            // Dedup: a node reached again along another path is skipped.
            if !state.written.insert(node) {
                continue;
            }
            state.root = mix(state.root ^ mix(node));
            state.worklist.extend(children(node).into_iter().rev());
            return Ok(());
        }
    }

    fn finalize(&mut self, state: &SnapshotState) -> Result<String, JobError> {
        let expected = Self::expected_root()?;
        if state.root != expected {
            return Err(JobError::new(format!(
                "snapshot root {:016x} does not match the state tree's {expected:016x}",
                state.root
            )));
        }
        Ok(format!(
            "nodes={} root={:016x}",
            state.written.len(),
            state.root
        ))
    }
}

/// The correct snapshot builder on the core runner.
#[derive(Debug, Clone)]
pub struct RoochSnapshot {
    dir: PathBuf,
    mode: ResumeMode,
}

impl RoochSnapshot {
    /// The builder writing progress into `dir`, resuming (the default).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self::with_mode(dir, ResumeMode::Resume)
    }

    /// The builder with `--force-restart` / `--no-resume` semantics.
    pub fn with_mode(dir: impl Into<PathBuf>, mode: ResumeMode) -> Self {
        Self {
            dir: dir.into(),
            mode,
        }
    }
}

impl Workload for RoochSnapshot {
    fn name(&self) -> String {
        match self.mode {
            ResumeMode::Resume => "rooch-snapshot-resume".to_string(),
            ResumeMode::ForceRestart => "rooch-snapshot-resume/force-restart".to_string(),
            ResumeMode::NoResume => "rooch-snapshot-resume/no-resume".to_string(),
        }
    }

    fn run(&self, fs: &dyn Fs, progress: &mut Progress) -> Result<Completion, WorkloadError> {
        let config = RunnerConfig {
            keep: KEEP,
            resume: self.mode,
            ..RunnerConfig::every(SAVE_EVERY)
        };
        Ended::from(run_core(
            fs,
            &self.dir,
            &mut SnapshotBuild,
            config,
            progress,
        )?)
        .completed("the snapshot builder")
    }

    fn inspect(&self, fs: &dyn Fs) -> Result<Recovered, WorkloadError> {
        peek_core(fs, &self.dir, &SnapshotBuild.identity())
    }

    fn redo_bound(&self) -> u64 {
        SAVE_EVERY
    }

    fn leftovers(&self, fs: &dyn Fs) -> Result<Vec<String>, WorkloadError> {
        core_leftovers(fs, &self.dir, KEEP, &[])
    }
}

const PROGRESS: &str = "progress.json";
const BACKUP: &str = "progress.json.backup";
const BACKUP_AS_CLEANED: &str = "progress_backup.json";

/// What the mutant's progress file holds.
#[derive(Debug, Serialize, Deserialize)]
struct ProgressRecord {
    cursor: u64,
    state: SnapshotState,
}

/// The review mutant: Rooch's own progress file with the backup created and
/// cleaned up under different names.
#[derive(Debug, Clone)]
pub struct RoochBackupMismatch {
    dir: PathBuf,
}

impl RoochBackupMismatch {
    /// The mutant builder writing progress into `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    fn load_valid(&self, fs: &dyn Fs, name: &str) -> Result<Option<ProgressRecord>, WorkloadError> {
        Ok(read_if_exists(fs, &self.dir.join(name))?
            .and_then(|b| envelope::decode::<ProgressRecord>(&b).ok()))
    }

    /// A backup that still exists means the last save was interrupted, so
    /// it is restored; otherwise the progress file.
    fn load(&self, fs: &dyn Fs) -> Result<Option<ProgressRecord>, WorkloadError> {
        if let Some(backup) = self.load_valid(fs, BACKUP)? {
            return Ok(Some(backup));
        }
        self.load_valid(fs, PROGRESS)
    }

    fn save(&self, fs: &dyn Fs, record: &ProgressRecord) -> Result<(), WorkloadError> {
        let main = self.dir.join(PROGRESS);
        if let Some(previous) = read_if_exists(fs, &main)? {
            replace(fs, &self.dir.join(BACKUP), &previous)?;
        }
        let bytes = envelope::encode(record).map_err(WorkloadError::core)?;
        replace(fs, &main, &bytes)?;
        // BUG: the backup was created as `progress.json.backup`.
        if remove_if_exists(fs, &self.dir.join(BACKUP_AS_CLEANED))? {
            fs.sync_dir(&self.dir)?;
        }
        Ok(())
    }
}

fn ensure_dir(fs: &dyn Fs, dir: &Path) -> Result<(), WorkloadError> {
    fs.create_dir_all(dir)?;
    fs.sync_dir(crashproof_core::fs::parent_dir(dir))?;
    Ok(())
}

impl Workload for RoochBackupMismatch {
    fn name(&self) -> String {
        "rooch-snapshot-resume/backup-name-mismatch".to_string()
    }

    fn run(&self, fs: &dyn Fs, progress: &mut Progress) -> Result<Completion, WorkloadError> {
        ensure_dir(fs, &self.dir)?;
        let mut job = SnapshotBuild;
        let (mut cursor, mut state, resumed_from) = match self.load(fs)? {
            Some(r) => (r.cursor, r.state, Some(r.cursor)),
            None => (0, job.initial_state(), None),
        };
        while cursor < NODES {
            let end = batch_end(cursor, SAVE_EVERY, NODES);
            while cursor < end {
                job.process(cursor, &mut state)
                    .map_err(WorkloadError::core)?;
                progress.processed(cursor);
                cursor += 1;
            }
            let id = checkpoint_id(cursor, &state_bytes(&state)?);
            progress.attempt(id);
            self.save(
                fs,
                &ProgressRecord {
                    cursor,
                    state: state.clone(),
                },
            )?;
            progress.acknowledge(id);
        }
        let output = job.finalize(&state).map_err(WorkloadError::core)?;
        // Cleanup on success, with the name the review fixed.
        if remove_if_exists(fs, &self.dir.join(BACKUP))? {
            fs.sync_dir(&self.dir)?;
        }
        Ok(Completion {
            output,
            resumed_from,
        })
    }

    fn inspect(&self, fs: &dyn Fs) -> Result<Recovered, WorkloadError> {
        let loaded = self.load(fs)?;
        Ok(Recovered {
            checkpoint: match loaded {
                Some(r) => Some(checkpoint_id(r.cursor, &state_bytes(&r.state)?)),
                None => None,
            },
        })
    }

    fn redo_bound(&self) -> u64 {
        SAVE_EVERY
    }

    fn leftovers(&self, fs: &dyn Fs) -> Result<Vec<String>, WorkloadError> {
        Ok(list(fs, &self.dir)?
            .into_iter()
            .filter(|n| n != PROGRESS)
            .collect())
    }
}
