//! Why a run failed.

use std::io;
use std::path::PathBuf;

use crate::envelope::{Codec, CodecError};
use crate::fs::{FsOp, cause_after};
use crate::store::StoreError;

use super::background::CommitterGone;
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
        "job lock {path:?} is held by another runner; wait for it to finish, {}, or stop it. \
         A dead process releases the lock",
        match .sentinel {
            Some(sentinel) => format!("ask it to yield by creating the sentinel file {sentinel:?}"),
            None => "ask it to yield through its YieldSignal (this configuration has no \
                     sentinel file)".to_owned(),
        }
    )]
    Locked {
        /// The lock file.
        path: PathBuf,
        /// The yield sentinel file the running job watches (if it was
        /// started with the same configuration), `None` if disabled.
        sentinel: Option<PathBuf>,
    },

    /// The job directory cannot be written (permission denied, read-only
    /// filesystem, ...): found at [`crate::Runner::open`] by creating and
    /// removing a probe file, before any item is processed.
    #[error(
        "cannot write in the job directory {dir:?}: {source}. The runner must create, rename and \
         remove files there; fix its permissions, remount it read-write, or choose another \
         directory"
    )]
    JobDirNotWritable {
        /// The job directory.
        dir: PathBuf,
        /// The failed operation (it names the file).
        #[source]
        source: io::Error,
    },

    /// A filesystem call outside the store failed (lock, job directory).
    #[error("{op} {path:?} failed: {}", cause_after(source, path))]
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
        "checkpoint {path:?} (generation {generation}) has this job's fingerprint but its state \
         ({codec}) does not match the job's State type: {source}. Change Job::fingerprint whenever \
         State changes; to discard it, run with ResumeMode::ForceRestart"
    )]
    StateDecode {
        /// The checkpoint file.
        path: PathBuf,
        /// Its generation.
        generation: u64,
        /// The codec its header names.
        codec: Codec,
        /// The deserialization error.
        #[source]
        source: CodecError,
    },

    /// The job's state could not be serialized; nothing was committed.
    #[error("could not serialize the job state for a checkpoint: {0}")]
    StateEncode(#[source] CodecError),

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

    /// The background committer stopped without reporting the commit it
    /// held (see [`crate::CommitMode::Background`]).
    #[error(transparent)]
    Committer(#[from] CommitterGone),

    /// The background committer thread could not be started; nothing was
    /// processed.
    #[error(
        "could not start the background committer thread: {source}. Free some threads or \
         memory, or run with CommitMode::Synchronous"
    )]
    CommitterThread {
        /// The error from spawning the thread.
        #[source]
        source: io::Error,
    },

    /// [`crate::Runner::step`] or [`crate::Runner::run`] was called on a
    /// runner that already reported its end (an outcome or an error) and
    /// released the job lock.
    #[error(
        "this runner already ended (it returned its outcome or an error and released the job \
         lock); open a new Runner to go on from the last durable checkpoint"
    )]
    Ended,

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
            RunError::Io { source, .. } | RunError::JobDirNotWritable { source, .. } => {
                Some(source)
            }
            RunError::Store(e) => e.io_error(),
            _ => None,
        }
    }

    /// The underlying filesystem error by value, or `self` back.
    pub fn into_io_error(self) -> Result<io::Error, RunError> {
        match self {
            RunError::Io { source, .. }
            | RunError::JobDirNotWritable { source, .. }
            | RunError::Store(StoreError::Io { source, .. }) => Ok(source),
            other => Err(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io;
    use std::path::PathBuf;

    use super::RunError;
    use crate::store::StoreError;

    fn store_io(kind: io::ErrorKind) -> RunError {
        RunError::Store(StoreError::Io {
            action: "commit checkpoint generation",
            path: PathBuf::from("/job/checkpoint-1"),
            source: io::Error::new(kind, "disk said no"),
        })
    }

    /// A store's filesystem error is the run's filesystem error, by
    /// reference and by value: a caller (the simulator) tells a crash from
    /// a logic error this way.
    #[test]
    fn a_store_io_error_is_the_runs_io_error() {
        let error = store_io(io::ErrorKind::StorageFull);
        assert_eq!(
            error.io_error().map(io::Error::kind),
            Some(io::ErrorKind::StorageFull)
        );
        assert_eq!(
            error.into_io_error().map(|e| e.kind()).ok(),
            Some(io::ErrorKind::StorageFull)
        );
        let not_io = RunError::Store(StoreError::InvalidKeep);
        assert!(not_io.io_error().is_none());
        assert!(not_io.into_io_error().is_err());
    }
}
