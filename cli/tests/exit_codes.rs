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

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs `args` and checks the exit code and that stdout or stderr holds
/// every needle (each a piece of the message that says what to do).
fn check(args: &[&str], code: i32, needles: &[&str]) -> Output {
    let o = crashproof(args);
    let text = format!("{}{}", stdout(&o), stderr(&o));
    assert_eq!(o.status.code(), Some(code), "{args:?}:\n{text}");
    for needle in needles {
        assert!(text.contains(needle), "{args:?}: no {needle:?} in\n{text}");
    }
    o
}

/// The clean run's length of `workload`, as `replay` prints it.
fn clean_steps(workload: &str) -> u64 {
    let o = check(
        &[
            "replay",
            "--workload",
            workload,
            "step:0@drop-unsynced#idx=0",
        ],
        0,
        &[],
    );
    let out = stdout(&o);
    let line = out.lines().find(|l| l.starts_with("clean run: ")).unwrap();
    line["clean run: ".len()..]
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn replay_of_a_step_past_the_run_exits_2_and_says_the_run_length() {
    let steps = clean_steps("core-runner");
    let past = format!("step:{}@drop-unsynced#idx=0", steps + 1);
    check(
        &["replay", "--workload", "core-runner", &past],
        2,
        &[
            "is never reached",
            &format!("ended after {steps} filesystem steps"),
            &format!("`step:0` to `step:{steps}`"),
            "the failpoints it hits: ",
            "replace.after_sync_before_rename (x",
        ],
    );
    // The last crash point, after the last step, is reached.
    let at_end = format!("step:{steps}@drop-unsynced#idx=0");
    check(
        &["replay", "--workload", "core-runner", &at_end],
        0,
        &["verdict: OK (1 crashes"],
    );
}

#[test]
fn replay_of_a_state_index_past_the_count_exits_2_and_gives_the_count() {
    // Before the first step of core-runner, the disk is empty: the model
    // allows one post-crash state there.
    check(
        &["replay", "--workload", "core-runner", "step:0@prefix#idx=4"],
        2,
        &[
            "crash point `step:0@prefix#idx=4` selects state 4, but the prefix model allows only 1 \
             post-crash states there (idx=0 to idx=0): name an index below 1",
        ],
    );
    check(
        &["replay", "--workload", "core-runner", "step:0@prefix#idx=0"],
        0,
        &["verdict: OK (1 crashes"],
    );
}

#[test]
fn replay_of_a_failpoint_never_hit_or_hit_too_few_times_exits_2_with_the_hits() {
    let o = check(
        &[
            "replay",
            "--workload",
            "core-runner",
            "fp:no.such.failpoint@prefix#idx=0",
        ],
        2,
        &[
            "never hits failpoint `no.such.failpoint`",
            "the failpoints it hits: ",
        ],
    );
    // The hit count the message lists is the one the next check exceeds.
    let text = stderr(&o);
    let name = "replace.after_sync_before_rename";
    let listed = &text[text.find(&format!("{name} (x")).unwrap() + name.len() + 3..];
    let hits: u32 = listed[..listed.find(')').unwrap()].parse().unwrap();
    assert!(hits > 1, "{text}");
    let last = format!("fp:{name}*{hits}@prefix#idx=0");
    check(&["replay", "--workload", "core-runner", &last], 0, &[]);
    let above = format!("fp:{name}*{}@prefix#idx=0", hits + 1);
    check(
        &["replay", "--workload", "core-runner", &above],
        2,
        &[&format!("hits failpoint `{name}` only {hits} times")],
    );
}

#[test]
fn a_number_too_large_in_a_schedule_says_so() {
    check(
        &[
            "replay",
            "--workload",
            "core-runner",
            "step:99999999999999999999@subset#idx=0",
        ],
        2,
        &[
            "99999999999999999999",
            "is too large: at most 18446744073709551615",
        ],
    );
}

#[test]
fn an_exploration_that_checks_nothing_exits_2_and_says_what_to_raise() {
    check(
        &[
            "explore",
            "--model",
            "drop-unsynced",
            "--cap",
            "0",
            "--picks",
            "0",
        ],
        2,
        &[
            "no post-crash state would be checked",
            "--cap",
            "--picks",
            "raise either",
        ],
    );
    check(
        &["explore", "--mode", "random", "--cases", "0", "--seed", "1"],
        2,
        &["checked zero post-crash states", "run at least one"],
    );
    check(
        &[
            "explore",
            "--workload",
            "rename-before-fsync",
            "--mode",
            "sync-eio",
            "--model",
            "drop-unsynced",
        ],
        2,
        &["makes no `sync`", "leave this mode out"],
    );
}

/// The states checked, from the report's `total:` line.
fn states_checked(o: &Output) -> u64 {
    let out = stdout(o);
    let line = out.lines().find(|l| l.starts_with("total: ")).unwrap();
    line["total: ".len()..]
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn cap_0_alone_checks_no_state_twice() {
    // One state per crash point under drop-unsynced: with the cap at 0 the
    // point is still enumerated (its one state is fewer than the picks),
    // not sampled 16 times.
    for model in ["drop-unsynced", "prefix", "subset"] {
        let default = check(&["explore", "--model", model], 0, &[]);
        let capped = check(&["explore", "--model", model, "--cap", "0"], 0, &[]);
        assert!(
            states_checked(&capped) <= states_checked(&default),
            "{model}: {}\n{}",
            stdout(&capped),
            stdout(&default)
        );
        if model == "drop-unsynced" {
            assert_eq!(states_checked(&capped), states_checked(&default));
        }
    }
}

#[test]
fn a_bad_sector_size_exits_2_and_names_a_good_one() {
    let too_large = (2 * crashproof_sim::explore::SECTOR_SIZE_BYTES_MAX).to_string();
    for (size, needle) in [
        ("0", "0 bytes cannot tear a write"),
        ("3", "not a power of two"),
        ("4000", "not a power of two"),
        (
            too_large.as_str(),
            "larger than the most a simulated disk allows",
        ),
    ] {
        check(
            &["explore", "--sector-size", size],
            2,
            &[needle, "such as 512 or 4096"],
        );
        check(
            &[
                "replay",
                "--workload",
                "core-runner",
                "step:0@subset#idx=0",
                "--sector-size",
                size,
            ],
            2,
            &[needle],
        );
    }
    check(
        &["explore", "--model", "subset", "--sector-size", "4096"],
        0,
        &["result: OK"],
    );
}

#[test]
fn a_flag_without_effect_in_the_chosen_mode_exits_2() {
    for (args, needle) in [
        (&["--cases", "5"][..], "--cases only affects random mode"),
        (
            &["--max-points", "2"][..],
            "--max-points only affects random mode",
        ),
        (
            &["--no-sync-faults"][..],
            "--no-sync-faults only affects random mode",
        ),
        (
            &["--mode", "random", "--crashes", "2"][..],
            "--crashes only affects exhaustive mode",
        ),
        (
            &["--mode", "sync-eio", "--crashes", "1"][..],
            "--crashes only affects exhaustive mode",
        ),
        (
            &["--mode", "sync-eio", "--cases", "4"][..],
            "--cases only affects random mode",
        ),
    ] {
        let mut all = vec!["explore"];
        all.extend(args);
        check(&all, 2, &[needle, "drop it"]);
    }
    check(
        &["explore", "--mode", "exhaustive,exhaustive"],
        2,
        &["names `exhaustive` twice: name each mode once"],
    );
}

#[test]
fn sync_eio_mode_passes_the_control_and_catches_fsync_retried() {
    check(
        &["explore", "--workload", "zoo-control", "--mode", "sync-eio"],
        0,
        &[
            "sync-eio drop-unsynced",
            "sync-eio eager-dirs",
            "result: OK",
        ],
    );
    let o = check(
        &[
            "explore",
            "--workload",
            "fsync-retried",
            "--mode",
            "sync-eio",
            "--model",
            "drop-unsynced",
        ],
        1,
        &[
            "violations per oracle: state oracle",
            "group 1: sync-eio drop-unsynced",
        ],
    );
    // Its replay command reproduces the violation.
    let out = stdout(&o);
    let replay = out
        .lines()
        .find(|l| l.trim_start().starts_with("replay:"))
        .unwrap();
    let schedule = replay.split('\'').nth(1).unwrap();
    assert!(schedule.contains("eio:"), "{replay}");
    check(
        &["replay", "--workload", "fsync-retried", schedule],
        1,
        &["verdict: VIOLATION (state oracle)"],
    );
}

#[test]
fn several_modes_run_in_one_exploration() {
    check(
        &[
            "explore",
            "--workload",
            "zoo-control",
            "--mode",
            "exhaustive,sync-eio,random",
            "--model",
            "drop-unsynced,prefix",
            "--cases",
            "8",
            "--seed",
            "3",
        ],
        0,
        &[
            "modes: exhaustive, sync-eio, random; crash models: drop-unsynced, prefix",
            "exhaustive prefix",
            "sync-eio drop-unsynced",
            "random drop-unsynced+prefix",
            "result: OK",
        ],
    );
}

#[test]
fn a_violations_replay_line_runs_this_binary_and_reproduces_it() {
    let o = check(
        &[
            "explore",
            "--workload",
            "no-dir-fsync",
            "--model",
            "drop-unsynced",
            "--cap",
            "64",
        ],
        1,
        &[],
    );
    let out = stdout(&o);
    let line = out
        .lines()
        .find_map(|l| l.trim_start().strip_prefix("replay:   "))
        .unwrap_or_else(|| panic!("no replay line in\n{out}"));
    // Not a bare `crashproof` (rarely on PATH) nor `cargo run` of another
    // profile: the path of the binary that explored.
    let words = shlex::split(line).unwrap();
    assert_eq!(words[0], env!("CARGO_BIN_EXE_crashproof"), "{line}");
    assert_eq!(
        words[1..4],
        ["replay", "--workload", "no-dir-fsync"],
        "{line}"
    );
    assert!(line.ends_with("--cap 64"), "{line}");
    // Pasted as it is, it replays the violation.
    let replayed = Command::new(&words[0]).args(&words[1..]).output().unwrap();
    assert_eq!(replayed.status.code(), Some(1), "{line}");
    assert!(stdout(&replayed).contains("verdict: VIOLATION"), "{line}");
}
