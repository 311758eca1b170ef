//! The facade's `File` and `OpenOptions`: `std::fs::File` outside a scope,
//! a handle of the current [`Fs`] inside one.

use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::fs::{FileHandle, Fs, OpenMode};

use super::Metadata;
use super::scope::{Origin, current};

/// `EBADF`: what Linux answers a read through a handle not opened for
/// reading, or a write through one not opened for writing.
fn bad_descriptor() -> io::Error {
    io::Error::from_raw_os_error(libc::EBADF)
}

/// An open file with `std::fs::File`'s shape (`Read`, `Write`, `Seek`,
/// `sync_all`, `sync_data`, `set_len`, `metadata`). Outside a scope it is a
/// `std::fs::File`; inside one, a handle of the scope's filesystem, which
/// works only while that scope runs (see [`super::with_fs`]).
///
/// Dropping it closes it and ignores the close error, as `std` does.
/// `File::open(dir)?.sync_all()` syncs the directory, as on Linux; inside a
/// scope the directory is synced by the path it was opened with, so a
/// directory renamed or removed in between fails with `NotFound` where
/// Linux would sync it under its new name.
#[derive(Debug)]
pub struct File {
    inner: Inner,
}

#[derive(Debug)]
enum Inner {
    Real(std::fs::File),
    Scoped(Scoped),
}

/// A file of a scope's filesystem.
#[derive(Debug)]
struct Scoped {
    /// `None` for a directory opened read-only (to be synced).
    handle: Option<FileHandle>,
    path: PathBuf,
    origin: Origin,
    read: bool,
    write: bool,
    append: bool,
    /// The cursor (after an append: the end of the file as the append left
    /// it, which [`Fs::append_at_end`] answers in the same step: no
    /// `file_metadata` step the program never made).
    pos: u64,
}

/// Options for opening a file, with `std::fs::OpenOptions`'s shape and
/// rules (including its `InvalidInput` errors for a `create` or `truncate`
/// without write access, or `truncate` with `append`).
#[derive(Debug, Clone, Default)]
pub struct OpenOptions {
    read: bool,
    write: bool,
    append: bool,
    truncate: bool,
    create: bool,
    create_new: bool,
}

impl OpenOptions {
    /// All options off.
    pub fn new() -> Self {
        Self::default()
    }

    /// Open for reading.
    pub fn read(&mut self, read: bool) -> &mut Self {
        self.read = read;
        self
    }

    /// Open for writing.
    pub fn write(&mut self, write: bool) -> &mut Self {
        self.write = write;
        self
    }

    /// Every write goes to the end of the file (implies write access).
    pub fn append(&mut self, append: bool) -> &mut Self {
        self.append = append;
        self
    }

    /// Truncate an existing file to length 0.
    pub fn truncate(&mut self, truncate: bool) -> &mut Self {
        self.truncate = truncate;
        self
    }

    /// Create the file if it is missing.
    pub fn create(&mut self, create: bool) -> &mut Self {
        self.create = create;
        self
    }

    /// Create the file, failing with `AlreadyExists` if the name exists.
    pub fn create_new(&mut self, create_new: bool) -> &mut Self {
        self.create_new = create_new;
        self
    }

    /// Opens `path` with these options: `std::fs` outside a scope, the
    /// scope's filesystem inside.
    pub fn open(&self, path: impl AsRef<Path>) -> io::Result<File> {
        let path = path.as_ref();
        current(|scope| match scope {
            None => self.std().open(path).map(|f| File {
                inner: Inner::Real(f),
            }),
            Some(scope) => self.open_in(scope.fs, Origin::of(scope), path),
        })
    }

    fn std(&self) -> std::fs::OpenOptions {
        let mut o = std::fs::OpenOptions::new();
        o.read(self.read)
            .write(self.write)
            .append(self.append)
            .truncate(self.truncate)
            .create(self.create)
            .create_new(self.create_new);
        o
    }

    /// `std`'s checks of the flags, before anything is opened.
    fn check(&self) -> io::Result<()> {
        let invalid = |what: &str| Err(io::Error::new(io::ErrorKind::InvalidInput, what));
        if !self.read && !self.write && !self.append {
            return invalid("opening a file needs read, write or append access");
        }
        let writes = self.write || self.append;
        if !writes && (self.truncate || self.create || self.create_new) {
            return invalid("creating or truncating a file requires write or append access");
        }
        if self.append && self.truncate && !self.create_new {
            return invalid("creating or truncating a file requires write or append access");
        }
        Ok(())
    }

    fn open_in(&self, fs: &dyn Fs, origin: Origin, path: &Path) -> io::Result<File> {
        self.check()?;
        let writes = self.write || self.append;
        let mode = if self.create_new {
            OpenMode::CreateNew
        } else if self.create && self.truncate {
            OpenMode::Truncate
        } else if self.create {
            OpenMode::Create
        } else if writes {
            OpenMode::Existing
        } else {
            OpenMode::Read
        };
        let handle = if mode == OpenMode::Read {
            // Linux opens a directory read-only (to fsync it); the `Fs`
            // trait syncs it by path instead, so a directory has no handle.
            fs.open_read_or_dir(path)?
        } else {
            Some(fs.open(path, mode)?)
        };
        let scoped = Scoped {
            handle,
            path: path.to_path_buf(),
            origin,
            read: self.read,
            write: writes,
            append: self.append,
            pos: 0,
        };
        if self.truncate && mode == OpenMode::Existing {
            // O_TRUNC on an existing file, without O_CREAT (`check` made
            // it writable, so it has a handle). On an error `scoped` drops
            // and closes the handle.
            fs.set_len(handle_of(&scoped.handle)?, 0)?;
        }
        Ok(File {
            inner: Inner::Scoped(scoped),
        })
    }
}

impl File {
    /// Opens an existing file for reading (`File::open`); on a directory,
    /// a `File` whose `sync_all` syncs the directory.
    pub fn open(path: impl AsRef<Path>) -> io::Result<File> {
        OpenOptions::new().read(true).open(path)
    }

    /// Creates or truncates a file for writing (`File::create`).
    pub fn create(path: impl AsRef<Path>) -> io::Result<File> {
        OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)
    }

    /// Creates a new file for reading and writing; `AlreadyExists` if the
    /// name exists (`File::create_new`).
    pub fn create_new(path: impl AsRef<Path>) -> io::Result<File> {
        OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(path)
    }

    /// New [`OpenOptions`] (`File::options`).
    pub fn options() -> OpenOptions {
        OpenOptions::new()
    }

    /// `fsync`: content and length durable (not the name: sync the parent
    /// directory, e.g. [`super::sync_dir`]). On a directory opened with
    /// [`File::open`], syncs the directory's entries.
    pub fn sync_all(&self) -> io::Result<()> {
        match &self.inner {
            Inner::Real(f) => f.sync_all(),
            Inner::Scoped(s) => s.origin.with_fs(|fs| match &s.handle {
                Some(h) => fs.sync(h),
                None => fs.sync_dir(&s.path),
            }),
        }
    }

    /// `fdatasync`: content and length durable, as [`File::sync_all`] in
    /// the crash model (see [`Fs::sync_data`]).
    pub fn sync_data(&self) -> io::Result<()> {
        match &self.inner {
            Inner::Real(f) => f.sync_data(),
            Inner::Scoped(s) => s.origin.with_fs(|fs| match &s.handle {
                Some(h) => fs.sync_data(h),
                None => fs.sync_dir(&s.path),
            }),
        }
    }

    /// `ftruncate`: cuts or extends (with zeros) to `size` bytes; durable
    /// after a sync of the file. The cursor does not move.
    pub fn set_len(&self, size: u64) -> io::Result<()> {
        match &self.inner {
            Inner::Real(f) => f.set_len(size),
            // Linux checks write access first (EINVAL), as `std` shows.
            Inner::Scoped(s) if !s.write => Err(io::Error::from_raw_os_error(libc::EINVAL)),
            Inner::Scoped(s) => s
                .origin
                .with_fs(|fs| fs.set_len(handle_of(&s.handle)?, size)),
        }
    }

    /// Length and kind of the open file (follows it across renames).
    pub fn metadata(&self) -> io::Result<Metadata> {
        match &self.inner {
            Inner::Real(f) => f.metadata().map(Metadata::from),
            Inner::Scoped(s) => s.origin.with_fs(|fs| match &s.handle {
                Some(h) => fs.file_metadata(h).map(Metadata::from),
                None => fs.metadata(&s.path).map(Metadata::from),
            }),
        }
    }
}

fn is_a_directory() -> io::Error {
    io::Error::from_raw_os_error(libc::EISDIR)
}

/// The handle of a [`Scoped`] file; `EISDIR` for a directory (which has
/// none). A free function of the field, so the closures below borrow it
/// apart from the cursor they move.
fn handle_of(handle: &Option<FileHandle>) -> io::Result<&FileHandle> {
    handle.as_ref().ok_or_else(is_a_directory)
}

impl Scoped {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.origin.with_fs(|fs| {
            if !self.read {
                return Err(bad_descriptor());
            }
            let n = fs.read_at(handle_of(&self.handle)?, self.pos, buf)?;
            self.pos += n as u64;
            Ok(n)
        })
    }

    fn read_to_end(&mut self, out: &mut Vec<u8>) -> io::Result<usize> {
        self.origin.with_fs(|fs| {
            if !self.read {
                return Err(bad_descriptor());
            }
            let handle = handle_of(&self.handle)?;
            let len = fs.file_metadata(handle)?.len;
            let start = out.len();
            // Read what the length promises in one call, then until a read
            // returns nothing (the file may have grown meanwhile).
            let mut chunk = usize::try_from(len.saturating_sub(self.pos))
                .unwrap_or(usize::MAX)
                .max(8 * 1024);
            loop {
                let filled = out.len();
                out.resize(filled + chunk, 0);
                let read = fs.read_at(handle, self.pos, &mut out[filled..]);
                // Keep only the bytes read, on an error too (as `std`).
                out.truncate(filled + read.as_ref().map_or(0, |n| *n));
                let n = read?;
                self.pos += n as u64;
                if n == 0 {
                    return Ok(out.len() - start);
                }
                chunk = 8 * 1024;
            }
        })
    }

    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.origin.with_fs(|fs| {
            if !self.write {
                return Err(bad_descriptor());
            }
            let handle = handle_of(&self.handle)?;
            if buf.is_empty() {
                // write(2) of nothing: no change, the cursor stays.
                return Ok(0);
            }
            if self.append {
                // O_APPEND leaves the cursor at the end of what it wrote;
                // one step, as the program's one write(2).
                self.pos = fs.append_at_end(handle, buf)?;
            } else {
                fs.write_all_at(handle, self.pos, buf)?;
                self.pos += buf.len() as u64;
            }
            Ok(buf.len())
        })
    }

    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        self.origin.with_fs(|fs| {
            let new = match to {
                SeekFrom::Start(n) => Some(n),
                SeekFrom::End(delta) => {
                    let len = fs.file_metadata(handle_of(&self.handle)?)?.len;
                    len.checked_add_signed(delta)
                }
                SeekFrom::Current(delta) => self.pos.checked_add_signed(delta),
            };
            let new = new.ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "invalid seek to a negative or overflowing position",
                )
            })?;
            self.pos = new;
            Ok(new)
        })
    }
}

impl Read for File {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match &mut self.inner {
            Inner::Real(f) => f.read(buf),
            Inner::Scoped(s) => s.read(buf),
        }
    }

    fn read_to_end(&mut self, buf: &mut Vec<u8>) -> io::Result<usize> {
        match &mut self.inner {
            Inner::Real(f) => f.read_to_end(buf),
            Inner::Scoped(s) => s.read_to_end(buf),
        }
    }
}

impl Write for File {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.inner {
            Inner::Real(f) => f.write(buf),
            Inner::Scoped(s) => s.write(buf),
        }
    }

    /// Nothing is buffered: every write went to the filesystem (flushing
    /// makes nothing durable; that is [`File::sync_all`]).
    fn flush(&mut self) -> io::Result<()> {
        match &mut self.inner {
            Inner::Real(f) => f.flush(),
            Inner::Scoped(_) => Ok(()),
        }
    }
}

impl Seek for File {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        match &mut self.inner {
            Inner::Real(f) => f.seek(pos),
            Inner::Scoped(s) => s.seek(pos),
        }
    }
}

impl Drop for Scoped {
    fn drop(&mut self) {
        if let Some(handle) = self.handle.take() {
            // Closed on its filesystem if its scope still runs here; else
            // the handle dies with its filesystem. The close error is
            // ignored, as `std::fs::File`'s drop does.
            let _ = self.origin.with_fs(move |fs| fs.close(handle));
        }
    }
}
