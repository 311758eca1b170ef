//! The POSIX operations on the visible state, each logging the unsynced
//! change it makes. Errors here are raw (kind + reason); `SimFs` adds the
//! operation and path. Kinds follow what `StdFs` gives on Linux.

use std::collections::BTreeSet;
use std::io::{self, ErrorKind};
use std::path::Path;
use std::sync::Arc;

use crashproof_core::fs::{DirEntry, Metadata, OpenMode};

use super::error::InjectedFault;
use super::invariants::{InvariantViolation, invariant_broken};
use super::seeds::{below, chance};
use super::state::{
    DirNode, FileNode, Handle, Ino, Node, PendingKind, ROOT, State, components, join, to_usize,
    write_at,
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

/// `EBADF`, as Linux answers a write through a handle opened read-only
/// (the same kind `StdFs` returns).
fn not_writable() -> io::Error {
    io::Error::from_raw_os_error(libc::EBADF)
}

fn unknown_handle() -> io::Error {
    err(
        ErrorKind::InvalidInput,
        "unknown file handle: it was closed, or issued by another Fs",
    )
}

/// The largest file the simulator holds (EFBIG past it), so a wild offset
/// fails cleanly instead of allocating without bound.
pub(crate) const FILE_SIZE_BYTES_MAX: u64 = 1 << 28;

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
            if !self.is_dir(cur) {
                return Err(not_a_dir());
            }
            cur = self.child(cur, c)?.ok_or_else(not_found)?;
        }
        Ok(cur)
    }

    /// The inode `name` names in the directory `dir` now (`None`: no such
    /// entry). An entry naming a missing inode is a typed error, never
    /// mistaken for a file.
    fn child(&self, dir: Ino, name: &str) -> io::Result<Option<Ino>> {
        let entries = &self
            .dir_referenced(dir, || format!("the directory holding `{name}`"))?
            .visible;
        let Some(&ino) = entries.get(name) else {
            return Ok(None);
        };
        if !self.nodes.contains_key(&ino) {
            return Err(InvariantViolation::MissingInode {
                ino,
                referrer: format!("the visible entry `{name}` of directory inode {dir}"),
            }
            .into());
        }
        Ok(Some(ino))
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

    fn new_handle(&mut self, ino: Ino, path: &Path, locked: bool, writable: bool) -> u64 {
        let id = self.next_handle;
        self.next_handle += 1;
        self.handles.insert(
            id,
            Handle {
                ino,
                path: path.to_path_buf(),
                locked,
                writable,
            },
        );
        id
    }

    /// The parent directory and last name of `comps`; `None` for the root.
    fn split_parent<'c>(&self, comps: &'c [&'c str]) -> io::Result<Option<(Ino, &'c str)>> {
        match comps.split_last() {
            None => Ok(None),
            Some((name, parent_comps)) => Ok(Some((self.walk_dir(parent_comps)?, name))),
        }
    }

    /// `mkdir`: one directory whose parent exists.
    pub(crate) fn create_dir(&mut self, path: &Path) -> io::Result<()> {
        let comps = components(path)?;
        let Some((parent, name)) = self.split_parent(&comps)? else {
            return Err(err(ErrorKind::AlreadyExists, "the root directory exists"));
        };
        if self.child(parent, name)?.is_some() {
            return Err(err(ErrorKind::AlreadyExists, "file exists"));
        }
        let child = self.alloc(Node::Dir(DirNode::default()));
        self.link(
            parent,
            name,
            child,
            format!("mkdir {}", join(&comps).display()),
        )
    }

    /// `rmdir`: an empty directory. The inode stays (unsynced operations
    /// may name it); a crash image keeps it only if a durable entry does.
    pub(crate) fn remove_dir(&mut self, path: &Path) -> io::Result<()> {
        let comps = components(path)?;
        let Some((parent, name)) = self.split_parent(&comps)? else {
            return Err(err(
                ErrorKind::ResourceBusy,
                "cannot remove the root directory",
            ));
        };
        let ino = self.child(parent, name)?.ok_or_else(not_found)?;
        let dir = self.dir(ino).ok_or_else(not_a_dir)?;
        if !dir.visible.is_empty() {
            return Err(err(ErrorKind::DirectoryNotEmpty, "directory not empty"));
        }
        self.dir_referenced_mut(parent, || format!("the parent of {}", path.display()))?
            .visible
            .remove(name);
        self.log(
            format!("rmdir {}", join(&comps).display()),
            PendingKind::Unlink {
                dir: parent,
                name: name.to_string(),
            },
        );
        Ok(())
    }

    /// `link`: a second name for a file, in the checking order of Linux's
    /// `linkat` (the original, the new name's parent, the new name, then
    /// the original's kind).
    pub(crate) fn hard_link(&mut self, original: &Path, link: &Path) -> io::Result<()> {
        let original_comps = components(original)?;
        let ino = self.walk(&original_comps)?;
        let comps = components(link)?;
        let Some((parent, name)) = self.split_parent(&comps)? else {
            return Err(err(ErrorKind::AlreadyExists, "the root directory exists"));
        };
        if self.child(parent, name)?.is_some() {
            return Err(err(ErrorKind::AlreadyExists, "file exists"));
        }
        if self.is_dir(ino) {
            return Err(err(
                ErrorKind::PermissionDenied,
                "hard links to directories are not allowed",
            ));
        }
        let label = format!(
            "link {} -> {}",
            join(&comps).display(),
            join(&original_comps).display()
        );
        self.link(parent, name, ino, label)
    }

    /// `ftruncate`: cut or extend with zeros; logged as one length change
    /// unless the visible length is already `len_bytes`.
    pub(crate) fn set_len(&mut self, id: u64, len_bytes: u64) -> io::Result<()> {
        let handle = self.handle(id)?;
        if !handle.writable {
            return Err(err(
                ErrorKind::InvalidInput,
                "the file is not open for writing",
            ));
        }
        let (ino, path) = (handle.ino, handle.path.clone());
        if len_bytes > FILE_SIZE_BYTES_MAX {
            return Err(err(
                ErrorKind::FileTooLarge,
                "set_len would grow the file past the simulator's 256 MiB limit per file",
            ));
        }
        let referrer = || format!("handle {id} (opened as {})", path.display());
        let file = self.file_referenced_mut(ino, referrer)?;
        if file.visible.len() as u64 == len_bytes {
            return Ok(());
        }
        Arc::make_mut(&mut file.visible).resize(to_usize(len_bytes), 0);
        self.log(
            format!("set_len {} to {len_bytes}", path.display()),
            PendingKind::Truncate {
                ino,
                len: len_bytes,
            },
        );
        Ok(())
    }

    /// `pread` of the visible bytes.
    pub(crate) fn read_at(&self, id: u64, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        let handle = self.handle(id)?;
        let referrer = || format!("handle {id} (opened as {})", handle.path.display());
        let bytes = &self.file_referenced(handle.ino, referrer)?.visible;
        let start = to_usize(offset).min(bytes.len());
        let n = buf.len().min(bytes.len() - start);
        buf[..n].copy_from_slice(&bytes[start..start + n]);
        Ok(n)
    }

    /// `fstat` of the visible file.
    pub(crate) fn file_metadata(&self, id: u64) -> io::Result<Metadata> {
        let handle = self.handle(id)?;
        let referrer = || format!("handle {id} (opened as {})", handle.path.display());
        Ok(Metadata {
            len: self.file_referenced(handle.ino, referrer)?.visible.len() as u64,
            is_dir: false,
        })
    }

    pub(crate) fn create_dir_all(&mut self, path: &Path) -> io::Result<()> {
        let comps = components(path)?;
        let mut cur = ROOT;
        for (i, c) in comps.iter().enumerate() {
            let existing = self.child(cur, c)?;
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
                    )?;
                    child
                }
            };
        }
        Ok(())
    }

    /// Adds a visible name and logs it.
    fn link(&mut self, dir: Ino, name: &str, ino: Ino, label: String) -> io::Result<()> {
        self.dir_referenced_mut(dir, || format!("the parent directory of `{label}`"))?
            .visible
            .insert(name.to_string(), ino);
        self.log(
            label,
            PendingKind::Link {
                dir,
                name: name.to_string(),
                ino,
            },
        );
        Ok(())
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
        let existing = self.child(parent, name)?;
        match existing {
            Some(_) if flags.exclusive => Err(err(ErrorKind::AlreadyExists, "file exists")),
            Some(ino) if self.is_dir(ino) => Err(is_a_dir()),
            Some(ino) => {
                if flags.truncate {
                    self.truncate(ino, path)?;
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
                )?;
                Ok(ino)
            }
            None => Err(not_found()),
        }
    }

    fn truncate(&mut self, ino: Ino, path: &Path) -> io::Result<()> {
        let file = self.file_referenced_mut(ino, || format!("the truncated {}", path.display()))?;
        // Truncating an empty file changes nothing a crash could reveal.
        if file.visible.is_empty() {
            return Ok(());
        }
        file.visible = Arc::new(Vec::new());
        self.log(
            format!("truncate {}", path.display()),
            PendingKind::Truncate { ino, len: 0 },
        );
        Ok(())
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
            OpenMode::Existing | OpenMode::Read => OpenFlags {
                create: false,
                truncate: false,
                exclusive: false,
            },
            OpenMode::Create => OpenFlags {
                create: true,
                truncate: false,
                exclusive: false,
            },
        };
        let ino = self.open_inner(path, flags)?;
        Ok(self.new_handle(ino, path, false, mode.writes()))
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
        Ok(self.new_handle(ino, path, true, true))
    }

    /// Writes at `offset` (`None`: at the end). Returns the offset used.
    pub(crate) fn write(&mut self, id: u64, offset: Option<u64>, bytes: &[u8]) -> io::Result<u64> {
        let handle = self.handle(id)?;
        let (ino, path, writable) = (handle.ino, handle.path.clone(), handle.writable);
        let referrer = || format!("handle {id} (opened as {})", path.display());
        let len_bytes = self.file_referenced(ino, referrer)?.visible.len() as u64;
        let offset = offset.unwrap_or(len_bytes);
        // Like `std`'s `write_all`: nothing to write makes no system call,
        // so not even a read-only handle fails.
        if bytes.is_empty() {
            return Ok(offset);
        }
        if !writable {
            return Err(not_writable());
        }
        let requested_bytes = bytes.len() as u64;
        if offset.saturating_add(requested_bytes) > FILE_SIZE_BYTES_MAX {
            return Err(err(
                ErrorKind::FileTooLarge,
                "write would grow the file past the simulator's 256 MiB limit per file",
            ));
        }
        if let Some(capacity_bytes) = self.config.faults.capacity_bytes {
            let growth_bytes = offset
                .saturating_add(requested_bytes)
                .saturating_sub(len_bytes);
            if self.visible_bytes()?.saturating_add(growth_bytes) > capacity_bytes {
                let fault = InjectedFault::NoSpace {
                    capacity_bytes,
                    requested_bytes,
                };
                self.step_faults
                    .push(format!("ENOSPC (capacity {capacity_bytes} bytes)"));
                return Err(io::Error::new(ErrorKind::StorageFull, fault));
            }
        }
        let p = self.config.faults.short_write_probability;
        let mut written_bytes = bytes.len();
        if p > 0.0 && chance(self.fault_rng.get(), p) {
            written_bytes = below(self.fault_rng.get(), requested_bytes) as usize;
        }
        let data = &bytes[..written_bytes];
        if !data.is_empty() {
            let file = self.file_referenced_mut(ino, referrer)?;
            write_at(Arc::make_mut(&mut file.visible), offset, data);
            self.log(
                format!("write {} @{offset}+{written_bytes}", path.display()),
                PendingKind::Write {
                    ino,
                    offset,
                    data: Arc::from(data),
                },
            );
        }
        if written_bytes < bytes.len() {
            self.step_faults.push(format!(
                "short write: {written_bytes} of {requested_bytes} bytes written"
            ));
            let fault = InjectedFault::ShortWrite {
                written_bytes: written_bytes as u64,
                requested_bytes,
            };
            return Err(io::Error::other(fault));
        }
        Ok(offset)
    }

    /// Bytes of every file that has a visible name or an open handle.
    fn visible_bytes(&self) -> io::Result<u64> {
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
        let mut total = 0u64;
        for ino in live {
            let file =
                self.file_referenced(ino, || "a visible name or an open handle".to_string())?;
            total = total.saturating_add(file.visible.len() as u64);
        }
        Ok(total)
    }

    pub(crate) fn sync(&mut self, id: u64, step: u64) -> io::Result<()> {
        let ino = self.handle(id)?.ino;
        let faults = &self.config.faults;
        let at_step = faults.sync_eio_at_steps.contains(&step);
        let p = faults.sync_eio_probability;
        let random = p > 0.0 && chance(self.fault_rng.get(), p);
        if at_step || random {
            // Linux: the pages the failed fsync covered are marked clean, so
            // a later fsync has nothing to write and succeeds.
            let dropped = self.take_pending(|k| k.data_ino() == Some(ino));
            let file = self.file_referenced_mut(ino, || format!("synced handle {id}"))?;
            if !dropped.is_empty() {
                file.diverged = true;
            }
            self.step_faults.push(format!(
                "EIO on fsync: {} unsynced op(s) dropped, lost on a crash",
                dropped.len()
            ));
            return Err(io::Error::other(InjectedFault::SyncEio));
        }
        self.sync_file(ino)
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
    pub(crate) fn sync_file(&mut self, ino: Ino) -> io::Result<()> {
        let ops = self.take_pending(|k| k.data_ino() == Some(ino));
        let file = self.file_referenced_mut(ino, || format!("the synced file inode {ino}"))?;
        if !file.diverged {
            // durable + pending == visible: share the bytes instead of copying.
            file.durable = Arc::clone(&file.visible);
            return Ok(());
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
        Ok(())
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
            return self.sync_file(ino);
        }
        let State { nodes, pending, .. } = self;
        let Some(Node::Dir(dir)) = nodes.get_mut(&ino) else {
            return Err(InvariantViolation::MissingInode {
                ino,
                referrer: format!("the synced directory {}", path.display()),
            }
            .into());
        };
        // In issue order: this directory's part of each op becomes durable;
        // what is left of a rename across directories (the other
        // directory's half) stays in the log at its place.
        pending.retain(|_, p| {
            if !p.kind.touches_dir(ino) {
                return true;
            }
            p.kind.apply_to_dir(ino, &mut dir.durable);
            match p.kind.left_after_sync_dir(ino) {
                None => false,
                Some(rest) => {
                    let half = match rest {
                        PendingKind::Link { .. } => "the new name",
                        _ => "the removal of the old name",
                    };
                    p.label = format!("{} (only {half} is unsynced)", p.label);
                    p.kind = rest;
                    true
                }
            }
        });
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
        let src = self.child(fparent, fname)?.ok_or_else(not_found)?;
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
        let dst = self.child(tparent, tname)?;
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
        let (from_path, to_path) = (join(&fc), join(&tc));
        self.dir_referenced_mut(fparent, || format!("the parent of {}", from_path.display()))?
            .visible
            .remove(*fname);
        self.dir_referenced_mut(tparent, || format!("the parent of {}", to_path.display()))?
            .visible
            .insert(tname.to_string(), src);
        self.log(
            format!("rename {} -> {}", from_path.display(), to_path.display()),
            PendingKind::Rename {
                from_dir: fparent,
                from: fname.to_string(),
                to_dir: tparent,
                to: tname.to_string(),
                ino: src,
            },
        );
        Ok(())
    }

    pub(crate) fn remove_file(&mut self, path: &Path) -> io::Result<()> {
        let comps = components(path)?;
        let Some((name, parent_c)) = comps.split_last() else {
            return Err(is_a_dir());
        };
        let parent = self.walk_dir(parent_c)?;
        let ino = self.child(parent, name)?.ok_or_else(not_found)?;
        if self.is_dir(ino) {
            return Err(is_a_dir());
        }
        self.dir_referenced_mut(parent, || format!("the parent of {}", path.display()))?
            .visible
            .remove(*name);
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
        let pick = below(self.fault_rng.get(), candidates.len() as u64) as usize;
        let ino = candidates[pick];
        let clean = !self
            .pending
            .values()
            .any(|p| p.kind.data_ino() == Some(ino));
        let name = self.path_of(ino);
        let State {
            nodes, fault_rng, ..
        } = self;
        // A candidate is a file with durable bytes: it was found just above.
        let Some(Node::File(file)) = nodes.get_mut(&ino) else {
            invariant_broken(&InvariantViolation::WrongKind {
                ino,
                referrer: "the bit-flip candidates".to_string(),
                expected: "file",
            });
        };
        let byte = below(fault_rng.get(), file.durable.len() as u64) as usize;
        let bit = below(fault_rng.get(), 8) as u8;
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
}
