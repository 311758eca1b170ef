//! The job lock: one runner per job directory.

use std::io;
use std::path::{Path, PathBuf};

use crate::fs::{FileHandle, Fs, FsOp};

use super::error::RunError;

/// The lock file's name inside the job directory.
pub const LOCK_FILE_NAME: &str = "LOCK";

/// An exclusive advisory lock on `<job_dir>/LOCK`, released (closed) by
/// [`JobLock::release`] or on drop. A process that dies releases it too.
#[derive(Debug)]
pub(crate) struct JobLock<'a, F: Fs + ?Sized> {
    fs: &'a F,
    path: PathBuf,
    handle: Option<FileHandle>,
}

impl<'a, F: Fs + ?Sized> JobLock<'a, F> {
    /// Takes the lock without blocking; [`RunError::Locked`] (naming the
    /// holder's yield sentinel `sentinel`) if it is held,
    /// [`RunError::JobDirNotWritable`] if the lock file cannot be created.
    pub(crate) fn acquire(
        fs: &'a F,
        job_dir: &Path,
        sentinel: Option<PathBuf>,
    ) -> Result<Self, RunError> {
        let path = job_dir.join(LOCK_FILE_NAME);
        match fs.try_lock(&path) {
            Ok(handle) => Ok(Self {
                fs,
                path,
                handle: Some(handle),
            }),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                Err(RunError::Locked { path, sentinel })
            }
            Err(source)
                if matches!(
                    source.kind(),
                    io::ErrorKind::PermissionDenied | io::ErrorKind::ReadOnlyFilesystem
                ) =>
            {
                Err(RunError::JobDirNotWritable {
                    dir: job_dir.to_path_buf(),
                    source,
                })
            }
            Err(source) => Err(RunError::Io {
                op: FsOp::TryLock,
                path,
                source,
            }),
        }
    }

    /// Releases the lock (again: nothing). A close error is logged, not
    /// returned: the lock file holds no data, and the run's result is
    /// already durable.
    pub(crate) fn release(&mut self) {
        self.close();
    }

    fn close(&mut self) {
        if let Some(handle) = self.handle.take()
            && let Err(e) = self.fs.close(handle)
        {
            tracing::warn!(path = ?self.path, error = %e, "closing the job lock failed");
        }
    }
}

impl<F: Fs + ?Sized> Drop for JobLock<'_, F> {
    fn drop(&mut self) {
        self.close();
    }
}
