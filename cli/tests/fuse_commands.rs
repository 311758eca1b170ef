//! The FUSE-based commands end to end: `explore-cmd` on the Python jobs of
//! `examples/programs` (clean, caught, exit codes, the printed replay and
//! materialize lines working for that program), `materialize`, the vacuous
//! runs refused with exit 2, SIGTERM removing the mounts, and `mount` with
//! its control socket driven by a shell script. They need root and
//! /dev/fuse, and fail with a message saying so where those are missing.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

fn require_fuse() {
    let dev = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/fuse");
    if let Err(e) = dev {
        panic!(
            "this test needs FUSE and could not run: cannot open /dev/fuse ({e}). It does not \
             pass without it: run the tests as root on a machine with /dev/fuse (modprobe fuse)"
        );
    }
}

/// Whether process `pid` ends (or has ended) within `within`: waits on a
/// pidfd, the kernel's notice that a process of another parent ended
/// (SIGKILL is delivered asynchronously, so a killed process may take a
/// moment to be gone).
fn ends_within(pid: i32, within: std::time::Duration) -> bool {
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

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The system Python when there is one (a version manager's shim on PATH
/// starts several times slower, and every case starts it).
fn python3() -> String {
    if Path::new("/usr/bin/python3").exists() {
        "/usr/bin/python3".to_string()
    } else {
        "python3".to_string()
    }
}

/// `crashproof ARGS` run from the repository root, with TMPDIR set to
/// `tmp` (so its mount points are under it), waited for at most 120 s.
fn crashproof(args: &[&str], tmp: &Path) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_crashproof"))
        .args(args)
        .current_dir(root())
        .env("TMPDIR", tmp)
        .env_remove("CRASHPROOF_SEED")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let pid = child.id();
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        let mut out = Vec::new();
        let mut err = Vec::new();
        let _ = stdout.read_to_end(&mut out);
        let _ = stderr.read_to_end(&mut err);
        let _ = tx.send((out, err));
    });
    let (out, err) = match rx.recv_timeout(Duration::from_secs(120)) {
        Ok(o) => o,
        Err(_) => {
            let _ = Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status();
            panic!("crashproof {args:?} did not finish within 120 s");
        }
    };
    let status = child.wait().unwrap();
    Output {
        status,
        stdout: out,
        stderr: err,
    }
}

fn text(o: &Output) -> String {
    format!(
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn assert_no_mounts_under(dir: &Path) {
    let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let dir = dir.canonicalize().unwrap_or(dir.to_path_buf());
    let left: Vec<&str> = info
        .lines()
        .filter(|l| l.contains(&*dir.to_string_lossy()))
        .collect();
    assert!(left.is_empty(), "mounts left behind: {left:?}");
}

fn check_arg() -> String {
    format!(
        "{} examples/programs/progress.py --check {{dir}}",
        python3()
    )
}

#[test]
fn explore_cmd_is_clean_on_the_correct_job_under_every_model() {
    require_fuse();
    let tmp = tempfile::tempdir().unwrap();
    let py = python3();
    let check = check_arg();
    let o = crashproof(
        &[
            "explore-cmd",
            "--check",
            &check,
            "--",
            &py,
            "examples/programs/progress.py",
            "{dir}",
            "--items",
            "3",
        ],
        tmp.path(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("result: OK, zero violations"), "{}", text(&o));
    for model in ["drop-unsynced", "prefix", "subset", "eager-dirs"] {
        assert!(out.contains(&format!("exhaustive {model}")), "{}", text(&o));
    }
    assert_no_mounts_under(tmp.path());
}

#[test]
fn explore_cmd_catches_the_buggy_job_and_its_replay_and_materialize_lines_work() {
    require_fuse();
    let tmp = tempfile::tempdir().unwrap();
    let py = python3();
    let check = check_arg();
    let o = crashproof(
        &[
            "explore-cmd",
            "--model",
            "drop-unsynced",
            "--check",
            &check,
            "--",
            &py,
            "examples/programs/progress_buggy.py",
            "{dir}",
            "--items",
            "3",
        ],
        tmp.path(),
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(out.contains("were acknowledged"), "{out}");
    // The printed lines are commands for this very program: run them.
    let line = |prefix: &str| -> Vec<String> {
        let l = out
            .lines()
            .find_map(|l| l.trim_start().strip_prefix(prefix))
            .unwrap_or_else(|| panic!("no `{prefix}` line in\n{out}"));
        let words = shlex::split(l.trim()).unwrap();
        let at = words.iter().position(|w| w == "--").unwrap();
        assert_eq!(
            &words[..at],
            ["cargo", "run", "--release", "-p", "crashproof"]
        );
        words[at + 1..].to_vec()
    };
    let replay = line("replay:");
    let args: Vec<&str> = replay.iter().map(String::as_str).collect();
    let r = crashproof(&args, tmp.path());
    assert_eq!(r.status.code(), Some(1), "{}", text(&r));
    let replayed = String::from_utf8_lossy(&r.stdout);
    assert!(
        replayed.contains("verdict: VIOLATION (state oracle)"),
        "{}",
        text(&r)
    );
    assert!(replayed.contains("==> CRASH before step"), "{}", text(&r));

    let mut materialize = line("state:");
    let out_dir = tmp.path().join("state");
    let at = materialize
        .iter()
        .position(|w| w == "./crashproof-state")
        .unwrap();
    materialize[at] = out_dir.display().to_string();
    let args: Vec<&str> = materialize.iter().map(String::as_str).collect();
    let m = crashproof(&args, tmp.path());
    assert_eq!(m.status.code(), Some(0), "{}", text(&m));
    // The drop-unsynced state of the first violation: nothing committed.
    let files: Vec<_> = std::fs::read_dir(&out_dir).unwrap().collect();
    assert!(files.is_empty(), "{files:?}");
    // A non-empty directory is refused.
    std::fs::write(out_dir.join("other"), b"x").unwrap();
    let again = crashproof(&args, tmp.path());
    assert_eq!(again.status.code(), Some(2), "{}", text(&again));
    assert!(text(&again).contains("is not empty"), "{}", text(&again));
    assert_no_mounts_under(tmp.path());
}

#[test]
fn materialize_writes_a_state_with_data() {
    require_fuse();
    let tmp = tempfile::tempdir().unwrap();
    let py = python3();
    let out_dir = tmp.path().join("state");
    let out = out_dir.display().to_string();
    // After the last step of a run on the correct job, under eager-dirs:
    // every commit was synced, so state.json holds the final state.
    let o = crashproof(
        &[
            "materialize",
            "step:1000@eager-dirs#idx=0",
            &out,
            "--",
            &py,
            "examples/programs/progress.py",
            "{dir}",
            "--items",
            "2",
        ],
        tmp.path(),
    );
    // A step past the end of the run is never reached: exit 2, and says so.
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let o = crashproof(
        &[
            "materialize",
            "step:12@eager-dirs#idx=0",
            &out,
            "--",
            &py,
            "examples/programs/progress.py",
            "{dir}",
            "--items",
            "2",
        ],
        tmp.path(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let state = std::fs::read_to_string(out_dir.join("state.json")).unwrap();
    assert!(state.starts_with("{\"done\": "), "{state}");
    assert_no_mounts_under(tmp.path());
}

#[test]
fn explore_cmd_refuses_vacuous_programs_with_exit_2() {
    require_fuse();
    let tmp = tempfile::tempdir().unwrap();
    let cases: [(&[&str], &str); 3] = [
        (
            &["explore-cmd", "--", "sh", "-c", "echo result"],
            "wrote nothing on the mount",
        ),
        (
            &[
                "explore-cmd",
                "--",
                "sh",
                "-c",
                "echo x > \"$CRASHPROOF_DIR/f.$$\"; echo r",
            ],
            "not deterministic",
        ),
        (
            &[
                "explore-cmd",
                "--",
                "sh",
                "-c",
                "touch \"$CRASHPROOF_DIR/f\"",
            ],
            "nothing could fail",
        ),
    ];
    for (args, why) in cases {
        let o = crashproof(args, tmp.path());
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
        assert!(text(&o).contains(why), "{args:?}: {}", text(&o));
    }
    let o = crashproof(
        &[
            "explore-cmd",
            "--replay",
            "step:1@prefix#idx=0",
            "--json",
            "--",
            "true",
        ],
        tmp.path(),
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("--json"), "{}", text(&o));
    assert_no_mounts_under(tmp.path());
}

#[test]
fn sigterm_in_the_clean_run_kills_the_program_and_removes_the_mounts() {
    require_fuse();
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("started");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let pid_file = tmp.path().join("program.pid");
    // The program says it started, then hangs on the mount.
    let script = format!(
        "echo $$ > {}; touch \"$CRASHPROOF_DIR/f\"; echo started > {}; sleep 1000",
        pid_file.display(),
        fifo.display()
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_crashproof"))
        // The program writes its pid and the fifo outside its data directory:
        // declared, or the sandbox would refuse those writes.
        .args(["explore-cmd", "--writable"])
        .arg(tmp.path())
        .args(["--", "sh", "-c", &script])
        .env("TMPDIR", tmp.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let fifo_reader = fifo.clone();
    std::thread::spawn(move || {
        let _ = tx.send(std::fs::read_to_string(fifo_reader));
    });
    let started = rx.recv_timeout(Duration::from_secs(60));
    assert!(matches!(started, Ok(Ok(_))), "the program never started");
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    // Stopped, not ended by the signal: the program killed, the mounts
    // removed by their guards, the interruption said.
    assert_eq!(status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains("INTERRUPTED: explore-cmd: stopped during its clean runs"),
        "{stderr}"
    );
    let pid: i32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(
        ends_within(pid, Duration::from_secs(10)),
        "the program survived SIGTERM of crashproof"
    );
    assert_no_mounts_under(tmp.path());
}

#[test]
fn mount_is_driven_over_its_control_socket_by_a_shell_script() {
    require_fuse();
    let work = tempfile::tempdir().unwrap();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/scripts/mount_control.sh");
    let (tx, rx) = mpsc::channel();
    let work_path = work.path().to_path_buf();
    let mut child = Command::new("bash")
        .arg(&script)
        .arg(env!("CARGO_BIN_EXE_crashproof"))
        .arg(&work_path)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        let (mut out, mut err) = (String::new(), String::new());
        let _ = stdout.read_to_string(&mut out);
        let _ = stderr.read_to_string(&mut err);
        let _ = tx.send((out, err));
    });
    let Ok((out, err)) = rx.recv_timeout(Duration::from_secs(90)) else {
        let _ = Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status();
        panic!("the mount control script did not finish within 90 s");
    };
    let status = child.wait().unwrap();
    assert!(status.success(), "stdout:\n{out}\nstderr:\n{err}");
    assert!(
        out.contains("mount control: all checks passed"),
        "{out}\n{err}"
    );
    assert_no_mounts_under(work.path());
}

#[test]
fn explore_cmd_with_a_fault_rule_catches_a_believed_fsync_and_refuses_a_rule_that_failed_nothing() {
    require_fuse();
    let tmp = tempfile::tempdir().unwrap();
    let py = python3();
    let script = "cli/tests/scripts/fsync_believer.py";
    let check = format!("{py} {script} --check {{dir}}");
    let explore = |rule: &str, extra: &[&str]| {
        let mut args = vec![
            "explore-cmd",
            "--model",
            "drop-unsynced",
            "--fault",
            rule,
            "--check",
            &check,
            "--",
            &py,
            script,
            "{dir}",
        ];
        args.extend(extra);
        crashproof(&args, tmp.path())
    };
    // The first fsync of an item fails (the start-up one is match 1): a
    // program that stops on it is clean (restarted after a power loss)...
    let o = explore("eio:fsync*2:*.wal", &["--strict"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        out.contains("fault-rules drop-unsynced (eio:fsync*2:*.wal)"),
        "{out}"
    );
    assert!(out.contains("failed 1 of 2 matching calls"), "{out}");
    assert!(
        !out.contains("exhaustive"),
        "--fault alone runs its pass alone: {out}"
    );
    // ...one that believes it loses an acknowledged item, and the printed
    // replay line (its schedule carries the rule) reproduces it.
    let o = explore("eio:fsync*2:*.wal", &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        out.contains("items in the log, but 1 were acknowledged"),
        "{out}"
    );
    let replay = out
        .lines()
        .find_map(|l| l.trim_start().strip_prefix("replay:"))
        .unwrap_or_else(|| panic!("no replay line in\n{out}"));
    let words = shlex::split(replay.trim()).unwrap();
    assert!(
        words.iter().any(|w| w.ends_with(";eio:fsync*2:*.wal")),
        "{words:?}"
    );
    let at = words.iter().position(|w| w == "--").unwrap();
    let args: Vec<&str> = words[at + 1..].iter().map(String::as_str).collect();
    let r = crashproof(&args, tmp.path());
    assert_eq!(r.status.code(), Some(1), "{}", text(&r));
    assert!(
        String::from_utf8_lossy(&r.stdout).contains("EIO by fault rule"),
        "{}",
        text(&r)
    );
    // A rule that fails no call checked nothing: exit 2, the calls named.
    let o = explore("eio:fsync:*.log", &[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(
        err.contains("fault rule `eio:fsync:*.log` failed no call"),
        "{err}"
    );
    assert!(err.contains("sync /log.wal"), "{err}");
    // A malformed rule is a usage error naming the grammar.
    let o = explore("eio:sync:*", &[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("ERROR:OP[*N]:GLOB"), "{}", text(&o));
    assert_no_mounts_under(tmp.path());
}

#[test]
fn explore_cmd_reports_operations_without_a_rule_as_data_and_a_bad_final_state_in_words() {
    require_fuse();
    let tmp = tempfile::tempdir().unwrap();
    // A symlink is refused (EPERM), a chmod accepted and not kept.
    let o = crashproof(
        &[
            "explore-cmd",
            "--model",
            "drop-unsynced",
            "--json",
            "--",
            "sh",
            "-c",
            "ln -s a \"$0/l\" 2>/dev/null; echo x > \"$0/f\"; chmod 600 \"$0/f\"; echo done",
            "{dir}",
        ],
        tmp.path(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let report = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(
        report.contains("UNMODELLED: operations the durability model has no rule for: "),
        "{report}"
    );
    assert!(report.contains("symlink x"), "{report}");
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let ops = json["report"]["unmodelled"].as_array().unwrap();
    assert!(
        ops.iter()
            .any(|op| op["op"] == "symlink" && op["refused_with"] == "EPERM"),
        "{ops:?}"
    );
    // A final state the check refuses: said in those words.
    let o = crashproof(
        &[
            "explore-cmd",
            "--check",
            "test ! -e {dir}/f",
            "--",
            "sh",
            "-c",
            "echo x > \"$0/f\"; echo done",
            "{dir}",
        ],
        tmp.path(),
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("the final state fails its check: check command `test ! -e {dir}/f`"),
        "{}",
        text(&o)
    );
    assert_no_mounts_under(tmp.path());
}

#[test]
fn merged_shards_of_explore_cmd_keep_the_program_section() {
    require_fuse();
    let tmp = tempfile::tempdir().unwrap();
    let check = "sh examples/programs/publish.sh --check {dir}";
    let shard = |i: &str| {
        let o = crashproof(
            &[
                "explore-cmd",
                "--model",
                "drop-unsynced",
                "--shard",
                i,
                "--json",
                "--check",
                check,
                "--",
                "sh",
                "examples/programs/publish.sh",
                "{dir}",
                "1",
            ],
            tmp.path(),
        );
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let path = tmp
            .path()
            .join(format!("shard-{}.json", i.replace('/', "-")));
        std::fs::write(&path, &o.stdout).unwrap();
        (path, json["program"]["program_runs"].as_u64().unwrap())
    };
    let (a, runs_a) = shard("1/2");
    let (b, runs_b) = shard("2/2");
    let m = crashproof(
        &[
            "merge",
            "--json",
            &a.display().to_string(),
            &b.display().to_string(),
        ],
        tmp.path(),
    );
    assert_eq!(m.status.code(), Some(0), "{}", text(&m));
    let merged: serde_json::Value = serde_json::from_slice(&m.stdout).unwrap();
    let program = &merged["program"];
    assert_eq!(
        program["argv"][1], "examples/programs/publish.sh",
        "{merged}"
    );
    assert_eq!(program["check"], check);
    assert_eq!(program["program_runs"].as_u64(), Some(runs_a + runs_b));
    assert_no_mounts_under(tmp.path());
}

/// Ctrl-C in the middle of an exploration: the report so far, marked
/// INTERRUPTED, exit 130, no mount left; nothing the killed runs said is
/// taken for a violation (the correct job stays without one).
#[test]
fn ctrl_c_mid_exploration_prints_the_report_so_far_marked_interrupted() {
    use std::io::{BufRead, BufReader};
    require_fuse();
    let tmp = tempfile::tempdir().unwrap();
    let py = python3();
    let check = check_arg();
    let mut child = Command::new(env!("CARGO_BIN_EXE_crashproof"))
        .args(["explore-cmd", "--jobs", "2", "--check", &check, "--", &py])
        .args(["examples/programs/progress.py", "{dir}", "--items", "40"])
        .current_dir(root())
        .env("TMPDIR", tmp.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    // Under way once its second pass has started (the first one done, so
    // the report so far has something in it).
    let mut seen = Vec::new();
    let mut passes = 0;
    loop {
        let line = rx
            .recv_timeout(Duration::from_secs(120))
            .unwrap_or_else(|_| panic!("the exploration never started:\n{}", seen.join("\n")));
        passes += usize::from(line.starts_with("exploring "));
        seen.push(line);
        if passes == 2 {
            break;
        }
    }
    let signalled = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(signalled.success());
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    let status = child.wait().unwrap();
    // To the end of the pipe: the last lines may still be on their way.
    seen.extend(rx.iter());
    let text = format!("stdout:\n{stdout}\nstderr:\n{}", seen.join("\n"));
    assert_eq!(status.code(), Some(130), "{text}");
    assert!(stdout.contains("result: INTERRUPTED"), "{text}");
    assert!(stdout.contains("exhaustive drop-unsynced"), "{text}");
    assert!(!stdout.contains("VIOLATION"), "{text}");
    assert_no_mounts_under(tmp.path());
}
