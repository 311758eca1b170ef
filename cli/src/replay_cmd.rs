//! `crashproof replay`: one case, its marked trace and the verdict.

use clap::Args;
use crashproof_fault::KillSchedule;
use crashproof_sim::explore::{ExploreOptions, Explorer};

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
    /// The simulator seed of the case.
    #[arg(long, env = "CRASHPROOF_SEED", default_value_t = 0)]
    seed: u64,
    /// The --cap the case was found with (`#idx=` indexes the states it
    /// enumerates).
    #[arg(long, default_value_t = ExploreOptions::default().states_per_point_max)]
    cap: usize,
    /// The --picks the case was found with (a point with at most this many
    /// states is enumerated too).
    #[arg(long, default_value_t = ExploreOptions::default().picks_per_capped_point)]
    picks: usize,
    /// Torn-write granularity of the simulated disk, in bytes: a power of
    /// two, at most 1 MiB.
    #[arg(
        long = "sector-size",
        value_name = "BYTES",
        default_value_t = ExploreOptions::default().sector_size_bytes,
        value_parser = crate::sector_size_arg::parse
    )]
    sector_size_bytes: usize,
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
    let options = ExploreOptions {
        seed: args.seed,
        states_per_point_max: args.cap,
        picks_per_capped_point: args.picks,
        sector_size_bytes: args.sector_size_bytes,
        replay: sizes_replay_line(args.items, args.every),
        ..ExploreOptions::default()
    };
    let explorer = Explorer::new(workload.as_ref(), options);
    let (clean, outcome) = match explorer.replay(&schedule) {
        Ok(r) => r,
        Err(e) => return harness_error(e),
    };
    println!(
        "workload `{}`, schedule `{schedule}`, seed {}",
        args.workload, args.seed
    );
    println!(
        "clean run: {} steps, output {:?}",
        clean.steps, clean.output
    );
    print!("{}", outcome.trace);
    match outcome.violation {
        None => {
            println!(
                "verdict: OK ({} crashes, {} runs; both oracles passed)",
                outcome.crashes, outcome.runs
            );
            Exit::Clean
        }
        Some(v) => {
            println!("verdict: VIOLATION ({}): {}", v.oracle, v.message);
            Exit::Violation
        }
    }
}
