//! One attempt against small shell programs: the environment contract, the
//! progress pipe, and when a kill counts. Each program here either exits
//! on its own or never does (`tail -f /dev/null`), so every outcome is
//! deterministic.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crashproof_kill::{AttemptEnd, KillPoint, Program, run_attempt};
use nix::unistd::Pid;

/// An interrupt flag nobody sets.
static NEVER: AtomicBool = AtomicBool::new(false);

fn sh(script: &str) -> Program {
    Program::new(vec![
        "sh".into(),
        "-c".into(),
        script.into(),
        "job".into(),
        "{dir}".into(),
    ])
    .unwrap()
}

const TIMEOUT: Duration = Duration::from_secs(30);

#[test]
fn the_program_gets_its_directory_and_a_progress_pipe() {
    let dir = tempfile::tempdir().unwrap();
    let program = sh(
        r#"echo a >&3; echo b >&3; echo c >&"$CRASHPROOF_PROGRESS_FD"; echo "$CRASHPROOF_DIR $1"; echo oops >&2"#,
    );
    let a = run_attempt(&program, dir.path(), None, TIMEOUT, &NEVER).unwrap();
    assert_eq!(a.end, AttemptEnd::Exited(0));
    assert_eq!(a.progress_lines, 3);
    let d = dir.path().display();
    assert_eq!(String::from_utf8(a.stdout).unwrap(), format!("{d} {d}\n"));
    assert_eq!(a.stderr, b"oops\n");
}

#[test]
fn a_kill_at_a_progress_line_or_a_time_lands_on_a_running_program() {
    let dir = tempfile::tempdir().unwrap();
    // Reports progress, then runs until killed.
    let program = sh("echo 1 >&3; echo 2 >&3; exec tail -f /dev/null");
    for point in [
        KillPoint::Progress(2),
        KillPoint::Time(Duration::from_millis(20)),
    ] {
        let a = run_attempt(&program, dir.path(), Some(&point), TIMEOUT, &NEVER).unwrap();
        assert_eq!(a.end, AttemptEnd::Killed, "{point}");
        assert!(a.end.is_kill());
    }
}

#[test]
fn a_kill_reaches_every_process_the_program_started() {
    let dir = tempfile::tempdir().unwrap();
    // The background child holds stdout open: if it survived the kill, the
    // attempt would never see end-of-file and never return.
    let program = sh("tail -f /dev/null & echo 1 >&3; wait");
    let a = run_attempt(
        &program,
        dir.path(),
        Some(&KillPoint::Progress(1)),
        TIMEOUT,
        &NEVER,
    )
    .unwrap();
    assert_eq!(a.end, AttemptEnd::Killed);
}

#[test]
fn an_outrun_kill_point_is_no_kill() {
    let dir = tempfile::tempdir().unwrap();
    let program = sh("echo 1 >&3; echo done");
    for point in [
        KillPoint::Progress(2),
        KillPoint::Failpoint {
            name: "never.passed".into(),
            hit: 1,
        },
    ] {
        let a = run_attempt(&program, dir.path(), Some(&point), TIMEOUT, &NEVER).unwrap();
        assert_eq!(a.end, AttemptEnd::Exited(0), "{point}");
        assert!(!a.end.is_kill());
    }
}

#[test]
fn a_failpoint_kill_arms_fail() {
    let dir = tempfile::tempdir().unwrap();
    let program = sh(r#"echo "${FAILPOINTS-unset}""#);
    let point = KillPoint::Failpoint {
        name: "a.b".into(),
        hit: 2,
    };
    let armed = run_attempt(&program, dir.path(), Some(&point), TIMEOUT, &NEVER).unwrap();
    assert_eq!(armed.stdout, b"a.b=1*off->return(sigkill)\n");
    // That an unarmed run never inherits the caller's FAILPOINTS is checked
    // by the CLI tests (they can set it for the harness process alone).
    let a = run_attempt(&program, dir.path(), None, TIMEOUT, &NEVER).unwrap();
    assert_eq!(a.stdout, b"unset\n");
}

#[test]
fn a_program_killed_by_someone_else_or_hung_is_reported_as_such() {
    let dir = tempfile::tempdir().unwrap();
    let crashed = run_attempt(&sh("kill -SEGV $$"), dir.path(), None, TIMEOUT, &NEVER).unwrap();
    assert_eq!(crashed.end, AttemptEnd::Signaled(11));
    let self_killed = run_attempt(&sh("kill -KILL $$"), dir.path(), None, TIMEOUT, &NEVER).unwrap();
    assert_eq!(
        self_killed.end,
        AttemptEnd::Signaled(9),
        "a SIGKILL the harness did not send is not a kill"
    );
    let hung = run_attempt(
        &sh("exec tail -f /dev/null"),
        dir.path(),
        None,
        Duration::from_millis(50),
        &NEVER,
    )
    .unwrap();
    assert_eq!(hung.end, AttemptEnd::TimedOut);
}

#[test]
fn a_missing_program_is_a_spawn_error() {
    let dir = tempfile::tempdir().unwrap();
    let program = Program::new(vec!["/nonexistent/crashproof-job".into()]).unwrap();
    let e = run_attempt(&program, dir.path(), None, TIMEOUT, &NEVER).unwrap_err();
    assert!(e.to_string().contains("cannot start"), "{e}");
}

/// Polls `condition` until it holds, for at most 10 s (a bound for a
/// loaded machine, not a timing assumption).
fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::yield_now();
    }
}

/// The pid written in `path`, once the file holds a whole line.
fn pid_in(path: &Path) -> Option<Pid> {
    let text = std::fs::read_to_string(path).ok()?;
    let line = text.strip_suffix('\n')?;
    line.trim().parse().ok().map(Pid::from_raw)
}

/// Whether `pid` no longer runs: no such process, or a zombie (dead, its
/// status not yet collected by whoever adopted it).
fn is_dead(pid: Pid) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        // The state is the first field after the parenthesised name.
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| matches!(state, "Z" | "X")),
    }
}

#[test]
fn an_interrupt_kills_the_program_and_everything_it_started() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("child.pid");
    // A child in the background records its pid; the program waits for it,
    // and neither would ever exit on its own.
    let program = sh(&format!(
        "tail -f /dev/null & echo $! > {}.tmp && mv {0}.tmp {0}; wait",
        marker.display()
    ));
    let interrupt = AtomicBool::new(false);
    let attempt = std::thread::scope(|s| {
        let running = s.spawn(|| run_attempt(&program, dir.path(), None, TIMEOUT, &interrupt));
        wait_until("the child's pid", || pid_in(&marker).is_some());
        interrupt.store(true, Ordering::SeqCst);
        running.join().unwrap().unwrap()
    });
    assert_eq!(attempt.end, AttemptEnd::Interrupted);
    assert!(!attempt.end.is_kill(), "an interrupt is no kill point");
    let child = pid_in(&marker).unwrap();
    // The child was sent SIGKILL with its group; once its parent is gone it
    // is reaped by init, which may take a moment.
    wait_until("the child to be gone", || is_dead(child));

    let started = run_attempt(
        &sh(r#"echo never > "$1/started""#),
        dir.path(),
        None,
        TIMEOUT,
        &interrupt,
    )
    .unwrap();
    assert_eq!(started.end, AttemptEnd::Interrupted);
    assert!(
        !dir.path().join("started").exists(),
        "a flag already set starts nothing"
    );
}
