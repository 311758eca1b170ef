//! The POSIX operations on the visible state, each logging the unsynced
//! change it makes. Errors here are raw (kind + reason); `SimFs` adds the
//! operation and path. Kinds follow what `StdFs` gives on Linux.

use std::collections::BTreeSet;
use std::io::{self, ErrorKind};
use std::path::Path;
use std::sync::Arc;

use crashproof_core::fs::{DirEntry, Metadata, OpenMode};

use super::error::InjectedFault;
use super::seeds::{below, chance};
use super::state::{
    DirNode, FileNode, Handle, Ino, Node, PendingKind, ROOT, State, components, join, write_at,
};

fn err(kind: ErrorKind, reason: &str) -> io::Error {
    io::Error::new(kind, reason.to_string())
}

fn not_found() -> io::Error {
    err(ErrorKind::NotFound, "no such file or directory")
}

fn not_a_dir() -> io::Error {
    err(
        ErrorKind::NotADirectory,
        "a path component is not a directory",
    )
}

fn is_a_dir() -> io::Error {
    err(ErrorKind::IsADirectory, "is a directory")
}

fn unknown_handle() -> io::Error {
    err(
        ErrorKind::InvalidInput,
        "unknown file handle: it was closed, or issued by another Fs",
    )
}

/// The largest file the simulator holds (EFBIG past it), so a wild offset
/// fails cleanly instead of allocating without bound.
pub(crate) const MAX_FILE_BYTES: u64 = 1 << 28;

/// How `open_inner` treats existing and missing names.
#[derive(Clone, Copy)]
struct OpenFlags {
    create: bool,
    truncate: bool,
    exclusive: bool,
}

impl State {
    /// Resolves every component, each but the last a directory.
    pub(crate) fn walk(&self, comps: &[&str]) -> io::Result<Ino> {
        let mut cur = ROOT;
        for c in comps {
            let dir = self.dir(cur).ok_or_else(not_a_dir)?;
            cur = *dir.visible.get(*c).ok_or_else(not_found)?;
        }
        Ok(cur)
    }

    /// Resolves a directory that must exist.
    fn walk_dir(&self, comps: &[&str]) -> io::Result<Ino> {
        let ino = self.walk(comps)?;
        if self.is_dir(ino) {
            Ok(ino)
        } else {
            Err(not_a_dir())
        }
    }

    fn handle(&self, id: u64) -> io::Result<&Handle> {
        self.handles.get(&id).ok_or_else(unknown_handle)
    }

    fn new_handle(&mut self, ino: Ino, path: &Path, locked: bool) -> u64 {
        let id = self.next_handle;
        self.next_handle += 1;
        self.handles.insert(
            id,
            Handle {
                ino,
                path: path.to_path_buf(),
                locked,
            },
        );
        id
    }

    pub(crate) fn create_dir_all(&mut self, path: &Path) -> io::Result<()> {
        let comps = components(path)?;
        let mut cur = ROOT;
        for (i, c) in comps.iter().enumerate() {
            let existing = self.dir(cur).and_then(|d| d.visible.get(*c).copied());
            cur = match existing {
                Some(child) if self.is_dir(child) => child,
                Some(_) if i + 1 == comps.len() => {
                    return Err(err(
                        ErrorKind::AlreadyExists,
                        "exists and is not a directory",
                    ));
                }
                Some(_) => return Err(not_a_dir()),
                None => {
                    let child = self.alloc(Node::Dir(DirNode::default()));
                    self.link(
                        cur,
                        c,
                        child,
                        format!("mkdir {}", join(&comps[..=i]).display()),
                    );
                    child
                }
            };
        }
        Ok(())
    }

    /// Adds a visible name and logs it.
    fn link(&mut self, dir: Ino, name: &str, ino: Ino, label: String) {
        if let Some(d) = self.dir_mut(dir) {
            d.visible.insert(name.to_string(), ino);
        }
        self.log(
            label,
            PendingKind::Link {
                dir,
                name: name.to_string(),
                ino,
            },
        );
    }

    fn open_inner(&mut self, path: &Path, flags: OpenFlags) -> io::Result<Ino> {
        let comps = components(path)?;
        let Some((name, parent_comps)) = comps.split_last() else {
            return Err(if flags.exclusive {
                err(ErrorKind::AlreadyExists, "the root directory exists")
            } else {
                is_a_dir()
            });
        };
        let parent = self.walk_dir(parent_comps)?;
        let existing = self.dir(parent).and_then(|d| d.visible.get(*name).copied());
        match existing {
            Some(_) if flags.exclusive => Err(err(ErrorKind::AlreadyExists, "file exists")),
            Some(ino) if self.is_dir(ino) => Err(is_a_dir()),
            Some(ino) => {
                if flags.truncate {
                    self.truncate(ino, path);
                }
                Ok(ino)
            }
            None if flags.create => {
                let ino = self.alloc(Node::File(FileNode::empty()));
                self.link(
                    parent,
                    name,
                    ino,
                    format!("create {}", join(&comps).display()),
                );
                Ok(ino)
            }
            None => Err(not_found()),
        }
    }

    fn truncate(&mut self, ino: Ino, path: &Path) {
        // Truncating an empty file changes nothing a crash could reveal.
        let Some(file) = self.file_mut(ino) else {
            return;
        };
        if file.visible.is_empty() {
            return;
        }
        file.visible = Arc::new(Vec::new());
        self.log(
            format!("truncate {}", path.display()),
            PendingKind::Truncate { ino, len: 0 },
        );
    }

    pub(crate) fn open(&mut self, path: &Path, mode: OpenMode) -> io::Result<u64> {
        let flags = match mode {
            OpenMode::CreateNew => OpenFlags {
                create: true,
                truncate: false,
                exclusive: true,
            },
            OpenMode::Truncate => OpenFlags {
                create: true,
                truncate: true,
                exclusive: false,
            },
            OpenMode::Existing => OpenFlags {
                create: false,
                truncate: false,
                exclusive: false,
            },
        };
        let ino = self.open_inner(path, flags)?;
        Ok(self.new_handle(ino, path, false))
    }

    pub(crate) fn try_lock(&mut self, path: &Path) -> io::Result<u64> {
        let flags = OpenFlags {
            create: true,
            truncate: false,
            exclusive: false,
        };
        let ino = self.open_inner(path, flags)?;
        if !self.locked.insert(ino) {
            return Err(err(
                ErrorKind::WouldBlock,
                "the lock is held by another process or runner",
            ));
        }
        Ok(self.new_handle(ino, path, true))
    }

    /// Writes at `offset` (`None`: at the end). Returns the offset used.
    pub(crate) fn write(&mut self, id: u64, offset: Option<u64>, bytes: &[u8]) -> io::Result<u64> {
        let handle = self.handle(id)?;
        let (ino, path) = (handle.ino, handle.path.clone());
        let len = self.file(ino).map_or(0, |f| f.visible.len() as u64);
        let offset = offset.unwrap_or(len);
        if bytes.is_empty() {
            return Ok(offset);
        }
        let requested = bytes.len() as u64;
        if offset.saturating_add(requested) > MAX_FILE_BYTES {
            return Err(err(
                ErrorKind::FileTooLarge,
                "write would grow the file past the simulator's 256 MiB limit per file",
            ));
        }
        if let Some(capacity) = self.config.faults.capacity_bytes {
            let growth = offset.saturating_add(requested).saturating_sub(len);
            if self.visible_bytes().saturating_add(growth) > capacity {
                let fault = InjectedFault::NoSpace {
                    capacity,
                    requested,
                };
                self.step_faults
                    .push(format!("ENOSPC (capacity {capacity} bytes)"));
                return Err(io::Error::new(ErrorKind::StorageFull, fault));
            }
        }
        let p = self.config.faults.short_write_probability;
        let mut written = bytes.len();
        if p > 0.0 && chance(&mut self.fault_rng, p) {
            written = below(&mut self.fault_rng, requested) as usize;
        }
        let data = &bytes[..written];
        if !data.is_empty() {
            if let Some(file) = self.file_mut(ino) {
                write_at(Arc::make_mut(&mut file.visible), offset, data);
            }
            self.log(
                format!("write {} @{offset}+{written}", path.display()),
                PendingKind::Write {
                    ino,
                    offset,
                    data: Arc::from(data),
                },
            );
        }
        if written < bytes.len() {
            self.step_faults.push(format!(
                "short write: {written} of {requested} bytes written"
            ));
            let fault = InjectedFault::ShortWrite {
                written: written as u64,
                requested,
            };
            return Err(io::Error::other(fault));
        }
        Ok(offset)
    }

    /// Bytes of every file that has a visible name or an open handle.
    fn visible_bytes(&self) -> u64 {
        let mut live: BTreeSet<Ino> = self.handles.values().map(|h| h.ino).collect();
        let mut stack = vec![ROOT];
        let mut seen = BTreeSet::new();
        while let Some(ino) = stack.pop() {
            if !seen.insert(ino) {
                continue;
            }
            if let Some(dir) = self.dir(ino) {
                for &child in dir.visible.values() {
                    if self.is_dir(child) {
                        stack.push(child);
                    } else {
                        live.insert(child);
                    }
                }
            }
        }
        live.iter()
            .filter_map(|ino| self.file(*ino))
            .map(|f| f.visible.len() as u64)
            .sum()
    }

    pub(crate) fn sync(&mut self, id: u64, step: u64) -> io::Result<()> {
        let ino = self.handle(id)?.ino;
        let faults = &self.config.faults;
        let at_step = faults.sync_eio_at_steps.contains(&step);
        let p = faults.sync_eio_probability;
        let random = p > 0.0 && chance(&mut self.fault_rng, p);
        if at_step || random {
            // Linux: the pages the failed fsync covered are marked clean, so
            // a later fsync has nothing to write and succeeds.
            let dropped = self.take_pending(|k| k.data_ino() == Some(ino));
            if !dropped.is_empty()
                && let Some(file) = self.file_mut(ino)
            {
                file.diverged = true;
            }
            self.step_faults.push(format!(
                "EIO on fsync: {} unsynced op(s) dropped, lost on a crash",
                dropped.len()
            ));
            return Err(io::Error::other(InjectedFault::SyncEio));
        }
        self.sync_file(ino);
        Ok(())
    }

    /// Removes and returns (in issue order) the pending ops matching `pred`.
    fn take_pending(&mut self, pred: impl Fn(&PendingKind) -> bool) -> Vec<PendingKind> {
        let seqs: Vec<u64> = self
            .pending
            .iter()
            .filter(|(_, p)| pred(&p.kind))
            .map(|(s, _)| *s)
            .collect();
        seqs.iter()
            .filter_map(|s| self.pending.remove(s))
            .map(|p| p.kind)
            .collect()
    }

    /// Makes the file's pending data durable.
    pub(crate) fn sync_file(&mut self, ino: Ino) {
        let ops = self.take_pending(|k| k.data_ino() == Some(ino));
        let Some(file) = self.file_mut(ino) else {
            return;
        };
        if !file.diverged {
            // durable + pending == visible: share the bytes instead of copying.
            file.durable = Arc::clone(&file.visible);
            return;
        }
        let mut bytes = file.durable.as_ref().clone();
        for op in &ops {
            op.apply_to_file(&mut bytes);
        }
        if bytes == *file.visible {
            file.durable = Arc::clone(&file.visible);
            file.diverged = false;
        } else {
            file.durable = Arc::new(bytes);
        }
    }

    pub(crate) fn close(&mut self, id: u64) -> io::Result<()> {
        let handle = self.handles.remove(&id).ok_or_else(unknown_handle)?;
        if handle.locked {
            self.locked.remove(&handle.ino);
        }
        Ok(())
    }

    pub(crate) fn sync_dir(&mut self, path: &Path) -> io::Result<()> {
        let ino = self.walk(&components(path)?)?;
        if !self.is_dir(ino) {
            // Linux: fsync on a regular file opened by sync_dir syncs the file.
            self.sync_file(ino);
            return Ok(());
        }
        let ops = self.take_pending(|k| k.dir_ino() == Some(ino));
        if let Some(dir) = self.dir_mut(ino) {
            for op in &ops {
                op.apply_to_dir(&mut dir.durable);
            }
        }
        Ok(())
    }

    pub(crate) fn rename(&mut self, from: &Path, to: &Path) -> io::Result<()> {
        let fc = components(from)?;
        let tc = components(to)?;
        let (Some((fname, fparent_c)), Some((tname, tparent_c))) =
            (fc.split_last(), tc.split_last())
        else {
            return Err(err(
                ErrorKind::ResourceBusy,
                "cannot rename the root directory",
            ));
        };
        let fparent = self.walk_dir(fparent_c)?;
        let tparent = self.walk_dir(tparent_c)?;
        let src = self
            .dir(fparent)
            .and_then(|d| d.visible.get(*fname).copied())
            .ok_or_else(not_found)?;
        if fparent != tparent {
            // Linux's "trap" checks: a directory cannot move into itself, and
            // the target cannot be an ancestor of the source.
            if self.is_dir(src) && tparent_c.len() >= fc.len() && tparent_c[..fc.len()] == fc[..] {
                return Err(err(
                    ErrorKind::InvalidInput,
                    "cannot move a directory into itself",
                ));
            }
            if fparent_c.len() >= tc.len() && fparent_c[..tc.len()] == tc[..] {
                return Err(err(ErrorKind::DirectoryNotEmpty, "directory not empty"));
            }
        }
        let dst = self
            .dir(tparent)
            .and_then(|d| d.visible.get(*tname).copied());
        if let Some(dst) = dst {
            if dst == src {
                return Ok(());
            }
            match (self.dir(src).is_some(), self.dir(dst)) {
                (true, None) => return Err(not_a_dir()),
                (false, Some(_)) => return Err(is_a_dir()),
                (true, Some(d)) if !d.visible.is_empty() => {
                    return Err(err(ErrorKind::DirectoryNotEmpty, "directory not empty"));
                }
                _ => {}
            }
        }
        if let Some(d) = self.dir_mut(fparent) {
            d.visible.remove(*fname);
        }
        if let Some(d) = self.dir_mut(tparent) {
            d.visible.insert(tname.to_string(), src);
        }
        let (from_path, to_path) = (join(&fc), join(&tc));
        if fparent == tparent {
            self.log(
                format!("rename {} -> {}", from_path.display(), to_path.display()),
                PendingKind::Rename {
                    dir: fparent,
                    from: fname.to_string(),
                    to: tname.to_string(),
                    ino: src,
                },
            );
        } else {
            self.log(
                format!(
                    "rename-out {} (to {})",
                    from_path.display(),
                    to_path.display()
                ),
                PendingKind::Unlink {
                    dir: fparent,
                    name: fname.to_string(),
                },
            );
            self.log(
                format!(
                    "rename-in {} (from {})",
                    to_path.display(),
                    from_path.display()
                ),
                PendingKind::Link {
                    dir: tparent,
                    name: tname.to_string(),
                    ino: src,
                },
            );
        }
        Ok(())
    }

    pub(crate) fn remove_file(&mut self, path: &Path) -> io::Result<()> {
        let comps = components(path)?;
        let Some((name, parent_c)) = comps.split_last() else {
            return Err(is_a_dir());
        };
        let parent = self.walk_dir(parent_c)?;
        let ino = self
            .dir(parent)
            .and_then(|d| d.visible.get(*name).copied())
            .ok_or_else(not_found)?;
        if self.is_dir(ino) {
            return Err(is_a_dir());
        }
        if let Some(d) = self.dir_mut(parent) {
            d.visible.remove(*name);
        }
        self.log(
            format!("unlink {}", join(&comps).display()),
            PendingKind::Unlink {
                dir: parent,
                name: name.to_string(),
            },
        );
        Ok(())
    }

    pub(crate) fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        let ino = self.walk(&components(path)?)?;
        match self.file(ino) {
            Some(f) => Ok(f.visible.as_ref().clone()),
            None => Err(is_a_dir()),
        }
    }

    pub(crate) fn read_dir(&self, path: &Path) -> io::Result<Vec<DirEntry>> {
        let ino = self.walk(&components(path)?)?;
        let dir = self.dir(ino).ok_or_else(not_a_dir)?;
        Ok(dir
            .visible
            .iter()
            .map(|(name, child)| DirEntry {
                name: name.clone(),
                is_dir: self.is_dir(*child),
            })
            .collect())
    }

    pub(crate) fn metadata(&self, path: &Path) -> io::Result<Metadata> {
        let ino = self.walk(&components(path)?)?;
        Ok(match self.file(ino) {
            Some(f) => Metadata {
                len: f.visible.len() as u64,
                is_dir: false,
            },
            None => Metadata {
                len: 0,
                is_dir: true,
            },
        })
    }

    /// Flips one seeded bit of durable data (a `bit_flip_at_steps` fault).
    pub(crate) fn flip_bit(&mut self) {
        let candidates: Vec<Ino> = self
            .nodes
            .iter()
            .filter_map(|(ino, n)| match n {
                Node::File(f) if !f.durable.is_empty() => Some(*ino),
                _ => None,
            })
            .collect();
        if candidates.is_empty() {
            self.step_faults
                .push("bit flip: no durable data to flip".to_string());
            return;
        }
        let pick = below(&mut self.fault_rng, candidates.len() as u64) as usize;
        let ino = candidates[pick];
        let clean = !self
            .pending
            .values()
            .any(|p| p.kind.data_ino() == Some(ino));
        let (byte, bit) = {
            let Some(file) = self.file(ino) else { return };
            let len = file.durable.len() as u64;
            (
                below(&mut self.fault_rng, len) as usize,
                below(&mut self.fault_rng, 8) as u8,
            )
        };
        let name = self.path_of(ino);
        let Some(file) = self.file_mut(ino) else {
            return;
        };
        let clean = clean && !file.diverged;
        Arc::make_mut(&mut file.durable)[byte] ^= 1 << bit;
        if clean {
            // Nothing dirty in the page cache: readers see the disk.
            file.visible = Arc::clone(&file.durable);
        } else {
            file.diverged = true;
        }
        self.step_faults.push(format!(
            "bit flip in durable data of {name}: byte {byte}, bit {bit}"
        ));
    }

    /// A visible path of `ino`, for messages (`<inode N>` if it has none).
    fn path_of(&self, ino: Ino) -> String {
        let mut stack = vec![(std::path::PathBuf::from("/"), ROOT)];
        let mut seen = BTreeSet::new();
        while let Some((path, dir)) = stack.pop() {
            if !seen.insert(dir) {
                continue;
            }
            let Some(d) = self.dir(dir) else { continue };
            for (name, &child) in &d.visible {
                if child == ino {
                    return path.join(name).display().to_string();
                }
                if self.is_dir(child) {
                    stack.push((path.join(name), child));
                }
            }
        }
        format!("<inode {ino}>")
    }
}
