//! Ctrl-C (SIGINT) and SIGTERM during the long commands, with real
//! signals: the work stops, no child process and no directory is left, the
//! summary so far is marked INTERRUPTED, and the exit code is 130.
//!
//! No sleeps: each test waits (polling, with a generous bound) for a marker
//! that shows the command is in the middle of its work before signalling.

// This file is a test crate: its helpers are test code too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// A scratch directory: on tmpfs when there is one (fsync only costs time
/// here, and these tests are about stopping, not about the disk).
fn scratch() -> tempfile::TempDir {
    let shm = PathBuf::from("/dev/shm");
    match tempfile::tempdir_in(&shm) {
        Ok(dir) if shm.is_dir() => dir,
        _ => tempfile::tempdir().unwrap(),
    }
}

/// The bound on every wait: for a loaded machine, not a timing assumption.
const PATIENCE: Duration = Duration::from_secs(20);

/// Polls `condition` until it holds, for at most [`PATIENCE`].
fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::yield_now();
    }
}

/// Sends `signal` to `child` and returns its output once it has exited
/// (killing it and failing the test if it does not stop).
fn signal_and_collect(mut child: Child, signal: Signal) -> Output {
    kill(Pid::from_raw(child.id() as i32), signal).unwrap();
    let deadline = Instant::now() + PATIENCE;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{signal}: the command did not stop");
        }
        std::thread::yield_now();
    }
    child.wait_with_output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn entries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

/// Whether `pid` no longer runs: no such process, or a zombie (dead, its
/// status not yet collected by whoever adopted it).
fn is_dead(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        // The state is the first field after the parenthesised name.
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| matches!(state, "Z" | "X")),
    }
}

/// The pids listed one a line in `path` (none before it exists).
fn listed_pids(path: &Path) -> Vec<i32> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect()
}

/// On a failing test only, SIGKILLs every pid listed in the file (a broken
/// interrupt would leave the blocking run and its child running forever).
/// Never on success: by then they are gone and their pids may be reused.
struct KillListedOnPanic(PathBuf);

impl Drop for KillListedOnPanic {
    fn drop(&mut self) {
        if std::thread::panicking() {
            for pid in listed_pids(&self.0) {
                let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
            }
        }
    }
}

#[test]
fn ctrl_c_and_sigterm_stop_kill_end_its_program_and_remove_its_directories() {
    for signal in [Signal::SIGINT, Signal::SIGTERM] {
        let dir = scratch();
        let markers = tempfile::tempdir().unwrap();
        let runs = markers.path().join("runs");
        let _cleanup = KillListedOnPanic(runs.clone());
        // Runs 1 and 2 (the clean runs) and 3 (the first try) finish; run 4
        // (the second try) starts a child and waits for it forever. Each
        // run records its pid, the blocking one also its child's.
        let script = format!(
            r#"echo $$ >> {runs}; echo s > "$1/state"
               if [ "$(wc -l < {runs})" -ge 4 ]; then tail -f /dev/null & echo $! >> {runs}; wait; fi
               echo done"#,
            runs = runs.display()
        );
        let child = Command::new(env!("CARGO_BIN_EXE_crashproof"))
            .args(["kill", "--dir", dir.path().to_str().unwrap()])
            .args(["--plan", "progress:1", "--repeat", "3"])
            .args(["--run-timeout-ms", "60000", "--"])
            .args(["sh", "-c", &script, "job", "{dir}"])
            .env_remove("CRASHPROOF_SEED")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Four runs and the fourth's child: the campaign is in its second
        // case, blocked.
        wait_until("the blocking run's child", || listed_pids(&runs).len() >= 5);
        let o = signal_and_collect(child, signal);
        let out = text(&o);
        assert_eq!(o.status.code(), Some(130), "{signal}: {out}");
        assert!(out.contains("result: INTERRUPTED"), "{signal}: {out}");
        assert!(
            out.contains("crashproof: INTERRUPTED: the summary covers the cases finished"),
            "{signal}: {out}"
        );
        // What was done so far: the first try, not the interrupted second.
        assert!(out.contains("cases: 1 "), "{signal}: {out}");
        assert!(
            out.contains("--repeat: interrupted after 1 of 3 tries"),
            "{signal}: {out}"
        );
        let left = entries(dir.path());
        assert!(left.is_empty(), "{signal}: left {left:?}\n{out}");
        for pid in listed_pids(&runs) {
            wait_until(&format!("{signal}: process {pid} to end"), || is_dead(pid));
        }
    }
}

#[test]
fn ctrl_c_during_the_clean_runs_of_kill_tests_nothing_and_leaves_nothing() {
    let dir = scratch();
    let markers = tempfile::tempdir().unwrap();
    let runs = markers.path().join("runs");
    let _cleanup = KillListedOnPanic(runs.clone());
    // The first clean run blocks.
    let script = format!(
        r#"echo s > "$1/state"; tail -f /dev/null & echo $! >> {runs}; wait"#,
        runs = runs.display()
    );
    let child = Command::new(env!("CARGO_BIN_EXE_crashproof"))
        .args(["kill", "--dir", dir.path().to_str().unwrap(), "--"])
        .args(["sh", "-c", &script, "job", "{dir}"])
        .env_remove("CRASHPROOF_SEED")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_until("the clean run's child", || !listed_pids(&runs).is_empty());
    let o = signal_and_collect(child, Signal::SIGINT);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(130), "{out}");
    assert!(
        out.contains(
            "INTERRUPTED: interrupted during the clean runs, before any case: nothing was tested"
        ),
        "{out}"
    );
    assert!(!out.contains("result: OK"), "{out}");
    assert!(entries(dir.path()).is_empty(), "{out}");
    for pid in listed_pids(&runs) {
        wait_until(&format!("process {pid} to end"), || is_dead(pid));
    }
}

#[test]
fn ctrl_c_stops_tune_k_between_measuring_batches_and_removes_its_scratch_directory() {
    let dir = scratch();
    let plot = tempfile::tempdir().unwrap();
    let plot = plot.path().join("plot.svg");
    // A measurement far longer than the test: 1000 rounds of 1000 commits.
    let child = Command::new(env!("CARGO_BIN_EXE_crashproof"))
        .args(["tune-k", "--dir", dir.path().to_str().unwrap()])
        .args(["--item-cost", "1ms", "--rounds", "1000"])
        .args([
            "--commits-per-round",
            "1000",
            "--plot",
            plot.to_str().unwrap(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Measuring has started once the scratch directory holds the pilot.
    wait_until("the pilot measurement", || {
        std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(Result::ok)
            .any(|scratch| scratch.path().join("pilot").exists())
    });
    let o = signal_and_collect(child, Signal::SIGINT);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(130), "{out}");
    assert!(
        out.contains("crashproof: INTERRUPTED: interrupted before the measurement finished"),
        "{out}"
    );
    assert!(!out.contains("recommended: K ="), "{out}");
    assert!(entries(dir.path()).is_empty(), "{out}");
    assert!(!plot.exists(), "no plot of an interrupted measurement");
}

/// Starts `crashproof explore ARGS` with its stderr read line by line, and
/// returns it once it has said it started its first pass (so a signal
/// lands in the middle of the exploration), with the lines read so far
/// and the channel that brings the rest.
fn explore_under_way(args: &[&str]) -> (Child, Vec<String>, std::sync::mpsc::Receiver<String>) {
    use std::io::{BufRead, BufReader};
    let mut child = Command::new(env!("CARGO_BIN_EXE_crashproof"))
        .arg("explore")
        .args(args)
        .env_remove("CRASHPROOF_SEED")
        .env("CI", "true")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (sender, lines) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    loop {
        match lines.recv_timeout(PATIENCE) {
            Ok(line) => {
                let started = line.starts_with("exploring exhaustive");
                seen.push(line);
                if started {
                    return (child, seen, lines);
                }
            }
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("explore did not start its first pass ({e}): {seen:?}");
            }
        }
    }
}

#[test]
fn ctrl_c_and_sigterm_stop_explore_between_units_with_the_report_so_far_marked_interrupted() {
    // Big enough that no machine finishes it before the signal lands.
    let args = [
        "--workload",
        "core-runner",
        "--items",
        "20000",
        "--model",
        "prefix",
        "--jobs",
        "1",
    ];
    for (signal, json) in [(Signal::SIGINT, false), (Signal::SIGTERM, true)] {
        let mut all = args.to_vec();
        if json {
            all.push("--json");
        }
        let (child, mut stderr, rest) = explore_under_way(&all);
        let o = signal_and_collect(child, signal);
        // Until the reader sees the end of the pipe: the report's text
        // may still be on its way when the child has exited.
        stderr.extend(rest.iter());
        let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
        let text = format!("stdout:\n{stdout}\nstderr:\n{}", stderr.join("\n"));
        assert_eq!(o.status.code(), Some(130), "{signal}: {text}");
        assert!(
            text.contains("result: INTERRUPTED (Ctrl-C, SIGTERM or the caller's cancel flag)"),
            "{signal}: {text}"
        );
        assert!(
            text.contains("crashproof: INTERRUPTED: stopped by Ctrl-C or SIGTERM after"),
            "{signal}: {text}"
        );
        assert!(!text.contains("result: OK"), "{signal}: {text}");
        // What was done so far: part of the pass, not all of it.
        let done = text
            .lines()
            .find(|l| l.trim_start().starts_with("exhaustive prefix"))
            .unwrap_or_else(|| panic!("{signal}: no pass line in {text}"));
        assert!(done.contains("crash points"), "{signal}: {text}");
        if json {
            let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
            assert_eq!(doc["summary"]["verdict"], "interrupted", "{stdout}");
            assert_eq!(doc["report"]["interrupted"], true, "{stdout}");
        }
    }
}
