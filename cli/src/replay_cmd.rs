//! `crashproof replay`: one case, its marked trace and the verdict.

use clap::Args;
use crashproof_fault::KillSchedule;
use crashproof_sim::explore::Explorer;

use crate::case_args::{CaseArgs, print_verdict};
use crate::exit::{Exit, harness_error, usage_error};
use crate::workload_arg::{Sizes, load, sizes_replay_line};

/// Arguments of `crashproof replay`.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// The workload the case ran (default: `core-runner`, as for `explore`).
    #[arg(
        long,
        default_value = "core-runner",
        value_parser = crate::workload_arg::workload_parser()
    )]
    workload: String,
    /// The kill schedule, e.g. `step:7@drop-unsynced#idx=0` (as printed by
    /// `explore`).
    schedule: String,
    #[command(flatten)]
    case: CaseArgs,
    /// core-runner only: the --items the case was found with.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    items: Option<u64>,
    /// core-runner only: the --every the case was found with.
    #[arg(long, value_name = "K", value_parser = clap::value_parser!(u64).range(1..))]
    every: Option<u64>,
}

/// Replays the case; exit 1 if an oracle fails, as `explore` would; exit 2
/// if a crash point of the schedule is never reached (the message gives the
/// run's length and the failpoints it hits).
pub fn run(args: &ReplayArgs) -> Exit {
    let schedule: KillSchedule = match args.schedule.parse() {
        Ok(s) => s,
        Err(e) => return harness_error(e),
    };
    let sizes = Sizes {
        items: args.items,
        every: args.every,
    };
    let workload = match load(&args.workload, sizes) {
        Ok(w) => w,
        Err(e) => return usage_error(e),
    };
    let options = args.case.options(sizes_replay_line(args.items, args.every));
    let explorer = Explorer::new(workload.as_ref(), options);
    let (clean, outcome) = match explorer.replay(&schedule) {
        Ok(r) => r,
        Err(e) => return harness_error(e),
    };
    println!(
        "workload `{}`, schedule `{schedule}`, seed {}",
        args.workload, args.case.seed
    );
    println!(
        "clean run: {} steps, output {:?}",
        clean.steps, clean.output
    );
    print!("{}", outcome.trace);
    print_verdict(&outcome)
}
