//! One program run on a mount: attach the filesystem, start the program in
//! its own process group (the `crashproof kill` contract: `{dir}` and
//! `CRASHPROOF_DIR` name the mount, descriptor 3 carries progress lines,
//! stdin is `/dev/null`), serve its requests one at a time on this thread
//! until it ends, then detach. Every wait has a deadline.

use std::ffi::OsString;
use std::io::{self, Read};
use std::os::fd::AsFd;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use command_fds::{CommandFdExt, FdMapping};
use crashproof_core::fs::Fs;
use crashproof_kill::program::{DIR_ENV, PROGRESS_FD, PROGRESS_FD_ENV};
use nix::errno::Errno;
use nix::fcntl::{FcntlArg, OFlag, fcntl};
use nix::sys::signal::{Signal, killpg};
use nix::sys::wait::{Id, WaitPidFlag, waitid};
use nix::unistd::{Pid, getpgid};

use crate::cleanup::Cleanup;
use crate::dispatch::Event;
use crate::mount::{Mount, MountError};
use crate::server::Server;
use crate::unmodelled::Unmodelled;

/// How long the program's output pipes may stay open after it ended (a
/// process that escaped its group holding them).
const OUTPUT_GRACE: Duration = Duration::from_secs(5);
/// How long a killed program may take to end.
const KILL_GRACE: Duration = Duration::from_secs(10);
/// The most stdout or stderr kept per run; the rest is read and dropped.
const OUTPUT_KEPT_MAX_BYTES: usize = 16 << 20;

/// One run to make: the command line (placeholders already replaced), the
/// extra environment, and the deadline.
#[derive(Debug, Clone)]
pub struct RunSpec {
    /// `argv[0]` and its arguments.
    pub argv: Vec<String>,
    /// Extra environment variables.
    pub envs: Vec<(String, OsString)>,
    /// The run is killed past this long.
    pub timeout: Duration,
}

/// How the program ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// It exited with this code.
    Exited(i32),
    /// A signal the harness did not send ended it.
    Signaled(i32),
    /// It ran past its timeout and was killed.
    TimedOut,
    /// The served filesystem crashed; the harness killed the program.
    Crashed,
}

/// What a run did.
#[derive(Debug)]
pub struct RunEnd {
    /// How it ended.
    pub ended: Ended,
    /// Its stdout (at most 16 MiB).
    pub stdout: Vec<u8>,
    /// Its stderr (at most 16 MiB).
    pub stderr: Vec<u8>,
    /// The simulator's crash error, if a step hit it.
    pub crashed: Option<io::Error>,
    /// Requests refused or not kept.
    pub unmodelled: Unmodelled,
    /// Requests served.
    pub requests: u64,
    /// From spawn to end.
    pub elapsed: Duration,
}

/// The harness could not run the program.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Spawning failed.
    #[error("cannot start `{program}`: {source} (is it on PATH and executable?)")]
    Spawn {
        /// `argv[0]`.
        program: String,
        /// The OS error.
        source: io::Error,
    },
    /// The mount could not serve the run.
    #[error(transparent)]
    Mount(#[from] MountError),
    /// Pipes or waiting failed.
    #[error("process control failed: {0}")]
    Os(#[from] io::Error),
    /// The program did not end even after SIGKILL.
    #[error("`{program}` did not end {seconds} s after SIGKILL (stuck in the kernel?)")]
    Unkillable {
        /// `argv[0]`.
        program: String,
        /// How long the harness waited.
        seconds: u64,
    },
}

/// Runs `spec` with `mount` serving `fs`: `on_line` gets each complete
/// progress line (descriptor 3) before the next request is served, so a
/// line written before a filesystem call is seen before that call's step.
pub fn run_on_mount(
    mount: &Mount,
    fs: &dyn Fs,
    spec: &RunSpec,
    cleanup: &Cleanup,
    on_line: &mut dyn FnMut(&str),
) -> Result<RunEnd, RunError> {
    let attachment = mount.attach()?;
    let (progress_reader, progress_writer) = io::pipe()?;
    set_nonblocking(&progress_reader)?;
    let program = spec.argv.first().cloned().unwrap_or_default();
    let mut cmd = Command::new(&program);
    cmd.args(spec.argv.iter().skip(1))
        .env(DIR_ENV, mount.dir())
        .env(PROGRESS_FD_ENV, PROGRESS_FD.to_string())
        .envs(spec.envs.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    cmd.fd_mappings(vec![FdMapping {
        parent_fd: progress_writer.into(),
        child_fd: PROGRESS_FD,
    }])
    .map_err(|e| io::Error::other(e.to_string()))?;
    let started = Instant::now();
    let mut child = cleanup
        .spawn_group(|| cmd.spawn())
        .map_err(|source| RunError::Spawn {
            program: program.clone(),
            source,
        })?;
    // Our copy of the pipe's write end lives in `cmd`: drop it.
    drop(cmd);
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let mut group = Group::new(child, cleanup)?;
    let pid = group.pid;
    let ended_tx = attachment.sender();
    let waiter = thread::spawn(move || {
        wait_without_reaping(Pid::from_raw(pid));
        let _ = ended_tx.send(Event::ProgramEnded);
    });

    let mut server = Server::new(fs, mount.next_ino(), mount.owner());
    let mut lines = Lines::new(progress_reader);
    let mut requests = 0u64;
    let mut deadline = started + spec.timeout;
    let mut timed_out = false;
    let mut killed_on_crash = false;
    let outcome = loop {
        let wait = deadline.saturating_duration_since(Instant::now());
        match attachment.events().recv_timeout(wait) {
            // A stranger's request (a user's `ls` on the mount, a process
            // that escaped an earlier run) is never a step.
            Ok(Event::Request { op, pid: from }) if !in_group(from, pid) => attachment.refuse(op),
            Ok(Event::Request { op, .. }) => {
                lines.drain(on_line);
                server.serve(op);
                requests += 1;
                if server.has_crashed() && !killed_on_crash {
                    // From the crash on, every call fails: the process is
                    // dead as far as the disk is concerned.
                    kill_group(pid);
                    killed_on_crash = true;
                }
            }
            Ok(Event::ProgramEnded | Event::Stop) | Err(RecvTimeoutError::Disconnected) => {
                break Ok(());
            }
            // No control socket serves a program run.
            Ok(Event::Control { reply, .. }) => {
                let _ = reply.send("error this mount runs a program; it takes no commands".into());
            }
            Err(RecvTimeoutError::Timeout) if !timed_out => {
                kill_group(pid);
                timed_out = true;
                deadline = Instant::now() + KILL_GRACE;
            }
            Err(RecvTimeoutError::Timeout) => {
                break Err(RunError::Unkillable {
                    program: program.clone(),
                    seconds: KILL_GRACE.as_secs(),
                });
            }
        }
    };
    let elapsed = started.elapsed();
    // The leader is a zombie, not reaped: its group id is still ours.
    kill_group(pid);
    drop(attachment);
    mount.forget_names(server.kernel_names());
    // A program that did not end is left to the group's drop guard.
    outcome?;
    let status = group.reap()?;
    let _ = waiter.join();
    // A last line without its newline is not an acknowledgement: it may
    // be torn (the program was killed writing it).
    lines.drain(on_line);
    let stdout = collect(stdout);
    let stderr = collect(stderr);
    let crashed = server.take_crashed();
    let ended = match status {
        _ if timed_out => Ended::TimedOut,
        _ if crashed.is_some() => Ended::Crashed,
        status => classify(status),
    };
    Ok(RunEnd {
        ended,
        stdout,
        stderr,
        crashed,
        unmodelled: server.unmodelled().clone(),
        requests,
        elapsed,
    })
}

/// The program's process group, killed and reaped on every path out of a
/// run (a panic in the server included): no program outlives its run.
struct Group<'c> {
    child: Option<Child>,
    pid: i32,
    cleanup: &'c Cleanup,
}

impl<'c> Group<'c> {
    fn new(child: Child, cleanup: &'c Cleanup) -> io::Result<Self> {
        let pid = i32::try_from(child.id()).map_err(io::Error::other)?;
        cleanup.started(pid);
        Ok(Self {
            child: Some(child),
            pid,
            cleanup,
        })
    }

    /// Reaps the leader (after the group was killed, or once it exited).
    /// Other members killed with the group die as the kernel delivers their
    /// SIGKILL; one still dying cannot reach a later run: runs serve their
    /// own group only.
    fn reap(&mut self) -> io::Result<ExitStatus> {
        let status = match self.child.take() {
            Some(mut child) => child.wait(),
            None => Err(io::Error::other("the program was reaped already")),
        };
        self.cleanup.ended(self.pid);
        status
    }
}

impl Drop for Group<'_> {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            kill_group(self.pid);
            let _ = child.wait();
            self.cleanup.ended(self.pid);
        }
    }
}

fn classify(status: ExitStatus) -> Ended {
    match status.code() {
        Some(code) => Ended::Exited(code),
        None => Ended::Signaled(status.signal().unwrap_or(0)),
    }
}

/// Whether process (or thread) `pid` is in process group `group`. The
/// serving thread checks it, not the session thread: only it knows the
/// group once the program has started, so no first request races the check.
fn in_group(pid: u32, group: i32) -> bool {
    i32::try_from(pid)
        .ok()
        .and_then(|pid| getpgid(Some(Pid::from_raw(pid))).ok())
        .is_some_and(|g| g.as_raw() == group)
}

fn kill_group(pid: i32) {
    // ESRCH (the group is gone) is the only expected error, and harmless.
    let _ = killpg(Pid::from_raw(pid), Signal::SIGKILL);
}

/// Blocks until `pid` has ended, leaving it a zombie for `Child::wait`.
fn wait_without_reaping(pid: Pid) {
    loop {
        match waitid(Id::Pid(pid), WaitPidFlag::WEXITED | WaitPidFlag::WNOWAIT) {
            Err(Errno::EINTR) => continue,
            _ => return,
        }
    }
}

fn set_nonblocking(fd: &impl AsFd) -> io::Result<()> {
    let flags = fcntl(fd, FcntlArg::F_GETFL).map_err(io::Error::from)?;
    let flags = OFlag::from_bits_retain(flags) | OFlag::O_NONBLOCK;
    fcntl(fd, FcntlArg::F_SETFL(flags)).map_err(io::Error::from)?;
    Ok(())
}

/// Reads an output pipe to its end on a thread, keeping the first
/// [`OUTPUT_KEPT_MAX_BYTES`].
fn drain(pipe: Option<impl Read + Send + 'static>) -> mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel();
    let spawned = thread::Builder::new()
        .name("crashproof-output".to_string())
        .spawn(move || {
            let mut kept = Vec::new();
            if let Some(mut pipe) = pipe {
                let mut buf = [0u8; 8192];
                loop {
                    match pipe.read(&mut buf) {
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        Ok(0) | Err(_) => break,
                        Ok(n) => {
                            let room = OUTPUT_KEPT_MAX_BYTES.saturating_sub(kept.len());
                            kept.extend_from_slice(&buf[..n.min(room)]);
                        }
                    }
                }
            }
            let _ = tx.send(kept);
        });
    // A thread that could not start leaves the receiver empty: no output.
    let _: Option<JoinHandle<()>> = spawned.ok();
    rx
}

/// The output a drain thread read, waiting at most [`OUTPUT_GRACE`].
fn collect(rx: mpsc::Receiver<Vec<u8>>) -> Vec<u8> {
    rx.recv_timeout(OUTPUT_GRACE).unwrap_or_default()
}

/// Complete lines from the non-blocking progress pipe.
struct Lines {
    pipe: io::PipeReader,
    partial: Vec<u8>,
}

impl Lines {
    fn new(pipe: io::PipeReader) -> Self {
        Self {
            pipe,
            partial: Vec::new(),
        }
    }

    /// Reads what the pipe holds now and hands out each complete line.
    fn drain(&mut self, on_line: &mut dyn FnMut(&str)) {
        let mut buf = [0u8; 4096];
        loop {
            match self.pipe.read(&mut buf) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                // WouldBlock: nothing more now; EOF or an error: nothing more.
                Ok(0) | Err(_) => break,
                Ok(n) => self.partial.extend_from_slice(&buf[..n]),
            }
        }
        while let Some(end) = self.partial.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.partial.drain(..=end).collect();
            on_line(String::from_utf8_lossy(&line[..end]).trim_end_matches('\r'));
        }
    }
}
