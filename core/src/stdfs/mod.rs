//! `std::fs`'s shape on any [`Fs`]: code written with `std::fs` is put under
//! the crash simulator by changing its `use` lines.
//!
//! ```text
//! use std::fs::{self, File, OpenOptions};                       // before
//! use crashproof_core::stdfs::{self as fs, File, OpenOptions};  // after
//! ```
//!
//! **Outside any scope the facade is `std::fs`**: every call goes straight
//! to the standard library (same errors, same behaviour), so production
//! code pays nothing. Inside [`with_fs`]`(&fs, || program())` every call
//! made **on that thread** goes to `fs` instead: a `SimFs` in a crash test,
//! or `StdFs`. The selection is a scoped thread-local, never a
//! process-global, so tests running in parallel each have their own.
//!
//! What is covered: [`File`] (`Read`, `Write`, `Seek`, `sync_all`,
//! `sync_data`, `set_len`, `metadata`; `open`, `create`, `create_new`,
//! `options`), [`OpenOptions`], and [`read`], [`read_to_string`],
//! [`write`], [`rename`], [`remove_file`], [`remove_dir`], [`create_dir`],
//! [`create_dir_all`], [`read_dir`], [`metadata`], [`hard_link`],
//! [`exists`], plus [`sync_dir`] (std's idiom `File::open(dir)?.sync_all()`
//! works too). Errors are `io::Error`s of the kinds `std` gives.
//!
//! ```
//! use std::io::Write;
//! use std::path::Path;
//! use crashproof_core::StdFs;
//! use crashproof_core::stdfs::{self as fs, File};
//!
//! /// Written as with `std::fs`: replace `out` durably.
//! fn save(dir: &Path, text: &str) -> std::io::Result<()> {
//!     let tmp = dir.join("out.tmp");
//!     let mut file = File::create(&tmp)?;
//!     file.write_all(text.as_bytes())?;
//!     file.sync_all()?;
//!     fs::rename(&tmp, dir.join("out"))?;
//!     File::open(dir)?.sync_all() // the new name durable: fsync the directory
//! }
//!
//! # fn main() -> std::io::Result<()> {
//! let dir = tempfile::tempdir()?;
//! // Outside a scope: `std::fs` itself, the real disk.
//! save(dir.path(), "first")?;
//! assert_eq!(std::fs::read_to_string(dir.path().join("out"))?, "first");
//! // Inside a scope: the filesystem given. In a crash test that is the
//! // simulator (`crashproof_sim::ProgramWorkload::std_fs` opens the scope).
//! fs::with_fs(&StdFs::new(), || save(dir.path(), "second"))?;
//! assert_eq!(fs::read_to_string(dir.path().join("out"))?, "second");
//! # Ok(())
//! # }
//! ```
//!
//! Inside a scope, know that:
//! - `Path::exists`, `Path::is_file` and friends are `std`'s and look at
//!   the real disk: use [`exists`] and [`metadata`];
//! - [`read_dir`] lists entries sorted by name (`std` gives the OS's
//!   order, which code must not rely on anyway);
//! - [`Metadata`] has length and kind only (no timestamps, permissions or
//!   symbolic links: the `Fs` trait models none);
//! - a [`File`] works only while the scope it was opened in runs, on the
//!   same filesystem; anywhere else it errors (never the real disk);
//! - the scope is per thread (see [`with_fs`]).

mod file;
mod scope;
mod types;

use std::io;
use std::path::Path;

pub use file::{File, OpenOptions};
pub use scope::{in_scope, with_current, with_fs};
pub use types::{DirEntry, FileType, Metadata, ReadDir};

use crate::fs::Fs;

/// Runs `real` outside a scope, `sim` on the scope's filesystem inside one.
fn route<R>(
    real: impl FnOnce() -> io::Result<R>,
    sim: impl FnOnce(&dyn Fs) -> io::Result<R>,
) -> io::Result<R> {
    with_current(|fs| match fs {
        None => real(),
        Some(fs) => sim(fs),
    })
}

/// The whole file (`std::fs::read`).
pub fn read(path: impl AsRef<Path>) -> io::Result<Vec<u8>> {
    let path = path.as_ref();
    route(|| std::fs::read(path), |fs| fs.read(path))
}

/// The whole file as UTF-8 (`std::fs::read_to_string`); `InvalidData` if it
/// is not UTF-8.
pub fn read_to_string(path: impl AsRef<Path>) -> io::Result<String> {
    let path = path.as_ref();
    route(
        || std::fs::read_to_string(path),
        |fs| {
            String::from_utf8(fs.read(path)?).map_err(|_| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    "stream did not contain valid UTF-8",
                )
            })
        },
    )
}

/// Creates or truncates `path` and writes `contents` (`std::fs::write`).
/// Nothing is synced. Inside a scope the close error is returned, where
/// `std` drops it.
pub fn write(path: impl AsRef<Path>, contents: impl AsRef<[u8]>) -> io::Result<()> {
    let (path, contents) = (path.as_ref(), contents.as_ref());
    route(
        || std::fs::write(path, contents),
        |fs| {
            let handle = fs.open_truncate(path)?;
            let written = fs.write_all_at(&handle, 0, contents);
            let closed = fs.close(handle);
            written.and(closed)
        },
    )
}

/// Renames `from` to `to`, replacing `to` (`std::fs::rename`); durable
/// after [`sync_dir`] of both parents.
pub fn rename(from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<()> {
    let (from, to) = (from.as_ref(), to.as_ref());
    route(|| std::fs::rename(from, to), |fs| fs.rename(from, to))
}

/// Removes a file (`std::fs::remove_file`); durable after [`sync_dir`] of
/// the parent.
pub fn remove_file(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref();
    route(|| std::fs::remove_file(path), |fs| fs.remove_file(path))
}

/// Removes an empty directory (`std::fs::remove_dir`); durable after
/// [`sync_dir`] of the parent.
pub fn remove_dir(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref();
    route(|| std::fs::remove_dir(path), |fs| fs.remove_dir(path))
}

/// Creates one directory (`std::fs::create_dir`); durable after
/// [`sync_dir`] of the parent.
pub fn create_dir(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref();
    route(|| std::fs::create_dir(path), |fs| fs.create_dir(path))
}

/// Creates a directory and its missing parents (`std::fs::create_dir_all`);
/// each new entry durable after [`sync_dir`] of its parent.
pub fn create_dir_all(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref();
    route(
        || std::fs::create_dir_all(path),
        |fs| fs.create_dir_all(path),
    )
}

/// The entries of a directory (`std::fs::read_dir`).
pub fn read_dir(path: impl AsRef<Path>) -> io::Result<ReadDir> {
    let path = path.as_ref();
    route(
        || std::fs::read_dir(path).map(ReadDir::real),
        |fs| Ok(ReadDir::listed(path.to_path_buf(), fs.read_dir(path)?)),
    )
}

/// Length and kind of `path` (`std::fs::metadata`).
pub fn metadata(path: impl AsRef<Path>) -> io::Result<Metadata> {
    let path = path.as_ref();
    route(
        || std::fs::metadata(path).map(Metadata::from),
        |fs| fs.metadata(path).map(Metadata::from),
    )
}

/// `DirEntry::metadata`: `std` does not follow a symbolic link there.
pub(crate) fn symlink_or_metadata(path: &Path) -> io::Result<Metadata> {
    route(
        || std::fs::symlink_metadata(path).map(Metadata::from),
        |fs| fs.metadata(path).map(Metadata::from),
    )
}

/// A second name `link` for the file `original` (`std::fs::hard_link`);
/// durable after [`sync_dir`] of `link`'s parent.
pub fn hard_link(original: impl AsRef<Path>, link: impl AsRef<Path>) -> io::Result<()> {
    let (original, link) = (original.as_ref(), link.as_ref());
    route(
        || std::fs::hard_link(original, link),
        |fs| fs.hard_link(original, link),
    )
}

/// Whether `path` exists (`std::fs::exists`): `Ok(false)` only when it is
/// not found; other errors are returned.
pub fn exists(path: impl AsRef<Path>) -> io::Result<bool> {
    let path = path.as_ref();
    route(|| std::fs::exists(path), |fs| fs.exists(path))
}

/// `fsync` of a directory: every entry created, renamed into or removed
/// from `dir` before the call is durable. The same as std's idiom
/// `File::open(dir)?.sync_all()`, said plainly.
pub fn sync_dir(dir: impl AsRef<Path>) -> io::Result<()> {
    let dir = dir.as_ref();
    route(
        || std::fs::File::open(dir)?.sync_all(),
        |fs| fs.sync_dir(dir),
    )
}
