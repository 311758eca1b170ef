//! `crashproof kill --compare-explore`: the two halves side by side on the
//! same job. The explorer checks every single crash of the `core-runner`
//! workload (N=1000, K=50) under `drop-unsynced`; the kill harness runs the
//! same job as a real program with one SIGKILL per case. One post-crash
//! state checked is the unit of both: an explorer state, or a killed case
//! (kill, restart, run to completion, check).

use std::time::{Duration, Instant};

use crashproof_catalog::core_runner::CoreRunnerWorkload;
use crashproof_fault::CrashModel;
use crashproof_kill::summary::per_second;
use crashproof_kill::{Summary, Verdict};
use crashproof_sim::explore::{ExploreOptions, Explorer, HarnessError};

use super::{Checks, KillArgs, campaign, exit_of};
use crate::exit::{Exit, harness_error, interrupted};
use crate::interrupt::Interrupt;

/// The crash model of the explorer's half: the one a process kill is
/// closest to (a kill loses nothing synced; the explorer also drops what
/// was not).
const MODEL: CrashModel = CrashModel::DropUnsynced;

/// The explorer's half is repeated until it has run this long, so its rate
/// is not one short, noisy measurement.
const EXPLORE_TIME_MIN: Duration = Duration::from_secs(1);

/// What the explorer's half measured, over every repetition.
struct Explored {
    states: u64,
    elapsed: Duration,
    repetitions: u64,
    clean: bool,
}

/// One exhaustive exploration: (states checked, clean). The one call into
/// the explorer's API, so adapting to a change of it is one place.
fn explore_once(workload: &CoreRunnerWorkload) -> Result<(u64, bool), HarnessError> {
    let report = Explorer::new(workload, ExploreOptions::default()).explore_exhaustive(MODEL)?;
    Ok((report.states_checked(), report.is_clean()))
}

/// The explorer's half, repeated for at least [`EXPLORE_TIME_MIN`].
fn explore(workload: &CoreRunnerWorkload) -> Result<Explored, HarnessError> {
    let started = Instant::now();
    let mut explored = Explored {
        states: 0,
        elapsed: Duration::ZERO,
        repetitions: 0,
        clean: true,
    };
    while explored.repetitions == 0 || started.elapsed() < EXPLORE_TIME_MIN {
        let (states, clean) = explore_once(workload)?;
        explored.states += states;
        explored.clean &= clean;
        explored.repetitions += 1;
    }
    explored.elapsed = started.elapsed();
    Ok(explored)
}

/// Runs both halves and prints them side by side.
pub fn run(args: &KillArgs, seed: u64, interrupt: &Interrupt) -> Exit {
    let workload = CoreRunnerWorkload::default();
    let (items, k) = (workload.config().items, workload.config().checkpoint_every);
    eprintln!("explorer: every single crash of core-runner (N={items}, K={k}) under {MODEL}...");
    let explored = match explore(&workload) {
        Ok(e) => e,
        Err(e) => return harness_error(e),
    };
    eprintln!(
        "kill harness: {} cases of the same job as a real program, one SIGKILL each...",
        args.cases
    );
    let program = match args.program(items, k) {
        Ok(p) => p,
        Err(e) => return harness_error(e),
    };
    if interrupt.is_set() {
        return interrupted(
            "after the explorer's half, before the kill harness's: nothing compared",
        );
    }
    let mut options = match args.options(seed, interrupt) {
        Ok(o) => o,
        Err(e) => return harness_error(e),
    };
    // One kill per case, so a case is one post-kill state, like a state.
    options.kills_per_case_max = 1;
    let checks = Checks::new(args);
    let summary = match campaign(&program, &checks.list(), &options) {
        Ok(s) => s,
        Err(e) => return super::campaign_error(e),
    };
    if summary.interrupted {
        print!(
            "{}",
            summary.render(&|plan| super::replay_line::replay_command(args, plan))
        );
        return exit_of(&summary);
    }
    let states_per_second = per_second(explored.states, explored.elapsed);
    // A case whose kill was outrun checked no post-kill state: the rate
    // that compares with states/s is killed cases per second.
    let killed_per_second = per_second(summary.cases_killed, summary.elapsed);
    let ratio = if killed_per_second > 0.0 {
        states_per_second / killed_per_second
    } else {
        0.0
    };
    if args.json {
        let json = serde_json::json!({
            "job": { "workload": "core-runner", "items": items, "checkpoint_every": k },
            "explorer": {
                "model": MODEL.to_string(),
                "states": explored.states,
                "repetitions": explored.repetitions,
                "elapsed_seconds": explored.elapsed.as_secs_f64(),
                "states_per_second": states_per_second,
                "clean": explored.clean,
            },
            "kill": summary.to_json(),
            "killed_cases_per_second": killed_per_second,
            "ratio": ratio,
        });
        println!("{json:#}");
    } else {
        print!("{}", render(&explored, &summary, items, k, ratio));
        if !summary.failures.is_empty() {
            print!(
                "\nkill harness report:\n{}",
                summary.render(&|plan| super::replay_line::replay_command(args, plan))
            );
        }
    }
    if !explored.clean {
        eprintln!(
            "crashproof: the explorer found violations in core-runner; run `crashproof explore` for them"
        );
        return Exit::Violation;
    }
    exit_of(&summary)
}

fn render(explored: &Explored, summary: &Summary, items: u64, k: u64, ratio: f64) -> String {
    let kill_verdict = match summary.verdict() {
        Verdict::Clean => "OK",
        Verdict::Violation => "VIOLATION",
        Verdict::NothingKilled | Verdict::FailpointsNeverHit => "NOT TESTED",
        Verdict::Interrupted => "INTERRUPTED",
    };
    let per_repetition = explored.states / explored.repetitions.max(1);
    format!(
        "side by side on one job: the core's Runner on the hash job, N={items}, K={k}\n\
         \x20 simulator:      explore, every single crash, {model}: {per_repetition} states x {reps} repetitions in {sim:.3} s = {sps:.0} states/s ({ev})\n\
         \x20 real processes: kill -9, {cases} cases in {kill:.3} s = {cps:.2} cases/s; {killed} killed = {kps:.2} killed cases/s ({kv})\n\
         \x20 ratio: the simulator checks {ratio:.0}x more crash states per second (states/s over killed cases/s)\n\
         \x20 (one clean run of the real job took {clean:.1} ms)\n",
        model = MODEL,
        reps = explored.repetitions,
        sim = explored.elapsed.as_secs_f64(),
        sps = per_second(explored.states, explored.elapsed),
        ev = if explored.clean { "OK" } else { "VIOLATION" },
        cases = summary.cases,
        kill = summary.elapsed.as_secs_f64(),
        cps = summary.cases_per_second(),
        killed = summary.cases_killed,
        kps = per_second(summary.cases_killed, summary.elapsed),
        kv = kill_verdict,
        clean = summary.clean_elapsed.as_secs_f64() * 1e3,
    )
}
