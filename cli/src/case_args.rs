//! What names one case of an exploration besides its schedule, shared by
//! the commands that run one case again (`replay`, `materialize`), and how
//! its verdict is printed.

use clap::Args;
use crashproof_sim::explore::{CaseOutcome, ExploreOptions, ReplayLine};

use crate::exit::Exit;

/// The options a case was found with: a replay must use the same ones, or
/// `#idx=` names another state.
#[derive(Debug, Args)]
pub struct CaseArgs {
    /// The simulator seed of the case.
    #[arg(long, env = "CRASHPROOF_SEED", default_value_t = 0)]
    pub seed: u64,
    /// The --cap the case was found with (`#idx=` indexes the states it
    /// enumerates).
    #[arg(long, default_value_t = ExploreOptions::default().states_per_point_max)]
    pub cap: usize,
    /// The --picks the case was found with (a point with at most this many
    /// states is enumerated too).
    #[arg(long, default_value_t = ExploreOptions::default().picks_per_capped_point)]
    pub picks: usize,
    /// Torn-write granularity of the simulated disk, in bytes: a power of
    /// two, at most 1 MiB.
    #[arg(
        long = "sector-size",
        value_name = "BYTES",
        default_value_t = ExploreOptions::default().sector_size_bytes,
        value_parser = crate::sector_size_arg::parse
    )]
    pub sector_size_bytes: usize,
}

impl CaseArgs {
    /// The explorer's options for this case, with `replay` as its replay line.
    pub fn options(&self, replay: ReplayLine) -> ExploreOptions {
        ExploreOptions {
            seed: self.seed,
            states_per_point_max: self.cap,
            picks_per_capped_point: self.picks,
            sector_size_bytes: self.sector_size_bytes,
            replay,
            ..ExploreOptions::default()
        }
    }
}

/// Prints a replayed case's verdict line and returns its exit code: 0 when
/// both oracles passed, 1 on a violation.
pub fn print_verdict(outcome: &CaseOutcome) -> Exit {
    match &outcome.violation {
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
