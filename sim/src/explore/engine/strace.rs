//! The traced re-run: the clean run again, on a confined thread that
//! `strace` follows, to name the real paths the run was denied. The audit
//! (`audit.rs`) asks for it once per explorer, and `bypass.rs` reads the
//! same trace to explain a clean run that failed or wrote nothing through
//! the simulator; a clean run is deterministic, so it makes the same calls
//! again.
//!
//! `strace` is started from the calling thread, which is not confined,
//! attaches to the new thread only (`-p <thread id>`; not `-f`, which
//! with `-p` attaches every thread of the process, the test harness's
//! included, and would outlive the run), and records the file calls and
//! the threads and processes the run starts
//! (`-e trace=%file,clone,clone3,fork,vfork`). So calls made on threads
//! or in child processes the run starts are not seen: the trace says it
//! started some ([`Traced::unfollowed`]), and the report says the check was
//! partial. The thread waits until `strace` says it is attached before it
//! runs, and `strace` ends by itself when the thread does. Every wait for
//! `strace` is bounded ([`PATIENCE`]); the run itself takes as long as it
//! takes, untimed, like every other run.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

use super::bypass::absolute;
use super::start::Engine;
use crate::explore::vocabulary::sandbox::RealDiskCall;

/// The longest wait for `strace` to attach, or to end once the traced
/// thread has: for a loaded machine, not a timing assumption (each
/// normally takes milliseconds).
const PATIENCE: Duration = Duration::from_secs(30);

/// The calls `strace` records: those that name a file, and those that
/// start a thread or a process (whose own calls it does not follow). `?`:
/// a name this architecture lacks (`fork` on arm64) is no error.
const TRACED_CALLS: &str = "trace=%file,?clone,?clone3,?fork,?vfork";

/// What a traced clean run showed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Traced {
    /// The real-disk writes the run was denied, each once, in order.
    pub(crate) calls: Vec<RealDiskCall>,
    /// Whether the traced clean run completed (met every check of a clean
    /// run); one that did not is explained, never audited.
    pub(crate) completed: bool,
    /// What the run started that the trace did not follow ("child
    /// processes", "threads"), if anything.
    pub(crate) unfollowed: Option<&'static str>,
}

impl Engine<'_> {
    /// Runs the clean run again on a confined thread traced by
    /// [`crate::explore::ExploreOptions::strace`] and returns what it
    /// showed. `Err` says why it could not be traced (no `strace`,
    /// attaching refused, bypass detection off), in words for the user's
    /// report. Call it from a thread that is not confined.
    pub(crate) fn traced_clean_run(&self) -> Result<Traced, String> {
        std::thread::scope(|scope| {
            let (tid_sender, tid_receiver) = mpsc::channel::<Result<String, String>>();
            let (go_sender, go_receiver) = mpsc::channel::<bool>();
            let traced = std::thread::Builder::new()
                .name("crashproof-traced".to_string())
                .spawn_scoped(scope, move || {
                    let ready = self
                        .restrict_this_thread()
                        .map_err(|e| e.to_string())
                        .and_then(|()| match self.bypass_detection().is_on() {
                            // Nothing is denied: there is nothing to trace.
                            false => Err("bypass detection is off".to_string()),
                            true => this_thread_id(),
                        });
                    let _ = tid_sender.send(ready);
                    // Its own trace is not kept (strace's is); the run is
                    // the passes' clean run, kept for them if it completed.
                    go_receiver.recv() == Ok(true) && self.run_pass_clean().is_ok()
                })
                .map_err(|e| format!("could not start a thread to trace ({e})"))?;
            let lines = (|| {
                let tid = tid_receiver
                    .recv()
                    .map_err(|_| "the thread to trace ended at once".to_string())??;
                let program = &self.options().strace;
                let mut strace = Command::new(program)
                    .args(["-y", "-e", TRACED_CALLS, "-p"])
                    .arg(&tid)
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped())
                    .spawn()
                    .map_err(|e| match e.kind() {
                        std::io::ErrorKind::NotFound if program.as_os_str() == "strace" => {
                            "`strace` is not installed (apt-get install strace)".to_string()
                        }
                        std::io::ErrorKind::NotFound => format!(
                            "`strace` is not installed: {} was not found \
                             (ExploreOptions::strace)",
                            program.display()
                        ),
                        _ => format!("`strace` could not be started ({e})"),
                    })?;
                let Some(stderr) = strace.stderr.take() else {
                    let _ = strace.kill();
                    let _ = strace.wait();
                    return Err("`strace` gave no output to read".to_string());
                };
                let (line_sender, lines) = mpsc::channel::<String>();
                scope.spawn(move || {
                    for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                        if line_sender.send(line).is_err() {
                            break;
                        }
                    }
                });
                let mut before = Vec::new();
                loop {
                    match lines.recv_timeout(PATIENCE) {
                        Ok(line) if line.contains("attached") => break,
                        Ok(line) => before.push(line),
                        Err(_) => {
                            let _ = strace.kill();
                            let _ = strace.wait();
                            return Err(not_attached(&before));
                        }
                    }
                }
                let _ = go_sender.send(true);
                // The thread runs, ends, and `strace` ends with it. The
                // run is not timed; `strace` is, once the run has ended.
                let mut trace = Vec::new();
                let mut stalled = false;
                loop {
                    match lines.recv_timeout(PATIENCE) {
                        Ok(line) => trace.push(line),
                        Err(RecvTimeoutError::Disconnected) => break,
                        Err(RecvTimeoutError::Timeout) if !traced.is_finished() => {}
                        Err(RecvTimeoutError::Timeout) if !stalled => stalled = true,
                        Err(RecvTimeoutError::Timeout) => {
                            let _ = strace.kill();
                            let _ = strace.wait();
                            return Err(format!(
                                "`strace` did not end within {} s of the run's end",
                                PATIENCE.as_secs()
                            ));
                        }
                    }
                }
                let _ = strace.wait();
                Ok(trace)
            })();
            // Release the thread if it still waits (an error before `go`).
            let _ = go_sender.send(false);
            let completed = traced.join().unwrap_or(false);
            let lines = lines?;
            Ok(Traced {
                calls: denied_calls(&lines),
                completed,
                unfollowed: unfollowed(&lines),
            })
        })
    }
}

/// Why `strace` did not attach, from what it printed before it gave up
/// (the last line's reason, without the thread id that changes from run to
/// run).
fn not_attached(printed: &[String]) -> String {
    let reason = printed
        .iter()
        .rev()
        .find(|l| !l.trim().is_empty())
        .map_or("it ended without a word", |line| {
            line.rsplit_once(": ").map_or(line.as_str(), |(_, why)| why)
        });
    format!(
        "`strace` could not attach to the run's thread ({reason}; ptrace may be restricted: \
         /proc/sys/kernel/yama/ptrace_scope, or a container without CAP_SYS_PTRACE)"
    )
}

/// The calling thread's id in the kernel (what `strace -p` takes), from
/// `/proc/thread-self` (a link to `<pid>/task/<tid>`).
fn this_thread_id() -> Result<String, String> {
    let link = std::fs::read_link("/proc/thread-self")
        .map_err(|e| format!("this thread's id cannot be read from /proc/thread-self ({e})"))?;
    link.file_name()
        .map(|tid| tid.to_string_lossy().into_owned())
        .ok_or_else(|| format!("/proc/thread-self links to {}", link.display()))
}

/// The calls of a `strace -y` trace that a confined thread was denied and
/// that would have written: their syscall and real path, each once, in the
/// order made.
pub(crate) fn denied_calls(trace: &[String]) -> Vec<RealDiskCall> {
    let mut calls: Vec<RealDiskCall> = Vec::new();
    for line in whole_calls(trace) {
        if let Some(call) = denied_write(&line)
            && !calls.contains(&call)
        {
            calls.push(call);
        }
    }
    calls
}

/// What the traced thread started that the trace does not follow
/// ("threads", "child processes"), if anything.
pub(crate) fn unfollowed(trace: &[String]) -> Option<&'static str> {
    let (mut threads, mut processes) = (false, false);
    for line in whole_calls(trace) {
        let Some((call, result)) = line.rsplit_once(") = ") else {
            continue;
        };
        let Some((syscall, args)) = call.split_once('(') else {
            continue;
        };
        let started = result
            .split_whitespace()
            .next()
            .and_then(|id| id.parse::<u64>().ok())
            .is_some_and(|id| id > 0);
        if !started || !["clone", "clone3", "fork", "vfork"].contains(&syscall) {
            continue;
        }
        if args.contains("CLONE_THREAD") {
            threads = true;
        } else {
            processes = true;
        }
    }
    match (processes, threads) {
        (false, false) => None,
        (true, false) => Some("child processes"),
        (false, true) => Some("threads"),
        (true, true) => Some("child processes and threads"),
    }
}

/// The calls of a trace, one a string: `[pid N]` prefixes dropped, a call
/// that another thread's interrupted (`<unfinished ...>`, `<... resumed>`)
/// joined again.
fn whole_calls(trace: &[String]) -> Vec<String> {
    let mut calls = Vec::new();
    let mut unfinished: Vec<(String, String)> = Vec::new();
    for raw in trace {
        let (pid, line) = split_pid(raw);
        if let Some(head) = line.strip_suffix("<unfinished ...>") {
            unfinished.push((pid.to_string(), head.to_string()));
            continue;
        }
        match line.strip_prefix("<... ") {
            Some(rest) => {
                let Some(at) = unfinished.iter().position(|(p, _)| p == pid) else {
                    continue;
                };
                let (_, head) = unfinished.remove(at);
                let tail = rest.split_once("resumed>").map_or("", |(_, t)| t);
                calls.push(format!("{head}{tail}"));
            }
            None => calls.push(line.to_string()),
        }
    }
    calls
}

/// `[pid 123] rest` as `("123", "rest")`; a line without the prefix as
/// `("", line)`.
fn split_pid(line: &str) -> (&str, &str) {
    line.strip_prefix("[pid")
        .and_then(|rest| rest.split_once(']'))
        .map_or(("", line), |(pid, rest)| (pid.trim(), rest.trim_start()))
}

/// The syscalls that change the disk, all but the `open` family (which
/// writes only with a write flag).
const WRITING: &[&str] = &[
    "creat",
    "mkdir",
    "mkdirat",
    "unlink",
    "unlinkat",
    "rmdir",
    "rename",
    "renameat",
    "renameat2",
    "link",
    "linkat",
    "symlink",
    "symlinkat",
    "mknod",
    "mknodat",
    "truncate",
    "truncate64",
];

/// The flags with which an `open` writes.
const WRITE_FLAGS: &[&str] = &["O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC", "O_TMPFILE"];

/// One line of the trace as a denied call that would have written, if it
/// is one: `openat(AT_FDCWD</dir>, "x", O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC,
/// 0666) = -1 EACCES (Permission denied)`.
fn denied_write(line: &str) -> Option<RealDiskCall> {
    let (call, result) = line.rsplit_once(") = -1 ")?;
    if !(result.starts_with("EACCES") || result.starts_with("EXDEV")) {
        return None;
    }
    let (syscall, args) = call.split_once('(')?;
    let writes = match syscall {
        "open" | "openat" | "openat2" => WRITE_FLAGS.iter().any(|flag| args.contains(flag)),
        other => WRITING.contains(&other),
    };
    if !writes {
        return None;
    }
    let (base, path) = first_path(args)?;
    let path = match base {
        Some(dir) if path.is_relative() => dir.join(path),
        _ => absolute(&path),
    };
    Some(RealDiskCall {
        syscall: Some(syscall.to_string()),
        path,
    })
}

/// The first quoted argument, and the directory a relative one is
/// relative to when the call names one (`-y` prints a directory file
/// descriptor as `3</the/dir>`; `AT_FDCWD</cwd>` too).
fn first_path(args: &str) -> Option<(Option<PathBuf>, PathBuf)> {
    let open = args.find('"')?;
    let base = args[..open]
        .split_once('<')
        .and_then(|(_, rest)| rest.split_once('>'))
        .map(|(dir, _)| PathBuf::from(dir));
    let mut path = String::new();
    let mut chars = args[open + 1..].chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Some((base, PathBuf::from(path))),
            '\\' => match chars.next() {
                Some(next) => path.push(next),
                None => return None,
            },
            c => path.push(c),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<String> {
        text.lines().map(str::to_string).collect()
    }

    #[test]
    fn denied_writes_are_named_with_their_real_path() {
        let trace = lines(
            "openat(AT_FDCWD</work>, \"result.txt\", O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC, 0666) = -1 EACCES (Permission denied)\n\
             openat(AT_FDCWD</work>, \"/etc/shadow\", O_RDONLY|O_CLOEXEC) = -1 EACCES (Permission denied)\n\
             openat(AT_FDCWD</work>, \"missing\", O_RDONLY|O_CLOEXEC) = -1 ENOENT (No such file or directory)\n\
             [pid  7] mkdir(\"/tmp/d\", 0777) = -1 EACCES (Permission denied)\n\
             [pid  8] renameat2(AT_FDCWD</w>, \"a\", AT_FDCWD</w>, \"../b\", 0 <unfinished ...>\n\
             [pid  7] unlink(\"/tmp/x\") = -1 EACCES (Permission denied)\n\
             [pid  8] <... renameat2 resumed>) = -1 EXDEV (Invalid cross-device link)\n\
             openat(AT_FDCWD</work>, \"result.txt\", O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC, 0666) = -1 EACCES (Permission denied)",
        );
        let calls: Vec<String> = denied_calls(&trace)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            calls,
            [
                "`openat` of /work/result.txt",
                "`mkdir` of /tmp/d",
                "`unlink` of /tmp/x",
                "`renameat2` of /w/a",
            ]
        );
    }

    #[test]
    fn a_trace_without_a_denied_write_names_nothing() {
        let trace = lines(
            "strace: Process 12 attached\n\
             openat(AT_FDCWD</w>, \"x\", O_RDONLY) = -1 EACCES (Permission denied)\n\
             openat(AT_FDCWD</w>, \"y\", O_WRONLY|O_CREAT, 0666) = 3</w/y>\n\
             +++ exited with 0 +++",
        );
        assert!(denied_calls(&trace).is_empty());
        assert_eq!(unfollowed(&trace), None);
    }

    #[test]
    fn threads_and_processes_the_run_starts_are_named_as_not_followed() {
        let thread = "clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|\
                      CLONE_SYSVSEM|CLONE_SETTLS, child_tid=0x7f, exit_signal=0, stack=0x7e, \
                      stack_size=0x200000, tls=0x7f} => {parent_tid=[4242]}, 88) = 4242";
        let process = "clone3({flags=CLONE_VM|CLONE_VFORK|CLONE_CLEAR_SIGHAND, exit_signal=SIGCHLD, \
                       stack=0x7f, stack_size=0x9000}, 88) = 4243";
        let failed = "clone3({flags=CLONE_VM|CLONE_VFORK, exit_signal=SIGCHLD}, 88) = -1 EAGAIN \
                      (Resource temporarily unavailable)";
        let says = |text: &[&str]| unfollowed(&lines(&text.join("\n")));
        assert_eq!(says(&[thread]), Some("threads"));
        assert_eq!(says(&[failed, process]), Some("child processes"));
        assert_eq!(
            says(&["vfork() = 17", thread]),
            Some("child processes and threads")
        );
        assert_eq!(says(&[failed]), None);
    }

    #[test]
    fn an_attach_refused_is_said_without_the_thread_id() {
        let refused = lines("strace: attach: ptrace(PTRACE_SEIZE, 4242): Operation not permitted");
        assert!(
            not_attached(&refused).starts_with(
                "`strace` could not attach to the run's thread (Operation not permitted; ptrace"
            ),
            "{}",
            not_attached(&refused)
        );
        assert!(not_attached(&[]).contains("(it ended without a word;"));
    }
}
