//! Error context for filesystem operations: which operation, on which path.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// The filesystem operation an error came from (one per [`super::Fs`] method).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[allow(missing_docs)] // each variant is the Fs method of the same name
pub enum FsOp {
    CreateDirAll,
    CreateDir,
    RemoveDir,
    HardLink,
    Open,
    SetLen,
    ReadAt,
    FileMetadata,
    SyncData,
    WriteAllAt,
    Append,
    Sync,
    Close,
    SyncDir,
    Rename,
    RemoveFile,
    Read,
    ReadDir,
    Metadata,
    TryLock,
    Failpoint,
}

impl FsOp {
    /// A short lowercase name (`"sync_dir"`), as used in messages and traces.
    pub fn name(self) -> &'static str {
        match self {
            FsOp::CreateDirAll => "create_dir_all",
            FsOp::CreateDir => "create_dir",
            FsOp::RemoveDir => "remove_dir",
            FsOp::HardLink => "hard_link",
            FsOp::SetLen => "set_len",
            FsOp::ReadAt => "read_at",
            FsOp::FileMetadata => "file_metadata",
            FsOp::SyncData => "sync_data",
            FsOp::Open => "open",
            FsOp::WriteAllAt => "write_all_at",
            FsOp::Append => "append",
            FsOp::Sync => "sync",
            FsOp::Close => "close",
            FsOp::SyncDir => "sync_dir",
            FsOp::Rename => "rename",
            FsOp::RemoveFile => "remove_file",
            FsOp::Read => "read",
            FsOp::ReadDir => "read_dir",
            FsOp::Metadata => "metadata",
            FsOp::TryLock => "try_lock",
            FsOp::Failpoint => "failpoint",
        }
    }
}

impl fmt::Display for FsOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The payload of every `io::Error` an [`super::Fs`] implementation returns:
/// the operation, the path(s) and the underlying error. The `io::Error`
/// keeps the underlying `kind()`, so callers match on kinds as usual.
#[derive(Debug, thiserror::Error)]
#[error("{op} {path:?}{}: {source}", .to.as_ref().map(|t| format!(" -> {t:?}")).unwrap_or_default())]
pub struct FsOpError {
    /// The operation that failed.
    pub op: FsOp,
    /// The path it was applied to (the source, for a rename).
    pub path: PathBuf,
    /// The rename target, if any.
    pub to: Option<PathBuf>,
    /// The underlying error.
    #[source]
    pub source: io::Error,
}

impl FsOpError {
    /// Wraps `source` into an `io::Error` of the same kind that names the
    /// operation and path.
    pub fn wrap(op: FsOp, path: impl Into<PathBuf>, source: io::Error) -> io::Error {
        Self::wrap_rename(op, path, None, source)
    }

    /// Like [`FsOpError::wrap`], with a second path (the rename target).
    pub fn wrap_rename(
        op: FsOp,
        path: impl Into<PathBuf>,
        to: Option<PathBuf>,
        source: io::Error,
    ) -> io::Error {
        let kind = source.kind();
        io::Error::new(
            kind,
            FsOpError {
                op,
                path: path.into(),
                to,
                source,
            },
        )
    }
}

/// The part of `source` worth printing after a message that already names
/// `path`: the underlying error when `source` is an [`FsOpError`] about
/// that same path (so "try_lock \"/d/LOCK\" failed: try_lock \"/d/LOCK\":
/// Permission denied" reads "... failed: Permission denied"), else all of
/// `source`.
pub(crate) fn cause_after<'a>(source: &'a io::Error, path: &Path) -> &'a dyn fmt::Display {
    match source
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<FsOpError>())
    {
        Some(op_error) if op_error.path == path && op_error.to.is_none() => &op_error.source,
        _ => source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cause_after_drops_only_a_repeated_path() {
        let wrapped = FsOpError::wrap(
            FsOp::TryLock,
            "/d/LOCK",
            io::Error::new(io::ErrorKind::PermissionDenied, "Permission denied"),
        );
        assert_eq!(
            cause_after(&wrapped, Path::new("/d/LOCK")).to_string(),
            "Permission denied"
        );
        assert_eq!(
            cause_after(&wrapped, Path::new("/d")).to_string(),
            "try_lock \"/d/LOCK\": Permission denied"
        );
        let renamed = FsOpError::wrap_rename(
            FsOp::Rename,
            "/d/a",
            Some("/d/b".into()),
            io::Error::other("EXDEV"),
        );
        assert_eq!(
            cause_after(&renamed, Path::new("/d/a")).to_string(),
            "rename \"/d/a\" -> \"/d/b\": EXDEV"
        );
        let plain = io::Error::other("plain");
        assert_eq!(cause_after(&plain, Path::new("/d")).to_string(), "plain");
    }
}
