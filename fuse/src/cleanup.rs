//! What must not outlive a process that is told to stop: the mounts it
//! made and the program groups it runs. The CLI's signal handler (Ctrl-C,
//! SIGTERM) calls [`Cleanup::now`]; drop guards cover every other exit.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

use crate::mount::lazy_unmount;

/// Mount points and process groups alive now. Cheap to clone (shared).
#[derive(Debug, Clone, Default)]
pub struct Cleanup {
    inner: Arc<Mutex<Alive>>,
}

#[derive(Debug, Default)]
struct Alive {
    mounts: BTreeSet<PathBuf>,
    groups: BTreeSet<i32>,
}

impl Cleanup {
    /// Nothing registered.
    pub fn new() -> Self {
        Self::default()
    }

    fn alive(&self) -> MutexGuard<'_, Alive> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// `dir` is mounted now.
    pub fn mounted(&self, dir: &Path) {
        self.alive().mounts.insert(dir.to_path_buf());
    }

    /// `dir` is unmounted.
    pub fn unmounted(&self, dir: &Path) {
        self.alive().mounts.remove(dir);
    }

    /// Process group `group` runs now.
    pub fn started(&self, group: i32) {
        self.alive().groups.insert(group);
    }

    /// Process group `group` has been reaped.
    pub fn ended(&self, group: i32) {
        self.alive().groups.remove(&group);
    }

    /// Kills every registered process group and lazily unmounts every
    /// registered mount: for a process about to exit on a signal, whose
    /// drop guards will not run.
    pub fn now(&self) {
        let alive = std::mem::take(&mut *self.alive());
        for group in alive.groups {
            let _ = killpg(Pid::from_raw(group), Signal::SIGKILL);
        }
        for dir in alive.mounts {
            lazy_unmount(&dir);
        }
    }
}
