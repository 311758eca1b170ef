//! One run's server: each FUSE request becomes the `Fs` calls (steps) that
//! mean it, on the `&dyn Fs` the run attached.
//!
//! | request | `Fs` calls (each one step) |
//! |---|---|
//! | lookup | `metadata` |
//! | getattr | `file_metadata` of an open handle of the inode, else `metadata`; none for `/` |
//! | setattr size | `set_len` through the open file, else `open` + `set_len` + `close` |
//! | setattr mode, owner, times | none (accepted, not kept, counted as ignored); the attributes: as getattr |
//! | open | `open` (`O_RDONLY`: `Read`; `O_TRUNC`: `Truncate`; else `Existing`) |
//! | create | `open` (`O_EXCL`: `CreateNew`; `O_TRUNC`: `Truncate`; else `Create` + `file_metadata`) |
//! | read / write | `read_at` / `write_all_at` (`append` for `O_APPEND` files) |
//! | fsync / fdatasync | `sync` / `sync_data` |
//! | fsyncdir | `sync_dir` |
//! | mkdir, rmdir, unlink | `create_dir`, `remove_dir`, `remove_file` |
//! | rename | `rename`; `RENAME_NOREPLACE`: `metadata` of the target first; other flags refused (`EINVAL`) |
//! | link | `hard_link` + `metadata` |
//! | readdir | `read_dir` at offset 0 (later offsets from that listing) |
//! | fallocate mode 0 | `file_metadata` (+ `set_len` when it grows the file); other modes refused (`EOPNOTSUPP`) |
//! | flush, release, opendir, releasedir, statfs, forget | none |
//!
//! `release` makes no step because the kernel sends it in the background:
//! when it arrives relative to the program's next request is not
//! deterministic. So an `Fs` handle stays open until the run ends (the
//! served filesystem is dropped then), unless [`Server::close_on_release`]
//! (the long-lived mount, which explores nothing).

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::{OsStr, OsString};
use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use crashproof_core::fs::{FileHandle, Fs, Metadata, OpenMode};
use crashproof_sim::is_crashed;
use fuser::{Errno, FileAttr, FileType, FopenFlags, Generation, INodeNo, ReplyDirectory};

use crate::attrs::{Owner, TTL, attr};
use crate::dispatch::open_flags;
use crate::errno::errno_of;
use crate::inodes::{Inodes, ROOT_INO};
use crate::request::{Op, statfs};
use crate::unmodelled::Unmodelled;

/// An open file: its `Fs` handle and inode.
struct OpenFile {
    handle: FileHandle,
    ino: u64,
    /// Opened with `O_APPEND`: every write goes to the end.
    append: bool,
    /// Opened for writing.
    writable: bool,
}

/// One directory entry as `readdir` returns it.
struct Listed {
    ino: u64,
    kind: FileType,
    name: std::ffi::OsString,
}

/// Serves FUSE requests on one `Fs` for one run.
pub struct Server<'f> {
    fs: &'f dyn Fs,
    inodes: Inodes,
    files: BTreeMap<u64, OpenFile>,
    dirs: BTreeMap<u64, Option<Vec<Listed>>>,
    next_fh: u64,
    owner: Owner,
    unmodelled: Unmodelled,
    crashed: Option<io::Error>,
    close_on_release: bool,
    /// Every (directory inode, name) the kernel may hold a dentry for,
    /// positive or negative: what `Mount::forget_names` invalidates.
    names: BTreeSet<(u64, OsString)>,
}

type Served<T> = Result<T, Errno>;

impl<'f> Server<'f> {
    /// A server of `fs` numbering inodes from the mount's `next_ino`.
    pub fn new(fs: &'f dyn Fs, next_ino: Arc<AtomicU64>, owner: Owner) -> Self {
        Self {
            fs,
            inodes: Inodes::new(next_ino),
            files: BTreeMap::new(),
            dirs: BTreeMap::new(),
            next_fh: 1,
            owner,
            unmodelled: Unmodelled::default(),
            crashed: None,
            close_on_release: false,
            names: BTreeSet::new(),
        }
    }

    /// Every (directory inode, name) this run's answers may have put in the
    /// kernel's dentry cache.
    pub fn kernel_names(&self) -> &BTreeSet<(u64, OsString)> {
        &self.names
    }

    /// Closes each file's `Fs` handle on `release` (a step at a moment the
    /// program does not choose): for a mount that is not explored.
    pub fn close_on_release(mut self) -> Self {
        self.close_on_release = true;
        self
    }

    /// Whether a step failed with the simulator's crash error.
    pub fn has_crashed(&self) -> bool {
        self.crashed.is_some()
    }

    /// The simulator's crash error, once a step failed with it (taken out).
    pub fn take_crashed(&mut self) -> Option<io::Error> {
        self.crashed.take()
    }

    /// The operations refused or ignored so far.
    pub fn unmodelled(&self) -> &Unmodelled {
        &self.unmodelled
    }

    /// Answers one request.
    pub fn serve(&mut self, op: Op) {
        match op {
            Op::Lookup {
                parent,
                name,
                reply,
            } => match self.lookup(parent, &name) {
                Ok(a) => reply.entry(&TTL, &a, Generation(0)),
                Err(e) => reply.error(e),
            },
            Op::GetAttr { ino, fh, reply } => match self.getattr(ino, fh) {
                Ok(a) => reply.attr(&TTL, &a),
                Err(e) => reply.error(e),
            },
            Op::SetAttr {
                ino,
                size,
                fh,
                other,
                reply,
            } => match self.setattr(ino, size, fh, other) {
                Ok(a) => reply.attr(&TTL, &a),
                Err(e) => reply.error(e),
            },
            Op::Open { ino, flags, reply } => match self.open(ino, flags) {
                Ok(fh) => reply.opened(fuser::FileHandle(fh), open_flags()),
                Err(e) => reply.error(e),
            },
            Op::Create {
                parent,
                name,
                flags,
                reply,
            } => match self.create(parent, &name, flags) {
                Ok((a, fh)) => {
                    reply.created(&TTL, &a, Generation(0), fuser::FileHandle(fh), open_flags())
                }
                Err(e) => reply.error(e),
            },
            Op::Read {
                fh,
                offset,
                size,
                reply,
            } => match self.read(fh, offset, size) {
                Ok(bytes) => reply.data(&bytes),
                Err(e) => reply.error(e),
            },
            Op::Write {
                fh,
                offset,
                data,
                reply,
            } => match self.write(fh, offset, &data) {
                Ok(n) => reply.written(n),
                Err(e) => reply.error(e),
            },
            Op::Flush { reply } => reply.ok(),
            Op::Release { fh, reply } => {
                self.release(fh);
                reply.ok();
            }
            Op::Fsync {
                fh,
                datasync,
                reply,
            } => empty(reply, self.fsync(fh, datasync)),
            Op::OpenDir { ino, reply } => match self.opendir(ino) {
                Ok(fh) => reply.opened(fuser::FileHandle(fh), FopenFlags::empty()),
                Err(e) => reply.error(e),
            },
            Op::ReadDir {
                ino,
                fh,
                offset,
                reply,
            } => self.readdir(ino, fh, offset, reply),
            Op::ReleaseDir { fh, reply } => {
                self.dirs.remove(&fh);
                reply.ok();
            }
            Op::FsyncDir { ino, reply } => {
                let synced = self.path_of(ino).and_then(|p| {
                    let r = self.fs.sync_dir(&p);
                    self.check(r)
                });
                empty(reply, synced);
            }
            Op::Mkdir {
                parent,
                name,
                reply,
            } => match self.mkdir(parent, &name) {
                Ok(a) => reply.entry(&TTL, &a, Generation(0)),
                Err(e) => reply.error(e),
            },
            Op::Unlink {
                parent,
                name,
                reply,
            } => {
                let removed = self.remove(parent, &name, false);
                empty(reply, removed);
            }
            Op::Rmdir {
                parent,
                name,
                reply,
            } => {
                let removed = self.remove(parent, &name, true);
                empty(reply, removed);
            }
            Op::Rename {
                parent,
                name,
                new_parent,
                new_name,
                flags,
                reply,
            } => {
                let renamed = self.rename(parent, &name, new_parent, &new_name, flags);
                empty(reply, renamed);
            }
            Op::Link {
                ino,
                new_parent,
                new_name,
                reply,
            } => match self.link(ino, new_parent, &new_name) {
                Ok(a) => reply.entry(&TTL, &a, Generation(0)),
                Err(e) => reply.error(e),
            },
            Op::Statfs { reply } => statfs(reply),
            Op::Fallocate {
                fh,
                offset,
                length,
                mode,
                reply,
            } => {
                let done = self.fallocate(fh, offset, length, mode);
                empty(reply, done);
            }
            Op::Refused { op, errno, reply } => {
                self.unmodelled.refuse(op, errno);
                reply(errno);
            }
        }
    }

    /// The errno for a failed step; remembers a crash.
    fn fail(&mut self, e: io::Error) -> Errno {
        let errno = errno_of(&e);
        if self.crashed.is_none() && is_crashed(&e) {
            self.crashed = Some(e);
        }
        errno
    }

    fn check<T>(&mut self, r: io::Result<T>) -> Served<T> {
        r.map_err(|e| self.fail(e))
    }

    /// A path of `ino`: `EIO` for an inode this run never gave out (one
    /// from before a crash the mount served), `ENOENT` for one whose names
    /// are all gone.
    fn path_of(&self, ino: u64) -> Served<PathBuf> {
        match (self.inodes.is_dir(ino), self.inodes.path(ino)) {
            (None, _) => Err(Errno::EIO),
            (Some(_), None) => Err(Errno::ENOENT),
            (Some(_), Some(p)) => Ok(p.to_path_buf()),
        }
    }

    /// The path of `name` in `parent`; remembers that the kernel may now
    /// cache a dentry for it.
    fn child(&mut self, parent: u64, name: &OsStr) -> Served<PathBuf> {
        if self.inodes.is_dir(parent).is_none() {
            return Err(Errno::EIO);
        }
        self.names.insert((parent, name.to_os_string()));
        self.inodes.child(parent, name).ok_or(Errno::ENOENT)
    }

    fn file(&self, fh: u64) -> Served<&OpenFile> {
        // A handle this run never gave out: one from before a crash.
        self.files.get(&fh).ok_or(Errno::EIO)
    }

    fn attr_of(&self, ino: u64, m: Metadata) -> FileAttr {
        attr(ino, m.is_dir, m.len, self.owner)
    }

    fn lookup(&mut self, parent: u64, name: &OsStr) -> Served<FileAttr> {
        let path = self.child(parent, name)?;
        let r = self.fs.metadata(&path);
        let m = self.check(r)?;
        let ino = self.inodes.entry(&path, m.is_dir);
        Ok(self.attr_of(ino, m))
    }

    /// The open file `fh`, if it is one of `ino` (and writable, if asked).
    fn open_file_of(&self, ino: u64, fh: Option<u64>, writable: bool) -> Option<&OpenFile> {
        fh.and_then(|fh| self.files.get(&fh))
            .filter(|f| f.ino == ino && (f.writable || !writable))
    }

    fn getattr(&mut self, ino: u64, fh: Option<u64>) -> Served<FileAttr> {
        if ino == ROOT_INO {
            return Ok(attr(ROOT_INO, true, 0, self.owner));
        }
        let by_handle = self.open_file_of(ino, fh, false).or_else(|| {
            // `fstat` of a file whose every name is gone: its first handle
            // (the set of handles does not depend on when releases came).
            self.inodes.path(ino).is_none().then_some(())?;
            self.files.values().find(|f| f.ino == ino)
        });
        let r = match by_handle {
            // The handle follows the file across renames and unlinks.
            Some(f) => self.fs.file_metadata(&f.handle),
            None => {
                let path = self.path_of(ino)?;
                self.fs.metadata(&path)
            }
        };
        let m = self.check(r)?;
        Ok(self.attr_of(ino, m))
    }

    fn setattr(
        &mut self,
        ino: u64,
        size: Option<u64>,
        fh: Option<u64>,
        other: bool,
    ) -> Served<FileAttr> {
        if other {
            self.unmodelled.ignore("setattr (mode, owner or times)");
        }
        let Some(len) = size else {
            return self.getattr(ino, fh);
        };
        let r = match self.open_file_of(ino, fh, true) {
            Some(f) => self.fs.set_len(&f.handle, len),
            None => {
                // truncate(2) by path.
                let path = self.path_of(ino)?;
                let r = self.fs.open(&path, OpenMode::Existing);
                let handle = self.check(r)?;
                let set = self.fs.set_len(&handle, len);
                let closed = self.fs.close(handle);
                set.and(closed)
            }
        };
        self.check(r)?;
        Ok(attr(ino, false, len, self.owner))
    }

    fn add_file(&mut self, handle: FileHandle, ino: u64, flags: i32) -> u64 {
        let fh = self.next_fh;
        self.next_fh += 1;
        self.files.insert(
            fh,
            OpenFile {
                handle,
                ino,
                append: flags & libc::O_APPEND != 0,
                writable: flags & libc::O_ACCMODE != libc::O_RDONLY,
            },
        );
        fh
    }

    fn open(&mut self, ino: u64, flags: i32) -> Served<u64> {
        let path = self.path_of(ino)?;
        let mode = if flags & libc::O_ACCMODE == libc::O_RDONLY {
            OpenMode::Read
        } else if flags & libc::O_TRUNC != 0 {
            OpenMode::Truncate
        } else {
            OpenMode::Existing
        };
        let r = self.fs.open(&path, mode);
        let handle = self.check(r)?;
        Ok(self.add_file(handle, ino, flags))
    }

    fn create(&mut self, parent: u64, name: &OsStr, flags: i32) -> Served<(FileAttr, u64)> {
        let path = self.child(parent, name)?;
        let mode = if flags & libc::O_EXCL != 0 {
            OpenMode::CreateNew
        } else if flags & libc::O_TRUNC != 0 {
            OpenMode::Truncate
        } else {
            OpenMode::Create
        };
        let r = self.fs.open(&path, mode);
        let handle = self.check(r)?;
        let len = if mode == OpenMode::Create {
            // The name may have appeared since the kernel's lookup.
            let r = self.fs.file_metadata(&handle);
            self.check(r)?.len
        } else {
            0
        };
        let ino = self.inodes.entry(&path, false);
        let fh = self.add_file(handle, ino, flags);
        Ok((attr(ino, false, len, self.owner), fh))
    }

    fn read(&mut self, fh: u64, offset: u64, size: u32) -> Served<Vec<u8>> {
        let mut buf = vec![0u8; size as usize];
        let file = self.file(fh)?;
        let r = self.fs.read_at(&file.handle, offset, &mut buf);
        let n = self.check(r)?;
        buf.truncate(n);
        Ok(buf)
    }

    fn write(&mut self, fh: u64, offset: u64, data: &[u8]) -> Served<u32> {
        let written = u32::try_from(data.len()).map_err(|_| Errno::EINVAL)?;
        let file = self.file(fh)?;
        let r = if file.append {
            self.fs.append(&file.handle, data)
        } else {
            self.fs.write_all_at(&file.handle, offset, data)
        };
        self.check(r)?;
        Ok(written)
    }

    fn release(&mut self, fh: u64) {
        // Without `close_on_release` the handle stays: whether a release has
        // arrived yet is timing, and the table must not depend on it.
        if !self.close_on_release {
            return;
        }
        if let Some(file) = self.files.remove(&fh) {
            // Close errors reach no one: the kernel ignores release's answer.
            let r = self.fs.close(file.handle);
            let _ = self.check(r);
        }
    }

    fn fsync(&mut self, fh: u64, datasync: bool) -> Served<()> {
        let file = self.file(fh)?;
        let r = if datasync {
            self.fs.sync_data(&file.handle)
        } else {
            self.fs.sync(&file.handle)
        };
        self.check(r)
    }

    fn opendir(&mut self, ino: u64) -> Served<u64> {
        match self.inodes.is_dir(ino) {
            None => return Err(Errno::EIO),
            Some(false) => return Err(Errno::ENOTDIR),
            Some(true) => {}
        }
        let fh = self.next_fh;
        self.next_fh += 1;
        self.dirs.insert(fh, None);
        Ok(fh)
    }

    fn readdir(&mut self, ino: u64, fh: u64, offset: u64, mut reply: ReplyDirectory) {
        let listed = match self.dirs.get(&fh) {
            None => Err(Errno::EIO),
            Some(Some(_)) if offset > 0 => Ok(()),
            Some(_) => self.list(ino).map(|entries| {
                self.dirs.insert(fh, Some(entries));
            }),
        };
        if let Err(e) = listed {
            reply.error(e);
            return;
        }
        if let Some(Some(entries)) = self.dirs.get(&fh) {
            let start = usize::try_from(offset).unwrap_or(usize::MAX);
            for (i, e) in entries.iter().enumerate().skip(start) {
                if reply.add(INodeNo(e.ino), i as u64 + 1, e.kind, &e.name) {
                    break;
                }
            }
        }
        reply.ok();
    }

    /// `.`, `..` and the entries of directory `ino` (one `read_dir` step).
    fn list(&mut self, ino: u64) -> Served<Vec<Listed>> {
        let path = self.path_of(ino)?;
        let r = self.fs.read_dir(&path);
        let entries = self.check(r)?;
        let parent = match path.parent() {
            Some(p) => self.inodes.entry(p, true),
            None => ROOT_INO,
        };
        let dir = |ino, name: &str| Listed {
            ino,
            kind: FileType::Directory,
            name: name.into(),
        };
        let mut listed = vec![dir(ino, "."), dir(parent, "..")];
        for e in entries {
            let child = path.join(&e.name);
            listed.push(Listed {
                ino: self.inodes.entry(&child, e.is_dir),
                kind: if e.is_dir {
                    FileType::Directory
                } else {
                    FileType::RegularFile
                },
                name: e.name.into(),
            });
        }
        Ok(listed)
    }

    fn mkdir(&mut self, parent: u64, name: &OsStr) -> Served<FileAttr> {
        let path = self.child(parent, name)?;
        let r = self.fs.create_dir(&path);
        self.check(r)?;
        let ino = self.inodes.entry(&path, true);
        Ok(attr(ino, true, 0, self.owner))
    }

    fn remove(&mut self, parent: u64, name: &OsStr, dir: bool) -> Served<()> {
        let path = self.child(parent, name)?;
        let r = if dir {
            self.fs.remove_dir(&path)
        } else {
            self.fs.remove_file(&path)
        };
        self.check(r)?;
        self.inodes.removed(&path);
        Ok(())
    }

    fn rename(
        &mut self,
        parent: u64,
        name: &OsStr,
        new_parent: u64,
        new_name: &OsStr,
        flags: u32,
    ) -> Served<()> {
        let noreplace = libc::RENAME_NOREPLACE;
        if flags & !noreplace != 0 {
            let op = if flags & libc::RENAME_EXCHANGE != 0 {
                "rename (RENAME_EXCHANGE)"
            } else {
                "rename (RENAME_WHITEOUT or another flag)"
            };
            self.unmodelled.refuse(op, Errno::EINVAL);
            return Err(Errno::EINVAL);
        }
        let from = self.child(parent, name)?;
        let to = self.child(new_parent, new_name)?;
        if flags & noreplace != 0 {
            match self.fs.metadata(&to) {
                Ok(_) => return Err(Errno::EEXIST),
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(self.fail(e)),
            }
        }
        let r = self.fs.rename(&from, &to);
        self.check(r)?;
        self.inodes.renamed(&from, &to);
        Ok(())
    }

    fn link(&mut self, ino: u64, new_parent: u64, new_name: &OsStr) -> Served<FileAttr> {
        let original = self.path_of(ino)?;
        let link = self.child(new_parent, new_name)?;
        let r = self.fs.hard_link(&original, &link);
        self.check(r)?;
        let r = self.fs.metadata(&link);
        let m = self.check(r)?;
        self.inodes.linked(ino, &link);
        Ok(self.attr_of(ino, m))
    }

    fn fallocate(&mut self, fh: u64, offset: u64, length: u64, mode: i32) -> Served<()> {
        if mode != 0 {
            // Keep-size preallocation, punching holes, zeroing, collapsing
            // and inserting ranges have no rule in the model.
            self.unmodelled
                .refuse(fallocate_mode_name(mode), Errno::EOPNOTSUPP);
            return Err(Errno::EOPNOTSUPP);
        }
        let file = self.file(fh)?;
        let r = self.fs.file_metadata(&file.handle);
        let len = self.check(r)?.len;
        let end = offset.saturating_add(length);
        if end > len {
            // Allocation itself is not modelled; the longer file (zeros,
            // durable after fsync) is.
            let file = self.file(fh)?;
            let r = self.fs.set_len(&file.handle, end);
            self.check(r)?;
        }
        Ok(())
    }
}

fn empty(reply: fuser::ReplyEmpty, result: Served<()>) {
    match result {
        Ok(()) => reply.ok(),
        Err(e) => reply.error(e),
    }
}

/// The counter name of an `fallocate` with mode bits set.
fn fallocate_mode_name(mode: i32) -> &'static str {
    if mode & libc::FALLOC_FL_PUNCH_HOLE != 0 {
        "fallocate (FALLOC_FL_PUNCH_HOLE)"
    } else if mode & libc::FALLOC_FL_ZERO_RANGE != 0 {
        "fallocate (FALLOC_FL_ZERO_RANGE)"
    } else if mode & libc::FALLOC_FL_COLLAPSE_RANGE != 0 {
        "fallocate (FALLOC_FL_COLLAPSE_RANGE)"
    } else if mode & libc::FALLOC_FL_INSERT_RANGE != 0 {
        "fallocate (FALLOC_FL_INSERT_RANGE)"
    } else if mode & libc::FALLOC_FL_KEEP_SIZE != 0 {
        "fallocate (FALLOC_FL_KEEP_SIZE)"
    } else {
        "fallocate (another mode)"
    }
}
