//! Glue shared by the seed scenarios: reporting a core [`Runner`] to the
//! explorer's [`Progress`] (through the explorer's one `ProgressObserver`),
//! asking the core store what recovery would load,
//! listing leftovers, and the small hand-written checkpoint loop the review
//! mutants run instead of the core runner.

use std::io;
use std::path::Path;

use crashproof_core::fs::Fs;
use crashproof_core::{
    CheckpointStore, Job, JobIdentity, ManualClock, Outcome, Runner, RunnerConfig, stable_digest,
};

use crashproof_sim::explore::{
    CheckpointId, Completion, Progress, ProgressObserver, Recovered, WorkloadError,
};

/// SplitMix64's finaliser: the scenarios' deterministic input generator.
pub fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// The identity the oracles compare for a checkpoint of `cursor` whose
/// serialized state is `state`.
pub fn checkpoint_id(cursor: u64, state: &[u8]) -> CheckpointId {
    CheckpointId {
        cursor,
        state_digest: stable_digest(state),
    }
}

/// Opens a core [`Runner`] for `job` in `dir` and runs it once, reporting
/// to `progress`, with a clock that never advances (no time-based commits,
/// no wall clock in the simulation).
pub fn run_core<J: Job>(
    fs: &dyn Fs,
    dir: &Path,
    job: &mut J,
    config: RunnerConfig,
    progress: &mut Progress,
) -> Result<Outcome<J::Output>, WorkloadError> {
    let runner = Runner::open(fs, dir, job, config).map_err(WorkloadError::core)?;
    runner
        .with_clock(ManualClock::new())
        .with_observer(ProgressObserver::new(progress))
        .run()
        .map_err(WorkloadError::core)
}

/// What the core store would resume from in `dir` for `job`, read-only.
pub fn peek_core(fs: &dyn Fs, dir: &Path, job: &JobIdentity) -> Result<Recovered, WorkloadError> {
    let latest = CheckpointStore::peek_latest(fs, dir, job).map_err(WorkloadError::core)?;
    Ok(Recovered {
        checkpoint: latest.map(|c| CheckpointId {
            cursor: c.cursor,
            state_digest: c.state_digest,
        }),
    })
}

/// Leftovers of a core-runner job directory, as the core defines them
/// ([`crashproof_core::store::leftovers`]), in the explorer's words.
pub fn core_leftovers(
    fs: &dyn Fs,
    dir: &Path,
    keep: usize,
    allowed: &[&str],
) -> Result<Vec<String>, WorkloadError> {
    Ok(crashproof_core::store::leftovers(fs, dir, keep, allowed)?
        .iter()
        .map(ToString::to_string)
        .collect())
}

/// File names in `dir` (directories too), sorted; none if it is missing.
pub fn list(fs: &dyn Fs, dir: &Path) -> Result<Vec<String>, WorkloadError> {
    match fs.read_dir(dir) {
        Ok(entries) => Ok(entries.into_iter().map(|e| e.name).collect()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e.into()),
    }
}

pub use crate::zoo::files::{read_if_exists, remove_if_exists};

/// Creates (or truncates) `path` empty and closes it, checking the close:
/// how a daemon touches a sentinel file. Not durable.
pub fn touch(fs: &dyn Fs, path: &Path) -> Result<(), WorkloadError> {
    let file = fs.open_truncate(path)?;
    fs.close(file)?;
    Ok(())
}

/// Serializes a job state the way the core runner does (JSON).
pub fn state_bytes<S: serde::Serialize>(state: &S) -> Result<Vec<u8>, WorkloadError> {
    serde_json::to_vec(state).map_err(|e| WorkloadError::Invariant(format!("state encode: {e}")))
}

/// Deserializes a job state written by [`state_bytes`].
pub fn state_from<S: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<S, WorkloadError> {
    serde_json::from_slice(bytes).map_err(|e| WorkloadError::core(format!("state decode: {e}")))
}

/// Whether a run ended by completing or by yielding.
pub enum Ended<O> {
    /// The job finished; `resumed_from` is the cursor it started at.
    Completed {
        /// The job's output.
        output: O,
        /// The cursor the run resumed from, if any.
        resumed_from: Option<u64>,
    },
    /// The job yielded at a batch boundary.
    Yielded {
        /// The cursor the run resumed from, if any.
        resumed_from: Option<u64>,
    },
}

impl Ended<String> {
    /// The completion of a job that never asks to yield; a yield is an
    /// invariant broken (`who` names the job in the message).
    pub fn completed(self, who: &str) -> Result<Completion, WorkloadError> {
        match self {
            Ended::Completed {
                output,
                resumed_from,
            } => Ok(Completion {
                output,
                resumed_from,
            }),
            Ended::Yielded { .. } => Err(WorkloadError::Invariant(format!(
                "{who} yielded although nobody asked"
            ))),
        }
    }
}

impl<O> From<Outcome<O>> for Ended<O> {
    fn from(outcome: Outcome<O>) -> Self {
        match outcome {
            Outcome::Completed {
                output,
                resumed_from,
                ..
            } => Ended::Completed {
                output,
                resumed_from: resumed_from.map(|r| r.cursor),
            },
            Outcome::Yielded { resumed_from, .. } => Ended::Yielded {
                resumed_from: resumed_from.map(|r| r.cursor),
            },
        }
    }
}
