//! A live FUSE mount of the [`Dispatcher`], unmounted on every path.
//!
//! [`Mount::new`] mounts (with `fuser`'s pure-Rust mount: root and
//! `/dev/fuse`, no libfuse) and returns once the kernel's handshake is
//! done. A run attaches (`Mount::attach`) to serve requests on its own thread and
//! detaches when its guard drops (also on a panic). Dropping the mount
//! unmounts it; if the plain unmount fails (a process still inside) or
//! hangs, a lazy unmount (`umount2(MNT_DETACH)`) takes it out of the
//! namespace at once, so no mount outlives its owner. Every wait here has a
//! timeout.

use std::ffi::OsString;
use std::fs::OpenOptions;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread;
use std::time::Duration;

use fuser::{BackgroundSession, INodeNo, MountOption, Notifier, SessionACL};
use nix::mount::{MntFlags, umount2};

use crate::attrs::Owner;
use crate::dispatch::{Dispatcher, Event, Shared};

/// How long an unmount (and the session thread's end) may take before the
/// lazy unmount is used.
const UNMOUNT_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a mount could not be made, used or removed.
#[derive(Debug, thiserror::Error)]
pub enum MountError {
    /// FUSE cannot be used on this machine.
    #[error(
        "FUSE is not available: {0} (crashproof's mounts need root and the fuse kernel module's \
         /dev/fuse; on a machine without them the simulator still runs in-process, only the \
         mount-based commands and tests cannot)"
    )]
    Unavailable(String),
    /// The mount system call or the handshake failed.
    #[error("cannot mount a crashproof filesystem on {dir}: {source}")]
    Mount {
        /// The mount point.
        dir: PathBuf,
        /// What failed.
        source: io::Error,
    },
    /// The mount is still there after a plain and a lazy unmount.
    #[error("cannot unmount {dir}: {reason} (remove it with `umount -l {dir}`)")]
    Unmount {
        /// The mount point.
        dir: PathBuf,
        /// What failed.
        reason: String,
    },
    /// A second run tried to attach to a mount already serving one.
    #[error("the mount {0} already serves a run")]
    Busy(PathBuf),
    /// The private directory for mount points could not be made.
    #[error("cannot create a private directory for mount points: {0}")]
    Dir(io::Error),
}

/// Checks that this process can mount: `/dev/fuse` opens for reading and
/// writing, and the process is root (the pure-Rust mount calls `mount(2)`
/// itself; there is no setuid helper to fall back to).
pub fn fuse_available() -> Result<(), MountError> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/fuse")
        .map_err(|e| MountError::Unavailable(format!("cannot open /dev/fuse: {e}")))?;
    if !nix::unistd::geteuid().is_root() {
        return Err(MountError::Unavailable(
            "this process is not root, and mount(2) of a FUSE filesystem needs it".to_string(),
        ));
    }
    Ok(())
}

/// A mounted crashproof filesystem.
pub struct Mount {
    dir: PathBuf,
    shared: Arc<Shared>,
    next_ino: Arc<AtomicU64>,
    session: Option<BackgroundSession>,
    notifier: Notifier,
}

impl std::fmt::Debug for Mount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mount")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl Mount {
    /// Mounts on the existing directory `dir` (only this user may enter it
    /// unless `allow_other`). Serves nothing until a run attaches: every
    /// request but the root's attributes and `statfs` gets `EIO`.
    pub fn new(dir: &Path, allow_other: bool) -> Result<Mount, MountError> {
        fuse_available()?;
        let mount_error = |source| MountError::Mount {
            dir: dir.to_path_buf(),
            source,
        };
        let dir = dir.canonicalize().map_err(mount_error)?;
        let shared = Arc::new(Shared::new(Owner::current()));
        let mut config = fuser::Config::default();
        config.mount_options = vec![
            MountOption::FSName("crashproof".to_string()),
            MountOption::Subtype("crashproof".to_string()),
            MountOption::NoDev,
            MountOption::NoSuid,
        ];
        config.acl = if allow_other {
            SessionACL::All
        } else {
            SessionACL::Owner
        };
        let session = fuser::spawn_mount(Dispatcher::new(Arc::clone(&shared)), &dir, &config)
            .map_err(|source| MountError::Mount {
                dir: dir.clone(),
                source,
            })?;
        let notifier = session.notifier();
        Ok(Mount {
            dir,
            shared,
            next_ino: Arc::new(AtomicU64::new(0)),
            session: Some(session),
            notifier,
        })
    }

    /// The mount point (canonical).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The mount's inode counter (never reused across runs).
    pub(crate) fn next_ino(&self) -> Arc<AtomicU64> {
        Arc::clone(&self.next_ino)
    }

    /// Who owns every file on this mount.
    pub(crate) fn owner(&self) -> Owner {
        self.shared.owner
    }

    /// Drops the kernel's cached dentries (positive and negative) for
    /// `names`, so the next run starts from the same cold cache as the
    /// first: otherwise a name cached by an earlier run makes the kernel
    /// ask twice (revalidate, then look up), and the same program would
    /// make different steps on its second run. Names the kernel does not
    /// hold are skipped (the kernel answers ENOENT).
    pub(crate) fn forget_names<'n>(&self, names: impl IntoIterator<Item = &'n (u64, OsString)>) {
        for (parent, name) in names {
            let _ = self.notifier.inval_entry(INodeNo(*parent), name);
        }
    }

    /// Starts serving: every request goes to the returned attachment's
    /// channel until it drops.
    pub(crate) fn attach(&self) -> Result<Attachment<'_>, MountError> {
        let (tx, rx) = mpsc::channel();
        let mut slot = self.shared.slot();
        if slot.is_some() {
            return Err(MountError::Busy(self.dir.clone()));
        }
        *slot = Some(tx.clone());
        Ok(Attachment {
            mount: self,
            rx,
            tx,
        })
    }

    /// Unmounts now (what dropping does), reporting a mount that stays.
    pub fn unmount(mut self) -> Result<(), MountError> {
        self.unmount_inner()
    }

    fn unmount_inner(&mut self) -> Result<(), MountError> {
        let Some(session) = self.session.take() else {
            return Ok(());
        };
        // Detach whatever is attached: its requests get EIO from now on.
        self.shared.slot().take();
        let (done_tx, done_rx) = mpsc::channel();
        let unmounting = thread::Builder::new()
            .name("crashproof-unmount".to_string())
            .spawn(move || {
                let _ = done_tx.send(session.umount_and_join());
            });
        let unmounted = match unmounting {
            Ok(_) => matches!(done_rx.recv_timeout(UNMOUNT_TIMEOUT), Ok(Ok(()))),
            Err(_) => false,
        };
        if unmounted && !is_mounted(&self.dir) {
            return Ok(());
        }
        // A process still inside (EBUSY) or a wedged session: detach the
        // mount from the namespace now; the kernel ends it when unused.
        lazy_unmount(&self.dir);
        if is_mounted(&self.dir) {
            return Err(MountError::Unmount {
                dir: self.dir.clone(),
                reason: "still mounted after umount2(MNT_DETACH)".to_string(),
            });
        }
        Ok(())
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        // Drop cannot report; `Mount::unmount` does. The lazy unmount in
        // `unmount_inner` makes a remaining mount unlikely, and tests check
        // `/proc/self/mountinfo` for it.
        let _ = self.unmount_inner();
    }
}

/// `umount2(dir, MNT_DETACH)`, errors ignored (the caller checks).
pub fn lazy_unmount(dir: &Path) {
    let _ = umount2(dir, MntFlags::MNT_DETACH);
}

/// A run serving a mount: requests arrive on [`Attachment::events`] until
/// it drops, which detaches the run and answers every request still queued
/// with `EIO` (closing ones with `Ok`).
pub(crate) struct Attachment<'m> {
    mount: &'m Mount,
    rx: Receiver<Event>,
    tx: Sender<Event>,
}

impl Attachment<'_> {
    /// Where requests (and the program's end) arrive.
    pub(crate) fn events(&self) -> &Receiver<Event> {
        &self.rx
    }

    /// A sender for other events (the program's end) on the same channel.
    pub(crate) fn sender(&self) -> Sender<Event> {
        self.tx.clone()
    }

    /// Answers `op` as if nothing were attached (a stranger's request).
    pub(crate) fn refuse(&self, op: crate::request::Op) {
        op.answer_detached(self.mount.shared.owner);
    }
}

impl Drop for Attachment<'_> {
    fn drop(&mut self) {
        // Under the lock no request can be sent here any more; then answer
        // what is queued.
        self.mount.shared.slot().take();
        while let Ok(event) = self.rx.try_recv() {
            if let Event::Request { op, .. } = event {
                op.answer_detached(self.mount.shared.owner);
            }
        }
    }
}

/// Whether `dir` is a mount point now (`/proc/self/mountinfo`).
pub fn is_mounted(dir: &Path) -> bool {
    mount_points().is_ok_and(|points| points.iter().any(|p| p == dir))
}

/// Every mount point at or under `dir` (`/proc/self/mountinfo`): what a
/// test checks is empty once its mounts are gone.
pub fn mounts_under(dir: &Path) -> io::Result<Vec<PathBuf>> {
    Ok(mount_points()?
        .into_iter()
        .filter(|p| p.starts_with(dir))
        .collect())
}

/// The mount points of this process's namespace.
fn mount_points() -> io::Result<Vec<PathBuf>> {
    let text = std::fs::read_to_string("/proc/self/mountinfo")?;
    Ok(text
        .lines()
        .filter_map(|line| line.split(' ').nth(4))
        .map(|field| PathBuf::from(unescape(field)))
        .collect())
}

/// Undoes mountinfo's octal escapes (`\040` for a space, ...).
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes
            .get(i + 1..i + 4)
            .filter(|d| bytes[i] == b'\\' && d.iter().all(|b| (b'0'..=b'7').contains(b)));
        match octal {
            Some(d) => {
                let value = d.iter().fold(0u32, |v, b| v * 8 + u32::from(b - b'0'));
                out.push(u8::try_from(value).unwrap_or(b'?'));
                i += 4;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mountinfo_escapes_are_undone() {
        assert_eq!(unescape(r"/tmp/a\040b\134c"), r"/tmp/a b\c");
        assert_eq!(unescape("/plain"), "/plain");
        assert_eq!(unescape(r"/odd\04"), r"/odd\04");
    }
}
