//! One FUSE request as a value: the operation's arguments and the reply
//! object the kernel waits on. The session thread turns each call of
//! `fuser::Filesystem` into an [`Op`] and hands it to whoever serves the
//! mount now (`dispatch.rs`); the serving thread answers it (`server.rs`).
//! A reply dropped unanswered tells the kernel `EIO`.

use std::ffi::OsString;

use fuser::{
    Errno, ReplyAttr, ReplyCreate, ReplyData, ReplyDirectory, ReplyEmpty, ReplyEntry, ReplyOpen,
    ReplyStatfs, ReplyWrite,
};

use crate::attrs::{Owner, TTL, attr};
use crate::inodes::ROOT_INO;

/// Answers a request the model refuses with an errno.
pub type ErrorReply = Box<dyn FnOnce(Errno) + Send>;

/// A FUSE request with its reply.
pub enum Op {
    /// Look a name up in a directory (`stat`, every path walk).
    Lookup {
        /// The directory's inode.
        parent: u64,
        /// The name.
        name: OsString,
        /// Where the entry goes.
        reply: ReplyEntry,
    },
    /// Attributes of an inode (`stat`, `fstat`).
    GetAttr {
        /// The inode.
        ino: u64,
        /// The open file it was asked through, if the kernel said.
        fh: Option<u64>,
        /// Where the attributes go.
        reply: ReplyAttr,
    },
    /// Change attributes: the size (`truncate`, `ftruncate`) is modelled;
    /// mode, owner and times are not.
    SetAttr {
        /// The inode.
        ino: u64,
        /// The new length, if asked.
        size: Option<u64>,
        /// The open file it was asked through, if any.
        fh: Option<u64>,
        /// Whether mode, owner or times were asked too (accepted, not kept).
        other: bool,
        /// Where the attributes go.
        reply: ReplyAttr,
    },
    /// Open an existing file.
    Open {
        /// The inode.
        ino: u64,
        /// `open(2)` flags (without `O_CREAT`, `O_EXCL`).
        flags: i32,
        /// Where the handle goes.
        reply: ReplyOpen,
    },
    /// Create and open a file (`open` with `O_CREAT` of a missing name).
    Create {
        /// The directory's inode.
        parent: u64,
        /// The name.
        name: OsString,
        /// `open(2)` flags.
        flags: i32,
        /// Where the entry and handle go.
        reply: ReplyCreate,
    },
    /// `pread` through an open file.
    Read {
        /// The open file.
        fh: u64,
        /// Where.
        offset: u64,
        /// How many bytes at most.
        size: u32,
        /// Where the bytes go.
        reply: ReplyData,
    },
    /// `pwrite` through an open file.
    Write {
        /// The open file.
        fh: u64,
        /// Where (ignored for a file opened with `O_APPEND`).
        offset: u64,
        /// The bytes.
        data: Vec<u8>,
        /// Where the count goes.
        reply: ReplyWrite,
    },
    /// `close(2)` of one descriptor: nothing to do (not durable).
    Flush {
        /// Answered `Ok`.
        reply: ReplyEmpty,
    },
    /// The last descriptor of an open file is gone.
    Release {
        /// The open file.
        fh: u64,
        /// Answered `Ok`.
        reply: ReplyEmpty,
    },
    /// `fsync` / `fdatasync`.
    Fsync {
        /// The open file.
        fh: u64,
        /// `fdatasync`.
        datasync: bool,
        /// Where the verdict goes.
        reply: ReplyEmpty,
    },
    /// Open a directory for listing.
    OpenDir {
        /// The directory.
        ino: u64,
        /// Where the handle goes.
        reply: ReplyOpen,
    },
    /// List a directory from an offset.
    ReadDir {
        /// The directory.
        ino: u64,
        /// The open directory.
        fh: u64,
        /// Entries already returned.
        offset: u64,
        /// Where the entries go.
        reply: ReplyDirectory,
    },
    /// The directory listing is closed.
    ReleaseDir {
        /// The open directory.
        fh: u64,
        /// Answered `Ok`.
        reply: ReplyEmpty,
    },
    /// `fsync` of a directory.
    FsyncDir {
        /// The directory.
        ino: u64,
        /// Where the verdict goes.
        reply: ReplyEmpty,
    },
    /// `mkdir`.
    Mkdir {
        /// The parent's inode.
        parent: u64,
        /// The name.
        name: OsString,
        /// Where the entry goes.
        reply: ReplyEntry,
    },
    /// `unlink`.
    Unlink {
        /// The parent's inode.
        parent: u64,
        /// The name.
        name: OsString,
        /// Where the verdict goes.
        reply: ReplyEmpty,
    },
    /// `rmdir`.
    Rmdir {
        /// The parent's inode.
        parent: u64,
        /// The name.
        name: OsString,
        /// Where the verdict goes.
        reply: ReplyEmpty,
    },
    /// `rename` / `renameat2`.
    Rename {
        /// The source directory.
        parent: u64,
        /// The source name.
        name: OsString,
        /// The target directory.
        new_parent: u64,
        /// The target name.
        new_name: OsString,
        /// `renameat2` flags.
        flags: u32,
        /// Where the verdict goes.
        reply: ReplyEmpty,
    },
    /// `link`.
    Link {
        /// The file.
        ino: u64,
        /// The new name's directory.
        new_parent: u64,
        /// The new name.
        new_name: OsString,
        /// Where the entry goes.
        reply: ReplyEntry,
    },
    /// `statfs`.
    Statfs {
        /// Where the numbers go.
        reply: ReplyStatfs,
    },
    /// `fallocate`.
    Fallocate {
        /// The open file.
        fh: u64,
        /// Start of the range.
        offset: u64,
        /// Length of the range.
        length: u64,
        /// `fallocate` mode bits (0: allocate, may extend the file).
        mode: i32,
        /// Where the verdict goes.
        reply: ReplyEmpty,
    },
    /// An operation the model has no rule for: refused with `errno` and
    /// counted under `op`.
    Refused {
        /// The operation's name (`symlink`, `setxattr`, ...).
        op: &'static str,
        /// The errno the program gets.
        errno: Errno,
        /// Where the errno goes.
        reply: ErrorReply,
    },
}

impl Op {
    /// Answers the request without a served filesystem (no run attached,
    /// or the run is over): `EIO`, except what needs no filesystem (closing
    /// files, the root's attributes, `statfs`) and refused operations,
    /// which keep their errno.
    pub fn answer_detached(self, owner: Owner) {
        match self {
            Op::Flush { reply } | Op::Release { reply, .. } | Op::ReleaseDir { reply, .. } => {
                reply.ok();
            }
            Op::GetAttr { ino, reply, .. } if ino == ROOT_INO => {
                reply.attr(&TTL, &attr(ROOT_INO, true, 0, owner));
            }
            Op::Statfs { reply } => statfs(reply),
            Op::Refused { errno, reply, .. } => reply(errno),
            // Every other reply object answers EIO when dropped.
            _ => {}
        }
    }
}

/// The block size the mount reports.
const BLOCK_SIZE_BYTES: u32 = 4096;
/// Blocks the mount reports in all and free (1 TiB): the model has no
/// capacity unless a fault sets one.
const BLOCKS: u64 = (1 << 40) / BLOCK_SIZE_BYTES as u64;
/// Inodes the mount reports in all and free.
const FILES: u64 = 1 << 32;
/// The longest name.
const NAME_LEN_MAX: u32 = 255;

/// Fixed `statfs` numbers: nothing the model keeps.
pub fn statfs(reply: ReplyStatfs) {
    reply.statfs(
        BLOCKS,
        BLOCKS,
        BLOCKS,
        FILES,
        FILES,
        BLOCK_SIZE_BYTES,
        NAME_LEN_MAX,
        BLOCK_SIZE_BYTES,
    );
}
