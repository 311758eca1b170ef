//! Suite: the [`Fs`] contract itself, operation by operation, so every
//! implementation (the real `StdFs`, the simulator's `SimFs`) is held to the
//! same documented behaviour, including the error cases a protocol relies on.

use std::io;
use std::path::Path;

use crashproof_core::fs::{DirEntry, FileHandle, Fs, FsOp, FsOpError, Metadata, OpenMode};

use crate::check::{Ctx, SuiteResult, case_dir, names, write_file};
use crate::{ensure, ensure_eq};

/// The error kind of `result`, or a description of the unexpected success.
fn kind_of<T: std::fmt::Debug>(result: io::Result<T>, what: &str) -> Result<io::ErrorKind, String> {
    match result {
        Ok(v) => Err(format!("{what}: succeeded with {v:?}, expected an error")),
        Err(e) => Ok(e.kind()),
    }
}

/// The bytes of `file` from `offset` on, read with `read_at` in small pieces
/// (so a `read_at` that ignores its offset or its return value shows).
fn read_all_at(fs: &dyn Fs, file: &FileHandle, offset: u64) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let mut buf = [0u8; 3];
    loop {
        let n = fs
            .read_at(file, offset + out.len() as u64, &mut buf)
            .ctx("read_at")?;
        ensure!(
            n <= buf.len(),
            "read_at returned {n} for a {}-byte buffer",
            buf.len()
        );
        if n == 0 {
            return Ok(out);
        }
        out.extend_from_slice(&buf[..n]);
    }
}

/// A handle opened with [`OpenMode::Read`] reads and syncs but never writes:
/// `write_all_at`, `append` and `set_len` fail and the bytes stay.
pub fn fs_read_only_handle_refuses_writes(fs: &dyn Fs, root: &Path) -> SuiteResult {
    let dir = case_dir(fs, root, "fs_read_only")?;
    let path = dir.join("data");
    write_file(fs, &path, b"abcdef")?;
    let file = fs.open(&path, OpenMode::Read).ctx("open read-only")?;
    let refused = [
        ("write_all_at", fs.write_all_at(&file, 0, b"X").err()),
        ("append", fs.append(&file, b"X").err()),
        ("set_len", fs.set_len(&file, 1).err()),
    ];
    let read = read_all_at(fs, &file, 0);
    let synced = fs.sync(&file).and_then(|()| fs.sync_data(&file));
    fs.close(file).ctx("close read-only")?;
    for (op, error) in refused {
        ensure!(error.is_some(), "{op} through a read-only handle succeeded");
    }
    ensure_eq!(
        read?,
        b"abcdef".to_vec(),
        "read through the read-only handle"
    );
    synced.ctx("sync a read-only handle")?;
    ensure_eq!(
        fs.read(&path).ctx("read")?,
        b"abcdef".to_vec(),
        "content after refused writes"
    );
    Ok(())
}

/// Each [`OpenMode`] treats a missing and an existing file as documented.
pub fn fs_open_modes_follow_their_flags(fs: &dyn Fs, root: &Path) -> SuiteResult {
    let dir = case_dir(fs, root, "fs_open_modes")?;
    let path = dir.join("f");
    for mode in [OpenMode::Existing, OpenMode::Read] {
        ensure_eq!(
            kind_of(fs.open(&path, mode), "open a missing file")?,
            io::ErrorKind::NotFound,
            "{mode:?} on a missing file"
        );
    }
    let created = fs
        .open(&path, OpenMode::Create)
        .ctx("Create a missing file")?;
    fs.close(created).ctx("close")?;
    ensure_eq!(
        fs.read(&path).ctx("read")?,
        Vec::<u8>::new(),
        "Create makes an empty file"
    );
    write_file(fs, &path, b"kept")?;
    for mode in [OpenMode::Create, OpenMode::Existing, OpenMode::Read] {
        let file = fs.open(&path, mode).ctx("open an existing file")?;
        fs.close(file).ctx("close")?;
        ensure_eq!(
            fs.read(&path).ctx("read")?,
            b"kept".to_vec(),
            "{mode:?} keeps the bytes"
        );
    }
    ensure_eq!(
        kind_of(fs.open(&path, OpenMode::CreateNew), "CreateNew over a file")?,
        io::ErrorKind::AlreadyExists,
        "CreateNew on an existing file"
    );
    let truncated = fs.open(&path, OpenMode::Truncate).ctx("Truncate")?;
    fs.close(truncated).ctx("close")?;
    ensure_eq!(
        fs.read(&path).ctx("read")?,
        Vec::<u8>::new(),
        "Truncate empties the file"
    );
    Ok(())
}

/// `open` opens regular files only: a directory fails in every mode.
pub fn fs_open_refuses_a_directory(fs: &dyn Fs, root: &Path) -> SuiteResult {
    let dir = case_dir(fs, root, "fs_open_dir")?;
    for mode in [
        OpenMode::Read,
        OpenMode::Existing,
        OpenMode::Create,
        OpenMode::Truncate,
        OpenMode::CreateNew,
    ] {
        let opened = fs.open(&dir, mode);
        ensure!(opened.is_err(), "{mode:?} opened the directory {dir:?}");
        if let Ok(file) = opened {
            fs.close(file).ctx("close")?;
        }
    }
    ensure_eq!(
        kind_of(fs.open(&dir, OpenMode::Read), "open a directory read-only")?,
        io::ErrorKind::IsADirectory,
        "reading a directory"
    );
    Ok(())
}

/// A closed handle (or one that was never issued) is refused by every
/// operation with `InvalidInput`, and closing it again is an error too.
pub fn fs_closed_handle_is_refused(fs: &dyn Fs, root: &Path) -> SuiteResult {
    let dir = case_dir(fs, root, "fs_closed_handle")?;
    let path = dir.join("f");
    let file = fs.create_new(&path).ctx("create")?;
    let stale = FileHandle::from_raw(file.raw());
    fs.close(file).ctx("first close")?;
    let mut buf = [0u8; 4];
    let kinds = [
        (
            "write_all_at",
            kind_of(fs.write_all_at(&stale, 0, b"x"), "write_all_at")?,
        ),
        ("append", kind_of(fs.append(&stale, b"x"), "append")?),
        ("set_len", kind_of(fs.set_len(&stale, 3), "set_len")?),
        (
            "read_at",
            kind_of(fs.read_at(&stale, 0, &mut buf), "read_at")?,
        ),
        (
            "file_metadata",
            kind_of(fs.file_metadata(&stale), "file_metadata")?,
        ),
        ("sync", kind_of(fs.sync(&stale), "sync")?),
        ("sync_data", kind_of(fs.sync_data(&stale), "sync_data")?),
        ("close", kind_of(fs.close(stale), "second close")?),
    ];
    for (op, kind) in kinds {
        ensure_eq!(kind, io::ErrorKind::InvalidInput, "{op} on a closed handle");
    }
    ensure_eq!(
        fs.read(&path).ctx("read")?,
        Vec::<u8>::new(),
        "nothing reached the file"
    );
    Ok(())
}

/// `append` writes at the current end whatever was written where before;
/// `file_metadata` and `set_len` see and change the length.
pub fn fs_append_set_len_and_file_metadata(fs: &dyn Fs, root: &Path) -> SuiteResult {
    let dir = case_dir(fs, root, "fs_append")?;
    let path = dir.join("log");
    let file = fs.create_new(&path).ctx("create")?;
    let steps = (|| {
        fs.write_all_at(&file, 0, b"hello").ctx("write")?;
        fs.append(&file, b"!!").ctx("append")?;
        fs.write_all_at(&file, 0, b"J")
            .ctx("overwrite the first byte")?;
        fs.append(&file, b"?").ctx("second append")?;
        let after_appends = fs.file_metadata(&file).ctx("file_metadata")?;
        fs.set_len(&file, 3).ctx("shrink")?;
        let shrunk = read_all_at(fs, &file, 0)?;
        fs.set_len(&file, 5).ctx("grow")?;
        fs.sync_data(&file).ctx("sync_data")?;
        let grown = fs.file_metadata(&file).ctx("file_metadata after growing")?;
        let tail = read_all_at(fs, &file, 2)?;
        Ok::<_, String>((after_appends, shrunk, grown, tail))
    })();
    fs.close(file).ctx("close")?;
    let (after_appends, shrunk, grown, tail) = steps?;
    ensure_eq!(
        after_appends,
        Metadata {
            len: 8,
            is_dir: false
        },
        "length after the appends"
    );
    ensure_eq!(shrunk, b"Jel".to_vec(), "after set_len(3)");
    ensure_eq!(
        grown,
        Metadata {
            len: 5,
            is_dir: false
        },
        "length after set_len(5)"
    );
    ensure_eq!(
        tail,
        b"l\0\0".to_vec(),
        "read_at(2) after growing: zeros past the old end"
    );
    ensure_eq!(fs.read(&path).ctx("read")?, b"Jel\0\0".to_vec(), "content");
    Ok(())
}

/// `metadata` reports a directory as length 0, a file by its length;
/// `read_dir` lists names sorted with their kinds; `exists` says both.
pub fn fs_metadata_and_read_dir(fs: &dyn Fs, root: &Path) -> SuiteResult {
    let dir = case_dir(fs, root, "fs_listing")?;
    write_file(fs, &dir.join("b"), b"12345")?;
    fs.create_dir(&dir.join("a")).ctx("create_dir")?;
    write_file(fs, &dir.join("c"), b"")?;
    ensure_eq!(
        fs.metadata(&dir.join("b")).ctx("metadata of a file")?,
        Metadata {
            len: 5,
            is_dir: false
        },
        "file metadata"
    );
    ensure_eq!(
        fs.metadata(&dir.join("a")).ctx("metadata of a directory")?,
        Metadata {
            len: 0,
            is_dir: true
        },
        "directory metadata"
    );
    let entry = |name: &str, is_dir| DirEntry {
        name: name.to_owned(),
        is_dir,
    };
    ensure_eq!(
        fs.read_dir(&dir).ctx("read_dir")?,
        vec![entry("a", true), entry("b", false), entry("c", false)],
        "listing"
    );
    ensure!(
        fs.exists(&dir.join("a")).ctx("exists")?,
        "the directory exists"
    );
    ensure!(
        !fs.exists(&dir.join("zz")).ctx("exists")?,
        "a missing name does not exist"
    );
    ensure_eq!(
        kind_of(fs.metadata(&dir.join("zz")), "metadata of a missing name")?,
        io::ErrorKind::NotFound,
        "missing name"
    );
    Ok(())
}

/// `create_dir`, `remove_dir` and `hard_link` do what their names say and
/// refuse what `mkdir(2)`, `rmdir(2)` and `link(2)` refuse.
pub fn fs_directories_and_hard_links(fs: &dyn Fs, root: &Path) -> SuiteResult {
    let dir = case_dir(fs, root, "fs_dirs")?;
    let sub = dir.join("sub");
    fs.create_dir(&sub).ctx("create_dir")?;
    ensure_eq!(
        kind_of(fs.create_dir(&sub), "create_dir twice")?,
        io::ErrorKind::AlreadyExists,
        "create_dir on an existing directory"
    );
    ensure!(
        fs.create_dir(&dir.join("no/such/parent")).is_err(),
        "create_dir made missing parents"
    );
    fs.create_dir_all(&dir.join("deep/er/est"))
        .ctx("create_dir_all")?;
    ensure!(
        fs.metadata(&dir.join("deep/er/est"))
            .ctx("metadata")?
            .is_dir,
        "create_dir_all made the whole path"
    );
    write_file(fs, &sub.join("f"), b"linked")?;
    fs.hard_link(&sub.join("f"), &dir.join("g"))
        .ctx("hard_link")?;
    ensure_eq!(
        fs.read(&dir.join("g")).ctx("read the link")?,
        b"linked".to_vec(),
        "link content"
    );
    ensure!(
        fs.hard_link(&sub.join("f"), &dir.join("g")).is_err(),
        "hard_link over an existing name succeeded"
    );
    ensure!(
        fs.remove_dir(&sub).is_err(),
        "remove_dir removed a non-empty directory"
    );
    fs.remove_file(&sub.join("f")).ctx("remove_file")?;
    ensure_eq!(
        fs.read(&dir.join("g")).ctx("read after unlink")?,
        b"linked".to_vec(),
        "link survives"
    );
    fs.remove_dir(&sub).ctx("remove_dir")?;
    ensure_eq!(
        names(fs, &dir)?,
        vec!["deep".to_owned(), "g".to_owned()],
        "listing"
    );
    ensure_eq!(
        kind_of(fs.remove_dir(&sub), "remove_dir twice")?,
        io::ErrorKind::NotFound,
        "remove_dir of a missing directory"
    );
    Ok(())
}

/// `try_lock` is exclusive until the holder's handle is closed.
pub fn fs_try_lock_is_exclusive_until_close(fs: &dyn Fs, root: &Path) -> SuiteResult {
    let dir = case_dir(fs, root, "fs_lock")?;
    let path = dir.join("LOCK");
    let held = fs.try_lock(&path).ctx("first try_lock")?;
    let second = kind_of(fs.try_lock(&path), "second try_lock");
    fs.close(held).ctx("close the holder")?;
    ensure_eq!(second?, io::ErrorKind::WouldBlock, "a held lock");
    let again = fs.try_lock(&path).ctx("try_lock after close")?;
    fs.close(again).ctx("close")?;
    Ok(())
}

/// Every error names the operation and the path, keeping the OS kind.
pub fn fs_errors_name_operation_and_path(fs: &dyn Fs, root: &Path) -> SuiteResult {
    let dir = case_dir(fs, root, "fs_errors")?;
    let missing = dir.join("missing");
    let cases = [
        (FsOp::RemoveFile, fs.remove_file(&missing).err()),
        (FsOp::Read, fs.read(&missing).err()),
        (FsOp::Open, fs.open(&missing, OpenMode::Existing).err()),
        (FsOp::ReadDir, fs.read_dir(&missing).err()),
        (FsOp::Metadata, fs.metadata(&missing).err()),
        (FsOp::Rename, fs.rename(&missing, &dir.join("to")).err()),
        (FsOp::SyncDir, fs.sync_dir(&missing).err()),
        (FsOp::RemoveDir, fs.remove_dir(&missing).err()),
    ];
    for (op, error) in cases {
        let Some(error) = error else {
            return Err(format!("{op} on a missing name succeeded"));
        };
        ensure_eq!(error.kind(), io::ErrorKind::NotFound, "{op}: kind");
        let inner = error
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<FsOpError>())
            .ctx("the error is an FsOpError")?;
        ensure_eq!(inner.op, op, "the operation named");
        ensure_eq!(
            inner.path.as_path(),
            missing.as_path(),
            "{op}: the path named"
        );
        let text = error.to_string();
        ensure!(
            text.contains("missing") && text.contains(op.name()),
            "{op}: message {text:?}"
        );
    }
    Ok(())
}
