//! One run of the program ("attempt"), killed with SIGKILL at its kill point
//! if it gets there first.
//!
//! The program runs in its own process group, so a kill reaches every
//! process it started (a shell script's children too). Stdout and stderr are
//! captured; a pipe is passed as descriptor 3 for progress lines. A waiter
//! thread learns that the program ended *without reaping it* (`waitid` with
//! `WNOWAIT`), so the harness never signals a reaped, possibly reused,
//! process group; the exit status then says whether a kill landed: a kill
//! sent after the program had already exited does not count.
//!
//! An interruption of the harness (its caller sets the `interrupt` flag, on
//! Ctrl-C or SIGTERM) kills the program's whole group at once and ends the
//! attempt as [`AttemptEnd::Interrupted`]; the flag is read at least every
//! [`INTERRUPT_POLL`].

use std::io::{self, Read};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use command_fds::{CommandFdExt, FdMapping};
use nix::errno::Errno;
use nix::sys::signal::{Signal, killpg};
use nix::sys::wait::{Id, WaitPidFlag, waitid};
use nix::unistd::Pid;

use crate::plan::KillPoint;
use crate::program::{DIR_ENV, PROGRESS_FD, PROGRESS_FD_ENV, Program};

/// The `fail` crate's configuration variable; unset in every attempt that
/// is not armed at a failpoint, so a value in the caller's environment never
/// leaks into a run.
pub const FAILPOINTS_ENV: &str = "FAILPOINTS";

/// Most time between two reads of the interrupt flag while a program runs:
/// an interrupted harness stops its program within about this long.
pub const INTERRUPT_POLL: Duration = Duration::from_millis(20);

/// How an attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptEnd {
    /// It exited on its own with this code (also when a kill was sent too
    /// late: that kill did not land).
    Exited(i32),
    /// The harness's SIGKILL landed before it finished.
    Killed,
    /// It raised SIGKILL on itself at the armed failpoint.
    KilledAtFailpoint,
    /// A signal the harness did not send ended it (it crashed).
    Signaled(i32),
    /// It did not finish within the timeout; the harness killed it.
    TimedOut,
    /// The harness was interrupted (its `interrupt` flag was set) and killed
    /// the program's group, or never started it: nothing to judge.
    Interrupted,
}

impl AttemptEnd {
    /// Whether the armed kill point landed.
    pub fn is_kill(self) -> bool {
        matches!(self, AttemptEnd::Killed | AttemptEnd::KilledAtFailpoint)
    }
}

/// What one attempt did.
#[derive(Debug, Clone)]
pub struct Attempt {
    /// How it ended.
    pub end: AttemptEnd,
    /// Everything it wrote on stdout.
    pub stdout: Vec<u8>,
    /// Everything it wrote on stderr.
    pub stderr: Vec<u8>,
    /// Progress lines it wrote on descriptor 3.
    pub progress_lines: u64,
    /// From spawn to exit.
    pub elapsed: Duration,
}

/// The harness could not run the program at all.
#[derive(Debug, thiserror::Error)]
pub enum AttemptError {
    /// Spawning failed (no such program, not executable, ...).
    #[error("cannot start `{program}`: {source} (is it on PATH and executable?)")]
    Spawn {
        /// `argv[0]`.
        program: String,
        /// The OS error.
        source: io::Error,
    },
    /// Creating the progress pipe or waiting for the program failed.
    #[error("process control failed: {0}")]
    Os(#[from] io::Error),
}

enum Event {
    /// Total progress lines read so far.
    Progress(u64),
    /// The program ended (not yet reaped).
    Ended,
}

/// Runs `program` once in `dir`, killing it at `point` (if any), at
/// `timeout` at the latest, and as soon as `interrupt` is set (then the end
/// is [`AttemptEnd::Interrupted`]; a flag already set starts nothing).
/// When this returns, every process of the program's group has been sent
/// SIGKILL or had exited, and the program itself is reaped.
pub fn run_attempt(
    program: &Program,
    dir: &Path,
    point: Option<&KillPoint>,
    timeout: Duration,
    interrupt: &AtomicBool,
) -> Result<Attempt, AttemptError> {
    if interrupt.load(Ordering::SeqCst) {
        return Ok(Attempt {
            end: AttemptEnd::Interrupted,
            stdout: Vec::new(),
            stderr: Vec::new(),
            progress_lines: 0,
            elapsed: Duration::ZERO,
        });
    }
    let argv = program.argv_for(dir);
    let (progress_reader, progress_writer) = io::pipe()?;
    let mut cmd = Command::new(&argv[0]);
    cmd.args(&argv[1..])
        .env(DIR_ENV, dir)
        .env(PROGRESS_FD_ENV, PROGRESS_FD.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    match point.and_then(KillPoint::failpoints_env) {
        Some(failpoints) => cmd.env(FAILPOINTS_ENV, failpoints),
        None => cmd.env_remove(FAILPOINTS_ENV),
    };
    cmd.fd_mappings(vec![FdMapping {
        parent_fd: progress_writer.into(),
        child_fd: PROGRESS_FD,
    }])
    .map_err(|e| io::Error::other(e.to_string()))?;
    let started = Instant::now();
    let mut child = cmd.spawn().map_err(|source| AttemptError::Spawn {
        program: argv[0].clone(),
        source,
    })?;
    // The command owns the parent's copy of the pipe's write end: drop it so
    // the reader sees end-of-file once the program's processes are gone.
    drop(cmd);
    let pid = Pid::from_raw(i32::try_from(child.id()).map_err(io::Error::other)?);

    let (events, rx) = mpsc::channel();
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let progress = count_lines(progress_reader, events.clone());
    let waiter = thread::spawn(move || {
        wait_without_reaping(pid);
        let _ = events.send(Event::Ended);
    });

    let kill_at = match point {
        Some(KillPoint::Time(after)) => Some(started + *after),
        _ => None,
    };
    let deadline = started + timeout;
    let mut kill_sent = false;
    let mut timed_out = false;
    let mut interrupted = false;
    loop {
        if !interrupted && interrupt.load(Ordering::SeqCst) {
            kill_group(pid);
            interrupted = true;
        }
        let now = Instant::now();
        let wake = match kill_at {
            Some(at) if !kill_sent => at.min(deadline),
            _ => deadline,
        };
        let wait = wake.saturating_duration_since(now).min(INTERRUPT_POLL);
        match rx.recv_timeout(wait) {
            Ok(Event::Ended) | Err(RecvTimeoutError::Disconnected) => break,
            Ok(Event::Progress(lines)) => {
                if let Some(KillPoint::Progress(target)) = point
                    && !kill_sent
                    && lines >= *target
                {
                    kill_group(pid);
                    kill_sent = true;
                }
            }
            Err(RecvTimeoutError::Timeout) => {
                let now = Instant::now();
                if kill_at.is_some_and(|at| now >= at) && !kill_sent {
                    kill_group(pid);
                    kill_sent = true;
                }
                if now >= deadline && !timed_out {
                    kill_group(pid);
                    timed_out = true;
                }
            }
        }
    }
    let elapsed = started.elapsed();
    // The leader is a zombie, not reaped: its group id is still ours. Kill
    // whatever it left running so nothing outlives the attempt.
    kill_group(pid);
    let status = child.wait()?;
    let _ = waiter.join();
    let stdout = stdout.join().unwrap_or_default();
    let stderr = stderr.join().unwrap_or_default();
    let progress_lines = progress.join().unwrap_or_default();
    Ok(Attempt {
        end: if interrupted {
            AttemptEnd::Interrupted
        } else {
            classify(status, kill_sent, timed_out, point)
        },
        stdout,
        stderr,
        progress_lines,
        elapsed,
    })
}

fn classify(
    status: ExitStatus,
    kill_sent: bool,
    timed_out: bool,
    point: Option<&KillPoint>,
) -> AttemptEnd {
    if let Some(code) = status.code() {
        return AttemptEnd::Exited(code);
    }
    let signal = status.signal().unwrap_or(0);
    if timed_out {
        return AttemptEnd::TimedOut;
    }
    if signal == Signal::SIGKILL as i32 {
        if kill_sent {
            return AttemptEnd::Killed;
        }
        if matches!(point, Some(KillPoint::Failpoint { .. })) {
            return AttemptEnd::KilledAtFailpoint;
        }
    }
    AttemptEnd::Signaled(signal)
}

fn kill_group(pid: Pid) {
    // ESRCH (the group is gone) is the only expected error, and harmless.
    let _ = killpg(pid, Signal::SIGKILL);
}

/// Blocks until `pid` has ended, leaving it a zombie for `Child::wait`.
fn wait_without_reaping(pid: Pid) {
    loop {
        match waitid(Id::Pid(pid), WaitPidFlag::WEXITED | WaitPidFlag::WNOWAIT) {
            Err(Errno::EINTR) => continue,
            // Any other error (there is none for our own child) ends the
            // wait; `Child::wait` then reports the status.
            _ => return,
        }
    }
}

fn drain(pipe: Option<impl Read + Send + 'static>) -> JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut pipe) = pipe {
            // A read error ends the capture; what was read is kept.
            let _ = pipe.read_to_end(&mut bytes);
        }
        bytes
    })
}

fn count_lines(mut pipe: io::PipeReader, events: mpsc::Sender<Event>) -> JoinHandle<u64> {
    thread::spawn(move || {
        let mut lines = 0u64;
        let mut buf = [0u8; 4096];
        loop {
            match pipe.read(&mut buf) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Ok(0) | Err(_) => return lines,
                Ok(n) => {
                    let new = buf[..n].iter().filter(|&&b| b == b'\n').count() as u64;
                    if new > 0 {
                        lines += new;
                        // The receiver is gone once the attempt ended.
                        let _ = events.send(Event::Progress(lines));
                    }
                }
            }
        }
    })
}
