//! A filesystem's visible tree as a value: what `crashproof materialize`
//! writes to a real directory, and the key that lets a check command run
//! once per distinct post-crash tree.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use crashproof_core::fs::Fs;
use xxhash_rust::xxh3::Xxh3;

/// One entry of a tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// A directory.
    Dir,
    /// A file and its bytes.
    File(Vec<u8>),
}

/// Every directory and file reachable from `/`, by absolute path (the root
/// itself left out).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// Path -> entry, sorted.
    pub entries: BTreeMap<PathBuf, Entry>,
}

impl Snapshot {
    /// Reads the whole visible tree of `fs` (`read_dir` and `read` calls:
    /// steps, so take it of a copy when steps matter).
    pub fn of(fs: &dyn Fs) -> io::Result<Snapshot> {
        let mut entries = BTreeMap::new();
        let mut stack = vec![PathBuf::from("/")];
        while let Some(dir) = stack.pop() {
            for e in fs.read_dir(&dir)? {
                let path = dir.join(&e.name);
                if e.is_dir {
                    entries.insert(path.clone(), Entry::Dir);
                    stack.push(path);
                } else {
                    let bytes = fs.read(&path)?;
                    entries.insert(path, Entry::File(bytes));
                }
            }
        }
        Ok(Snapshot { entries })
    }

    /// A digest of every path, kind and byte (stable across runs).
    pub fn digest(&self) -> u64 {
        let mut h = Xxh3::new();
        for (path, entry) in &self.entries {
            let path = path.to_string_lossy();
            h.update(&(path.len() as u64).to_le_bytes());
            h.update(path.as_bytes());
            match entry {
                Entry::Dir => h.update(b"d"),
                Entry::File(bytes) => {
                    h.update(b"f");
                    h.update(&(bytes.len() as u64).to_le_bytes());
                    h.update(bytes);
                }
            }
        }
        h.digest()
    }

    /// Files and directories, counted.
    pub fn counts(&self) -> (usize, usize) {
        let dirs = self.entries.values().filter(|e| **e == Entry::Dir).count();
        (self.entries.len() - dirs, dirs)
    }

    /// Writes the tree into `out`, which must be empty or missing (made,
    /// with its parents): refuses to mix a state with other files.
    pub fn write_to(&self, out: &Path) -> io::Result<()> {
        match std::fs::read_dir(out) {
            Ok(mut listing) => {
                if listing.next().is_some() {
                    return Err(io::Error::new(
                        io::ErrorKind::AlreadyExists,
                        format!(
                            "{} is not empty: give a new or empty directory, so the state is \
                             not mixed with other files",
                            out.display()
                        ),
                    ));
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => std::fs::create_dir_all(out)?,
            Err(e) => return Err(e),
        }
        for (path, entry) in &self.entries {
            let relative = path.strip_prefix("/").unwrap_or(path);
            let target = out.join(relative);
            match entry {
                Entry::Dir => std::fs::create_dir_all(&target)?,
                Entry::File(bytes) => {
                    if let Some(parent) = target.parent() {
                        std::fs::create_dir_all(parent)?;
                    }
                    std::fs::write(&target, bytes)?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use crashproof_sim::SimFs;

    use super::*;

    #[test]
    fn a_tree_round_trips_to_a_directory_and_a_non_empty_one_is_refused() {
        let fs = SimFs::default();
        fs.create_dir_all(Path::new("/a/empty")).unwrap();
        let h = fs.open_truncate(Path::new("/a/f")).unwrap();
        fs.write_all_at(&h, 0, b"bytes").unwrap();
        let snap = Snapshot::of(&fs).unwrap();
        assert_eq!(snap.counts(), (1, 2));
        let out = tempfile::tempdir().unwrap();
        let target = out.path().join("state");
        snap.write_to(&target).unwrap();
        assert_eq!(std::fs::read(target.join("a/f")).unwrap(), b"bytes");
        assert!(target.join("a/empty").is_dir());
        let again = snap.write_to(&target).unwrap_err();
        assert_eq!(again.kind(), io::ErrorKind::AlreadyExists);
        let mut other = snap.clone();
        other.entries.insert(PathBuf::from("/b"), Entry::Dir);
        assert_ne!(snap.digest(), other.digest());
    }
}
