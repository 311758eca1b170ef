//! `crashproof kill`: the core-runner job passes, a broken variant is caught
//! and its replay command reproduces it, and a run that killed nothing,
//! hit no failpoint, would check nothing, keeps no state in its directory,
//! shares state between runs or has checks that pass on damaged state is a
//! harness error (exit 2). Ctrl-C and SIGTERM: `tests/interrupt.rs`.

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

/// A program that keeps its state (one line) in its directory and prints it.
const WRITES_STATE: &str = r#"echo hi > "$CRASHPROOF_DIR/state"; cat "$CRASHPROOF_DIR/state""#;

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
    // The line runs this very binary by its path: no `crashproof` on PATH
    // is needed, and the profile is the one that ran.
    let binary = std::fs::canonicalize(env!("CARGO_BIN_EXE_crashproof")).unwrap();
    assert_eq!(
        std::fs::canonicalize(&words[0]).unwrap(),
        binary,
        "{replay}"
    );
    assert_eq!(words[1], "kill", "{replay}");
    assert!(words.iter().any(|w| w == "--plan"), "{replay}");
    // A failpoint plan is exact: one try, no note.
    assert!(!words.iter().any(|w| w == "--repeat"), "{replay}");
    assert!(!out.contains("replay is approximate"), "{out}");
    let again = Command::new(&words[0])
        .args(&words[1..])
        .env_remove("CRASHPROOF_SEED")
        .env_remove("FAILPOINTS")
        .output()
        .unwrap();
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
        WRITES_STATE,
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
        "sh",
        "-c",
        WRITES_STATE,
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
    let silent = crashproof(&[
        "kill",
        "--dir",
        dir,
        "--",
        "sh",
        "-c",
        r#"touch "$CRASHPROOF_DIR/state""#,
    ]);
    assert_eq!(silent.status.code(), Some(2), "{}", text(&silent));
    assert!(
        text(&silent).contains("nothing would be checked"),
        "{}",
        text(&silent)
    );
    let exits_3 = crashproof(&["kill", "--dir", dir, "--", "sh", "-c", "exit 3"]);
    assert_eq!(exits_3.status.code(), Some(2), "{}", text(&exits_3));
    assert!(
        text(&exits_3).contains("the clean (unkilled) run did not succeed: Exited(3)"),
        "{}",
        text(&exits_3)
    );
    let failing = crashproof(&[
        "kill",
        "--dir",
        dir,
        "--check",
        "false",
        "--",
        "sh",
        "-c",
        WRITES_STATE,
    ]);
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
        &["kill", "--repeat", "3", "--", "echo", "x"],
        &["kill", "--plan", "progress:1", "--repeat", "0"],
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
        // Enough cases that some kill lands in each round on a loaded
        // machine (with 3, no kill landed in a round 2 times in 5 at load
        // 3.5, and the kill half rightly refused to give a rate).
        "--cases",
        "10",
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
    assert_eq!(kill["cases"], 20);
    let states = explorer["states"].as_f64().unwrap();
    assert!(states > 0.0 && states % 2.0 == 0.0, "{states}");
    let sps = explorer["states_per_second"].as_f64().unwrap();
    assert!((sps - states / explorer["seconds"].as_f64().unwrap()).abs() < 1e-6 * sps);
    let cps = kill["cases_per_second"].as_f64().unwrap();
    assert!((cps - 20.0 / kill["seconds"].as_f64().unwrap()).abs() < 1e-9 * cps);
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

/// Runs `kill` on `sh -c <script> job {dir}` (the case directory is `$1`)
/// with `extra` flags, in a new scratch directory, and returns the output
/// and what the scratch directory holds afterwards.
fn kill_sh(extra: &[&str], script: &str) -> (Output, Vec<String>) {
    let dir = scratch();
    let root = dir.path().to_str().unwrap();
    let mut args = vec!["kill", "--dir", root, "--seed", "1"];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["--", "sh", "-c", script, "job", "{dir}"]);
    let o = crashproof(&args);
    let left = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    (o, left)
}

/// Asserts exit 2 with every needle in the output, and that the refused
/// campaign left nothing behind.
fn assert_refused(extra: &[&str], script: &str, needles: &[&str]) {
    let (o, left) = kill_sh(extra, script);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(2), "{script}\n{out}");
    for needle in needles {
        assert!(out.contains(needle), "{script}: no {needle:?} in\n{out}");
    }
    assert!(left.is_empty(), "{script}: left {left:?}");
}

#[test]
fn a_program_that_keeps_no_state_in_its_dir_is_refused() {
    let needles = [
        "the program keeps no state in {dir}; a kill test needs its state there",
        "Pass `{dir}` (or read CRASHPROOF_DIR) where the program keeps its state",
    ];
    // No state at all.
    assert_refused(&[], "echo hi", &needles);
    // The buggy program: it ignores {dir} and keeps its state at a fixed
    // path, so every run after the first finds the finished state, and a
    // kill at any point passes.
    let fixed = tempfile::tempdir().unwrap();
    let fixed = fixed.path().join("state");
    let ignores_dir = format!(
        r#"f={}; [ -f "$f" ] || {{ echo partial > "$f"; echo result > "$f"; }}; cat "$f""#,
        fixed.display()
    );
    assert_refused(&[], &ignores_dir, &needles);
    assert!(
        fixed.exists(),
        "the program did run and keep its state there"
    );
}

#[test]
fn compare_rounds_without_compare_explore_is_a_usage_error() {
    let o = crashproof(&["kill", "--compare-rounds", "2"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

#[test]
fn runs_that_share_state_outside_their_own_dir_are_refused() {
    // Beside its directory, in the campaign's: shared by every run.
    assert_refused(
        &[],
        r#"echo s > "$1/state"; echo x >> "$1/../shared"; echo ok"#,
        &[
            "the runs are not isolated",
            "during clean run 1, `shared` appeared in the campaign directory",
        ],
    );
    // Into another run's directory.
    assert_refused(
        &[],
        r#"echo s > "$1/state"; for d in "$1"/../clean-*; do [ "$d" = "$1" ] || echo x >> "$d/state"; done; echo ok"#,
        &[
            "the runs are not isolated",
            "during clean run 2, `state` was written in",
            "the directory of an earlier run",
        ],
    );
}

#[test]
fn items_0_is_refused_as_in_explore() {
    for flag in ["--items", "--checkpoint-every"] {
        let o = crashproof(&["kill", flag, "0"]);
        assert_eq!(o.status.code(), Some(2), "{flag}: {}", text(&o));
        assert!(text(&o).contains("0 is not in 1.."), "{flag}: {}", text(&o));
    }
    let explore = crashproof(&["explore", "--items", "0"]);
    assert_eq!(explore.status.code(), Some(2), "{}", text(&explore));
    assert!(text(&explore).contains("0 is not in 1.."));
}

#[test]
fn checks_that_pass_on_damaged_state_are_refused_when_stdout_is_ignored() {
    // Buggy: a restart appends its line again, so a killed case ends with
    // a result the clean run never had.
    let appends = r#"echo line >> "$1/result"; echo ok"#;
    for check in ["true", "test -f {dir}/result"] {
        assert_refused(
            &["--ignore-stdout", "--check", check],
            appends,
            &[
                "the checks cannot tell damage from success",
                &format!("check command `{check}` exits 0"),
                "passes on a damaged copy of the clean run's directory",
                "files cut to less than half their length: 1",
            ],
        );
    }
    // A check that reads the result is accepted: the campaign runs (and
    // here kills nothing, as the program writes no progress line).
    let (o, left) = kill_sh(
        &[
            "--ignore-stdout",
            "--check",
            "test \"$(cat {dir}/result)\" = line",
            "--plan",
            "progress:1",
        ],
        appends,
    );
    let out = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}");
    assert!(!out.contains("cannot tell damage"), "{out}");
    assert!(out.contains("no kill landed"), "{out}");
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn an_approximate_replay_says_so_and_repeat_runs_it_until_the_failure_reappears() {
    // Buggy as above, and it lingers after its progress line, so a kill
    // there lands (its restart appends a second line: stdout differs).
    let script = r#"echo line >> "$1/result"; echo 1 >&3; sleep 0.2; cat "$1/result""#;
    let (o, _) = kill_sh(&["--plan", "progress:1", "--repeat", "5"], script);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("FAILED replayed case"), "{out}");
    let note = out
        .lines()
        .find_map(|l| l.strip_prefix("note: --repeat: the failure reappeared on try "))
        .unwrap_or_else(|| panic!("no --repeat note in\n{out}"));
    let (tries, of) = note.split_once(" of ").unwrap();
    assert_eq!(of, "5", "{out}");
    let tries: u32 = tries.parse().unwrap();
    assert!((1..=5).contains(&tries), "{out}");
    assert!(
        out.contains(&format!("cases: {tries} ")),
        "stopped at the failing try: {out}"
    );
    let replay = out
        .lines()
        .find_map(|l| l.trim_start().strip_prefix("replay: "))
        .unwrap();
    let words = shlex::split(replay).unwrap();
    let repeat = words.iter().position(|w| w == "--repeat").unwrap();
    assert_eq!(words[repeat + 1], "20", "{replay}");
    assert!(out.contains("replay is approximate"), "{out}");
}
