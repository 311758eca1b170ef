//! What a crash now could lose: every unsynced operation, by the file or
//! directory entry it changes, with byte ranges for data (what LazyFS users
//! ask for: "which files hold unsynced data").

use std::fmt;

use super::state::{Ino, PendingKind, State};

/// One operation not yet durable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsynced {
    /// The step that issued it.
    pub step: u64,
    /// What it changes.
    pub op: UnsyncedOp,
}

/// What an unsynced operation changes. Paths are where the file or
/// directory is visible now (`<inode N>` when it has no name any more).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnsyncedOp {
    /// Bytes `offset..offset + len_bytes` of `file` (durable after fsync
    /// of the file).
    Write {
        /// The file.
        file: String,
        /// First byte.
        offset: u64,
        /// Bytes written.
        len_bytes: u64,
    },
    /// `file`'s length set to `len_bytes` (truncate, ftruncate, extend).
    Truncate {
        /// The file.
        file: String,
        /// The new length.
        len_bytes: u64,
    },
    /// The entry `name` added to directory `dir` (create, mkdir, link;
    /// durable after fsync of the directory).
    Link {
        /// The directory.
        dir: String,
        /// The entry.
        name: String,
    },
    /// The entry `name` removed from directory `dir` (unlink, rmdir).
    Unlink {
        /// The directory.
        dir: String,
        /// The entry.
        name: String,
    },
    /// `from` in `from_dir` renamed to `to` in `to_dir` (durable per
    /// directory after fsync of each).
    Rename {
        /// The source directory.
        from_dir: String,
        /// The old name.
        from: String,
        /// The target directory.
        to_dir: String,
        /// The new name.
        to: String,
    },
}

impl fmt::Display for Unsynced {
    /// `step 12: data /d/f bytes 0..4096`, `step 3: entry /d + f`, ...
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "step {}: ", self.step)?;
        match &self.op {
            UnsyncedOp::Write {
                file,
                offset,
                len_bytes,
            } => write!(
                f,
                "data {file} bytes {offset}..{}",
                offset.saturating_add(*len_bytes)
            ),
            UnsyncedOp::Truncate { file, len_bytes } => {
                write!(f, "length {file} to {len_bytes} bytes")
            }
            UnsyncedOp::Link { dir, name } => write!(f, "entry {dir} + {name}"),
            UnsyncedOp::Unlink { dir, name } => write!(f, "entry {dir} - {name}"),
            UnsyncedOp::Rename {
                from_dir,
                from,
                to_dir,
                to,
            } => write!(f, "entry {from_dir} {from} -> {to_dir} {to}"),
        }
    }
}

/// The unsynced operations of `state`, in issue order.
pub(crate) fn list(state: &State) -> Vec<Unsynced> {
    let path = |ino: Ino| state.path_of(ino);
    state
        .pending
        .values()
        .map(|p| Unsynced {
            step: p.step,
            op: match &p.kind {
                PendingKind::Write { ino, offset, data } => UnsyncedOp::Write {
                    file: path(*ino),
                    offset: *offset,
                    len_bytes: data.len() as u64,
                },
                PendingKind::Truncate { ino, len } => UnsyncedOp::Truncate {
                    file: path(*ino),
                    len_bytes: *len,
                },
                PendingKind::Link { dir, name, .. } => UnsyncedOp::Link {
                    dir: path(*dir),
                    name: name.clone(),
                },
                PendingKind::Unlink { dir, name } => UnsyncedOp::Unlink {
                    dir: path(*dir),
                    name: name.clone(),
                },
                PendingKind::Rename {
                    from_dir,
                    from,
                    to_dir,
                    to,
                    ..
                } => UnsyncedOp::Rename {
                    from_dir: path(*from_dir),
                    from: from.clone(),
                    to_dir: path(*to_dir),
                    to: to.clone(),
                },
            },
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::path::Path;

    use crashproof_core::fs::Fs;

    use crate::{SimFs, SimView};

    #[test]
    fn lists_each_unsynced_operation_by_file_and_entry_until_synced() {
        let fs = SimFs::default();
        fs.create_dir(Path::new("/d")).unwrap();
        let h = fs.create_new(Path::new("/d/f")).unwrap();
        fs.write_all_at(&h, 100, b"abc").unwrap();
        fs.rename(Path::new("/d/f"), Path::new("/d/g")).unwrap();
        let listed: Vec<String> = fs.unsynced().iter().map(ToString::to_string).collect();
        assert_eq!(
            listed,
            [
                "step 0: entry / + d",
                "step 1: entry /d + f",
                "step 2: data /d/g bytes 100..103",
                "step 3: entry /d f -> /d g",
            ]
        );
        fs.sync(&h).unwrap();
        fs.sync_dir(Path::new("/d")).unwrap();
        let listed: Vec<String> = fs.unsynced().iter().map(ToString::to_string).collect();
        assert_eq!(listed, ["step 0: entry / + d"]);
        fs.sync_dir(Path::new("/")).unwrap();
        assert!(fs.unsynced().is_empty());
    }
}
