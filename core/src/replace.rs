//! Durable atomic replacement of one file's content.

use std::io;
use std::path::{Path, PathBuf};

use crate::failpoint;
use crate::fs::{Fs, parent_dir};

/// The suffix of every temp file [`replace`] creates. The full temp name is
/// `.<target file name>.crashproof-tmp` in the target's directory: fixed and
/// deterministic (no pid, clock or random part), hidden by the leading dot,
/// and recognizable with [`is_temp_name`] so startup GC can remove it.
pub const TEMP_SUFFIX: &str = ".crashproof-tmp";

/// The temp path [`replace`] uses for `target`, or `None` if `target` has no
/// UTF-8 file name (`/`, `..`).
pub fn temp_path(target: &Path) -> Option<PathBuf> {
    let name = target.file_name()?.to_str()?;
    Some(parent_dir(target).join(format!(".{name}{TEMP_SUFFIX}")))
}

/// If `name` is a temp name [`replace`] creates, the target file name it was
/// for (`.ckpt-1.bin.crashproof-tmp` -> `ckpt-1.bin`).
pub fn is_temp_name(name: &str) -> Option<&str> {
    name.strip_prefix('.')?
        .strip_suffix(TEMP_SUFFIX)
        .filter(|target| !target.is_empty())
}

/// Atomically and durably replaces the content of `path` with `bytes`.
///
/// Protocol: exclusive create of the temp file [`temp_path`] in the same
/// directory, write, fsync, close (the close error is checked),
/// failpoint [`failpoint::REPLACE_AFTER_SYNC_BEFORE_RENAME`], rename over
/// `path`, failpoint [`failpoint::REPLACE_AFTER_RENAME_BEFORE_SYNC_DIR`],
/// fsync of the parent directory.
///
/// # Contract
///
/// - **`Ok`**: the new bytes are durable at `path` (content and name).
/// - **A crash at any point before `Ok`**: `path` holds the complete old
///   bytes or the complete new bytes, never a mix and never nothing (when the
///   old content was durable). The temp file may be left behind; it never
///   blocks a later `replace` and is recognizable with [`is_temp_name`].
/// - **An error before the rename** (create, write, fsync, close, failpoint,
///   rename): `path` is untouched and the temp file is removed where
///   possible (a failed removal is logged, the original error returned).
/// - **An error after the rename** (the second failpoint or the directory
///   fsync): `path` already shows the new bytes, but the rename may not be
///   durable, so after a crash it may hold the old ones. The caller must not
///   treat the write as committed.
/// - A failed fsync is returned as an error; it is never retried into a
///   false success (the data it covered may be lost).
///
/// # Single writer
///
/// A temp file that already exists is from an earlier crashed `replace` of
/// the same target (the caller holds the job lock, so no other process is
/// writing it): it is removed and the exclusive create retried once. Callers
/// without such a lock must not call `replace` on the same target
/// concurrently.
pub fn replace<F: Fs + ?Sized>(fs: &F, path: &Path, bytes: &[u8]) -> io::Result<()> {
    let Some(temp) = temp_path(path) else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("replace {path:?}: the target must end in a UTF-8 file name"),
        ));
    };
    let file = match fs.create_new(&temp) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            tracing::warn!(temp = ?temp, "removing a temp file left by an earlier crash");
            fs.remove_file(&temp)?;
            fs.create_new(&temp)?
        }
        Err(e) => return Err(e),
    };
    let written = fs
        .write_all_at(&file, 0, bytes)
        .and_then(|()| fs.sync(&file));
    let closed = fs.close(file);
    let before_rename = written
        .and(closed)
        .and_then(|()| fs.failpoint(failpoint::REPLACE_AFTER_SYNC_BEFORE_RENAME))
        .and_then(|()| fs.rename(&temp, path));
    if let Err(e) = before_rename {
        remove_temp(fs, &temp);
        return Err(e);
    }
    fs.failpoint(failpoint::REPLACE_AFTER_RENAME_BEFORE_SYNC_DIR)?;
    fs.sync_dir(parent_dir(path))
}

/// Best-effort removal of the temp file after a failed `replace`: the
/// original error matters more, and a leftover temp never blocks a later
/// `replace`.
fn remove_temp<F: Fs + ?Sized>(fs: &F, temp: &Path) {
    match fs.remove_file(temp) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => tracing::warn!(temp = ?temp, error = %e, "could not remove temp file"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_names_are_recognizable_and_deterministic() {
        let temp = temp_path(Path::new("/d/ckpt-1.bin")).unwrap();
        assert_eq!(temp, Path::new("/d/.ckpt-1.bin.crashproof-tmp"));
        assert_eq!(
            is_temp_name(".ckpt-1.bin.crashproof-tmp"),
            Some("ckpt-1.bin")
        );
        assert_eq!(is_temp_name("ckpt-1.bin"), None);
        assert_eq!(is_temp_name("..crashproof-tmp"), None);
        assert_eq!(
            temp_path(Path::new("x")).unwrap(),
            Path::new("./.x.crashproof-tmp")
        );
        assert_eq!(temp_path(Path::new("/")), None);
    }
}
