//! `crashproof kill --compare-explore`: the two halves side by side on the
//! same job, timed the way a user would time them.
//!
//! Both halves are this binary's own commands, run as child processes and
//! timed from spawn to exit, in rounds that alternate their order:
//!
//! - the explorer: `crashproof explore --workload core-runner --model
//!   drop-unsynced --json` (every single crash of the core-runner job,
//!   N=1000, K=50, under the model closest to a process kill);
//! - the kill harness: `crashproof kill --cases C --kills-per-case-max 1
//!   --json` on the same job as a real program (one kill per case, so a
//!   killed case is one post-kill state, like a state).
//!
//! Why processes, not the explorer's API in this process: at 231 states an
//! exploration takes a few milliseconds, so process start, argument
//! parsing, the clean run and printing the report are most of what running
//! `crashproof explore` costs; timed in-process and repeated warm, the
//! explorer looked several times faster than any user sees it. The kill
//! harness is its command too (its two clean runs and its cleanup
//! included). So the rates here are the ones an outside measurement of the
//! two printed commands (`hyperfine`, a shell loop) finds, and alternating
//! the order spreads a machine that changes speed over both halves alike.
//!
//! It prints states per second, cases per second and killed cases per
//! second (a case whose kill was outrun checked no post-kill state), and
//! both ratios.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crashproof_catalog::core_runner::CoreRunnerConfig;
use serde_json::{Value, json};

use super::KillArgs;
use crate::exit::{Exit, harness_error, interrupted};
use crate::interrupt::Interrupt;

/// The explorer's half: its arguments after the executable.
const EXPLORE_ARGS: [&str; 6] = [
    "explore",
    "--workload",
    "core-runner",
    "--model",
    "drop-unsynced",
    "--json",
];

/// Rounds when `--compare-rounds` is not given.
const COMPARE_ROUNDS: u32 = 3;

/// One run of one half.
#[derive(Debug, Clone)]
struct Timed {
    elapsed: Duration,
    json: Value,
}

/// What both halves measured, over every round.
#[derive(Debug, Default)]
struct Totals {
    explore_seconds: f64,
    explore_runs: u64,
    states: u64,
    explore_clean: bool,
    kill_seconds: f64,
    kill_runs: u64,
    cases: u64,
    cases_killed: u64,
    kill_verdicts: Vec<String>,
    rounds: Vec<Value>,
}

fn per_second(count: u64, seconds: f64) -> f64 {
    if seconds > 0.0 {
        count as f64 / seconds
    } else {
        0.0
    }
}

impl Totals {
    fn states_per_second(&self) -> f64 {
        per_second(self.states, self.explore_seconds)
    }

    fn cases_per_second(&self) -> f64 {
        per_second(self.cases, self.kill_seconds)
    }

    fn killed_per_second(&self) -> f64 {
        per_second(self.cases_killed, self.kill_seconds)
    }

    fn ratio(&self, rate: f64) -> f64 {
        if rate > 0.0 {
            self.states_per_second() / rate
        } else {
            0.0
        }
    }
}

/// The kill half's arguments after the executable, for round `round`.
fn kill_args(args: &KillArgs, seed: u64) -> Vec<String> {
    let mut argv: Vec<String> = [
        "kill",
        "--cases",
        &args.cases.to_string(),
        "--kills-per-case-max",
        "1",
        "--seed",
        &seed.to_string(),
        "--failures-max",
        &args.failures_max.to_string(),
        "--json",
    ]
    .map(String::from)
    .to_vec();
    if let Some(dir) = &args.dir {
        argv.extend(["--dir".into(), dir.to_string_lossy().into_owned()]);
    }
    if let Some(ms) = args.run_timeout_ms {
        argv.extend(["--run-timeout-ms".into(), ms.to_string()]);
    }
    if let Some(variant) = args.variant {
        let name = clap::ValueEnum::to_possible_value(&variant)
            .map(|v| v.get_name().to_string())
            .unwrap_or_default();
        argv.extend(["--variant".into(), name]);
    }
    if args.items_log {
        argv.push("--items-log".into());
    }
    if let Some(check) = &args.check {
        argv.extend(["--check".into(), check.clone()]);
    }
    if args.ignore_stdout {
        argv.push("--ignore-stdout".into());
    }
    argv
}

/// Runs `exe argv` to its end, timed from spawn to exit; its stdout must be
/// JSON. Exit 0 and 1 (a violation) are results; anything else is an error
/// that carries the child's stderr.
fn timed(exe: &Path, argv: &[String], show_stderr: bool) -> Result<(Timed, i32), String> {
    let start = Instant::now();
    let output = Command::new(exe)
        .args(argv)
        .stdin(Stdio::null())
        .stderr(if show_stderr {
            Stdio::inherit()
        } else {
            Stdio::piped()
        })
        .output()
        .map_err(|e| format!("cannot run {}: {e}", command_line(argv)))?;
    let elapsed = start.elapsed();
    let code = output.status.code().unwrap_or(-1);
    if code != 0 && code != 1 {
        let why = if show_stderr {
            "its message is above".to_string()
        } else {
            String::from_utf8_lossy(&output.stderr).trim().to_string()
        };
        return Err(format!(
            "`{}` failed ({}): {why}",
            command_line(argv),
            output.status,
        ));
    }
    let json = serde_json::from_slice(&output.stdout).map_err(|e| {
        format!(
            "`{}` printed no JSON report ({e}); run it by hand to see why",
            command_line(argv)
        )
    })?;
    Ok((Timed { elapsed, json }, code))
}

/// `crashproof` and the arguments, for printing.
fn command_line(argv: &[String]) -> String {
    let quoted: Vec<String> = argv
        .iter()
        .map(|a| shlex::try_quote(a).map_or_else(|_| a.clone(), |q| q.into_owned()))
        .collect();
    format!("crashproof {}", quoted.join(" "))
}

fn field(json: &Value, path: &[&str]) -> Option<u64> {
    path.iter()
        .try_fold(json, |v, key| v.get(key))
        .and_then(Value::as_u64)
}

/// Why a comparison stopped before printing its result.
enum Stop {
    /// Ctrl-C or SIGTERM (the children got it too: same process group).
    Interrupted { rounds_done: u32, rounds: u32 },
    /// A half could not run or printed no report.
    Failed(String),
}

impl From<String> for Stop {
    fn from(message: String) -> Self {
        Stop::Failed(message)
    }
}

impl From<&str> for Stop {
    fn from(message: &str) -> Self {
        Stop::Failed(message.to_string())
    }
}

/// Runs both halves, alternating, and prints them side by side; on Ctrl-C
/// or SIGTERM prints how many rounds were done and exits 130.
pub fn run(args: &KillArgs, seed: u64, interrupt: &Interrupt) -> Exit {
    match compare(args, seed, interrupt) {
        Ok(exit) => exit,
        Err(Stop::Interrupted {
            rounds_done,
            rounds,
        }) => interrupted(format!(
            "kill --compare-explore: {rounds_done} of {rounds} rounds done; no comparison printed"
        )),
        Err(Stop::Failed(e)) => harness_error(e),
    }
}

fn compare(args: &KillArgs, seed: u64, interrupt: &Interrupt) -> Result<Exit, Stop> {
    let exe = std::env::current_exe()
        .map_err(|e| format!("cannot find this executable to run both halves: {e}"))?;
    let explore_argv: Vec<String> = EXPLORE_ARGS.map(String::from).to_vec();
    let rounds = args.compare_rounds.unwrap_or(COMPARE_ROUNDS);
    let mut totals = Totals {
        explore_clean: true,
        ..Totals::default()
    };
    for round in 0..rounds {
        let kill_argv = kill_args(args, seed.wrapping_add(u64::from(round)));
        let explore_first = round % 2 == 0;
        eprintln!(
            "round {}/{rounds}: {} first",
            round + 1,
            if explore_first { "explore" } else { "kill" }
        );
        // A child that failed because the signal reached it too is an
        // interruption, not a broken half.
        let stopped = |message: String| {
            if interrupt.is_set() {
                Stop::Interrupted {
                    rounds_done: round,
                    rounds,
                }
            } else {
                Stop::Failed(message)
            }
        };
        let mut explored = None;
        let mut killed = None;
        for half in 0..2 {
            if interrupt.is_set() {
                return Err(Stop::Interrupted {
                    rounds_done: round,
                    rounds,
                });
            }
            if (half == 0) == explore_first {
                explored = Some(timed(&exe, &explore_argv, false).map_err(stopped)?);
            } else {
                killed = Some(timed(&exe, &kill_argv, true).map_err(stopped)?);
            }
        }
        let (Some((explored, explore_code)), Some((killed, kill_code))) = (explored, killed) else {
            return Err("a half did not run".into());
        };
        let states = field(&explored.json, &["summary", "states_checked"])
            .ok_or("the explorer's JSON report has no summary.states_checked")?;
        let cases = field(&killed.json, &["cases"]).ok_or("the kill report has no cases")?;
        let cases_killed =
            field(&killed.json, &["cases_killed"]).ok_or("the kill report has no cases_killed")?;
        let verdict = killed.json["verdict"]
            .as_str()
            .unwrap_or("unknown")
            .to_string();
        totals.explore_seconds += explored.elapsed.as_secs_f64();
        totals.explore_runs += 1;
        totals.states += states;
        totals.explore_clean &= explore_code == 0;
        totals.kill_seconds += killed.elapsed.as_secs_f64();
        totals.kill_runs += 1;
        totals.cases += cases;
        totals.cases_killed += cases_killed;
        totals.rounds.push(json!({
            "explore_first": explore_first,
            "explore": { "seconds": explored.elapsed.as_secs_f64(), "states": states, "exit": explore_code },
            "kill": {
                "seconds": killed.elapsed.as_secs_f64(),
                "cases": cases,
                "cases_killed": cases_killed,
                "verdict": verdict,
                "exit": kill_code,
                "command": command_line(&kill_argv),
            },
        }));
        totals.kill_verdicts.push(verdict);
    }
    print_report(args, &totals, &explore_argv, seed);
    Ok(verdict(&totals))
}

fn print_report(args: &KillArgs, totals: &Totals, explore_argv: &[String], seed: u64) {
    // Both commands run the core-runner job at its defaults (the kill
    // harness's job defaults to the explorer's N and K).
    let job = CoreRunnerConfig::default();
    let kill_command = command_line(&kill_args(args, seed));
    if args.json {
        let report = json!({
            "job": { "workload": "core-runner", "items": job.items, "checkpoint_every": job.checkpoint_every },
            "timing": "each half a child process, timed from spawn to exit; rounds alternate their order",
            "explorer": {
                "command": command_line(explore_argv),
                "runs": totals.explore_runs,
                "states": totals.states,
                "seconds": totals.explore_seconds,
                "states_per_second": totals.states_per_second(),
                "clean": totals.explore_clean,
            },
            "kill": {
                "command": kill_command,
                "runs": totals.kill_runs,
                "cases": totals.cases,
                "cases_killed": totals.cases_killed,
                "seconds": totals.kill_seconds,
                "cases_per_second": totals.cases_per_second(),
                "killed_cases_per_second": totals.killed_per_second(),
                "verdicts": totals.kill_verdicts,
            },
            "ratio_per_case": totals.ratio(totals.cases_per_second()),
            "ratio_per_killed_case": totals.ratio(totals.killed_per_second()),
            "rounds": totals.rounds,
        });
        println!("{report:#}");
        return;
    }
    let per_run = totals.states / totals.explore_runs.max(1);
    println!(
        "side by side on one job: the core's Runner on the hash job, N={}, K={}; both halves \
         as processes, timed from spawn to exit, {} rounds alternating their order",
        job.items, job.checkpoint_every, totals.explore_runs
    );
    println!(
        "  simulator:      {} runs of `{}`: {per_run} states each, {:.3} s in all = {:.0} states/s ({})",
        totals.explore_runs,
        command_line(explore_argv),
        totals.explore_seconds,
        totals.states_per_second(),
        if totals.explore_clean {
            "OK"
        } else {
            "VIOLATION"
        },
    );
    println!(
        "  real processes: {} runs of `{}` (seed +1 per round): {} cases, {} killed, in {:.3} s = {:.2} cases/s, {:.2} killed cases/s ({})",
        totals.kill_runs,
        kill_command,
        totals.cases,
        totals.cases_killed,
        totals.kill_seconds,
        totals.cases_per_second(),
        totals.killed_per_second(),
        totals.kill_verdicts.join(", "),
    );
    println!(
        "  ratio: the simulator checks {:.0}x more crash states per second than kill -9 runs cases ({:.0}x per killed case)",
        totals.ratio(totals.cases_per_second()),
        totals.ratio(totals.killed_per_second()),
    );
}

/// Exit 1 if either half found a violation, 2 if no kill landed (nothing
/// was tested by that half), 0 otherwise.
fn verdict(totals: &Totals) -> Exit {
    if !totals.explore_clean || totals.kill_verdicts.iter().any(|v| v == "violation") {
        if !totals.explore_clean {
            eprintln!(
                "crashproof: the explorer found violations in core-runner; run `crashproof explore` for them"
            );
        }
        return Exit::Violation;
    }
    if totals.cases_killed == 0 {
        return harness_error(
            "no kill landed before the job finished, so the kill half tested nothing and there is no rate to compare; run more cases or a slower disk",
        );
    }
    if totals.kill_verdicts.iter().any(|v| v != "clean") {
        return harness_error(format!(
            "a kill run was not clean ({}); run it alone to see why",
            totals.kill_verdicts.join(", ")
        ));
    }
    Exit::Clean
}
