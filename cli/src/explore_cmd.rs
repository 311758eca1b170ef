//! `crashproof explore`: one library call (`Explorer::explore_observed`) over
//! the modes and models asked for, timed per pass, with a report (text, or
//! JSON with `--json`) and a progress bar. Ctrl-C or SIGTERM stops it
//! between units of work (`ExploreOptions::cancel`): the report so far is
//! printed marked INTERRUPTED and the exit code is 130.

use std::time::{Duration, Instant};

use clap::{Args, ValueEnum};
use crashproof_fault::CrashModel;
use crashproof_sim::explore::{
    Cancel, Event, ExploreOptions, Explorer, HarnessError, Mode, Plan, RandomConfig, ReplayLine,
    Report, Shard,
};

use crate::exit::{Exit, harness_error, interrupted, usage_error};
use crate::explore_bar::ExploreBar;
use crate::interrupt::Interrupt;
use crate::peak_memory::peak_memory_bytes;
use crate::report_json::{Execution, Invocation, ProgramJson, ReportJson};
use crate::workload_arg::{Sizes, load, sizes_replay_line};

/// How to choose crash points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ModeArg {
    /// Every step of the clean run x every post-crash state (`--crashes 2`:
    /// and every crash of each recovery run).
    Exhaustive,
    /// Every sync of the clean run fails with EIO in turn, then a crash at
    /// every later step.
    SyncEio,
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
    /// Every model above.
    All,
}

impl ModelArg {
    /// The models this argument names.
    pub fn models(self) -> Vec<CrashModel> {
        match self {
            ModelArg::DropUnsynced => vec![CrashModel::DropUnsynced],
            ModelArg::Prefix => vec![CrashModel::Prefix],
            ModelArg::Subset => vec![CrashModel::Subset],
            ModelArg::EagerDirs => vec![CrashModel::EagerDirs],
            ModelArg::All => CrashModel::ALL.to_vec(),
        }
    }
}

/// Defaults of the mode-specific options, which are `Option`s so that one
/// given in a mode it does not affect is a usage error.
const CRASHES_DEFAULT: u8 = 1;
const CASES_DEFAULT: u32 = 256;
const POINTS_PER_CASE_MAX_DEFAULT: usize = 3;

/// Arguments of `crashproof explore`.
#[derive(Debug, Args)]
pub struct ExploreArgs {
    /// The workload to explore: `core-runner` (the core's runner), the
    /// zoo's controls, a bug-zoo mutant or a seed scenario.
    #[arg(
        long,
        default_value = "core-runner",
        value_parser = crate::workload_arg::workload_parser()
    )]
    workload: String,
    /// core-runner only: items in the job (N, default 1000), to measure how
    /// exploration grows with the run.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    items: Option<u64>,
    /// core-runner only: commit every K items (default 50; also the redo
    /// bound).
    #[arg(long, value_name = "K", value_parser = clap::value_parser!(u64).range(1..))]
    every: Option<u64>,
    #[command(flatten)]
    exploration: ExplorationArgs,
}

/// What `explore` and `explore-cmd` share: which passes, the seed, the
/// enumeration limits, threads, shards and the report's form.
#[derive(Debug, Args)]
pub struct ExplorationArgs {
    /// Modes, comma separated, run in this order.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "exhaustive")]
    pub mode: Vec<ModeArg>,
    /// Crash models, comma separated: each exhaustive and sync-eio pass runs
    /// under each; random schedules draw from all of them.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "all")]
    pub model: Vec<ModelArg>,
    /// Seed of everything. Default 0; with random mode and no seed, one is
    /// drawn from the OS and printed first.
    #[arg(long, env = "CRASHPROOF_SEED")]
    pub seed: Option<u64>,
    /// Exhaustive mode only: crashes per case (default 1). 2 also crashes
    /// every recovery run at every step (crashes during recovery); much
    /// slower.
    #[arg(long, value_parser = clap::value_parser!(u8).range(1..=2))]
    pub crashes: Option<u8>,
    /// Random mode only: cases to run (default 256).
    #[arg(long)]
    pub cases: Option<u32>,
    /// Random mode only: most crash points per schedule (default 3).
    #[arg(long = "max-points", value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub points_per_case_max: Option<u64>,
    /// Random mode only: no `eio:` sync faults in the schedules.
    #[arg(long)]
    pub no_sync_faults: bool,
    /// Run cases twice and compare traces (madsim-style determinism check):
    /// every random case, and the clean run plus 8 sampled cases of every
    /// other pass. Also on with CRASHPROOF_CHECK_DETERMINISM=1.
    #[arg(
        long,
        env = "CRASHPROOF_CHECK_DETERMINISM",
        action = clap::ArgAction::SetTrue,
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub check_determinism: bool,
    /// Most post-crash states enumerated per crash point; past it (and past
    /// --picks), seeded picks are checked instead (and the report says so).
    #[arg(long, default_value_t = ExploreOptions::default().states_per_point_max)]
    pub cap: usize,
    /// Seeded picks per crash point with more states than --cap; a point
    /// with at most this many states is enumerated instead.
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
    /// Threads checking crash points in parallel (default: one per core).
    /// The report is the same for any number.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub jobs: Option<u64>,
    /// Check only shard I of N of each pass's crash points (contiguous
    /// ranges), e.g. one per CI job; `crashproof merge` combines the
    /// shards' `--json` reports into the verdict of the whole. Not with
    /// random mode.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<Shard>,
    /// Print the report as JSON on stdout (the text report goes to
    /// stderr): crash points, states, distinct states, wall time, states/s,
    /// every violation group; what `crashproof merge` reads.
    #[arg(long)]
    pub json: bool,
    /// Recover every post-crash state on its own, even when another crash
    /// point left the same disk (the naive path, for comparison).
    #[arg(long)]
    pub no_dedup: bool,
    /// Run every resumed run to its end, even once it has converged with
    /// the clean run (the naive path, for comparison).
    #[arg(long)]
    pub no_converge: bool,
}

impl ExplorationArgs {
    /// The plan, or a usage error naming a flag that has no effect in the
    /// modes asked for (or a mode named twice).
    pub fn plan(&self) -> Result<Plan, String> {
        let has = |m: ModeArg| self.mode.contains(&m);
        for (i, m) in self.mode.iter().enumerate() {
            if self.mode[..i].contains(m) {
                return Err(format!(
                    "--mode names `{}` twice: name each mode once",
                    mode_name(*m)
                ));
            }
        }
        let modes: Vec<&str> = self.mode.iter().map(|m| mode_name(*m)).collect();
        let no_effect = |flag: &str, mode: ModeArg| {
            format!(
                "{flag} only affects {} mode and has no effect in mode {}: drop it, or add `{}` \
                 to --mode",
                mode_name(mode),
                modes.join(","),
                mode_name(mode)
            )
        };
        if !has(ModeArg::Exhaustive) && self.crashes.is_some() {
            return Err(no_effect("--crashes", ModeArg::Exhaustive));
        }
        if has(ModeArg::Random) && self.shard.is_some_and(|s| !s.is_whole()) {
            return Err(
                "--shard splits the crash points of exhaustive and sync-eio passes; random \
                 schedules are drawn from one stream and cannot be split: run the random mode \
                 in one job without --shard"
                    .to_string(),
            );
        }
        if !has(ModeArg::Random) {
            for (flag, given) in [
                ("--cases", self.cases.is_some()),
                ("--max-points", self.points_per_case_max.is_some()),
                ("--no-sync-faults", self.no_sync_faults),
            ] {
                if given {
                    return Err(no_effect(flag, ModeArg::Random));
                }
            }
        }
        let mut models: Vec<CrashModel> = Vec::new();
        for m in self.model.iter().flat_map(|m| m.models()) {
            if !models.contains(&m) {
                models.push(m);
            }
        }
        let modes = self
            .mode
            .iter()
            .map(|m| match m {
                ModeArg::Exhaustive if self.crashes.unwrap_or(CRASHES_DEFAULT) == 2 => {
                    Mode::TwoCrashes
                }
                ModeArg::Exhaustive => Mode::Exhaustive,
                ModeArg::SyncEio => Mode::SyncEio,
                ModeArg::Random => Mode::Random(RandomConfig {
                    cases: self.cases.unwrap_or(CASES_DEFAULT),
                    points_per_case_max: self
                        .points_per_case_max
                        .map_or(POINTS_PER_CASE_MAX_DEFAULT, |n| {
                            usize::try_from(n).unwrap_or(usize::MAX)
                        }),
                    sync_faults: !self.no_sync_faults,
                }),
            })
            .collect();
        Ok(Plan { models, modes })
    }
}

fn mode_name(m: ModeArg) -> &'static str {
    match m {
        ModeArg::Exhaustive => "exhaustive",
        ModeArg::SyncEio => "sync-eio",
        ModeArg::Random => "random",
    }
}

/// Runs the exploration, prints the report on stdout (progress on stderr;
/// with `--json`, the JSON on stdout and the text on stderr).
pub fn run(args: &ExploreArgs) -> Exit {
    let ex = &args.exploration;
    let plan = match ex.plan() {
        Ok(plan) => plan,
        Err(e) => return usage_error(e),
    };
    let sizes = Sizes {
        items: args.items,
        every: args.every,
    };
    let workload = match load(&args.workload, sizes) {
        Ok(w) => w,
        Err(e) => return usage_error(e),
    };
    let seed = ex.seed();
    let interrupt = match Interrupt::install() {
        Ok(interrupt) => interrupt,
        Err(e) => return harness_error(format!("cannot handle Ctrl-C and SIGTERM: {e}")),
    };
    let options = ExploreOptions {
        cancel: Cancel::when(interrupt.flag().clone()),
        ..ex.options(seed, sizes_replay_line(args.items, args.every))
    };
    let explorer = Explorer::new(workload.as_ref(), options.clone());
    let report = match explore_timed(&explorer, &plan, &args.workload) {
        Ok(r) => r,
        Err(e @ HarnessError::Interrupted) => return interrupted(e),
        Err(e) => return harness_error(e),
    };
    let invocation = Invocation {
        workload: args.workload.clone(),
        items: args.items,
        every: args.every,
        ..ex.invocation(&plan, seed)
    };
    print_report(report, ex, &options, invocation, None)
}

impl ExplorationArgs {
    /// The seed: `--seed`, else 0, else (random mode) one drawn from the OS
    /// and printed first so the run can be repeated.
    pub fn seed(&self) -> u64 {
        match self.seed {
            Some(seed) => seed,
            None if self.mode.contains(&ModeArg::Random) => {
                let seed = os_random_seed();
                let line = format!(
                    "seed: {seed} (drawn from the OS; pass --seed {seed} or CRASHPROOF_SEED={seed} to repeat)"
                );
                if self.json {
                    eprintln!("{line}");
                } else {
                    println!("{line}");
                }
                seed
            }
            None => 0,
        }
    }

    /// The explorer's options these flags ask for, with `seed` and the
    /// form of replay line `replay`.
    pub fn options(&self, seed: u64, replay: ReplayLine) -> ExploreOptions {
        ExploreOptions {
            seed,
            states_per_point_max: self.cap,
            picks_per_capped_point: self.picks,
            sector_size_bytes: self.sector_size_bytes,
            check_determinism: self.check_determinism,
            replay,
            dedup: !self.no_dedup,
            converge: !self.no_converge,
            jobs: self
                .jobs
                .map_or(0, |n| usize::try_from(n).unwrap_or(usize::MAX)),
            shard: self.shard.unwrap_or(Shard::WHOLE),
            ..ExploreOptions::default()
        }
    }

    /// What the JSON report records of these flags (the workload fields
    /// left for the caller).
    pub fn invocation(&self, plan: &Plan, seed: u64) -> Invocation {
        Invocation {
            workload: String::new(),
            items: None,
            every: None,
            passes: plan.passes().iter().map(ToString::to_string).collect(),
            seed,
            cap: self.cap,
            picks: self.picks,
            sector_size_bytes: self.sector_size_bytes,
            check_determinism: self.check_determinism,
        }
    }
}

/// Runs `plan` with the progress bar, timing each pass and the whole
/// (`label` names the workload in the bar's lines).
pub fn explore_timed(
    explorer: &Explorer<'_>,
    plan: &Plan,
    label: &str,
) -> Result<Report, HarnessError> {
    let mut bar = ExploreBar::new();
    let started = Instant::now();
    let mut pass_started = started;
    let mut pass_elapsed: Vec<Duration> = Vec::new();
    let report = explorer.explore_observed(plan, &mut |event| {
        bar.event(&event);
        match event {
            Event::PassStarted(pass) => {
                bar.println(format!("exploring {pass} of `{label}`..."));
                pass_started = Instant::now();
            }
            Event::PassFinished(_) => pass_elapsed.push(pass_started.elapsed()),
            _ => {}
        }
    });
    bar.finish();
    let mut report = report?;
    for (pass, elapsed) in report.passes.iter_mut().zip(pass_elapsed) {
        pass.elapsed = Some(elapsed);
    }
    report.elapsed = Some(started.elapsed());
    report.peak_memory_bytes = peak_memory_bytes();
    Ok(report)
}

/// Prints `report` (text on stdout; with `--json`, JSON on stdout and the
/// text on stderr, `program` carried along) and returns the exit code.
pub fn print_report(
    report: Report,
    ex: &ExplorationArgs,
    options: &ExploreOptions,
    invocation: Invocation,
    program: Option<ProgramJson>,
) -> Exit {
    let exit = if report.interrupted {
        Exit::Interrupted
    } else if report.is_clean() {
        Exit::Clean
    } else {
        Exit::Violation
    };
    if !options.shard.is_whole() {
        eprintln!(
            "shard {} of {}: this report covers only this shard's crash points; `crashproof \
             merge` of every shard's --json report gives the verdict of the whole",
            options.shard.index + 1,
            options.shard.count
        );
    }
    let stopped = report.interrupted.then(|| {
        format!(
            "stopped by Ctrl-C or SIGTERM after {} post-crash states; the report covers only \
             what was done before it and concludes nothing",
            report.states_checked()
        )
    });
    if !ex.json {
        print!("{report}");
        return stopped.map_or(exit, interrupted);
    }
    eprint!("{report}");
    let execution = Execution {
        jobs: options.threads(),
        dedup: options.dedup,
        converge: options.converge,
    };
    let mut document = ReportJson::new(invocation, options.shard, execution, report);
    document.program = program;
    if let Err(e) = document.write_json(std::io::stdout().lock()) {
        return harness_error(format!("could not write the JSON report: {e}"));
    }
    stopped.map_or(exit, interrupted)
}

/// A seed from the OS's randomness (std's hash keys are seeded from it).
/// Only the CLI does this; the simulator never touches OS randomness.
fn os_random_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(0x6372_6173_6870_726f);
    h.finish()
}
