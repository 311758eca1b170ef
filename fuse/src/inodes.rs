//! The mount's inode table: FUSE speaks in inode numbers, the `Fs` trait in
//! paths and handles.
//!
//! The table maps each inode number the kernel was given to the paths that
//! name it now, and follows every name change the mount itself makes
//! (create, link, unlink, rename, moving a directory's whole subtree), so a
//! path-based operation on an inode reaches the right file. Open files never
//! go through it: each holds an `Fs` handle, which follows its file across
//! renames and unlinks as a Linux descriptor does.
//!
//! Numbers are never reused on one mount (the counter outlives each run's
//! table), so a number the kernel still remembers from an earlier run can
//! never name a different file: the kernel's lookups (zero entry timeout)
//! replace it. Files that already had two names when a run started get two
//! numbers (the `Fs` trait does not say which names share a file); names
//! made with `link` during the run share one.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// The root directory's inode number (FUSE's `FUSE_ROOT_ID`).
pub const ROOT_INO: u64 = 1;

#[derive(Debug)]
struct Node {
    paths: BTreeSet<PathBuf>,
    is_dir: bool,
}

/// Inode number <-> path, for one run on one mount.
#[derive(Debug)]
pub struct Inodes {
    nodes: BTreeMap<u64, Node>,
    by_path: BTreeMap<PathBuf, u64>,
    /// The mount's next inode number (shared by every run's table).
    next: Arc<AtomicU64>,
}

impl Inodes {
    /// A table holding only the root, numbering new inodes from `next`.
    pub fn new(next: Arc<AtomicU64>) -> Self {
        // Numbers below 2 are the root's and FUSE's "no inode".
        next.fetch_max(ROOT_INO + 1, Ordering::Relaxed);
        let root = PathBuf::from("/");
        let mut nodes = BTreeMap::new();
        nodes.insert(
            ROOT_INO,
            Node {
                paths: BTreeSet::from([root.clone()]),
                is_dir: true,
            },
        );
        Self {
            nodes,
            by_path: BTreeMap::from([(root, ROOT_INO)]),
            next,
        }
    }

    /// A path that names `ino` now (`None`: unknown, or every name is gone).
    pub fn path(&self, ino: u64) -> Option<&Path> {
        self.nodes
            .get(&ino)
            .and_then(|n| n.paths.first())
            .map(PathBuf::as_path)
    }

    /// Whether `ino` is a directory (`None`: unknown).
    pub fn is_dir(&self, ino: u64) -> Option<bool> {
        self.nodes.get(&ino).map(|n| n.is_dir)
    }

    /// The path of `name` in directory `parent` (`None`: the parent is
    /// unknown or has no name any more).
    pub fn child(&self, parent: u64, name: &OsStr) -> Option<PathBuf> {
        self.path(parent).map(|p| p.join(name))
    }

    /// The inode `path` names, a directory or not as the filesystem just
    /// said: the known one, or a new number (also when the kind changed).
    pub fn entry(&mut self, path: &Path, is_dir: bool) -> u64 {
        if let Some(&ino) = self.by_path.get(path)
            && self.nodes.get(&ino).is_some_and(|n| n.is_dir == is_dir)
        {
            return ino;
        }
        let ino = self.next.fetch_add(1, Ordering::Relaxed);
        self.unname(path);
        self.nodes.insert(
            ino,
            Node {
                paths: BTreeSet::from([path.to_path_buf()]),
                is_dir,
            },
        );
        self.by_path.insert(path.to_path_buf(), ino);
        ino
    }

    /// `path` is now a second name of `ino` (a hard link).
    pub fn linked(&mut self, ino: u64, path: &Path) {
        self.unname(path);
        if let Some(node) = self.nodes.get_mut(&ino) {
            node.paths.insert(path.to_path_buf());
            self.by_path.insert(path.to_path_buf(), ino);
        }
    }

    /// The name `path` was removed (unlink, rmdir); its inode stays known
    /// for the handles still open on it.
    pub fn removed(&mut self, path: &Path) {
        self.unname(path);
    }

    /// `from` was renamed to `to`: whatever `to` named loses that name, and
    /// `from`'s inode (with its whole subtree, for a directory) moves.
    pub fn renamed(&mut self, from: &Path, to: &Path) {
        if from == to {
            return;
        }
        self.unname(to);
        let moved: Vec<(PathBuf, u64)> = self
            .by_path
            .range(from.to_path_buf()..)
            .take_while(|(p, _)| p.starts_with(from))
            .map(|(p, &ino)| (p.clone(), ino))
            .collect();
        for (old, ino) in moved {
            let Ok(rest) = old.strip_prefix(from) else {
                continue;
            };
            let new = if rest.as_os_str().is_empty() {
                to.to_path_buf()
            } else {
                to.join(rest)
            };
            self.by_path.remove(&old);
            self.by_path.insert(new.clone(), ino);
            if let Some(node) = self.nodes.get_mut(&ino) {
                node.paths.remove(&old);
                node.paths.insert(new);
            }
        }
    }

    /// Forgets that `path` (and, for a directory, everything under it)
    /// names anything.
    fn unname(&mut self, path: &Path) {
        let gone: Vec<(PathBuf, u64)> = self
            .by_path
            .range(path.to_path_buf()..)
            .take_while(|(p, _)| p.starts_with(path))
            .map(|(p, &ino)| (p.clone(), ino))
            .collect();
        for (p, ino) in gone {
            self.by_path.remove(&p);
            if let Some(node) = self.nodes.get_mut(&ino) {
                node.paths.remove(&p);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Inodes {
        Inodes::new(Arc::new(AtomicU64::new(0)))
    }

    #[test]
    fn an_entry_keeps_its_number_until_its_kind_changes() {
        let mut t = table();
        let a = t.entry(Path::new("/a"), false);
        assert_ne!(a, ROOT_INO);
        assert_eq!(t.entry(Path::new("/a"), false), a);
        assert_eq!(t.path(a), Some(Path::new("/a")));
        let dir = t.entry(Path::new("/a"), true);
        assert_ne!(dir, a, "a directory where a file was is a new inode");
        assert_eq!(t.path(a), None);
    }

    #[test]
    fn rename_moves_the_inode_and_its_subtree_and_displaces_the_target() {
        let mut t = table();
        let dir = t.entry(Path::new("/d"), true);
        let f = t.entry(Path::new("/d/f"), false);
        let g = t.entry(Path::new("/d/sub/g"), false);
        let other = t.entry(Path::new("/d-x"), false);
        let target = t.entry(Path::new("/e"), true);
        t.renamed(Path::new("/d"), Path::new("/e"));
        assert_eq!(t.path(dir), Some(Path::new("/e")));
        assert_eq!(t.path(f), Some(Path::new("/e/f")));
        assert_eq!(t.path(g), Some(Path::new("/e/sub/g")));
        assert_eq!(
            t.path(other),
            Some(Path::new("/d-x")),
            "a sibling with a common prefix stays"
        );
        assert_eq!(t.path(target), None, "the replaced target lost its name");
        assert_eq!(t.child(dir, OsStr::new("h")), Some(PathBuf::from("/e/h")));
    }

    #[test]
    fn links_share_a_number_and_unlink_removes_one_name() {
        let mut t = table();
        let f = t.entry(Path::new("/f"), false);
        t.linked(f, Path::new("/g"));
        assert_eq!(t.entry(Path::new("/g"), false), f);
        t.removed(Path::new("/f"));
        assert_eq!(t.path(f), Some(Path::new("/g")));
        t.removed(Path::new("/g"));
        assert_eq!(t.path(f), None);
        assert_eq!(
            t.is_dir(f),
            Some(false),
            "an unlinked inode stays known for its handles"
        );
    }

    #[test]
    fn numbers_are_never_reused_across_tables_of_one_mount() {
        let next = Arc::new(AtomicU64::new(0));
        let first = Inodes::new(Arc::clone(&next)).entry(Path::new("/a"), false);
        let second = Inodes::new(next).entry(Path::new("/a"), false);
        assert_ne!(first, second);
    }
}
