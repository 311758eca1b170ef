//! Why a run failed.

use std::io;
use std::path::PathBuf;

use crate::fs::FsOp;
use crate::store::StoreError;

use super::config::ConfigError;
use super::job::JobError;

/// Why [`crate::Runner::open`] or [`crate::Runner::run`] failed. No variant
/// loses a durable checkpoint: the last one committed stays the resume point.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The configuration is invalid; nothing was touched.
    #[error("invalid runner configuration: {0}")]
    Config(#[from] ConfigError),

    /// Another runner (this process or another) holds the job lock.
    #[error(
        "job lock {path:?} is held by another runner; wait for it to finish, ask it to yield \
         (create its .yield sentinel file), or stop it. A dead process releases the lock"
    )]
    Locked {
        /// The lock file.
        path: PathBuf,
    },

    /// A filesystem call outside the store failed (lock, job directory).
    #[error("{op} {path:?} failed: {source}")]
    Io {
        /// The operation.
        op: FsOp,
        /// The path it was applied to.
        path: PathBuf,
        /// The filesystem error, unchanged.
        #[source]
        source: io::Error,
    },

    /// The checkpoint store failed: I/O, another job's checkpoint
    /// ([`StoreError::FingerprintMismatch`]), damaged or incompatible files.
    #[error(transparent)]
    Store(#[from] StoreError),

    /// An intact checkpoint of this job (same fingerprint) whose state does
    /// not deserialize as `Job::State`.
    #[error(
        "checkpoint {path:?} (generation {generation}) has this job's fingerprint but its state does \
         not match the job's State type: {source}. Change Job::fingerprint whenever State changes; \
         to discard it, run with ResumeMode::ForceRestart"
    )]
    StateDecode {
        /// The checkpoint file.
        path: PathBuf,
        /// Its generation.
        generation: u64,
        /// The deserialization error.
        #[source]
        source: serde_json::Error,
    },

    /// The job's state could not be serialized; nothing was committed.
    #[error("could not serialize the job state for a checkpoint: {0}")]
    StateEncode(#[source] serde_json::Error),

    /// A checkpoint of this job is past the job's end: the item list changed
    /// without a fingerprint change.
    #[error(
        "checkpoint {path:?} resumes at cursor {cursor} but the job has only {item_count} items; \
         the job's items changed without a fingerprint change. Run with ResumeMode::ForceRestart"
    )]
    CursorBeyondEnd {
        /// The checkpoint file.
        path: PathBuf,
        /// Its cursor.
        cursor: u64,
        /// The job's item count.
        item_count: u64,
    },

    /// The job failed. Nothing after the last checkpoint was committed.
    #[error("{} failed: {source}", match .index { Some(i) => format!("item {i}"), None => "finalize".to_owned() })]
    Job {
        /// The item that failed, or `None` for `finalize`.
        index: Option<u64>,
        /// The job's error.
        #[source]
        source: JobError,
    },
}

impl RunError {
    /// The underlying filesystem error, if this failure is one (so a caller
    /// can tell, e.g., a simulated crash from a logic error).
    pub fn io_error(&self) -> Option<&io::Error> {
        match self {
            RunError::Io { source, .. } => Some(source),
            RunError::Store(e) => e.io_error(),
            _ => None,
        }
    }

    /// The underlying filesystem error by value, or `self` back.
    pub fn into_io_error(self) -> Result<io::Error, RunError> {
        match self {
            RunError::Io { source, .. } | RunError::Store(StoreError::Io { source, .. }) => {
                Ok(source)
            }
            other => Err(other),
        }
    }
}
