//! `crashproof kill`: the core-runner job passes, a broken variant is caught
//! and its replay command reproduces it, and a run that killed nothing,
//! hit no failpoint or would check nothing is a harness error (exit 2).

// This file is a test crate: its helpers are test code too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::process::{Command, Output};

/// A scratch directory for case directories: on tmpfs when there is one
/// (a process kill keeps the page cache, so fsync only costs time here).
fn scratch() -> tempfile::TempDir {
    let shm = PathBuf::from("/dev/shm");
    match tempfile::tempdir_in(&shm) {
        Ok(dir) if shm.is_dir() => dir,
        _ => tempfile::tempdir().unwrap(),
    }
}

fn crashproof(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_crashproof"))
        .args(args)
        .env_remove("CRASHPROOF_SEED")
        .env_remove("FAILPOINTS")
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A small core-runner job (N = 100, K = 25: 4 commits) in `dir`.
fn small_job<'a>(dir: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "kill",
        "--dir",
        dir,
        "--items",
        "100",
        "--checkpoint-every",
        "25",
        "--seed",
        "5",
    ];
    args.extend_from_slice(extra);
    args
}

#[test]
fn the_core_runner_job_passes_with_every_hit_of_a_failpoint_killed() {
    let dir = scratch();
    let dir = dir.path().to_str().unwrap();
    let o = crashproof(&small_job(
        dir,
        &["--cases", "3", "--failpoint", "store.after_write_before_gc"],
    ));
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("result: OK"), "{out}");
    // N / K commits, each passing the failpoint once: every one was killed.
    let commits = 100 / 25;
    assert!(
        out.lines().any(|l| l.split_whitespace().collect::<Vec<_>>()
            == ["store.after_write_before_gc", &commits.to_string(), "hits"]),
        "{out}"
    );
}

#[test]
fn a_broken_variant_exits_1_and_its_replay_command_reproduces_it() {
    let dir = scratch();
    let dir = dir.path().to_str().unwrap();
    let o = crashproof(&small_job(
        dir,
        &[
            "--variant",
            "append-output",
            "--cases",
            "0",
            "--failpoint",
            "replace.after_sync_before_rename",
        ],
    ));
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("stdout differs from the clean run's"), "{out}");
    let replay = out
        .lines()
        .find_map(|l| l.trim_start().strip_prefix("replay: "))
        .unwrap();
    let words = shlex::split(replay).unwrap();
    assert_eq!(words[..2], ["crashproof", "kill"], "{replay}");
    assert!(words.iter().any(|w| w == "--plan"), "{replay}");
    let words: Vec<&str> = words[1..].iter().map(String::as_str).collect();
    let again = crashproof(&words);
    let again_out = text(&again);
    assert_eq!(again.status.code(), Some(1), "{again_out}");
    assert!(again_out.contains("FAILED replayed case 1"), "{again_out}");
    assert!(
        again_out.contains("stdout differs from the clean run's"),
        "{again_out}"
    );
}

#[test]
fn the_json_summary_has_the_verdict_and_the_counts() {
    let dir = scratch();
    let dir = dir.path().to_str().unwrap();
    let o = crashproof(&small_job(
        dir,
        &[
            "--json",
            "--cases",
            "2",
            "--failpoint",
            "runner.after_final_commit_before_finalize",
        ],
    ));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["verdict"], "clean", "{v:#}");
    assert_eq!(v["seed"], 5);
    assert_eq!(
        v["failpoint_hits"]["runner.after_final_commit_before_finalize"], 1,
        "one final commit: {v:#}"
    );
    assert!(v["kills"].as_u64().unwrap() >= 1, "{v:#}");
    assert!(v["cases_per_second"].as_f64().unwrap() > 0.0, "{v:#}");
}

#[test]
fn a_run_that_killed_nothing_is_a_harness_error() {
    let dir = scratch();
    let dir = dir.path().to_str().unwrap();
    // The program writes no progress line, so `progress:1` is outrun.
    let o = crashproof(&[
        "kill",
        "--dir",
        dir,
        "--plan",
        "progress:1",
        "--",
        "sh",
        "-c",
        "echo hi",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("no kill landed"), "{}", text(&o));
    assert!(text(&o).contains("NOT TESTED"), "{}", text(&o));
}

#[test]
fn failpoints_that_are_never_hit_are_a_harness_error() {
    let dir = scratch();
    let dir = dir.path().to_str().unwrap();
    let o = crashproof(&[
        "kill",
        "--dir",
        dir,
        "--failpoints",
        "--cases",
        "0",
        "--",
        "echo",
        "hi",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("no failpoint was ever hit"),
        "{}",
        text(&o)
    );
}

#[test]
fn an_unarmed_run_never_inherits_the_callers_failpoints() {
    let dir = scratch();
    let dir = dir.path().to_str().unwrap();
    // If FAILPOINTS leaked into the clean run, the check would fail on it
    // (exit 2, "fails on the clean run"); without a leak, nothing is killed
    // (exit 2, "no kill landed").
    let o = Command::new(env!("CARGO_BIN_EXE_crashproof"))
        .args(["kill", "--dir", dir, "--plan", "progress:1"])
        .args(["--check", r#"test "$(cat {dir}/seen)" = unset"#, "--"])
        .args([
            "sh",
            "-c",
            r#"echo "${FAILPOINTS-unset}" > "$CRASHPROOF_DIR/seen""#,
        ])
        .env("FAILPOINTS", "replace.after_sync_before_rename=panic")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("no kill landed"), "{}", text(&o));
}

#[test]
fn checks_that_cannot_judge_are_harness_errors() {
    let dir = scratch();
    let dir = dir.path().to_str().unwrap();
    let silent = crashproof(&["kill", "--dir", dir, "--", "true"]);
    assert_eq!(silent.status.code(), Some(2), "{}", text(&silent));
    assert!(
        text(&silent).contains("nothing would be checked"),
        "{}",
        text(&silent)
    );
    let failing = crashproof(&["kill", "--dir", dir, "--check", "false", "--", "echo", "x"]);
    assert_eq!(failing.status.code(), Some(2), "{}", text(&failing));
    assert!(
        text(&failing).contains("fails on the clean (unkilled) run"),
        "{}",
        text(&failing)
    );
}

#[test]
fn usage_errors_exit_2() {
    let dir = scratch();
    let dir = dir.path().to_str().unwrap();
    for args in [
        &["kill", "--variant", "append-output", "--", "echo", "x"][..],
        &["kill", "--plan", "step:3"],
        &["kill", "--plan", "progress:1", "--failpoints"],
        &["kill", "--compare-explore", "--", "echo", "x"],
        &["kill", "--failpoint", "a=b"],
        &["kill", "--ignore-stdout", "--", "echo", "x"],
        &["kill", "--dir", dir, "--", "/nonexistent/crashproof-job"],
        &[
            "kill",
            "--dir",
            "/nonexistent/crashproof-dir",
            "--",
            "echo",
            "x",
        ],
    ] {
        let o = crashproof(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}\n{}", text(&o));
    }
}

/// `--compare-explore` runs both commands as processes and reports rates
/// that follow from its own counts and times; text mode names the two
/// commands so they can be timed from outside.
#[test]
fn compare_explore_times_both_commands_and_its_rates_follow_from_its_counts() {
    let dir = scratch();
    let dir = dir.path().to_str().unwrap();
    let o = crashproof(&[
        "kill",
        "--compare-explore",
        "--compare-rounds",
        "2",
        "--cases",
        "3",
        "--seed",
        "5",
        "--dir",
        dir,
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let explorer = &v["explorer"];
    let kill = &v["kill"];
    assert_eq!(explorer["runs"], 2);
    assert_eq!(kill["runs"], 2);
    assert_eq!(kill["cases"], 6);
    let states = explorer["states"].as_f64().unwrap();
    assert!(states > 0.0 && states % 2.0 == 0.0, "{states}");
    let sps = explorer["states_per_second"].as_f64().unwrap();
    assert!((sps - states / explorer["seconds"].as_f64().unwrap()).abs() < 1e-6 * sps);
    let cps = kill["cases_per_second"].as_f64().unwrap();
    assert!((cps - 6.0 / kill["seconds"].as_f64().unwrap()).abs() < 1e-9 * cps);
    let killed = kill["cases_killed"].as_f64().unwrap();
    let kps = kill["killed_cases_per_second"].as_f64().unwrap();
    assert!((kps - killed / kill["seconds"].as_f64().unwrap()).abs() < 1e-9 * cps);
    assert!((v["ratio_per_case"].as_f64().unwrap() - sps / cps).abs() < 1e-9 * sps / cps);
    assert!(killed > 0.0);
    let rounds = v["rounds"].as_array().unwrap();
    assert_eq!(rounds.len(), 2);
    // The order alternates.
    assert_ne!(rounds[0]["explore_first"], rounds[1]["explore_first"]);
    // The kill half's seeds are the campaign seed plus the round.
    assert!(
        rounds[1]["kill"]["command"]
            .as_str()
            .unwrap()
            .contains("--seed 6")
    );
    assert!(
        explorer["command"]
            .as_str()
            .unwrap()
            .contains("explore --workload core-runner --model drop-unsynced")
    );
}

#[test]
fn compare_rounds_without_compare_explore_is_a_usage_error() {
    let o = crashproof(&["kill", "--compare-rounds", "2"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}
