//! `crashproof replay`: one case, its marked trace and the verdict.

use clap::Args;
use crashproof_catalog::workload;
use crashproof_fault::KillSchedule;
use crashproof_sim::explore::{ExploreOptions, Explorer};

use crate::exit::{Exit, harness_error};

/// Arguments of `crashproof replay`.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// The workload the case ran.
    #[arg(long, value_parser = crate::workload_arg::workload_parser())]
    workload: String,
    /// The kill schedule, e.g. `step:7@drop-unsynced#idx=0` (as printed by
    /// `explore`).
    schedule: String,
    /// The simulator seed of the case.
    #[arg(long, env = "CRASHPROOF_SEED", default_value_t = 0)]
    seed: u64,
    /// The cap the case was found with (for `#idx=` states).
    #[arg(long, default_value_t = ExploreOptions::default().states_per_point_max)]
    cap: usize,
    /// Torn-write granularity of the simulated disk, in bytes.
    #[arg(long, default_value_t = ExploreOptions::default().sector_size_bytes)]
    sector_size_bytes: usize,
}

/// Replays the case; exit 1 if an oracle fails, as `explore` would.
pub fn run(args: &ReplayArgs) -> Exit {
    let schedule: KillSchedule = match args.schedule.parse() {
        Ok(s) => s,
        Err(e) => return harness_error(e),
    };
    let workload = match workload(&args.workload) {
        Ok(w) => w,
        Err(e) => return harness_error(e),
    };
    let options = ExploreOptions {
        seed: args.seed,
        states_per_point_max: args.cap,
        sector_size_bytes: args.sector_size_bytes,
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
