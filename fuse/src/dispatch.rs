//! The session side of a mount: `fuser` calls [`Dispatcher`]'s
//! `Filesystem` methods on its own thread; each becomes an [`Op`] handed to
//! the thread that serves the mount now (the one running a program on an
//! attached `Fs`), or answered at once when nothing is attached.
//!
//! The session thread never touches an `Fs`: the serving thread owns the
//! borrowed `&dyn Fs` for exactly as long as it serves, so no filesystem
//! outlives its run and the order of steps is the order the requests came.

use std::ffi::OsStr;
use std::path::Path;
use std::sync::mpsc::{Receiver, Sender};

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::SystemTime;

use fuser::{
    AccessFlags, BsdFileFlags, Errno, FileHandle, Filesystem, FopenFlags, INodeNo, InitFlags,
    IoctlFlags, KernelConfig, LockOwner, OpenFlags, RenameFlags, ReplyAttr, ReplyCreate, ReplyData,
    ReplyDirectory, ReplyEmpty, ReplyEntry, ReplyIoctl, ReplyOpen, ReplyStatfs, ReplyWrite,
    ReplyXattr, Request, TimeOrNow, WriteFlags,
};

use crate::attrs::Owner;
use crate::request::Op;

/// What reaches the serving thread: a request, or word that the program
/// it runs has ended.
pub enum Event {
    /// A FUSE request, and the process (or thread) id that made it.
    Request {
        /// The request.
        op: Op,
        /// Who asked.
        pid: u32,
    },
    /// The program's process ended (not yet reaped).
    ProgramEnded,
    /// A line from the control socket of a standalone mount, and where its
    /// answer goes.
    Control {
        /// The command line, without its newline.
        line: String,
        /// Where the answer (lines, the last `ok ...` or `error ...`) goes.
        reply: Sender<String>,
        /// Told once the answer is written to the connection: a `quit`
        /// waits for it, so the answer reaches the client before the
        /// process exits.
        written: Receiver<()>,
    },
    /// Stop serving (a standalone mount's owner is done).
    Stop,
}

/// What the session thread and the serving thread share.
pub struct Shared {
    /// Where the attached run's requests go, if a run is attached.
    slot: Mutex<Option<Sender<Event>>>,
    /// Who owns every file.
    pub owner: Owner,
}

impl Shared {
    /// Nothing attached yet.
    pub fn new(owner: Owner) -> Self {
        Self {
            slot: Mutex::new(None),
            owner,
        }
    }

    /// The slot, locked. A panic while it was held leaves a valid
    /// `Option`, so a poisoned lock is used as is.
    pub fn slot(&self) -> MutexGuard<'_, Option<Sender<Event>>> {
        self.slot.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Hands `op` to the attached run, or answers it detached. Sends under
    /// the lock, so once a run has detached (taking the lock) and drained
    /// its channel no request of its time can still arrive there.
    fn forward(&self, req: &Request, op: Op) {
        let slot = self.slot();
        let event = Event::Request { op, pid: req.pid() };
        let unsent = match &*slot {
            Some(tx) => tx.send(event).err().map(|e| e.0),
            None => Some(event),
        };
        drop(slot);
        if let Some(Event::Request { op, .. }) = unsent {
            op.answer_detached(self.owner);
        }
    }
}

/// The `fuser::Filesystem` of every crashproof mount.
pub struct Dispatcher {
    shared: Arc<Shared>,
}

impl Dispatcher {
    /// A dispatcher forwarding to `shared`'s slot.
    pub fn new(shared: Arc<Shared>) -> Self {
        Self { shared }
    }

    fn refuse(
        &self,
        req: &Request,
        op: &'static str,
        errno: Errno,
        reply: impl FnOnce(Errno) + Send + 'static,
    ) {
        self.shared.forward(
            req,
            Op::Refused {
                op,
                errno,
                reply: Box::new(reply),
            },
        );
    }
}

fn owned(name: &OsStr) -> std::ffi::OsString {
    name.to_os_string()
}

impl Filesystem for Dispatcher {
    fn init(&mut self, _req: &Request, config: &mut KernelConfig) -> std::io::Result<()> {
        // `open(O_TRUNC)` as one request (one step) instead of open then
        // setattr, where the kernel supports it. Locks (POSIX and flock) are
        // not asked for: the kernel keeps them itself, between the
        // processes of one run, and they hold nothing durable.
        let _ = config.add_capabilities(InitFlags::FUSE_ATOMIC_O_TRUNC);
        Ok(())
    }

    fn lookup(&self, req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEntry) {
        self.shared.forward(
            req,
            Op::Lookup {
                parent: parent.0,
                name: owned(name),
                reply,
            },
        );
    }

    fn getattr(&self, req: &Request, ino: INodeNo, fh: Option<FileHandle>, reply: ReplyAttr) {
        self.shared.forward(
            req,
            Op::GetAttr {
                ino: ino.0,
                fh: fh.map(|f| f.0),
                reply,
            },
        );
    }

    fn setattr(
        &self,
        req: &Request,
        ino: INodeNo,
        mode: Option<u32>,
        uid: Option<u32>,
        gid: Option<u32>,
        size: Option<u64>,
        atime: Option<TimeOrNow>,
        mtime: Option<TimeOrNow>,
        ctime: Option<SystemTime>,
        fh: Option<FileHandle>,
        _crtime: Option<SystemTime>,
        _chgtime: Option<SystemTime>,
        _bkuptime: Option<SystemTime>,
        _flags: Option<BsdFileFlags>,
        reply: ReplyAttr,
    ) {
        let other = mode.is_some()
            || uid.is_some()
            || gid.is_some()
            || atime.is_some()
            || mtime.is_some()
            || ctime.is_some();
        self.shared.forward(
            req,
            Op::SetAttr {
                ino: ino.0,
                size,
                fh: fh.map(|f| f.0),
                other,
                reply,
            },
        );
    }

    fn readlink(&self, _req: &Request, _ino: INodeNo, reply: ReplyData) {
        // No symlink can exist here.
        reply.error(Errno::EINVAL);
    }

    fn mknod(
        &self,
        req: &Request,
        _parent: INodeNo,
        _name: &OsStr,
        _mode: u32,
        _umask: u32,
        _rdev: u32,
        reply: ReplyEntry,
    ) {
        // Regular files come through `create`; FIFOs, sockets and devices
        // have no rule in the model.
        self.refuse(req, "mknod", Errno::EPERM, move |e| reply.error(e));
    }

    fn mkdir(
        &self,
        req: &Request,
        parent: INodeNo,
        name: &OsStr,
        _mode: u32,
        _umask: u32,
        reply: ReplyEntry,
    ) {
        self.shared.forward(
            req,
            Op::Mkdir {
                parent: parent.0,
                name: owned(name),
                reply,
            },
        );
    }

    fn unlink(&self, req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        self.shared.forward(
            req,
            Op::Unlink {
                parent: parent.0,
                name: owned(name),
                reply,
            },
        );
    }

    fn rmdir(&self, req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        self.shared.forward(
            req,
            Op::Rmdir {
                parent: parent.0,
                name: owned(name),
                reply,
            },
        );
    }

    fn symlink(
        &self,
        req: &Request,
        _parent: INodeNo,
        _link_name: &OsStr,
        _target: &Path,
        reply: ReplyEntry,
    ) {
        self.refuse(req, "symlink", Errno::EPERM, move |e| reply.error(e));
    }

    fn rename(
        &self,
        req: &Request,
        parent: INodeNo,
        name: &OsStr,
        newparent: INodeNo,
        newname: &OsStr,
        flags: RenameFlags,
        reply: ReplyEmpty,
    ) {
        self.shared.forward(
            req,
            Op::Rename {
                parent: parent.0,
                name: owned(name),
                new_parent: newparent.0,
                new_name: owned(newname),
                flags: flags.bits(),
                reply,
            },
        );
    }

    fn link(
        &self,
        req: &Request,
        ino: INodeNo,
        newparent: INodeNo,
        newname: &OsStr,
        reply: ReplyEntry,
    ) {
        self.shared.forward(
            req,
            Op::Link {
                ino: ino.0,
                new_parent: newparent.0,
                new_name: owned(newname),
                reply,
            },
        );
    }

    fn open(&self, req: &Request, ino: INodeNo, flags: OpenFlags, reply: ReplyOpen) {
        self.shared.forward(
            req,
            Op::Open {
                ino: ino.0,
                flags: flags.0,
                reply,
            },
        );
    }

    fn read(
        &self,
        req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        offset: u64,
        size: u32,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyData,
    ) {
        self.shared.forward(
            req,
            Op::Read {
                fh: fh.0,
                offset,
                size,
                reply,
            },
        );
    }

    fn write(
        &self,
        req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        offset: u64,
        data: &[u8],
        _write_flags: WriteFlags,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyWrite,
    ) {
        self.shared.forward(
            req,
            Op::Write {
                fh: fh.0,
                offset,
                data: data.to_vec(),
                reply,
            },
        );
    }

    fn flush(
        &self,
        req: &Request,
        _ino: INodeNo,
        _fh: FileHandle,
        _lock_owner: LockOwner,
        reply: ReplyEmpty,
    ) {
        self.shared.forward(req, Op::Flush { reply });
    }

    fn release(
        &self,
        req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        _flush: bool,
        reply: ReplyEmpty,
    ) {
        self.shared.forward(req, Op::Release { fh: fh.0, reply });
    }

    fn fsync(
        &self,
        req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        datasync: bool,
        reply: ReplyEmpty,
    ) {
        self.shared.forward(
            req,
            Op::Fsync {
                fh: fh.0,
                datasync,
                reply,
            },
        );
    }

    fn opendir(&self, req: &Request, ino: INodeNo, _flags: OpenFlags, reply: ReplyOpen) {
        self.shared.forward(req, Op::OpenDir { ino: ino.0, reply });
    }

    fn readdir(
        &self,
        req: &Request,
        ino: INodeNo,
        fh: FileHandle,
        offset: u64,
        reply: ReplyDirectory,
    ) {
        self.shared.forward(
            req,
            Op::ReadDir {
                ino: ino.0,
                fh: fh.0,
                offset,
                reply,
            },
        );
    }

    fn releasedir(
        &self,
        req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        _flags: OpenFlags,
        reply: ReplyEmpty,
    ) {
        self.shared.forward(req, Op::ReleaseDir { fh: fh.0, reply });
    }

    fn fsyncdir(
        &self,
        req: &Request,
        ino: INodeNo,
        _fh: FileHandle,
        _datasync: bool,
        reply: ReplyEmpty,
    ) {
        self.shared.forward(req, Op::FsyncDir { ino: ino.0, reply });
    }

    fn statfs(&self, req: &Request, _ino: INodeNo, reply: ReplyStatfs) {
        self.shared.forward(req, Op::Statfs { reply });
    }

    fn setxattr(
        &self,
        req: &Request,
        _ino: INodeNo,
        _name: &OsStr,
        _value: &[u8],
        _flags: i32,
        _position: u32,
        reply: ReplyEmpty,
    ) {
        self.refuse(req, "setxattr", Errno::EOPNOTSUPP, move |e| reply.error(e));
    }

    fn getxattr(
        &self,
        _req: &Request,
        _ino: INodeNo,
        _name: &OsStr,
        _size: u32,
        reply: ReplyXattr,
    ) {
        // No file has an extended attribute (none can be set): a truthful
        // answer, which loses nothing, so it is not counted.
        reply.error(Errno::from_i32(libc::ENODATA));
    }

    fn listxattr(&self, _req: &Request, _ino: INodeNo, size: u32, reply: ReplyXattr) {
        if size == 0 {
            reply.size(0);
        } else {
            reply.data(&[]);
        }
    }

    fn removexattr(&self, _req: &Request, _ino: INodeNo, _name: &OsStr, reply: ReplyEmpty) {
        reply.error(Errno::from_i32(libc::ENODATA));
    }

    fn access(&self, _req: &Request, _ino: INodeNo, _mask: AccessFlags, reply: ReplyEmpty) {
        // ENOSYS: the kernel stops asking and grants access (every file is
        // the owner's), so `access(2)` is never a step.
        reply.error(Errno::ENOSYS);
    }

    fn create(
        &self,
        req: &Request,
        parent: INodeNo,
        name: &OsStr,
        _mode: u32,
        _umask: u32,
        flags: i32,
        reply: ReplyCreate,
    ) {
        self.shared.forward(
            req,
            Op::Create {
                parent: parent.0,
                name: owned(name),
                flags,
                reply,
            },
        );
    }

    fn ioctl(
        &self,
        req: &Request,
        _ino: INodeNo,
        _fh: FileHandle,
        _flags: IoctlFlags,
        cmd: u32,
        _in_data: &[u8],
        _out_size: u32,
        reply: ReplyIoctl,
    ) {
        // `isatty(3)` asks TCGETS of every file (Python does on each
        // `open`): "not a terminal" is the truth and loses nothing. Any
        // other ioctl (reflink clones, inode flags) has no rule: counted.
        if u64::from(cmd) == libc::TCGETS {
            reply.error(Errno::from_i32(libc::ENOTTY));
            return;
        }
        self.refuse(req, "ioctl", Errno::from_i32(libc::ENOTTY), move |e| {
            reply.error(e);
        });
    }

    fn fallocate(
        &self,
        req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        offset: u64,
        length: u64,
        mode: i32,
        reply: ReplyEmpty,
    ) {
        self.shared.forward(
            req,
            Op::Fallocate {
                fh: fh.0,
                offset,
                length,
                mode,
                reply,
            },
        );
    }
}

/// The flags every open file gets: `direct_io`, so every read and write
/// reaches the served filesystem (no page cache in between, and so no
/// writeback the program did not ask for), and no `flush` request on
/// `close` (it would do nothing).
pub fn open_flags() -> FopenFlags {
    FopenFlags::FOPEN_DIRECT_IO | FopenFlags::FOPEN_NOFLUSH
}
