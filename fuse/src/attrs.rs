//! The attributes the mount reports: what the model keeps (kind and
//! length) and fixed values for what it does not (times, modes, owner), so
//! that two runs of one program see identical `stat` results.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use fuser::{FileAttr, FileType, INodeNo};

/// Attribute and entry timeout: zero, so the kernel asks again for every
/// lookup and `stat` and every operation reaches the served filesystem.
pub const TTL: Duration = Duration::ZERO;

/// Every timestamp the mount reports (2023-11-14T22:13:20Z): the model
/// keeps no times, and a fixed one keeps runs identical.
pub fn fixed_time() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

/// Who owns every file: the mounting process's user and group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Owner {
    /// User id.
    pub uid: u32,
    /// Group id.
    pub gid: u32,
}

impl Owner {
    /// The effective user and group of this process.
    pub fn current() -> Self {
        Self {
            uid: nix::unistd::geteuid().as_raw(),
            gid: nix::unistd::getegid().as_raw(),
        }
    }
}

/// The attributes of inode `ino`: a directory, or a file of `len_bytes`.
pub fn attr(ino: u64, is_dir: bool, len_bytes: u64, owner: Owner) -> FileAttr {
    let time = fixed_time();
    FileAttr {
        ino: INodeNo(ino),
        size: if is_dir { 0 } else { len_bytes },
        blocks: len_bytes.div_ceil(512),
        atime: time,
        mtime: time,
        ctime: time,
        crtime: time,
        kind: if is_dir {
            FileType::Directory
        } else {
            FileType::RegularFile
        },
        perm: if is_dir { 0o755 } else { 0o644 },
        nlink: if is_dir { 2 } else { 1 },
        uid: owner.uid,
        gid: owner.gid,
        rdev: 0,
        blksize: 4096,
        flags: 0,
    }
}
