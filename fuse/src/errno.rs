//! The errno a program sees for an `Fs` error.
//!
//! `SimFs` errors carry the `io::ErrorKind` `StdFs` gives on Linux (and the
//! raw errno where one exists, such as `EBADF`); the simulator's `Crashed`
//! error and its injected faults become `EIO`, as a dead disk answers.

use std::io::{self, ErrorKind};

use crashproof_sim::is_crashed;
use fuser::Errno;

/// The errno for `e`: its raw OS error if it has one, `EIO` for a crash or
/// an injected fault, else the errno Linux uses for its kind.
pub fn errno_of(e: &io::Error) -> Errno {
    if is_crashed(e) {
        return Errno::EIO;
    }
    if let Some(raw) = raw_os_error_in_chain(e) {
        return Errno::from_i32(raw);
    }
    Errno::from_i32(match e.kind() {
        ErrorKind::NotFound => libc::ENOENT,
        ErrorKind::AlreadyExists => libc::EEXIST,
        ErrorKind::NotADirectory => libc::ENOTDIR,
        ErrorKind::IsADirectory => libc::EISDIR,
        ErrorKind::DirectoryNotEmpty => libc::ENOTEMPTY,
        ErrorKind::InvalidInput => libc::EINVAL,
        ErrorKind::PermissionDenied => libc::EPERM,
        ErrorKind::WouldBlock => libc::EAGAIN,
        ErrorKind::StorageFull => libc::ENOSPC,
        ErrorKind::FileTooLarge => libc::EFBIG,
        ErrorKind::ResourceBusy => libc::EBUSY,
        ErrorKind::Unsupported => libc::EOPNOTSUPP,
        ErrorKind::InvalidFilename => libc::ENAMETOOLONG,
        ErrorKind::CrossesDevices => libc::EXDEV,
        // Injected faults (sync EIO, short writes) and anything else: the
        // disk failed the operation.
        _ => libc::EIO,
    })
}

/// The first raw OS error in `e` or in the `io::Error`s its sources wrap
/// (`SimFs` wraps the raw error in an `FsOpError` naming op and path).
fn raw_os_error_in_chain(e: &io::Error) -> Option<i32> {
    if let Some(raw) = e.raw_os_error() {
        return Some(raw);
    }
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<io::Error>()
            && let Some(raw) = io.raw_os_error()
        {
            return Some(raw);
        }
        source = s.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crashproof_core::fs::{Fs, OpenMode};
    use crashproof_sim::SimFs;

    use super::*;

    #[test]
    fn simulator_errors_become_the_errno_linux_gives() {
        let fs = SimFs::default();
        let missing = fs.metadata(Path::new("/nope")).err();
        assert_eq!(missing.map(|e| errno_of(&e)), Some(Errno::ENOENT));
        fs.create_dir(Path::new("/d")).ok();
        let exists = fs.create_dir(Path::new("/d")).err();
        assert_eq!(exists.map(|e| errno_of(&e)), Some(Errno::EEXIST));
        let dir = fs.open(Path::new("/d"), OpenMode::Existing).err();
        assert_eq!(dir.map(|e| errno_of(&e)), Some(Errno::EISDIR));
        // EBADF is carried as a raw OS error inside the FsOpError.
        let file = fs.open(Path::new("/f"), OpenMode::Create);
        assert!(file.is_ok());
        let ro = fs.open(Path::new("/f"), OpenMode::Read);
        let write = ro.ok().and_then(|h| fs.write_all_at(&h, 0, b"x").err());
        assert_eq!(write.map(|e| errno_of(&e)), Some(Errno::EBADF));
        fs.crash_now();
        let crashed = fs.metadata(Path::new("/d")).err();
        assert_eq!(crashed.map(|e| errno_of(&e)), Some(Errno::EIO));
    }
}
