//! What must not outlive a process that is told to stop: the mounts it
//! made and the program groups it runs. The CLI's signal handler (Ctrl-C,
//! SIGTERM) calls [`Cleanup::now`]; drop guards cover every other exit.

use std::collections::BTreeSet;
use std::io;
use std::path::{Path, PathBuf};
use std::process::Child;
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
    /// [`Cleanup::now`] ran: the process is about to exit, start nothing.
    stopping: bool,
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

    /// Starts a program as the leader of its own process group (`spawn`)
    /// and registers the group, holding the registry across both: a
    /// signal's [`Cleanup::now`] runs either before (the spawn is refused)
    /// or after (the group is killed), never in between, so no program
    /// started by `spawn` outlives a stop.
    pub fn spawn_group(&self, spawn: impl FnOnce() -> io::Result<Child>) -> io::Result<Child> {
        let mut alive = self.alive();
        if alive.stopping {
            return Err(io::Error::new(
                io::ErrorKind::Interrupted,
                "not started: a signal is stopping this process",
            ));
        }
        let child = spawn()?;
        alive
            .groups
            .insert(i32::try_from(child.id()).map_err(io::Error::other)?);
        Ok(child)
    }

    /// Process group `group` has been reaped.
    pub fn ended(&self, group: i32) {
        self.alive().groups.remove(&group);
    }

    /// Kills every registered process group and lazily unmounts every
    /// registered mount: for a process about to exit on a signal, whose
    /// drop guards will not run.
    pub fn now(&self) {
        let alive = {
            let mut alive = self.alive();
            alive.stopping = true;
            Alive {
                mounts: std::mem::take(&mut alive.mounts),
                groups: std::mem::take(&mut alive.groups),
                stopping: true,
            }
        };
        for group in alive.groups {
            let _ = killpg(Pid::from_raw(group), Signal::SIGKILL);
        }
        for dir in alive.mounts {
            lazy_unmount(&dir);
        }
    }
}
