//! What a run left in a directory: whether it holds a file at all, a
//! metadata snapshot that tells whether a later run touched it, and a
//! damaged copy to test that the checks can tell damage from success.
//!
//! The lowest layer with `clip`, `plan` and `program`: it imports no other
//! module of the crate.

use std::collections::BTreeMap;
use std::fs;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Whether `dir` holds at least one file (at any depth): state a program
/// kept there. Directories alone are not state.
pub fn holds_a_file(dir: &Path) -> io::Result<bool> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        if !kind.is_dir() || holds_a_file(&entry.path())? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Files up to this size are also hashed by a snapshot: a file rewritten
/// with the same length within the filesystem's timestamp granularity
/// (a few ms) keeps its length and mtime, but not its contents.
const HASHED_FILE_BYTES_MAX: u64 = 1 << 20;

/// One entry as a snapshot keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    kind: &'static str,
    inode: u64,
    len: u64,
    modified: Option<SystemTime>,
    contents: Option<u64>,
}

/// Every entry under a directory (relative path → kind, inode, length,
/// mtime, and a hash of small files' contents): enough to see that a run
/// created, removed, replaced or wrote anything there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    entries: BTreeMap<PathBuf, Entry>,
}

impl Snapshot {
    /// Takes the snapshot of everything under `dir`.
    pub fn take(dir: &Path) -> io::Result<Self> {
        let mut entries = BTreeMap::new();
        walk(dir, Path::new(""), &mut entries)?;
        Ok(Self { entries })
    }

    /// The first difference from `earlier` in words ("`x` was created"), or
    /// `None` when nothing changed.
    pub fn changed_since(&self, earlier: &Snapshot) -> Option<String> {
        for (path, before) in &earlier.entries {
            match self.entries.get(path) {
                None => return Some(format!("`{}` was removed", path.display())),
                Some(now) if now != before => {
                    return Some(format!("`{}` was written", path.display()));
                }
                Some(_) => {}
            }
        }
        self.entries
            .keys()
            .find(|path| !earlier.entries.contains_key(*path))
            .map(|path| format!("`{}` was created", path.display()))
    }
}

fn walk(dir: &Path, relative: &Path, into: &mut BTreeMap<PathBuf, Entry>) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let meta = fs::symlink_metadata(entry.path())?;
        let path = relative.join(entry.file_name());
        let kind = if meta.is_dir() {
            "directory"
        } else if meta.is_file() {
            "file"
        } else {
            "other"
        };
        let small_file = meta.is_file() && meta.len() <= HASHED_FILE_BYTES_MAX;
        into.insert(
            path.clone(),
            Entry {
                kind,
                inode: meta.ino(),
                // A directory's length and mtime change with its entries,
                // which the walk sees one by one.
                len: if meta.is_dir() { 0 } else { meta.len() },
                modified: if meta.is_dir() {
                    None
                } else {
                    meta.modified().ok()
                },
                contents: if small_file {
                    Some(hash_of(&fs::read(entry.path())?))
                } else {
                    None
                },
            },
        );
        if meta.is_dir() {
            walk(&entry.path(), &path, into)?;
        }
    }
    Ok(())
}

/// A hash of `bytes`, stable within one process (all a snapshot needs).
fn hash_of(bytes: &[u8]) -> u64 {
    let mut h = DefaultHasher::new();
    bytes.hash(&mut h);
    h.finish()
}

/// What [`damaged_copy`] did to the copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Damage {
    /// Files cut to less than half their length.
    pub files_cut: u64,
    /// Empty files, empty directories and other entries removed.
    pub removed: u64,
}

impl std::fmt::Display for Damage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "files cut to less than half their length: {}; empty files, empty directories and links removed: {}",
            self.files_cut, self.removed
        )
    }
}

/// Copies the tree `from` into the new directory `to`, damaged as a kill
/// could leave it: every non-empty file cut to less than half its length
/// (`(len - 1) / 2` bytes, a torn write: a one-line file loses its whole
/// line, not only its newline), every empty file, symbolic link or special file removed, and
/// directories left empty by that removed. A tree that holds a file is
/// always changed, so a check that passes on the copy cannot see damage.
pub fn damaged_copy(from: &Path, to: &Path) -> io::Result<Damage> {
    fs::create_dir(to)?;
    let mut damage = Damage::default();
    copy_damaged(from, to, &mut damage)?;
    Ok(damage)
}

fn copy_damaged(from: &Path, to: &Path, damage: &mut Damage) -> io::Result<()> {
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let meta = fs::symlink_metadata(entry.path())?;
        let target = to.join(entry.file_name());
        if meta.is_dir() {
            fs::create_dir(&target)?;
            copy_damaged(&entry.path(), &target, damage)?;
            if fs::read_dir(&target)?.next().is_none() {
                fs::remove_dir(&target)?;
                damage.removed += 1;
            }
        } else if meta.is_file() && meta.len() > 0 {
            fs::copy(entry.path(), &target)?;
            fs::OpenOptions::new()
                .write(true)
                .open(&target)?
                .set_len((meta.len() - 1) / 2)?;
            damage.files_cut += 1;
        } else {
            damage.removed += 1;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn only_files_are_state() {
        let dir = tempfile::tempdir().unwrap();
        assert!(!holds_a_file(dir.path()).unwrap());
        fs::create_dir_all(dir.path().join("a/b")).unwrap();
        assert!(!holds_a_file(dir.path()).unwrap(), "directories alone");
        fs::write(dir.path().join("a/b/f"), b"").unwrap();
        assert!(holds_a_file(dir.path()).unwrap(), "an empty file is state");
    }

    #[test]
    fn a_snapshot_sees_every_creation_removal_and_write() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        fs::create_dir(d.join("sub")).unwrap();
        fs::write(d.join("sub/f"), b"abc").unwrap();
        let changed = |before: &Snapshot| Snapshot::take(d).unwrap().changed_since(before);
        let before = Snapshot::take(d).unwrap();
        assert_eq!(changed(&before), None);
        let _ = fs::read(d.join("sub/f")).unwrap();
        assert_eq!(changed(&before), None, "reading is not writing");
        // Same length, likely the same mtime tick: the contents tell.
        fs::write(d.join("sub/f"), b"xyz").unwrap();
        let written = changed(&before).unwrap();
        assert!(written.contains("sub/f` was written"), "{written}");
        let before = Snapshot::take(d).unwrap();
        fs::write(d.join("sub/g"), b"").unwrap();
        let created = changed(&before).unwrap();
        assert!(created.contains("sub/g` was created"), "{created}");
        let before = Snapshot::take(d).unwrap();
        fs::remove_file(d.join("sub/f")).unwrap();
        let removed = changed(&before).unwrap();
        assert!(removed.contains("sub/f` was removed"), "{removed}");
    }

    #[test]
    fn the_damaged_copy_differs_in_every_file_and_leaves_the_original() {
        let dir = tempfile::tempdir().unwrap();
        let from = dir.path().join("from");
        fs::create_dir_all(from.join("job/empty-dir")).unwrap();
        fs::write(from.join("result"), b"0123456789").unwrap();
        fs::write(from.join("job/one"), b"1").unwrap();
        fs::write(from.join("job/marker"), b"").unwrap();
        let original = Snapshot::take(&from).unwrap();
        let to = dir.path().join("to");
        let damage = damaged_copy(&from, &to).unwrap();
        assert_eq!(
            damage,
            Damage {
                files_cut: 2,
                removed: 2
            }
        );
        assert_eq!(fs::read(to.join("result")).unwrap(), b"0123");
        assert_eq!(fs::read(to.join("job/one")).unwrap(), b"");
        assert!(!to.join("job/marker").exists());
        assert!(!to.join("job/empty-dir").exists());
        assert_eq!(
            Snapshot::take(&from).unwrap().changed_since(&original),
            None
        );
    }
}
