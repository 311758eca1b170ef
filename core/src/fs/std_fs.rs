//! [`StdFs`]: the real filesystem, on `std::fs`.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{self, Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use super::{DirEntry, FileHandle, Fs, FsOp, FsOpError, Metadata, OpenMode};

/// The real filesystem. Every error names the operation and the path (see
/// [`FsOpError`]) and keeps the OS error's kind.
///
/// Open files live in a table inside the `StdFs`, so a [`FileHandle`] from one
/// `StdFs` means nothing to another. `sync_dir` opens the directory and calls
/// `fsync` on it. `close` reports the OS `close(2)` error instead of ignoring
/// it as `File`'s destructor does.
#[derive(Debug, Default)]
pub struct StdFs {
    next_id: AtomicU64,
    open: Mutex<BTreeMap<u64, OpenFile>>,
}

#[derive(Debug)]
struct OpenFile {
    file: Arc<File>,
    path: PathBuf,
}

impl StdFs {
    /// A new real filesystem with no open files.
    pub fn new() -> Self {
        Self::default()
    }

    fn table(&self) -> MutexGuard<'_, BTreeMap<u64, OpenFile>> {
        // A panic while holding the lock cannot leave the table inconsistent
        // (each operation is one insert or remove), so poison is ignored.
        self.open
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    fn insert(&self, file: File, path: &Path) -> FileHandle {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.table().insert(
            id,
            OpenFile {
                file: Arc::new(file),
                path: path.to_path_buf(),
            },
        );
        FileHandle::from_raw(id)
    }

    /// The open file behind `handle`, without holding the table lock during
    /// the I/O that follows.
    fn get(&self, handle: &FileHandle, op: FsOp) -> io::Result<(Arc<File>, PathBuf)> {
        match self.table().get(&handle.raw()) {
            Some(open) => Ok((Arc::clone(&open.file), open.path.clone())),
            None => Err(FsOpError::wrap(
                op,
                format!("<handle {}>", handle.raw()),
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "unknown file handle: it was closed, or issued by another Fs",
                ),
            )),
        }
    }
}

impl Fs for StdFs {
    fn create_dir_all(&self, path: &Path) -> io::Result<()> {
        std::fs::create_dir_all(path).map_err(|e| FsOpError::wrap(FsOp::CreateDirAll, path, e))
    }

    fn create_dir(&self, path: &Path) -> io::Result<()> {
        std::fs::create_dir(path).map_err(|e| FsOpError::wrap(FsOp::CreateDir, path, e))
    }

    fn remove_dir(&self, path: &Path) -> io::Result<()> {
        std::fs::remove_dir(path).map_err(|e| FsOpError::wrap(FsOp::RemoveDir, path, e))
    }

    fn hard_link(&self, original: &Path, link: &Path) -> io::Result<()> {
        std::fs::hard_link(original, link).map_err(|e| {
            FsOpError::wrap_rename(FsOp::HardLink, original, Some(link.to_path_buf()), e)
        })
    }

    fn open(&self, path: &Path, mode: OpenMode) -> io::Result<FileHandle> {
        let wrap = |e| FsOpError::wrap(FsOp::Open, path, e);
        let file = open_options(mode).open(path).map_err(wrap)?;
        // Linux opens a directory read-only; the contract opens regular
        // files only (a directory is synced with `sync_dir`).
        if mode == OpenMode::Read && file.metadata().map_err(wrap)?.is_dir() {
            return Err(wrap(io::Error::new(
                io::ErrorKind::IsADirectory,
                "is a directory: open opens regular files; sync a directory with sync_dir",
            )));
        }
        Ok(self.insert(file, path))
    }

    fn set_len(&self, file: &FileHandle, len_bytes: u64) -> io::Result<()> {
        let (f, path) = self.get(file, FsOp::SetLen)?;
        f.set_len(len_bytes)
            .map_err(|e| FsOpError::wrap(FsOp::SetLen, path, e))
    }

    fn read_at(&self, file: &FileHandle, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        let (f, path) = self.get(file, FsOp::ReadAt)?;
        loop {
            match f.read_at(buf, offset) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => return other.map_err(|e| FsOpError::wrap(FsOp::ReadAt, path, e)),
            }
        }
    }

    fn file_metadata(&self, file: &FileHandle) -> io::Result<Metadata> {
        let (f, path) = self.get(file, FsOp::FileMetadata)?;
        let m = f
            .metadata()
            .map_err(|e| FsOpError::wrap(FsOp::FileMetadata, path, e))?;
        Ok(Metadata {
            len: m.len(),
            is_dir: false,
        })
    }

    fn sync_data(&self, file: &FileHandle) -> io::Result<()> {
        let (f, path) = self.get(file, FsOp::SyncData)?;
        f.sync_data()
            .map_err(|e| FsOpError::wrap(FsOp::SyncData, path, e))
    }

    fn write_all_at(&self, file: &FileHandle, offset: u64, bytes: &[u8]) -> io::Result<()> {
        let (f, path) = self.get(file, FsOp::WriteAllAt)?;
        f.write_all_at(bytes, offset)
            .map_err(|e| FsOpError::wrap(FsOp::WriteAllAt, path, e))
    }

    fn append(&self, file: &FileHandle, bytes: &[u8]) -> io::Result<()> {
        let (f, path) = self.get(file, FsOp::Append)?;
        let mut f: &File = &f;
        f.seek(SeekFrom::End(0))
            .and_then(|_| f.write_all(bytes))
            .map_err(|e| FsOpError::wrap(FsOp::Append, path, e))
    }

    fn sync(&self, file: &FileHandle) -> io::Result<()> {
        let (f, path) = self.get(file, FsOp::Sync)?;
        f.sync_all()
            .map_err(|e| FsOpError::wrap(FsOp::Sync, path, e))
    }

    fn close(&self, file: FileHandle) -> io::Result<()> {
        let open = self.table().remove(&file.raw());
        let Some(open) = open else {
            return Err(FsOpError::wrap(
                FsOp::Close,
                format!("<handle {}>", file.raw()),
                io::Error::new(io::ErrorKind::InvalidInput, "unknown file handle"),
            ));
        };
        match Arc::try_unwrap(open.file) {
            Ok(f) => close_checked(f).map_err(|e| FsOpError::wrap(FsOp::Close, open.path, e)),
            // Another thread is mid-operation on this handle; the descriptor
            // closes when it finishes, and that close error cannot be seen.
            Err(_) => Ok(()),
        }
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| FsOpError::wrap(FsOp::SyncDir, dir, e))
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        std::fs::rename(from, to)
            .map_err(|e| FsOpError::wrap_rename(FsOp::Rename, from, Some(to.to_path_buf()), e))
    }

    fn remove_file(&self, path: &Path) -> io::Result<()> {
        std::fs::remove_file(path).map_err(|e| FsOpError::wrap(FsOp::RemoveFile, path, e))
    }

    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        std::fs::read(path).map_err(|e| FsOpError::wrap(FsOp::Read, path, e))
    }

    fn read_dir(&self, dir: &Path) -> io::Result<Vec<DirEntry>> {
        let wrap = |e| FsOpError::wrap(FsOp::ReadDir, dir, e);
        let mut entries = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(wrap)? {
            let entry = entry.map_err(wrap)?;
            let name = entry.file_name().into_string().map_err(|raw| {
                wrap(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("entry name {raw:?} is not UTF-8"),
                ))
            })?;
            let is_dir = entry.file_type().map_err(wrap)?.is_dir();
            entries.push(DirEntry { name, is_dir });
        }
        entries.sort();
        Ok(entries)
    }

    fn metadata(&self, path: &Path) -> io::Result<Metadata> {
        let m = std::fs::metadata(path).map_err(|e| FsOpError::wrap(FsOp::Metadata, path, e))?;
        Ok(Metadata {
            len: if m.is_dir() { 0 } else { m.len() },
            is_dir: m.is_dir(),
        })
    }

    fn try_lock(&self, path: &Path) -> io::Result<FileHandle> {
        let wrap = |e| FsOpError::wrap(FsOp::TryLock, path, e);
        let file = open_options(OpenMode::Create).open(path).map_err(wrap)?;
        match file.try_lock() {
            Ok(()) => Ok(self.insert(file, path)),
            Err(std::fs::TryLockError::WouldBlock) => Err(wrap(io::Error::new(
                io::ErrorKind::WouldBlock,
                "the lock is held by another process or runner",
            ))),
            Err(std::fs::TryLockError::Error(e)) => Err(wrap(e)),
        }
    }

    #[cfg(feature = "failpoints")]
    fn failpoint(&self, name: &'static str) -> io::Result<()> {
        // The `fail` registry is process-global by design: this is the one
        // place crashproof uses it, for real-process kill tests.
        match fail::eval(name, |arg| arg) {
            None => Ok(()),
            Some(Some(arg)) if arg == crate::failpoint::KILL_ACTION_ARG => kill_self(),
            Some(arg) => Err(FsOpError::wrap(
                FsOp::Failpoint,
                name,
                io::Error::other(format!(
                    "failpoint {name} returned an error ({})",
                    arg.unwrap_or_default()
                )),
            )),
        }
    }
}

/// The `std` options that open a file in `mode` (see [`OpenMode`]).
fn open_options(mode: OpenMode) -> OpenOptions {
    let mut options = OpenOptions::new();
    options.read(true).write(mode.writes());
    match mode {
        OpenMode::CreateNew => options.create_new(true),
        OpenMode::Truncate => options.create(true).truncate(true),
        OpenMode::Create => options.create(true).truncate(false),
        OpenMode::Existing | OpenMode::Read => &mut options,
    };
    options
}

/// Ends this process with SIGKILL: the failpoint's crash has the semantics of
/// `kill -9` (no unwinding, no destructors, no buffered output flushed), not
/// those of a panic or an error return.
#[cfg(feature = "failpoints")]
#[allow(unsafe_code)]
fn kill_self() -> ! {
    // SAFETY: kill(2) has no memory-safety preconditions; SIGKILL cannot be
    // caught, so it does not return when it succeeds.
    unsafe {
        libc::kill(libc::getpid(), libc::SIGKILL);
    }
    // kill(2) on our own pid cannot fail; should it, abort is the nearest
    // thing (no unwinding either).
    std::process::abort()
}

/// Closes `file` and returns the `close(2)` error that `File`'s destructor
/// would swallow (CCF's review: unchecked close errors hide lost writes on
/// NFS and some FUSE filesystems).
#[allow(unsafe_code)]
fn close_checked(file: File) -> io::Result<()> {
    use std::os::fd::IntoRawFd;
    let fd = file.into_raw_fd();
    // SAFETY: `fd` came from `into_raw_fd`, so we own it and nothing else
    // will close it; it is closed exactly once here.
    let rc = unsafe { libc::close(fd) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}
