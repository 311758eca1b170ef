//! `crashproof tune-k`: which K (or T) should a job use on this disk?
//!
//! It measures the cost of one steady-state commit of the core's `Runner`
//! on `StdFs` in a fresh subdirectory of `--dir` (several runs; median and
//! spread), takes the item cost from `--item-cost` or times the user's
//! command over a sample, prints per K the overhead, the work a kill
//! redoes and the commits per hour, recommends the smallest K (and its T)
//! under `--max-overhead`, and writes an SVG plot. See `docs/tuning.md`.

mod measure;
mod model;
mod parse;
mod plot;
mod report;

use std::io::{self, IsTerminal};
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{ArgGroup, Args};
use crashproof_core::RunError;
use indicatif::{ProgressBar, ProgressStyle};

use crate::exit::Exit;
use crate::interrupt::Interrupt;
use measure::{CommitCost, MeasurePlan};
use model::Row;
use report::{CommitSummary, Tuning};

/// A commit cost whose p90 is more than this many times its p10 comes from
/// a noisy disk: the median may not be what the job will see.
pub const NOISY_SPREAD: f64 = 2.0;

/// Arguments of `crashproof tune-k`.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("item").required(true).args(["item_cost", "item_cost_from"])))]
pub struct TuneKArgs {
    /// A directory on the disk the job checkpoints to. tune-k commits in a
    /// fresh subdirectory of it and removes that afterwards.
    #[arg(long)]
    dir: PathBuf,
    /// What one item of the job costs, e.g. 20us, 1.5ms.
    #[arg(long, value_parser = parse::item_cost)]
    item_cost: Option<Duration>,
    /// Measure the item cost instead: run this shell command once (it should
    /// process --items-in-sample items of the real job) and divide its wall
    /// time by the items.
    #[arg(long, requires = "items_in_sample")]
    item_cost_from: Option<String>,
    /// Items the --item-cost-from command processes.
    #[arg(long, requires = "item_cost_from", value_parser = clap::value_parser!(u64).range(1..))]
    items_in_sample: Option<u64>,
    /// Bytes of state the job checkpoints, e.g. 4096, 64KiB.
    #[arg(long, default_value = "4KiB", value_parser = parse::state_size_bytes)]
    state_size: u64,
    /// The largest acceptable checkpoint overhead, in percent of the work
    /// time, more than 0% and less than 100%.
    #[arg(long, default_value = "1%", value_parser = parse::overhead_fraction)]
    max_overhead: f64,
    /// Measuring runs, each with a fresh runner in a fresh job directory.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=1000))]
    runs: u64,
    /// Commits timed per run (after two warm-up commits).
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    commits_per_run: u64,
    /// Where to write the SVG plot.
    #[arg(long, default_value = "crashproof-tune-k.svg")]
    plot: PathBuf,
    /// Print the result as JSON instead of a table.
    #[arg(long)]
    json: bool,
}

/// Why tune-k could not give a recommendation (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum TuneError {
    /// `--dir` does not exist.
    #[error(
        "--dir {0:?} does not exist; pass an existing directory on the disk the job checkpoints to"
    )]
    DirMissing(PathBuf),
    /// `--dir` is not a directory.
    #[error("--dir {0:?} is not a directory; pass a directory on the disk the job checkpoints to")]
    NotADirectory(PathBuf),
    /// `--dir` could not be inspected.
    #[error("cannot inspect --dir {dir:?}: {source}")]
    DirUnreadable {
        /// The directory.
        dir: PathBuf,
        /// The error.
        #[source]
        source: io::Error,
    },
    /// The scratch subdirectory could not be created (not writable, full).
    #[error(
        "cannot create a scratch directory in {dir:?}: {source}; tune-k must write where it \
         measures, so pass a writable directory on the disk the job checkpoints to"
    )]
    Scratch {
        /// `--dir`.
        dir: PathBuf,
        /// The error.
        #[source]
        source: io::Error,
    },
    /// The scratch subdirectory could not be removed.
    #[error("cannot remove the scratch directory {path:?}: {source}; remove it by hand")]
    ScratchRemove {
        /// The scratch directory.
        path: PathBuf,
        /// The error.
        #[source]
        source: io::Error,
    },
    /// A measuring run failed.
    #[error("measuring commits in {dir:?} failed: {source}")]
    Run {
        /// Its job directory.
        dir: PathBuf,
        /// The runner's error.
        #[source]
        source: Box<RunError>,
    },
    /// A measuring run did not complete as a fresh run must.
    #[error("the measuring run in {dir:?} ended unexpectedly: {outcome}")]
    UnexpectedOutcome {
        /// Its job directory.
        dir: PathBuf,
        /// The outcome it returned.
        outcome: String,
    },
    /// No commit was timed, or one took no measurable time.
    #[error("no usable commit time was measured ({0} samples); nothing to recommend")]
    NothingMeasured(usize),
    /// The state does not fit in memory on this platform.
    #[error("--state-size {0} does not fit in memory here")]
    StateTooLarge(u64),
    /// Neither `--item-cost` nor `--item-cost-from` was given.
    #[error("pass --item-cost (e.g. 20us) or --item-cost-from '<command>' --items-in-sample N")]
    NoItemCost,
    /// The sample command could not start.
    #[error("cannot start --item-cost-from {command:?}: {source}")]
    SampleStart {
        /// The command.
        command: String,
        /// The error.
        #[source]
        source: io::Error,
    },
    /// The sample command failed.
    #[error("--item-cost-from {command:?} failed ({status}); fix it or pass --item-cost")]
    SampleFailed {
        /// The command.
        command: String,
        /// Its exit status.
        status: String,
    },
    /// The sample command took no measurable time per item.
    #[error("--item-cost-from {0:?} took no measurable time per item; give it more items")]
    SampleTooShort(String),
    /// The numbers give no finite K.
    #[error(
        "no K meets the target: commit {commit_seconds} s, item {item_seconds} s, \
         target {max_overhead_fraction}; use a larger --max-overhead or a larger item cost"
    )]
    NoRecommendation {
        /// The median commit.
        commit_seconds: f64,
        /// The item cost.
        item_seconds: f64,
        /// The target.
        max_overhead_fraction: f64,
    },
    /// The plot could not be written.
    #[error("cannot write the plot {path:?}: {message}")]
    Plot {
        /// `--plot`.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// The JSON could not be produced.
    #[error("cannot encode the result as JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// Ctrl-C or SIGTERM arrived before the measurement was done.
    #[error(
        "measured {runs_done} of {runs} runs before the signal; no recommendation; the scratch directory was removed"
    )]
    Interrupted {
        /// Measuring runs finished.
        runs_done: u64,
        /// Measuring runs planned.
        runs: u64,
    },
    /// The Ctrl-C handler could not be installed.
    #[error("cannot install the Ctrl-C handler: {0}")]
    Interrupt(io::Error),
}

/// Runs tune-k: exit 0 with a recommendation, 2 when there is none.
pub fn run(args: &TuneKArgs) -> Exit {
    match tune(args) {
        Ok(()) => Exit::Clean,
        Err(e @ TuneError::Interrupted { .. }) => crate::exit::interrupted(e),
        Err(e) => {
            eprintln!("crashproof tune-k: {e}");
            Exit::Harness
        }
    }
}

fn tune(args: &TuneKArgs) -> Result<(), TuneError> {
    check_dir(&args.dir)?;
    let interrupt = Interrupt::install().map_err(TuneError::Interrupt)?;
    let (item_cost, item_cost_source) = match (&args.item_cost, &args.item_cost_from) {
        (Some(cost), _) => (*cost, "given".to_string()),
        (None, Some(command)) => {
            let items = args.items_in_sample.unwrap_or(1);
            eprintln!("timing the item-cost sample: {command}");
            let cost = measure::item_cost_from_command(command, items)?;
            (cost, format!("measured: `{command}` over {items} items"))
        }
        // clap's ArgGroup already requires one of the two.
        (None, None) => return Err(TuneError::NoItemCost),
    };
    let plan = MeasurePlan {
        runs: args.runs,
        commits_per_run: args.commits_per_run,
        state_size_bytes: args.state_size,
    };
    let cost = measure_in_scratch(&args.dir, plan, &interrupt)?;
    let tuning = recommend(args, plan, &cost, item_cost, item_cost_source)?;
    if tuning.commit.noisy {
        eprintln!(
            "warning: the disk is noisy: the slowest tenth of commits ({}) cost {:.1}x the \
             fastest tenth ({}). The table uses the median; the p90 would need K = {}. Rerun when \
             the disk is as busy as it will be in production, or take the larger K.",
            report::format_seconds(tuning.commit.p90_seconds),
            tuning.commit.spread,
            report::format_seconds(tuning.commit.p10_seconds),
            tuning.recommended_at_p90
        );
    }
    plot::write_svg(
        &args.plot,
        &plot::PlotInput {
            rows: &tuning.rows,
            max_overhead_fraction: tuning.max_overhead_fraction,
            recommended: tuning.recommended.checkpoint_every,
            subtitle: format!(
                "{}: commit median {}, item {}, state {} bytes",
                tuning.dir.display(),
                report::format_seconds(tuning.commit.median_seconds),
                report::format_seconds(tuning.item_cost_seconds),
                tuning.commit.state_bytes_encoded
            ),
        },
    )?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&tuning)?);
    } else {
        print!("{tuning}");
    }
    Ok(())
}

/// `--dir` must be an existing directory (writability is checked by
/// creating the scratch directory in it).
fn check_dir(dir: &Path) -> Result<(), TuneError> {
    match std::fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => Ok(()),
        Ok(_) => Err(TuneError::NotADirectory(dir.to_path_buf())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            Err(TuneError::DirMissing(dir.to_path_buf()))
        }
        Err(source) => Err(TuneError::DirUnreadable {
            dir: dir.to_path_buf(),
            source,
        }),
    }
}

/// Measures in a fresh subdirectory of `dir` and removes it, also when the
/// measurement fails (then best effort: the measuring error is the one
/// reported).
fn measure_in_scratch(
    dir: &Path,
    plan: MeasurePlan,
    interrupt: &Interrupt,
) -> Result<CommitCost, TuneError> {
    let scratch = tempfile::Builder::new()
        .prefix(".crashproof-tune-k-")
        .tempdir_in(dir)
        .map_err(|source| TuneError::Scratch {
            dir: dir.to_path_buf(),
            source,
        })?;
    let progress = progress_bar(plan.runs * plan.items_per_run());
    // On an error (an interrupt too) `scratch` is dropped, which removes it.
    let measured = measure::commit_cost(scratch.path(), plan, &progress, interrupt);
    progress.finish_and_clear();
    let path = scratch.path().to_path_buf();
    let cost = measured?;
    scratch
        .close()
        .map_err(|source| TuneError::ScratchRemove { path, source })?;
    Ok(cost)
}

/// A bar on stderr when stderr is a terminal; hidden otherwise, so logs
/// and pipes get no control codes.
fn progress_bar(items: u64) -> ProgressBar {
    if !io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(items);
    if let Ok(style) =
        ProgressStyle::with_template("measuring commits {bar:40} {pos}/{len} ({eta} left)")
    {
        bar.set_style(style);
    }
    bar
}

fn recommend(
    args: &TuneKArgs,
    plan: MeasurePlan,
    cost: &CommitCost,
    item_cost: Duration,
    item_cost_source: String,
) -> Result<Tuning, TuneError> {
    let median = cost.median_seconds();
    let p90 = cost.quantile_seconds(0.9);
    let item = item_cost.as_secs_f64();
    let target = args.max_overhead;
    let no_k = || TuneError::NoRecommendation {
        commit_seconds: median,
        item_seconds: item,
        max_overhead_fraction: target,
    };
    let k = model::recommended_checkpoint_every(median, item, target).ok_or_else(no_k)?;
    let k_at_p90 = model::recommended_checkpoint_every(p90, item, target).ok_or_else(no_k)?;
    let rows: Vec<Row> = model::table_ks(k)
        .into_iter()
        .map(|k| Row::new(median, item, k))
        .collect();
    let spread = cost.spread();
    Ok(Tuning {
        dir: args.dir.clone(),
        state_size_bytes: args.state_size,
        commit: CommitSummary {
            samples: cost.samples_seconds.len(),
            runs: plan.runs,
            median_seconds: median,
            p10_seconds: cost.quantile_seconds(0.1),
            p90_seconds: p90,
            spread,
            noisy: spread > NOISY_SPREAD,
            state_bytes_encoded: cost.state_bytes_encoded,
        },
        item_cost_seconds: item,
        item_cost_source,
        max_overhead_fraction: target,
        recommended: Row::new(median, item, k),
        rows,
        recommended_at_p90: k_at_p90,
        plot: args.plot.clone(),
    })
}
