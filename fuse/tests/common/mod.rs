//! Helpers of the FUSE tests: they need root and /dev/fuse, and fail (never
//! pass) with a message saying so where those are missing.

#![allow(dead_code, clippy::panic, clippy::expect_used)]

use std::path::{Path, PathBuf};

use crashproof_fuse::{Cleanup, MountPool, fuse_available, mounts_under};

/// Fails the test with the reason when this machine cannot mount FUSE.
pub fn require_fuse() {
    if let Err(e) = fuse_available() {
        panic!(
            "this test needs FUSE and could not run: {e}. It does not pass without it: run the \
             tests as root on a machine with /dev/fuse (modprobe fuse)"
        );
    }
}

/// A pool of mounts for one test (FUSE required).
pub fn pool() -> MountPool {
    require_fuse();
    MountPool::new(Cleanup::new()).expect("a pool of mounts")
}

/// Asserts that nothing is mounted at or under `dir` any more.
pub fn assert_no_mounts_under(dir: &Path) {
    let left = mounts_under(dir).expect("/proc/self/mountinfo is readable");
    assert!(left.is_empty(), "mounts left behind: {left:?}");
}

/// The Python interpreter: the system's when there is one (a version
/// manager's shim on PATH can take several times as long to start, and
/// every case starts it), else `python3` from PATH.
pub fn python3() -> String {
    let system = Path::new("/usr/bin/python3");
    if system.exists() {
        system.display().to_string()
    } else {
        "python3".to_string()
    }
}

/// `examples/programs/<name>`.
pub fn example_program(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../examples/programs")
        .join(name);
    path.canonicalize().unwrap_or(path).display().to_string()
}

/// `fuse/tests/programs/<name>`.
pub fn test_program(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/programs")
        .join(name)
        .display()
        .to_string()
}

/// Whether process `pid` ends (or has ended) within `within`: waits on a
/// pidfd, the kernel's notice that a process of another parent ended
/// (SIGKILL is delivered asynchronously, so a killed process may take a
/// moment to be gone).
pub fn ends_within(pid: i32, within: std::time::Duration) -> bool {
    use rustix::event::{PollFd, PollFlags, Timespec, poll};
    use rustix::process::{Pid, PidfdFlags, pidfd_open};
    let Some(pid) = Pid::from_raw(pid) else {
        return true;
    };
    let Ok(fd) = pidfd_open(pid, PidfdFlags::empty()) else {
        // ESRCH: it is gone already.
        return true;
    };
    let timeout = Timespec {
        tv_sec: i64::try_from(within.as_secs()).unwrap_or(i64::MAX),
        tv_nsec: i64::from(within.subsec_nanos()),
    };
    let mut fds = [PollFd::new(&fd, PollFlags::IN)];
    poll(&mut fds, Some(&timeout)).is_ok_and(|ready| ready == 1)
}
