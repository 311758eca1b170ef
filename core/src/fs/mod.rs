//! The one filesystem trait the core is written against.
//!
//! # Durability contract
//!
//! [`Fs`] is deliberately narrow and does not hide durability. Every
//! implementation, real ([`StdFs`]) or simulated (`crashproof_sim::SimFs`),
//! promises the strict POSIX model:
//!
//! - Bytes written with [`Fs::write_all_at`] or [`Fs::append`] are visible to
//!   readers at once but are durable only after [`Fs::sync`] of that file
//!   returns `Ok`. [`Fs::close`] does **not** sync.
//! - A length change with [`Fs::set_len`] (or an [`OpenMode::Truncate`]) is
//!   visible at once and durable only after [`Fs::sync`] (or
//!   [`Fs::sync_data`]) of that file.
//! - Creating ([`Fs::open`], [`Fs::create_dir`], [`Fs::create_dir_all`],
//!   [`Fs::hard_link`]), renaming or removing ([`Fs::remove_file`],
//!   [`Fs::remove_dir`]) a name is durable only after [`Fs::sync_dir`] of
//!   the parent directory returns `Ok`. A file that was synced but whose
//!   directory entry was never synced may vanish on a crash.
//! - A file is one inode that may have several names ([`Fs::hard_link`]):
//!   it survives a crash while any durable name reaches it, and its data is
//!   durable by [`Fs::sync`] whatever name it was opened by.
//! - [`Fs::rename`] within one directory atomically replaces the target: after
//!   a crash the target holds the old file or the new one, never a mix.
//! - A failed [`Fs::sync`] is final for the data it covered (Linux drops the
//!   dirty pages and a later sync may return `Ok`), so callers must treat the
//!   error as "this data may be lost", never retry into a false success.
//!
//! # Steps and failpoints
//!
//! The core calls [`Fs::failpoint`] at each named protocol point (the names
//! live in [`crate::failpoint`]). It is a no-op for [`StdFs`] unless the
//! `failpoints` feature routes it to the `fail` crate; a simulator counts it
//! as one step and may crash there.
//!
//! # Object safety
//!
//! The trait is object safe: code can be generic over `F: Fs` or take
//! `&dyn Fs`. Blanket impls cover `&F`, `Box<F>` and `Arc<F>`.

mod error;
mod std_fs;

use std::io;
use std::path::Path;
use std::sync::Arc;

pub(crate) use error::cause_after;
pub use error::{FsOp, FsOpError};
pub use std_fs::StdFs;

/// An open file, issued by one [`Fs`] and meaningful only to it.
///
/// A handle is an opaque token, not an OS descriptor: it is neither `Clone`
/// nor `Copy`, and [`Fs::close`] consumes it so close errors are seen. A
/// handle dropped without `close` is closed when its `Fs` is dropped and its
/// close error is lost, so always close explicitly.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[must_use = "close a FileHandle with Fs::close so close errors are seen"]
pub struct FileHandle {
    id: u64,
}

impl FileHandle {
    /// Wraps a raw token. Only an [`Fs`] implementation should mint handles.
    pub fn from_raw(id: u64) -> Self {
        Self { id }
    }

    /// The raw token, for implementations and for trace labels.
    pub fn raw(&self) -> u64 {
        self.id
    }
}

/// How [`Fs::open`] treats an existing or missing file, and whether the
/// handle may write. Every mode but [`OpenMode::Read`] opens the file for
/// reading and writing (`O_RDWR`); [`OpenMode::Read`] for reading only.
/// Only regular files are opened: a directory fails with
/// [`io::ErrorKind::IsADirectory`] in every mode (sync a directory with
/// [`Fs::sync_dir`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OpenMode {
    /// `O_CREAT | O_EXCL`: create a new empty file; fails with
    /// [`io::ErrorKind::AlreadyExists`] if the name exists.
    CreateNew,
    /// `O_CREAT | O_TRUNC`: create the file or truncate it to length 0.
    Truncate,
    /// Open an existing file without truncating it; fails with
    /// [`io::ErrorKind::NotFound`] if it does not exist.
    Existing,
    /// `O_CREAT` without `O_TRUNC`: open the file, creating it empty if it
    /// is missing; an existing file keeps its bytes.
    Create,
    /// `O_RDONLY`: open an existing file for reading only. Writes through
    /// the handle fail as on Linux (`EBADF`; `set_len`: `EINVAL`, kind
    /// [`io::ErrorKind::InvalidInput`]); `sync` and `sync_data` work.
    Read,
}

impl OpenMode {
    /// Whether a handle opened in this mode may write (every mode but
    /// [`OpenMode::Read`]).
    pub fn writes(self) -> bool {
        self != OpenMode::Read
    }
}

/// What [`Fs::metadata`] reports about a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Metadata {
    /// Length in bytes as readers see it now (0 for a directory).
    pub len: u64,
    /// Whether the name is a directory.
    pub is_dir: bool,
}

/// One entry of [`Fs::read_dir`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DirEntry {
    /// The entry's file name (one path component, UTF-8).
    pub name: String,
    /// Whether the entry is a directory.
    pub is_dir: bool,
}

/// The filesystem operations checkpointing needs, with durability exposed.
///
/// See the [module documentation](self) for the durability contract every
/// implementation keeps. Errors are `io::Error`s whose `kind()` follows POSIX
/// (`NotFound`, `AlreadyExists`, `WouldBlock` for a held lock, ...) and whose
/// message names the operation and the path.
pub trait Fs {
    /// Creates `path` and every missing parent directory (`mkdir -p`).
    /// The new entries are durable only after `sync_dir` of each parent.
    fn create_dir_all(&self, path: &Path) -> io::Result<()>;

    /// `mkdir`: creates the one directory `path`, whose parent must exist
    /// (`NotFound` otherwise); `AlreadyExists` if the name exists. The new
    /// entry is durable only after `sync_dir` of the parent.
    fn create_dir(&self, path: &Path) -> io::Result<()>;

    /// `rmdir`: removes the empty directory `path` (`DirectoryNotEmpty` if
    /// it has entries, `NotADirectory` for a file). The removal is durable
    /// only after `sync_dir` of the parent; until then a crash may bring the
    /// directory back, with the entries it had durably.
    fn remove_dir(&self, path: &Path) -> io::Result<()>;

    /// `link`: adds the name `link` for the file `original`, which keeps its
    /// own name (regular files only: a directory fails with
    /// `PermissionDenied`, as on Linux; `AlreadyExists` if `link` exists).
    /// The new name is durable only after `sync_dir` of `link`'s parent;
    /// the file's bytes are durable by `sync` as before, through any name.
    /// The file survives a crash while any durable name reaches it:
    /// removing one name leaves the others.
    fn hard_link(&self, original: &Path, link: &Path) -> io::Result<()>;

    /// Opens `path` according to `mode` (see [`OpenMode`] for creation and
    /// access). The parent directory must exist. A created name is durable
    /// only after `sync_dir` of the parent; a truncation only after `sync`
    /// of the file.
    fn open(&self, path: &Path, mode: OpenMode) -> io::Result<FileHandle>;

    /// `open(path, O_RDONLY)` as Linux answers it: a regular file gives a
    /// read-only handle (as [`OpenMode::Read`]); a directory gives
    /// `Ok(None)`, where Linux gives a descriptor whose one use here is to
    /// be fsynced, which [`Fs::sync_dir`] does by path. One step, which a
    /// simulator shows as a successful open of a directory, not as an
    /// error: the `std::fs` facade's `File::open(dir)?.sync_all()` goes
    /// through here and then `sync_dir`. Changes nothing.
    fn open_read_or_dir(&self, path: &Path) -> io::Result<Option<FileHandle>> {
        match self.open(path, OpenMode::Read) {
            Ok(handle) => Ok(Some(handle)),
            Err(e) if e.kind() == io::ErrorKind::IsADirectory => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `open(path, OpenMode::CreateNew)`: exclusive create, `AlreadyExists`
    /// if the name exists (including a temp file left by a crash).
    fn create_new(&self, path: &Path) -> io::Result<FileHandle> {
        self.open(path, OpenMode::CreateNew)
    }

    /// `open(path, OpenMode::Truncate)`: create or truncate to zero length.
    fn open_truncate(&self, path: &Path) -> io::Result<FileHandle> {
        self.open(path, OpenMode::Truncate)
    }

    /// Writes all of `bytes` at `offset`, extending the file (zero-filled) if
    /// `offset` is past its end. Visible at once; durable after [`Fs::sync`].
    /// On error some prefix of `bytes` may have been written.
    fn write_all_at(&self, file: &FileHandle, offset: u64, bytes: &[u8]) -> io::Result<()>;

    /// Writes all of `bytes` at the current end of the file.
    /// Visible at once; durable after [`Fs::sync`].
    fn append(&self, file: &FileHandle, bytes: &[u8]) -> io::Result<()>;

    /// [`Fs::append`], returning the file's length right after the write:
    /// where an `O_APPEND` write leaves the cursor. One step on a
    /// simulator; by default an `append` and a `file_metadata`. The
    /// `std::fs` facade's append-mode `File` writes through here, so its
    /// trace shows the one write the program made.
    fn append_at_end(&self, file: &FileHandle, bytes: &[u8]) -> io::Result<u64> {
        self.append(file, bytes)?;
        Ok(self.file_metadata(file)?.len)
    }

    /// `ftruncate`: sets the file's length to `len_bytes`, cutting bytes
    /// past it or extending it with zeros. Visible at once; the new length
    /// (and the zeros) are durable after [`Fs::sync`] or [`Fs::sync_data`]
    /// of the file; until then a crash may keep the old length. Fails with
    /// `InvalidInput` on a handle opened with [`OpenMode::Read`].
    fn set_len(&self, file: &FileHandle, len_bytes: u64) -> io::Result<()>;

    /// `pread`: reads up to `buf.len()` bytes at `offset` as readers see
    /// them now (unsynced writes included) and returns how many it read:
    /// fewer at the end of the file, 0 at or past it. Changes nothing and
    /// makes nothing durable.
    fn read_at(&self, file: &FileHandle, offset: u64, buf: &mut [u8]) -> io::Result<usize>;

    /// `fstat`: length and kind of the open file, as readers see it now
    /// (follows the file across renames, unlike [`Fs::metadata`]).
    fn file_metadata(&self, file: &FileHandle) -> io::Result<Metadata>;

    /// `fsync`: when this returns `Ok`, the file's content and length are
    /// durable (not its name: see [`Fs::sync_dir`]). On error the data it
    /// covered may be lost even if a later `sync` returns `Ok`.
    fn sync(&self, file: &FileHandle) -> io::Result<()>;

    /// `fdatasync`: when this returns `Ok`, the file's content **and
    /// length** are durable, exactly as after [`Fs::sync`] (Linux flushes
    /// the size with the data, since reading the data back needs it); only
    /// metadata not needed to read the data (timestamps) may stay unsynced.
    /// The durability model keeps no such metadata, so a simulator treats
    /// it as `sync`. Not the name: see [`Fs::sync_dir`]. A failure is final
    /// for the data it covered, as for `sync`.
    fn sync_data(&self, file: &FileHandle) -> io::Result<()>;

    /// Closes the handle and reports the close error, if any. Closing does
    /// not make anything durable.
    fn close(&self, file: FileHandle) -> io::Result<()>;

    /// `fsync` of a directory: when this returns `Ok`, every entry created,
    /// renamed into, or removed from `dir` before the call is durable.
    fn sync_dir(&self, dir: &Path) -> io::Result<()>;

    /// Renames `from` to `to`, atomically replacing `to` if it exists. The
    /// change is durable after `sync_dir` of both parents (one, if the same).
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()>;

    /// Removes the file `path`; durable after `sync_dir` of the parent.
    fn remove_file(&self, path: &Path) -> io::Result<()>;

    /// Reads the whole file as readers see it now (unsynced writes included).
    fn read(&self, path: &Path) -> io::Result<Vec<u8>>;

    /// Lists the entries of `dir`, sorted by name, without `.` and `..`.
    fn read_dir(&self, dir: &Path) -> io::Result<Vec<DirEntry>>;

    /// Length and kind of `path`; `NotFound` if it does not exist.
    fn metadata(&self, path: &Path) -> io::Result<Metadata>;

    /// Whether `path` exists. `Ok(false)` only for `NotFound`; any other
    /// error is returned so the caller decides what it means.
    fn exists(&self, path: &Path) -> io::Result<bool> {
        match self.metadata(path) {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Opens (creating if missing, for reading and writing, like
    /// [`OpenMode::Create`]) `path` and takes an exclusive advisory
    /// lock on it without blocking. Fails with `WouldBlock` if another holder
    /// has it. The lock is released by [`Fs::close`] of the returned handle,
    /// or when the holding process dies (a crash, for a simulator).
    fn try_lock(&self, path: &Path) -> io::Result<FileHandle>;

    /// A named protocol point (see [`crate::failpoint`]). No-op by default;
    /// a simulator counts it as a step and may crash here, and with the
    /// `failpoints` feature [`StdFs`] consults the `fail` crate.
    fn failpoint(&self, name: &'static str) -> io::Result<()> {
        let _ = name;
        Ok(())
    }
}

macro_rules! forward_fs {
    ($($wrapper:ty),*) => {$(
        impl<F: Fs + ?Sized> Fs for $wrapper {
            fn create_dir_all(&self, path: &Path) -> io::Result<()> {
                (**self).create_dir_all(path)
            }
            fn create_dir(&self, path: &Path) -> io::Result<()> {
                (**self).create_dir(path)
            }
            fn remove_dir(&self, path: &Path) -> io::Result<()> {
                (**self).remove_dir(path)
            }
            fn hard_link(&self, original: &Path, link: &Path) -> io::Result<()> {
                (**self).hard_link(original, link)
            }
            fn set_len(&self, file: &FileHandle, len_bytes: u64) -> io::Result<()> {
                (**self).set_len(file, len_bytes)
            }
            fn read_at(&self, file: &FileHandle, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
                (**self).read_at(file, offset, buf)
            }
            fn file_metadata(&self, file: &FileHandle) -> io::Result<Metadata> {
                (**self).file_metadata(file)
            }
            fn sync_data(&self, file: &FileHandle) -> io::Result<()> {
                (**self).sync_data(file)
            }
            fn open(&self, path: &Path, mode: OpenMode) -> io::Result<FileHandle> {
                (**self).open(path, mode)
            }
            fn open_read_or_dir(&self, path: &Path) -> io::Result<Option<FileHandle>> {
                (**self).open_read_or_dir(path)
            }
            fn write_all_at(&self, file: &FileHandle, offset: u64, bytes: &[u8]) -> io::Result<()> {
                (**self).write_all_at(file, offset, bytes)
            }
            fn append(&self, file: &FileHandle, bytes: &[u8]) -> io::Result<()> {
                (**self).append(file, bytes)
            }
            fn append_at_end(&self, file: &FileHandle, bytes: &[u8]) -> io::Result<u64> {
                (**self).append_at_end(file, bytes)
            }
            fn sync(&self, file: &FileHandle) -> io::Result<()> {
                (**self).sync(file)
            }
            fn close(&self, file: FileHandle) -> io::Result<()> {
                (**self).close(file)
            }
            fn sync_dir(&self, dir: &Path) -> io::Result<()> {
                (**self).sync_dir(dir)
            }
            fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
                (**self).rename(from, to)
            }
            fn remove_file(&self, path: &Path) -> io::Result<()> {
                (**self).remove_file(path)
            }
            fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
                (**self).read(path)
            }
            fn read_dir(&self, dir: &Path) -> io::Result<Vec<DirEntry>> {
                (**self).read_dir(dir)
            }
            fn metadata(&self, path: &Path) -> io::Result<Metadata> {
                (**self).metadata(path)
            }
            fn exists(&self, path: &Path) -> io::Result<bool> {
                (**self).exists(path)
            }
            fn try_lock(&self, path: &Path) -> io::Result<FileHandle> {
                (**self).try_lock(path)
            }
            fn failpoint(&self, name: &'static str) -> io::Result<()> {
                (**self).failpoint(name)
            }
        }
    )*};
}

forward_fs!(&F, Box<F>, Arc<F>);

/// The parent directory of `path`, as `sync_dir` needs it: `"."` for a bare
/// file name rather than the empty path.
pub fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}
