//! Why a checkpoint store operation failed.

use std::io;
use std::path::PathBuf;

use crate::envelope::{CodecError, DecodeError};
use crate::fs::cause_after;

/// Why a [`super::CheckpointStore`] operation failed. Every variant leaves
/// the durable checkpoints as they were, except where it says otherwise.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// `keep` was 0: the store must always retain at least one checkpoint.
    #[error("checkpoint retention `keep` must be at least 1 (2 is recommended), got 0")]
    InvalidKeep,

    /// A filesystem call failed. `action` says what the store was doing.
    #[error("could not {action} ({path:?}): {}", cause_after(source, path))]
    Io {
        /// What the store was doing, e.g. "commit checkpoint generation".
        action: &'static str,
        /// The file or directory involved.
        path: PathBuf,
        /// The filesystem error, unchanged (its kind and payload are kept, so
        /// a simulator's crash error stays recognizable).
        #[source]
        source: io::Error,
    },

    /// The directory holds no intact checkpoint of this job, and the newest
    /// intact one was written by another job. (When this job has a valid
    /// checkpoint of its own, recovery resumes from it instead and reports
    /// the other job's file as skipped.)
    #[error(
        "checkpoint {path:?} was written by job {found_name:?} (fingerprint {found_fingerprint:#018x}), \
         but this is job {expected_name:?} (fingerprint {expected_fingerprint:#018x}) and {dir:?} holds \
         no checkpoint of it; refusing to resume another job's state. If the directory belongs to \
         {expected_name:?}, move {path:?} (the other job's progress) out of it and run again; \
         ResumeMode::ForceRestart would delete it"
    )]
    FingerprintMismatch {
        /// The checkpoint file.
        path: PathBuf,
        /// The store directory.
        dir: PathBuf,
        /// The name of the job that wrote it.
        found_name: String,
        /// The fingerprint of the job that wrote it.
        found_fingerprint: u64,
        /// The name of this job.
        expected_name: String,
        /// The fingerprint of this job.
        expected_fingerprint: u64,
    },

    /// A checkpoint file is intact but not readable by this build: another
    /// format version, or not a store record. It is not corruption, so the
    /// store does not silently fall back past it.
    #[error(
        "checkpoint {path:?} is intact but cannot be read by this build: {reason}. Use the program \
         version that wrote it, or discard it with ResumeMode::ForceRestart"
    )]
    Incompatible {
        /// The checkpoint file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },

    /// Every checkpoint file in the directory is damaged, so progress that was
    /// committed cannot be recovered.
    #[error(
        "all {count} checkpoint files in {dir:?} are corrupt (newest: {newest_error}); \
         nothing can be resumed. Run with ResumeMode::ForceRestart to start over"
    )]
    AllCorrupt {
        /// The store directory.
        dir: PathBuf,
        /// How many generation files there are.
        count: usize,
        /// Why the newest one was rejected.
        newest_error: DecodeError,
    },

    /// The job directory (or one of its ancestors) exists but is not a
    /// directory.
    #[error(
        "{path:?} is not a directory, so the checkpoint directory {dir:?} cannot be created in it; \
         move the file away or choose another job directory"
    )]
    NotADirectory {
        /// The existing non-directory.
        path: PathBuf,
        /// The checkpoint directory asked for.
        dir: PathBuf,
    },

    /// The checkpoint metadata could not be serialized (should not happen:
    /// it is a few plain fields).
    #[error("could not serialize checkpoint metadata: {0}")]
    Encode(#[source] CodecError),
}

impl StoreError {
    /// The underlying filesystem error, if this is an I/O failure.
    pub fn io_error(&self) -> Option<&io::Error> {
        match self {
            StoreError::Io { source, .. } => Some(source),
            _ => None,
        }
    }

    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(io::Error) -> Self {
        let path = path.into();
        move |source| StoreError::Io {
            action,
            path,
            source,
        }
    }
}
