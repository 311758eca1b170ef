//! `crashproof explore`: exhaustive or random exploration, with a report.

use std::time::Instant;

use clap::{Args, ValueEnum};
use crashproof_catalog::workload;
use crashproof_fault::CrashModel;
use crashproof_sim::explore::{ExploreOptions, Explorer, RandomConfig, Report};

use crate::exit::{Exit, harness_error};

/// How to choose crash points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Mode {
    /// Every step of the clean run x every post-crash state (single crash).
    Exhaustive,
    /// proptest over random multi-crash schedules, shrinking failures.
    Random,
}

/// Which crash model(s).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ModelArg {
    /// Only synced data and directory entries survive.
    DropUnsynced,
    /// A prefix of the unsynced operations survives.
    Prefix,
    /// Any subset survives, writes torn per sector.
    Subset,
    /// Directory operations durable at once, unsynced data dropped.
    EagerDirs,
    /// Each of the above in turn (exhaustive) or drawn from (random).
    All,
}

impl ModelArg {
    fn models(self) -> Vec<CrashModel> {
        match self {
            ModelArg::DropUnsynced => vec![CrashModel::DropUnsynced],
            ModelArg::Prefix => vec![CrashModel::Prefix],
            ModelArg::Subset => vec![CrashModel::Subset],
            ModelArg::EagerDirs => vec![CrashModel::EagerDirs],
            ModelArg::All => CrashModel::ALL.to_vec(),
        }
    }
}

/// Arguments of `crashproof explore`.
#[derive(Debug, Args)]
pub struct ExploreArgs {
    /// The workload to explore: `reference` (the core's runner), the zoo's
    /// controls, or a bug-zoo mutant.
    #[arg(
        long,
        default_value = "core-runner",
        value_parser = crate::workload_arg::workload_parser()
    )]
    workload: String,
    /// Exhaustive single crash, or random multi-crash schedules.
    #[arg(long, value_enum, default_value_t = Mode::Exhaustive)]
    mode: Mode,
    /// Crash model(s).
    #[arg(long, value_enum, default_value_t = ModelArg::All)]
    model: ModelArg,
    /// Seed of everything. Exhaustive default: 0. Random without a seed
    /// draws one from the OS and prints it first.
    #[arg(long, env = "CRASHPROOF_SEED")]
    seed: Option<u64>,
    /// Exhaustive mode: crashes per case. 2 also crashes every recovery run
    /// at every step (crashes during recovery); much slower.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..=2))]
    crashes: u8,
    /// Random mode: cases to run.
    #[arg(long, default_value_t = 256)]
    cases: u32,
    /// Random mode: most crash points per schedule.
    #[arg(long, default_value_t = 3)]
    max_points: usize,
    /// Random mode: no `eio:` sync faults in the schedules.
    #[arg(long)]
    no_sync_faults: bool,
    /// Run cases twice and compare traces (madsim-style determinism check).
    /// Also on with CRASHPROOF_CHECK_DETERMINISM=1.
    #[arg(
        long,
        env = "CRASHPROOF_CHECK_DETERMINISM",
        action = clap::ArgAction::SetTrue,
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    check_determinism: bool,
    /// Most post-crash states enumerated per crash point; past it, seeded
    /// picks are checked instead (and the report says so).
    #[arg(long, default_value_t = ExploreOptions::default().states_per_point_max)]
    cap: usize,
    /// Seeded picks per crash point past the cap.
    #[arg(long, default_value_t = ExploreOptions::default().picks_per_capped_point)]
    picks: usize,
    /// Torn-write granularity of the simulated disk, in bytes.
    #[arg(long, default_value_t = ExploreOptions::default().sector_size_bytes)]
    sector_size_bytes: usize,
}

/// Runs the exploration, prints the report on stdout (progress on stderr).
pub fn run(args: &ExploreArgs) -> Exit {
    let workload = match workload(&args.workload) {
        Ok(w) => w,
        Err(e) => return harness_error(e),
    };
    let seed = match (args.seed, args.mode) {
        (Some(seed), _) => seed,
        (None, Mode::Exhaustive) => 0,
        (None, Mode::Random) => {
            let seed = os_random_seed();
            println!(
                "seed: {seed} (drawn from the OS; pass --seed {seed} or CRASHPROOF_SEED={seed} to repeat)"
            );
            seed
        }
    };
    let options = ExploreOptions {
        seed,
        states_per_point_max: args.cap,
        picks_per_capped_point: args.picks,
        sector_size_bytes: args.sector_size_bytes,
        check_determinism: args.check_determinism,
        ..ExploreOptions::default()
    };
    let explorer = Explorer::new(workload.as_ref(), options.clone());
    let started = Instant::now();
    let report = match args.mode {
        Mode::Exhaustive => exhaustive(
            &explorer,
            &args.model.models(),
            args.crashes,
            options.violations_in_full_max,
        ),
        Mode::Random => {
            eprintln!(
                "exploring {} random schedules of `{}`...",
                args.cases, args.workload
            );
            let config = RandomConfig {
                cases: args.cases,
                max_points: args.max_points,
                models: args.model.models(),
                sync_faults: !args.no_sync_faults,
            };
            explorer.explore_random(&config).map(|mut r| {
                if let Some(m) = r.models.first_mut() {
                    m.elapsed = Some(started.elapsed());
                }
                r
            })
        }
    };
    let mut report = match report {
        Ok(r) => r,
        Err(e) => return harness_error(e),
    };
    report.elapsed = Some(started.elapsed());
    print!("{report}");
    if report.is_clean() {
        Exit::Clean
    } else {
        Exit::Violation
    }
}

/// One exhaustive pass per model (one or two crashes per case), each timed
/// on its own.
fn exhaustive(
    explorer: &Explorer<'_>,
    models: &[CrashModel],
    crashes: u8,
    keep: usize,
) -> Result<Report, crashproof_sim::explore::HarnessError> {
    let mut total: Option<Report> = None;
    for &model in models {
        let started = Instant::now();
        let mut report = if crashes >= 2 {
            eprintln!("exploring every crash, then every crash of each recovery, under {model}...");
            explorer.explore_exhaustive_two_crashes(model)?
        } else {
            eprintln!("exploring every single crash under {model}...");
            explorer.explore_exhaustive(model)?
        };
        let elapsed = started.elapsed();
        for m in &mut report.models {
            m.elapsed = Some(elapsed);
        }
        match &mut total {
            None => total = Some(report),
            Some(t) => t.merge(report, keep),
        }
    }
    total.ok_or_else(|| {
        crashproof_sim::explore::HarnessError::Aborted("no crash model selected".into())
    })
}

/// A seed from the OS's randomness (std's hash keys are seeded from it).
/// Only the CLI does this; the simulator never touches OS randomness.
fn os_random_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(0x6372_6173_6870_726f);
    h.finish()
}
