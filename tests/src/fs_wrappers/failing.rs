//! [`FailingFs`]: fails one chosen call.

use std::io;
use std::path::Path;
use std::sync::Mutex;

use crashproof_core::fs::{DirEntry, FileHandle, Fs, FsOp, FsOpError, Metadata, OpenMode};

use super::handles::HandlePaths;

/// Which call a [`FailingFs`] fails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailRule {
    /// The operation to fail (`exists` counts as [`FsOp::Metadata`]).
    pub op: FsOp,
    /// Only calls whose path (for handle operations: the path the handle was
    /// opened on) contains this string; `None` matches every path.
    pub path_contains: Option<String>,
    /// Fail the `nth` matching call (1 = the first).
    pub nth: u64,
    /// Fail every matching call from the `nth` on, not just the `nth`.
    pub sticky: bool,
    /// The error kind returned.
    pub kind: io::ErrorKind,
}

impl FailRule {
    /// Fails the first call of `op` on a path containing `path_contains`,
    /// with an `Other` error.
    pub fn first(op: FsOp, path_contains: &str) -> Self {
        Self {
            op,
            path_contains: Some(path_contains.to_owned()),
            nth: 1,
            sticky: false,
            kind: io::ErrorKind::Other,
        }
    }

    /// A rule that fails no call (its `nth` is never reached): for a
    /// [`FailingFs`] used only for its short reads.
    pub fn never() -> Self {
        Self {
            nth: u64::MAX,
            ..Self::first(FsOp::Failpoint, "")
        }
    }
}

/// Wraps an [`Fs`] and makes the call chosen by a [`FailRule`] return an
/// error *without* reaching the inner filesystem (a failed `sync` syncs
/// nothing; a failed `rename` renames nothing). A failed `close` still
/// closes the inner handle, as `close(2)` does, so nothing leaks. Every
/// other call passes through. A failed `hard_link` is matched by its
/// original's path. [`FailingFs::fired`] tells whether the rule
/// matched, so a test can prove its fault was injected.
#[derive(Debug)]
pub struct FailingFs<F> {
    inner: F,
    rule: FailRule,
    handles: HandlePaths,
    seen: Mutex<u64>,
    read_at_bytes_max: Option<usize>,
}

impl<F: Fs> FailingFs<F> {
    /// Wraps `inner` with `rule`.
    pub fn new(inner: F, rule: FailRule) -> Self {
        Self {
            inner,
            rule,
            handles: HandlePaths::default(),
            seen: Mutex::new(0),
            read_at_bytes_max: None,
        }
    }

    /// Also makes every `read_at` a short read of at most `bytes_max`
    /// bytes, as `pread(2)` may return: a reader must loop until it has
    /// what it asked for or reads 0 bytes.
    pub fn with_short_reads(mut self, bytes_max: usize) -> Self {
        self.read_at_bytes_max = Some(bytes_max);
        self
    }

    /// How many calls matched the rule's operation and path so far.
    pub fn matched(&self) -> u64 {
        *self.seen.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether the rule has failed at least one call.
    pub fn fired(&self) -> bool {
        self.matched() >= self.rule.nth
    }

    /// `Err` if this call is the one to fail.
    fn check(&self, op: FsOp, path: &Path) -> io::Result<()> {
        if op != self.rule.op {
            return Ok(());
        }
        if let Some(needle) = &self.rule.path_contains
            && !path.to_string_lossy().contains(needle.as_str())
        {
            return Ok(());
        }
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        *seen += 1;
        let hit = *seen == self.rule.nth || (self.rule.sticky && *seen > self.rule.nth);
        if hit {
            Err(FsOpError::wrap(
                op,
                path,
                io::Error::new(self.rule.kind, "injected by FailingFs"),
            ))
        } else {
            Ok(())
        }
    }
}

impl<F: Fs> Fs for FailingFs<F> {
    fn create_dir_all(&self, path: &Path) -> io::Result<()> {
        self.check(FsOp::CreateDirAll, path)?;
        self.inner.create_dir_all(path)
    }
    fn create_dir(&self, path: &Path) -> io::Result<()> {
        self.check(FsOp::CreateDir, path)?;
        self.inner.create_dir(path)
    }
    fn remove_dir(&self, path: &Path) -> io::Result<()> {
        self.check(FsOp::RemoveDir, path)?;
        self.inner.remove_dir(path)
    }
    fn hard_link(&self, original: &Path, link: &Path) -> io::Result<()> {
        self.check(FsOp::HardLink, original)?;
        self.inner.hard_link(original, link)
    }
    fn set_len(&self, file: &FileHandle, len_bytes: u64) -> io::Result<()> {
        self.check(FsOp::SetLen, &self.handles.path(file))?;
        self.inner.set_len(file, len_bytes)
    }
    fn read_at(&self, file: &FileHandle, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        self.check(FsOp::ReadAt, &self.handles.path(file))?;
        let short = self.read_at_bytes_max.unwrap_or(usize::MAX).min(buf.len());
        self.inner.read_at(file, offset, &mut buf[..short])
    }
    fn file_metadata(&self, file: &FileHandle) -> io::Result<Metadata> {
        self.check(FsOp::FileMetadata, &self.handles.path(file))?;
        self.inner.file_metadata(file)
    }
    fn sync_data(&self, file: &FileHandle) -> io::Result<()> {
        self.check(FsOp::SyncData, &self.handles.path(file))?;
        self.inner.sync_data(file)
    }
    fn open(&self, path: &Path, mode: OpenMode) -> io::Result<FileHandle> {
        self.check(FsOp::Open, path)?;
        let handle = self.inner.open(path, mode)?;
        self.handles.opened(&handle, path);
        Ok(handle)
    }
    fn write_all_at(&self, file: &FileHandle, offset: u64, bytes: &[u8]) -> io::Result<()> {
        self.check(FsOp::WriteAllAt, &self.handles.path(file))?;
        self.inner.write_all_at(file, offset, bytes)
    }
    fn append(&self, file: &FileHandle, bytes: &[u8]) -> io::Result<()> {
        self.check(FsOp::Append, &self.handles.path(file))?;
        self.inner.append(file, bytes)
    }
    fn sync(&self, file: &FileHandle) -> io::Result<()> {
        self.check(FsOp::Sync, &self.handles.path(file))?;
        self.inner.sync(file)
    }
    fn close(&self, file: FileHandle) -> io::Result<()> {
        let path = self.handles.closed(&file);
        let injected = self.check(FsOp::Close, &path);
        let closed = self.inner.close(file);
        injected.and(closed)
    }
    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        self.check(FsOp::SyncDir, dir)?;
        self.inner.sync_dir(dir)
    }
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        self.check(FsOp::Rename, from)?;
        self.inner.rename(from, to)
    }
    fn remove_file(&self, path: &Path) -> io::Result<()> {
        self.check(FsOp::RemoveFile, path)?;
        self.inner.remove_file(path)
    }
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        self.check(FsOp::Read, path)?;
        self.inner.read(path)
    }
    fn read_dir(&self, dir: &Path) -> io::Result<Vec<DirEntry>> {
        self.check(FsOp::ReadDir, dir)?;
        self.inner.read_dir(dir)
    }
    fn metadata(&self, path: &Path) -> io::Result<Metadata> {
        self.check(FsOp::Metadata, path)?;
        self.inner.metadata(path)
    }
    fn exists(&self, path: &Path) -> io::Result<bool> {
        self.check(FsOp::Metadata, path)?;
        self.inner.exists(path)
    }
    fn try_lock(&self, path: &Path) -> io::Result<FileHandle> {
        self.check(FsOp::TryLock, path)?;
        let handle = self.inner.try_lock(path)?;
        self.handles.opened(&handle, path);
        Ok(handle)
    }
    fn failpoint(&self, name: &'static str) -> io::Result<()> {
        self.check(FsOp::Failpoint, Path::new(name))?;
        self.inner.failpoint(name)
    }
}
