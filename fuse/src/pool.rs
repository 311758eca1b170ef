//! Mounts reused across runs: one per thread that runs a program at a
//! time, so a case costs a process start, not a mount.

use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, Sender, SyncSender, channel, sync_channel};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tempfile::TempDir;

use crate::cleanup::Cleanup;
use crate::mount::{Mount, MountError};

/// A private directory (mode 0700) of mount points and the idle mounts in
/// it. A run takes a mount ([`MountPool::take`]) and gives it back when the
/// guard drops; a new one is mounted when none is idle. Dropping the pool
/// unmounts them all.
///
/// New mounts are made by the pool's own thread, started with the pool:
/// the explorer runs a workload on threads the kernel (Landlock) forbids to
/// write the real disk or call `mount(2)`, so a run that finds no idle
/// mount asks that thread, which was not started by the explorer and is
/// free to mount.
pub struct MountPool {
    idle: Mutex<Vec<Mount>>,
    made: Mutex<usize>,
    mounter: Mutex<Sender<MountRequest>>,
    cleanup: Cleanup,
    // Declared last: dropped after the mounts in it are unmounted.
    base: TempDir,
}

impl std::fmt::Debug for MountPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MountPool")
            .field("base", &self.base.path())
            .finish_non_exhaustive()
    }
}

impl MountPool {
    /// An empty pool in a new private directory under the system temp
    /// directory; mounts and program groups are registered in `cleanup`.
    pub fn new(cleanup: Cleanup) -> Result<Self, MountError> {
        crate::mount::fuse_available()?;
        let base = tempfile::Builder::new()
            .prefix("crashproof-mounts-")
            .tempdir()
            .map_err(MountError::Dir)?;
        let (mounter, requests) = channel();
        std::thread::Builder::new()
            .name("crashproof-mounter".to_string())
            .spawn(move || serve_mount_requests(&requests))
            .map_err(MountError::Dir)?;
        Ok(Self {
            idle: Mutex::new(Vec::new()),
            made: Mutex::new(0),
            mounter: Mutex::new(mounter),
            cleanup,
            base,
        })
    }

    /// The private directory holding the mount points.
    pub fn base(&self) -> &Path {
        self.base.path()
    }

    /// Where to register program groups.
    pub fn cleanup(&self) -> &Cleanup {
        &self.cleanup
    }

    fn idle(&self) -> MutexGuard<'_, Vec<Mount>> {
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// An idle mount, or a new one.
    pub fn take(&self) -> Result<Pooled<'_>, MountError> {
        if let Some(mount) = self.idle().pop() {
            return Ok(Pooled {
                pool: self,
                mount: Some(mount),
            });
        }
        let n = {
            let mut made = self.made.lock().unwrap_or_else(PoisonError::into_inner);
            *made += 1;
            *made
        };
        let dir = self.base.path().join(format!("mount-{n}"));
        let mount = self.mount_on_pool_thread(dir)?;
        self.cleanup.mounted(mount.dir());
        Ok(Pooled {
            pool: self,
            mount: Some(mount),
        })
    }

    /// Creates `dir` and mounts on it, on the pool's own thread (see the
    /// type's docs), waiting at most [`MOUNT_TIMEOUT`].
    fn mount_on_pool_thread(&self, dir: PathBuf) -> Result<Mount, MountError> {
        let (reply, answer) = sync_channel(1);
        let gone = |dir: &Path| MountError::Mount {
            dir: dir.to_path_buf(),
            source: std::io::Error::other("the pool's mounting thread is gone"),
        };
        let sent = self
            .mounter
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .send(MountRequest {
                dir: dir.clone(),
                reply,
            });
        if sent.is_err() {
            return Err(gone(&dir));
        }
        match answer.recv_timeout(MOUNT_TIMEOUT) {
            Ok(mounted) => mounted,
            Err(_) => Err(MountError::Mount {
                source: std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!("no mount after {} s", MOUNT_TIMEOUT.as_secs()),
                ),
                dir,
            }),
        }
    }

    /// Makes sure `n` mounts exist (idle), so runs on `n` threads at once
    /// never mount mid-exploration, where a failure could only look like
    /// the program's.
    pub fn warm(&self, n: usize) -> Result<(), MountError> {
        let mut taken = Vec::with_capacity(n);
        for _ in 0..n {
            taken.push(self.take()?);
        }
        Ok(())
    }

    /// Unmounts every idle mount, reporting the first that stays.
    pub fn close(self) -> Result<(), MountError> {
        let mounts = std::mem::take(&mut *self.idle());
        let mut first_error = None;
        for mount in mounts {
            let dir = mount.dir().to_path_buf();
            match mount.unmount() {
                Ok(()) => self.cleanup.unmounted(&dir),
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

impl Drop for MountPool {
    fn drop(&mut self) {
        for mount in std::mem::take(&mut *self.idle()) {
            let dir = mount.dir().to_path_buf();
            drop(mount);
            self.cleanup.unmounted(&dir);
        }
    }
}

/// A mount taken from a pool; back in the pool when dropped.
pub struct Pooled<'p> {
    pool: &'p MountPool,
    mount: Option<Mount>,
}

impl Deref for Pooled<'_> {
    type Target = Mount;

    fn deref(&self) -> &Mount {
        // Some from construction until drop.
        match &self.mount {
            Some(m) => m,
            None => unreachable!("a pooled mount is present until dropped"),
        }
    }
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        if let Some(mount) = self.mount.take() {
            self.pool.idle().push(mount);
        }
    }
}

/// How long a run waits for the pool's thread to mount.
pub const MOUNT_TIMEOUT: Duration = Duration::from_secs(30);

/// A run's request to the pool's mounting thread.
struct MountRequest {
    dir: PathBuf,
    reply: SyncSender<Result<Mount, MountError>>,
}

/// The pool's mounting thread: makes each requested mount point and mounts
/// on it, until the pool (the only sender) is dropped.
fn serve_mount_requests(requests: &Receiver<MountRequest>) {
    for MountRequest { dir, reply } in requests {
        let mounted = std::fs::create_dir(&dir)
            .map_err(MountError::Dir)
            .and_then(|()| Mount::new(&dir, false));
        // A requester that timed out is gone; its mount drops (unmounts) here.
        let _ = reply.send(mounted);
    }
}
