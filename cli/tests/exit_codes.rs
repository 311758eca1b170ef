//! The command's exit codes: 0 clean, 1 violation, 2 harness/usage error.

// This file is a test crate: its helpers are test code too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::{Command, Output};

fn crashproof(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_crashproof"))
        .args(args)
        .env_remove("CRASHPROOF_SEED")
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn clean_exploration_exits_0_with_a_report() {
    let o = crashproof(&["explore", "--model", "drop-unsynced"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(
        stdout(&o).contains("result: OK, zero violations"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn a_violation_exits_1_and_its_replay_command_reproduces_it() {
    let o = crashproof(&[
        "explore",
        "--workload",
        "no-dir-fsync",
        "--model",
        "drop-unsynced",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    let replay = out
        .lines()
        .find(|l| l.trim_start().starts_with("replay:"))
        .unwrap();
    let schedule = replay.split('\'').nth(1).unwrap();
    let r = crashproof(&[
        "replay",
        "--workload",
        "no-dir-fsync",
        schedule,
        "--seed",
        "0",
    ]);
    assert_eq!(r.status.code(), Some(1));
    assert!(
        stdout(&r).contains("verdict: VIOLATION (state oracle)"),
        "{}",
        stdout(&r)
    );
    assert!(
        stdout(&r).contains("==> CRASH before step"),
        "{}",
        stdout(&r)
    );
}

#[test]
fn harness_and_usage_errors_exit_2() {
    assert_eq!(
        crashproof(&["explore", "--workload", "no-such-workload"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        crashproof(&["explore", "--model", "ext4"]).status.code(),
        Some(2)
    );
    assert_eq!(
        crashproof(&["replay", "--workload", "core-runner", "step:x"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn random_mode_without_a_seed_prints_the_drawn_seed_first() {
    let o = crashproof(&["explore", "--mode", "random", "--cases", "4"]);
    // The seed is the OS's, so only the shape is asserted: a report, not a
    // harness error (a violation, exit 1, would print its own replay seed).
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", stdout(&o));
    assert!(
        stdout(&o).lines().next().unwrap().starts_with("seed: "),
        "{}",
        stdout(&o)
    );
}

#[test]
fn help_documents_the_exit_codes() {
    let o = crashproof(&["--help"]);
    let text = stdout(&o);
    assert!(
        text.contains("0 = explored")
            && text.contains("1 = at least one violation")
            && text.contains("2 = harness"),
        "{text}"
    );
}
