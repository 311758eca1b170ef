//! The diagnostic re-run: the clean run again, on a confined thread that
//! `strace` follows, to name the real paths the run was denied
//! (`bypass.rs` asks for it when a clean run failed or wrote nothing
//! through the simulator; a clean run is deterministic, so it makes the
//! same calls again).
//!
//! `strace` is started from the calling thread, which is not confined,
//! attaches to the new thread only (`-p <thread id>`; not `-f`, which
//! with `-p` attaches every thread of the process, the test harness's
//! included, and would outlive the run), and records only the file calls
//! that failed (`-e trace=%file -e status=failed`). So calls made on
//! threads the run starts are not seen. The thread waits until `strace`
//! says it is attached before it runs, and `strace` ends by itself when
//! the thread does. Every wait is bounded.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

use super::bypass::absolute;
use super::start::Engine;
use crate::explore::vocabulary::sandbox::RealDiskCall;

/// The tracer, found on `PATH`.
const STRACE: &str = "strace";

/// The longest wait for `strace` to attach, or to end once the traced
/// thread has: for a loaded machine, not a timing assumption (each
/// normally takes milliseconds).
const PATIENCE: Duration = Duration::from_secs(30);

impl Engine<'_> {
    /// Runs the clean run again on a confined thread traced by `strace`
    /// and returns the real-disk calls it was denied (empty: none). `Err`
    /// says why it could not be traced (no `strace`, attaching refused),
    /// in words for the user.
    pub(crate) fn traced_clean_run(&self) -> Result<Vec<RealDiskCall>, String> {
        std::thread::scope(|scope| {
            let (tid_sender, tid_receiver) = mpsc::channel::<Result<String, String>>();
            let (go_sender, go_receiver) = mpsc::channel::<bool>();
            let traced = std::thread::Builder::new()
                .name("crashproof-traced".to_string())
                .spawn_scoped(scope, move || {
                    let ready = self
                        .restrict_this_thread()
                        .map_err(|e| e.to_string())
                        .and_then(|()| this_thread_id());
                    let _ = tid_sender.send(ready);
                    if go_receiver.recv() == Ok(true) {
                        // Its verdict was had already; only its calls matter.
                        let _ = self.clean_run();
                    }
                })
                .map_err(|e| format!("could not start a thread to trace ({e})"))?;
            let traced_calls = (|| {
                let tid = tid_receiver
                    .recv()
                    .map_err(|_| "the thread to trace ended at once".to_string())??;
                let mut strace = Command::new(STRACE)
                    .args(["-y", "-e", "trace=%file", "-e", "status=failed", "-p"])
                    .arg(&tid)
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped())
                    .spawn()
                    .map_err(|e| match e.kind() {
                        std::io::ErrorKind::NotFound => {
                            "`strace` is not installed (apt-get install strace), which names the \
                             path of a call the error does not name"
                                .to_string()
                        }
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
                            return Err(format!(
                                "`strace` could not attach to the run's thread ({})",
                                before.join("; ")
                            ));
                        }
                    }
                }
                let _ = go_sender.send(true);
                // The thread runs, ends, and `strace` ends with it.
                let mut trace = Vec::new();
                loop {
                    match lines.recv_timeout(PATIENCE) {
                        Ok(line) => trace.push(line),
                        Err(RecvTimeoutError::Disconnected) => break,
                        Err(RecvTimeoutError::Timeout) => {
                            let _ = strace.kill();
                            break;
                        }
                    }
                }
                let _ = strace.wait();
                Ok(denied_calls(&trace))
            })();
            // Release the thread if it still waits (an error before `go`).
            let _ = go_sender.send(false);
            let _ = traced.join();
            traced_calls
        })
    }
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

/// The calls of a `strace -y -e status=failed` trace (`[pid N]` prefixes
/// and split calls of several threads handled too) that a confined
/// thread was denied and that would have written: their syscall and real
/// path, each once, in the order made.
pub(crate) fn denied_calls(trace: &[String]) -> Vec<RealDiskCall> {
    let mut calls: Vec<RealDiskCall> = Vec::new();
    let mut unfinished: Vec<(String, String)> = Vec::new();
    for raw in trace {
        let (pid, line) = split_pid(raw);
        // A call interrupted by another thread's is printed in two parts.
        if let Some(head) = line.strip_suffix("<unfinished ...>") {
            unfinished.push((pid.to_string(), head.to_string()));
            continue;
        }
        let line = match line.strip_prefix("<... ") {
            Some(rest) => {
                let Some(at) = unfinished.iter().position(|(p, _)| p == pid) else {
                    continue;
                };
                let (_, head) = unfinished.remove(at);
                let tail = rest.split_once("resumed>").map_or("", |(_, t)| t);
                format!("{head}{tail}")
            }
            None => line.to_string(),
        };
        if let Some(call) = denied_write(&line)
            && !calls.contains(&call)
        {
            calls.push(call);
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
             +++ exited with 0 +++",
        );
        assert!(denied_calls(&trace).is_empty());
    }
}
