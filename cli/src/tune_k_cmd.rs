//! `crashproof tune-k`: which K (or T) should a job use on this disk?
//!
//! It measures the cost of one steady-state commit of the core's `Runner`
//! on `StdFs` in a fresh subdirectory of `--dir`, with the job's kind of
//! work between commits, in rounds (mean commit per round; p50, p90 and
//! spread over the rounds), takes the item cost from `--item-cost` or times
//! the user's command over a sample, prints per K the predicted overhead,
//! the work a kill redoes and the commits per hour, recommends the smallest
//! K (and its T) whose overhead at the p90 round is under `--max-overhead`,
//! and writes an SVG plot. See `docs/tuning.md`.
//!
//! Interruption: [`run_until`] checks a flag between the probe's batches
//! and rounds and, once it is set, removes the scratch directory and
//! returns [`TuneError::Interrupted`]; whoever handles SIGINT/SIGTERM sets
//! it.

mod measure;
mod model;
mod parse;
mod plot;
mod report;
mod spin;

use std::io::{self, IsTerminal};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use clap::{ArgGroup, Args};
use crashproof_core::RunError;
use indicatif::{ProgressBar, ProgressStyle};

use crate::exit::Exit;
use measure::{CommitCost, MeasurePlan};
use model::Row;
use report::{CommitSummary, Tuning};

/// Rounds whose mean commits spread more than this (p90 over p10 of the
/// rounds) saw the disk change regime while tune-k measured.
pub const REGIME_SPREAD: f64 = 1.5;

/// The file name of the plot under `--dir` when `--plot` is not given.
pub const PLOT_FILE_NAME: &str = "crashproof-tune-k.svg";

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
    /// Measuring rounds, one after the other: each spins the job's items
    /// without commits, then runs a fresh runner in a fresh job directory.
    #[arg(long, default_value_t = 7, value_parser = clap::value_parser!(u64).range(1..=1000))]
    rounds: u64,
    /// Commits timed per round (after two warm-up commits).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    commits_per_round: u64,
    /// Work between two measured commits, spun in items of --item-cost (a
    /// job never commits back to back), e.g. 20ms.
    #[arg(long, default_value = "20ms", value_parser = parse::spacing)]
    spacing: Duration,
    /// Where to write the SVG plot (default: crashproof-tune-k.svg in --dir).
    #[arg(long)]
    plot: Option<PathBuf>,
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
    /// The cancellation flag was set (Ctrl-C): nothing is recommended.
    #[error("interrupted before the measurement finished; nothing to recommend")]
    Interrupted,
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
}

/// Runs tune-k: exit 0 with a recommendation, 2 when there is none.
pub fn run(args: &TuneKArgs) -> Exit {
    run_until(args, &AtomicBool::new(false))
}

/// [`run`], stopping early (exit 2, scratch directory removed, nothing
/// printed on stdout) once `cancel` is set.
pub fn run_until(args: &TuneKArgs, cancel: &AtomicBool) -> Exit {
    match tune(args, cancel) {
        Ok(()) => Exit::Clean,
        Err(e) => {
            eprintln!("crashproof tune-k: {e}");
            Exit::Harness
        }
    }
}

/// Where the plot goes: `--plot`, or [`PLOT_FILE_NAME`] in `--dir` (never
/// the working directory).
fn plot_path(args: &TuneKArgs) -> PathBuf {
    args.plot
        .clone()
        .unwrap_or_else(|| args.dir.join(PLOT_FILE_NAME))
}

fn tune(args: &TuneKArgs, cancel: &AtomicBool) -> Result<(), TuneError> {
    check_dir(&args.dir)?;
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
        rounds: args.rounds,
        commits_per_round: args.commits_per_round,
        state_size_bytes: args.state_size,
        item_cost,
        spacing: args.spacing,
    };
    let cost = measure_in_scratch(&args.dir, plan, cancel)?;
    let tuning = recommend(args, plan, &cost, item_cost, item_cost_source)?;
    if tuning.commit.noisy {
        eprintln!(
            "warning: the disk changed regime while tune-k measured: the rounds' mean commits \
             spread {:.1}x (p90 round {}, p10 round {}). The recommendation meets the target at \
             the p90 round; the median round would need only K = {}. Rerun when the disk is as \
             busy as it will be in production, or let the runner choose K \
             (RunnerConfig::adaptive).",
            tuning.commit.round_spread,
            report::format_seconds(tuning.commit.round_p90_seconds),
            report::format_seconds(cost.round_quantile_seconds(0.1)),
            tuning.recommended_at_p50
        );
    }
    plot::write_svg(
        &tuning.plot,
        &plot::PlotInput {
            rows: &tuning.rows,
            max_overhead_fraction: tuning.max_overhead_fraction,
            recommended: tuning.recommended.checkpoint_every,
            subtitle: format!(
                "{}: mean commit {} (p50 round), item {}, state {} bytes",
                tuning.dir.display(),
                report::format_seconds(tuning.commit.round_p50_seconds),
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
    cancel: &AtomicBool,
) -> Result<CommitCost, TuneError> {
    let scratch = tempfile::Builder::new()
        .prefix(".crashproof-tune-k-")
        .tempdir_in(dir)
        .map_err(|source| TuneError::Scratch {
            dir: dir.to_path_buf(),
            source,
        })?;
    let boundaries = plan.batches_per_round().saturating_sub(1);
    let progress = progress_bar(plan.rounds.saturating_mul(boundaries));
    let measured = measure::commit_cost(scratch.path(), plan, &progress, cancel);
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
        ProgressStyle::with_template("measuring commits {bar:40} {pos}/{len} commits ({eta} left)")
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
    let p50 = cost.round_quantile_seconds(0.5);
    let p90 = cost.round_quantile_seconds(0.9);
    let item = item_cost.as_secs_f64();
    let target = args.max_overhead;
    let no_k = || TuneError::NoRecommendation {
        commit_seconds: p90,
        item_seconds: item,
        max_overhead_fraction: target,
    };
    let k = model::recommended_checkpoint_every(p90, item, target).ok_or_else(no_k)?;
    let k_at_p50 = model::recommended_checkpoint_every(p50, item, target).ok_or_else(no_k)?;
    let rows: Vec<Row> = model::table_ks(k)
        .into_iter()
        .map(|k| Row::new(p50, p90, item, k))
        .collect();
    let spread = p90 / cost.round_quantile_seconds(0.1);
    let samples = cost.samples_sorted();
    Ok(Tuning {
        dir: args.dir.clone(),
        state_size_bytes: args.state_size,
        commit: CommitSummary {
            samples: samples.len(),
            rounds: plan.rounds,
            commits_per_round: plan.commits_per_round,
            round_means_seconds: cost
                .rounds
                .iter()
                .map(|r| r.mean_commit_seconds())
                .collect(),
            round_p50_seconds: p50,
            round_p90_seconds: p90,
            round_spread: spread,
            noisy: spread > REGIME_SPREAD,
            mean_seconds: cost.mean_seconds(),
            p10_seconds: measure::quantile(&samples, 0.1),
            p50_seconds: measure::quantile(&samples, 0.5),
            p90_seconds: measure::quantile(&samples, 0.9),
            state_bytes_encoded: cost.state_bytes_encoded,
            spacing_seconds: plan.spacing.as_secs_f64(),
            probe_checkpoint_every: cost.probe_checkpoint_every,
        },
        item_cost_seconds: item,
        item_cost_source,
        probe_item_measured_seconds: cost.item_median_seconds(),
        probe_item_seconds: cost.probe_item_seconds,
        max_overhead_fraction: target,
        recommended: Row::new(p50, p90, item, k),
        rows,
        recommended_at_p50: k_at_p50,
        plot: plot_path(args),
    })
}
