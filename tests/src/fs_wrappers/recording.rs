//! [`RecordingFs`]: logs every call, in order.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crashproof_core::fs::{DirEntry, FileHandle, Fs, FsOp, Metadata, OpenMode};

use super::handles::HandlePaths;

/// One call seen by a [`RecordingFs`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedOp {
    /// The operation.
    pub op: FsOp,
    /// The path (for handle operations, the path the handle was opened on;
    /// for a failpoint, its name).
    pub path: PathBuf,
    /// The rename or hard-link target, if any.
    pub to: Option<PathBuf>,
    /// Whether the call returned `Ok`.
    pub ok: bool,
}

/// Wraps an [`Fs`] and records every call (including failpoints) with its
/// path and result, in call order. Tests use it to prove protocol order,
/// e.g. that a new generation's rename and directory sync precede any
/// removal of an older one.
#[derive(Debug)]
pub struct RecordingFs<F> {
    inner: F,
    handles: HandlePaths,
    log: Mutex<Vec<RecordedOp>>,
}

impl<F: Fs> RecordingFs<F> {
    /// Records every call made through it to `inner`.
    pub fn new(inner: F) -> Self {
        Self {
            inner,
            handles: HandlePaths::default(),
            log: Mutex::new(Vec::new()),
        }
    }

    /// Every call so far, in order.
    pub fn ops(&self) -> Vec<RecordedOp> {
        self.entries().clone()
    }

    /// Forgets the calls recorded so far.
    pub fn clear(&self) {
        self.entries().clear();
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, Vec<RecordedOp>> {
        self.log.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn record<T>(
        &self,
        op: FsOp,
        path: &Path,
        to: Option<&Path>,
        result: io::Result<T>,
    ) -> io::Result<T> {
        self.entries().push(RecordedOp {
            op,
            path: path.to_path_buf(),
            to: to.map(Path::to_path_buf),
            ok: result.is_ok(),
        });
        result
    }
}

impl<F: Fs> Fs for RecordingFs<F> {
    fn create_dir_all(&self, path: &Path) -> io::Result<()> {
        self.record(
            FsOp::CreateDirAll,
            path,
            None,
            self.inner.create_dir_all(path),
        )
    }
    fn create_dir(&self, path: &Path) -> io::Result<()> {
        self.record(FsOp::CreateDir, path, None, self.inner.create_dir(path))
    }
    fn remove_dir(&self, path: &Path) -> io::Result<()> {
        self.record(FsOp::RemoveDir, path, None, self.inner.remove_dir(path))
    }
    fn hard_link(&self, original: &Path, link: &Path) -> io::Result<()> {
        self.record(
            FsOp::HardLink,
            original,
            Some(link),
            self.inner.hard_link(original, link),
        )
    }
    fn set_len(&self, file: &FileHandle, len_bytes: u64) -> io::Result<()> {
        let path = self.handles.path(file);
        self.record(
            FsOp::SetLen,
            &path,
            None,
            self.inner.set_len(file, len_bytes),
        )
    }
    fn read_at(&self, file: &FileHandle, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        let path = self.handles.path(file);
        self.record(
            FsOp::ReadAt,
            &path,
            None,
            self.inner.read_at(file, offset, buf),
        )
    }
    fn file_metadata(&self, file: &FileHandle) -> io::Result<Metadata> {
        let path = self.handles.path(file);
        self.record(
            FsOp::FileMetadata,
            &path,
            None,
            self.inner.file_metadata(file),
        )
    }
    fn sync_data(&self, file: &FileHandle) -> io::Result<()> {
        let path = self.handles.path(file);
        self.record(FsOp::SyncData, &path, None, self.inner.sync_data(file))
    }
    fn open(&self, path: &Path, mode: OpenMode) -> io::Result<FileHandle> {
        let result = self.inner.open(path, mode);
        if let Ok(h) = &result {
            self.handles.opened(h, path);
        }
        self.record(FsOp::Open, path, None, result)
    }
    fn write_all_at(&self, file: &FileHandle, offset: u64, bytes: &[u8]) -> io::Result<()> {
        let path = self.handles.path(file);
        self.record(
            FsOp::WriteAllAt,
            &path,
            None,
            self.inner.write_all_at(file, offset, bytes),
        )
    }
    fn append(&self, file: &FileHandle, bytes: &[u8]) -> io::Result<()> {
        let path = self.handles.path(file);
        self.record(FsOp::Append, &path, None, self.inner.append(file, bytes))
    }
    fn sync(&self, file: &FileHandle) -> io::Result<()> {
        let path = self.handles.path(file);
        self.record(FsOp::Sync, &path, None, self.inner.sync(file))
    }
    fn close(&self, file: FileHandle) -> io::Result<()> {
        let path = self.handles.closed(&file);
        self.record(FsOp::Close, &path, None, self.inner.close(file))
    }
    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        self.record(FsOp::SyncDir, dir, None, self.inner.sync_dir(dir))
    }
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        self.record(FsOp::Rename, from, Some(to), self.inner.rename(from, to))
    }
    fn remove_file(&self, path: &Path) -> io::Result<()> {
        self.record(FsOp::RemoveFile, path, None, self.inner.remove_file(path))
    }
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        self.record(FsOp::Read, path, None, self.inner.read(path))
    }
    fn read_dir(&self, dir: &Path) -> io::Result<Vec<DirEntry>> {
        self.record(FsOp::ReadDir, dir, None, self.inner.read_dir(dir))
    }
    fn metadata(&self, path: &Path) -> io::Result<Metadata> {
        self.record(FsOp::Metadata, path, None, self.inner.metadata(path))
    }
    fn exists(&self, path: &Path) -> io::Result<bool> {
        self.record(FsOp::Metadata, path, None, self.inner.exists(path))
    }
    fn try_lock(&self, path: &Path) -> io::Result<FileHandle> {
        let result = self.inner.try_lock(path);
        if let Ok(h) = &result {
            self.handles.opened(h, path);
        }
        self.record(FsOp::TryLock, path, None, result)
    }
    fn failpoint(&self, name: &'static str) -> io::Result<()> {
        self.record(
            FsOp::Failpoint,
            Path::new(name),
            None,
            self.inner.failpoint(name),
        )
    }
}
