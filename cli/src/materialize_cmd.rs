//! `crashproof materialize`: the post-crash state one schedule names,
//! written to a real directory, to look at with ordinary tools.

use std::path::PathBuf;

use clap::Args;
use crashproof_fault::KillSchedule;
use crashproof_fuse::CommandWorkload;
use crashproof_sim::explore::{Explorer, ReplayLine};

use crate::case_args::CaseArgs;
use crate::exit::{Exit, harness_error, usage_error};
use crate::program_arg::CommandArgs;

/// Arguments of `crashproof materialize`.
#[derive(Debug, Args)]
pub struct MaterializeArgs {
    /// The kill schedule, as a violation of `explore-cmd` printed it.
    schedule: String,
    /// Where to write the state: a new or empty directory.
    out_dir: PathBuf,
    #[command(flatten)]
    case: CaseArgs,
    #[command(flatten)]
    program: CommandArgs,
}

/// Runs the case to its last crash point and writes that post-crash state
/// to the directory: exit 0 written, 2 on any error (a non-empty
/// directory, a crash point the case never reaches).
pub fn run(args: &MaterializeArgs) -> Exit {
    let schedule: KillSchedule = match args.schedule.parse() {
        Ok(s) => s,
        Err(e) => return usage_error(e),
    };
    if let Ok(mut listing) = std::fs::read_dir(&args.out_dir)
        && listing.next().is_some()
    {
        return usage_error(format!(
            "{} is not empty: give a new or empty directory, so the state is not mixed with \
             other files",
            args.out_dir.display()
        ));
    }
    let workload = match args.program.workload().map(CommandWorkload::capturing) {
        Ok(w) => w,
        Err(e) => return harness_error(e),
    };
    let options = args.case.options(ReplayLine::Library);
    let explorer = Explorer::new(&workload, options);
    if let Err(e) = args.program.time_one_clean_run(&explorer, &workload) {
        return harness_error(e);
    }
    let (_, outcome) = match explorer.replay(&schedule) {
        Ok(r) => r,
        Err(e) => return harness_error(e),
    };
    let points = schedule.points.len() as u64;
    if outcome.crashes < points {
        return harness_error(format!(
            "the case ended after {} of its {points} crash points (run {} failed before the \
             next: {}), so the state of its last crash point does not exist; materialize a \
             prefix of the schedule instead",
            outcome.crashes,
            outcome.runs,
            outcome
                .violation
                .map_or_else(|| "no violation".to_string(), |v| v.message)
        ));
    }
    let Some(tree) = workload.captured() else {
        return harness_error("the case reached no crash point, so there is no state to write");
    };
    if let Err(e) = tree.write_to(&args.out_dir) {
        return harness_error(format!("cannot write {}: {e}", args.out_dir.display()));
    }
    let (files, dirs) = tree.counts();
    println!(
        "wrote the post-crash state of `{schedule}` ({files} files, {dirs} directories) to {}",
        args.out_dir.display()
    );
    Exit::Clean
}
