//! `crashproof explore-cmd`: any program, in any language, explored on a
//! FUSE mount whose state is the simulator's disk. The program is a
//! `Workload` (`crashproof_fuse::CommandWorkload`), so the explorer's
//! modes, models, oracles, dedup, shards, JSON and replay apply unchanged;
//! this file adds the preflight (two clean runs that agree, a step on the
//! mount, something that could fail), the program's replay and materialize
//! lines on every violation, and what the model refused.

use clap::Args;
use crashproof_fault::KillSchedule;
use crashproof_fuse::{CommandWorkload, preflight};
use crashproof_sim::explore::{Cancel, ExploreOptions, Explorer, HarnessError, ReplayLine, Report};

use crate::case_args::print_verdict;
use crate::exit::{Exit, harness_error, interrupted, usage_error};
use crate::explore_cmd::{ExplorationArgs, ModelArg, explore_timed, print_report};
use crate::interrupt::Interrupt;
use crate::program_arg::ProgramArgs;
use crate::report_json::ProgramJson;

/// Arguments of `crashproof explore-cmd`.
#[derive(Debug, Args)]
pub struct ExploreCmdArgs {
    /// Replay one case instead of exploring: its schedule as a violation
    /// printed it (with the same --seed, --cap, --picks, --sector-size,
    /// --check and program). Prints the case's trace and verdict.
    #[arg(long, value_name = "SCHEDULE")]
    replay: Option<String>,
    #[command(flatten)]
    exploration: ExplorationArgs,
    #[command(flatten)]
    program: ProgramArgs,
}

/// Explores (or, with `--replay`, replays one case of) the program.
pub fn run(args: &ExploreCmdArgs) -> Exit {
    if let Some(schedule) = &args.replay {
        return replay(args, schedule);
    }
    let ex = &args.exploration;
    let plan = match ex.plan() {
        Ok(plan) => plan,
        Err(e) => return usage_error(e),
    };
    // Ctrl-C and SIGTERM set the flag the explorer checks between units
    // and kill the running programs; what they ran is discarded, the
    // report so far printed as INTERRUPTED, the mounts removed on the way
    // out (`signals.rs`).
    let interrupt = match Interrupt::install() {
        Ok(interrupt) => interrupt,
        Err(e) => return harness_error(format!("cannot handle Ctrl-C and SIGTERM: {e}")),
    };
    let workload = match args.program.interruptible_workload() {
        Ok(w) => w,
        Err(e) => return harness_error(e),
    };
    // Before the exploration, a failure after the signal is the signal's.
    let stopped = |what: &str| {
        interrupted(format!(
            "explore-cmd: stopped {what}; nothing was explored; its programs were killed and \
             its mounts removed"
        ))
    };
    let seed = ex.seed();
    let options = ExploreOptions {
        cancel: Cancel::when(interrupt.flag().clone()),
        ..ex.options(seed, ReplayLine::Library)
    };
    let explorer = Explorer::new(&workload, options.clone());
    let label = workload_label(&workload);
    let pre = match preflight(&explorer, &workload) {
        Ok(_) if interrupt.is_set() => return stopped("during its clean runs"),
        Ok(p) => p,
        Err(_) if interrupt.is_set() => return stopped("during its clean runs"),
        Err(e) => return harness_error(e),
    };
    // One mount per thread up front: a mount failing mid-exploration would
    // look like a run of the program failing.
    if let Err(e) = workload.warm_mounts(options.threads() + 1) {
        return harness_error(e);
    }
    let timeout = args.program.command.time_runs(&workload, pre.fastest);
    eprintln!(
        "clean run of `{label}`: {} filesystem steps on the mount, the same in two runs; {} ms \
         (runs are killed after {} ms)",
        pre.clean.steps,
        pre.fastest.as_millis(),
        timeout.as_millis()
    );
    let mut report = match explore_timed(&explorer, &plan, &label) {
        Ok(r) => r,
        Err(e @ HarnessError::Interrupted) => return interrupted(e),
        Err(_) if interrupt.is_set() => return stopped("before its first crash point"),
        Err(e) => return harness_error(e),
    };
    if !report.interrupted
        && let Some(failure) = workload.harness_failure()
    {
        return harness_error(format!(
            "the harness failed in the middle of the exploration (a mount, or starting the \
             program or the check), so no verdict holds: {failure}"
        ));
    }
    explain(&mut report, &args.program, &options, &workload, pre.fastest);
    let invocation = crate::report_json::Invocation {
        workload: label,
        ..ex.invocation(&plan, seed)
    };
    print_report(
        report,
        ex,
        &options,
        invocation,
        Some(program_json(&args.program, &workload)),
    )
}

fn workload_label(workload: &CommandWorkload) -> String {
    use crashproof_sim::explore::Workload;
    workload.name()
}

/// Puts the program's replay and materialize commands on every violation,
/// and what the model refused or did not keep, and the work done, in the
/// report's notes.
fn explain(
    report: &mut Report,
    program: &ProgramArgs,
    options: &ExploreOptions,
    workload: &CommandWorkload,
    clean_run: std::time::Duration,
) {
    for group in &mut report.groups {
        if let Some(v) = &mut group.violation {
            v.replay = format!(
                "{}\n  state:    {}",
                program.replay_line(&v.schedule, options),
                program.command.materialize_line(&v.schedule, options)
            );
        }
    }
    let stats = workload.stats();
    let ms = |d: f64| d * 1e3;
    let per_run = stats.program_time.as_secs_f64() / stats.program_runs.max(1) as f64;
    report.notes.push(format!(
        "work: {} program runs ({:.3} s, {:.1} ms each), {} check runs ({:.3} s; {} answered from \
         equal post-crash trees), {} FUSE requests",
        stats.program_runs,
        stats.program_time.as_secs_f64(),
        ms(per_run),
        stats.check_runs,
        stats.check_time.as_secs_f64(),
        stats.check_cache_hits,
        stats.requests
    ));
    if let Some(elapsed) = report.elapsed {
        let per_state = elapsed.as_secs_f64() / report.states_checked().max(1) as f64;
        let clean = clean_run.as_secs_f64();
        report.notes.push(format!(
            "cost: {:.1} ms of wall time per post-crash state checked ({} threads), {:.2}x the \
             whole clean run on the mount ({:.1} ms: the program's start-up and its work); \
             benches/explore_cmd.sh compares with the program on tmpfs",
            ms(per_state),
            options.threads(),
            per_state / clean.max(1e-9),
            ms(clean)
        ));
    }
}

fn program_json(program: &ProgramArgs, workload: &CommandWorkload) -> ProgramJson {
    let stats = workload.stats();
    ProgramJson {
        argv: program.command.argv.clone(),
        check: program.check.clone(),
        compares_stdout: !program.ignore_stdout,
        program_runs: stats.program_runs,
        check_runs: stats.check_runs,
        requests: stats.requests,
        program_seconds: stats.program_time.as_secs_f64(),
        check_seconds: stats.check_time.as_secs_f64(),
    }
}

/// The flags that choose passes or shape a report, which a replay of one
/// case does not take: the first one given, if any.
fn exploration_only_flag(ex: &ExplorationArgs) -> Option<&'static str> {
    let given = [
        ("--mode", !ex.mode.is_empty()),
        (
            "--fault (the schedule carries its rules)",
            !ex.faults.is_empty(),
        ),
        ("--model", ex.model != [ModelArg::All]),
        ("--crashes", ex.crashes.is_some()),
        ("--cases", ex.cases.is_some()),
        ("--max-points", ex.points_per_case_max.is_some()),
        ("--no-sync-faults", ex.no_sync_faults),
        ("--check-determinism", ex.check_determinism),
        ("--jobs", ex.jobs.is_some()),
        ("--shard", ex.shard.is_some()),
        ("--json", ex.json),
        ("--no-dedup", ex.no_dedup),
        ("--no-converge", ex.no_converge),
    ];
    given.iter().find(|(_, g)| *g).map(|(flag, _)| *flag)
}

/// `--replay`: the clean run, then the one case, its trace and verdict.
fn replay(args: &ExploreCmdArgs, schedule: &str) -> Exit {
    let ex = &args.exploration;
    if let Some(flag) = exploration_only_flag(ex) {
        return usage_error(format!(
            "{flag} chooses what an exploration runs and has no effect with --replay, which \
             runs the one case its schedule names: drop it"
        ));
    }
    let schedule: KillSchedule = match schedule.parse() {
        Ok(s) => s,
        Err(e) => return usage_error(e),
    };
    let workload = match args.program.workload() {
        Ok(w) => w,
        Err(e) => return harness_error(e),
    };
    let options = ex.options(ex.seed.unwrap_or(0), ReplayLine::Library);
    let explorer = Explorer::new(&workload, options.clone());
    if let Err(e) = args
        .program
        .command
        .time_one_clean_run(&explorer, &workload)
    {
        return harness_error(e);
    }
    let (clean, outcome) = match explorer.replay(&schedule) {
        Ok(r) => r,
        Err(e) => return harness_error(e),
    };
    println!(
        "program `{}`, schedule `{schedule}`, seed {}",
        workload_label(&workload),
        options.seed
    );
    println!(
        "clean run: {} steps, output {:?}",
        clean.steps, clean.output
    );
    print!("{}", outcome.trace);
    println!(
        "post-crash state: {}",
        args.program.command.materialize_line(&schedule, &options)
    );
    print_verdict(&outcome)
}
