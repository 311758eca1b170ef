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

mod curve;
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
use crate::interrupt::Interrupt;
use curve::{Curve, Level, Point};
use measure::{CommitCost, MeasurePlan};
use model::Row;
use report::{CommitSummary, SpacingSummary, Tuning};

/// Rounds whose mean commits spread more than this (p90 over p10 of the
/// rounds) saw the disk change regime while tune-k measured.
pub const REGIME_SPREAD: f64 = 1.5;

/// The smallest spacing measured (unless an item takes longer): commits
/// closer than this are rare in a job that meets any sensible target.
pub const SPACING_MIN: Duration = Duration::from_millis(1);

/// The ratio between two measured spacings.
pub const SPACING_STEP: u32 = 4;

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
    /// without commits, then, per spacing, runs a fresh runner in a fresh
    /// job directory.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=1000))]
    rounds: u64,
    /// Commits timed per round and spacing (after two warm-up commits).
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    commits_per_round: u64,
    /// The most work between two measured commits: spacings climb by 4x
    /// from 1 ms (or one item) to twice the interval the target needs, but
    /// not past this; longer intervals cost what the longest measured did.
    #[arg(long, default_value = "250ms", value_parser = parse::spacing)]
    spacing_max: Duration,
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
    /// The cancellation flag was set (Ctrl-C, SIGTERM): nothing is
    /// recommended.
    #[error(
        "interrupted before the measurement finished; no recommendation; the scratch directory was removed"
    )]
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
    /// The Ctrl-C handler could not be installed.
    #[error("cannot install the Ctrl-C handler: {0}")]
    Interrupt(io::Error),
}

/// Runs tune-k: exit 0 with a recommendation, 2 when there is none, 130
/// on Ctrl-C or SIGTERM (scratch directory removed).
pub fn run(args: &TuneKArgs) -> Exit {
    match Interrupt::install() {
        Ok(interrupt) => run_until(args, interrupt.flag()),
        Err(e) => {
            eprintln!("crashproof tune-k: {}", TuneError::Interrupt(e));
            Exit::Harness
        }
    }
}

/// [`run`], stopping early (exit 130, scratch directory removed, nothing
/// printed on stdout) once `cancel` is set.
pub fn run_until(args: &TuneKArgs, cancel: &AtomicBool) -> Exit {
    match tune(args, cancel) {
        Ok(()) => Exit::Clean,
        Err(e @ TuneError::Interrupted) => crate::exit::interrupted(e),
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
    let spacing_min = item_cost.max(SPACING_MIN).min(args.spacing_max);
    let pilot = MeasurePlan {
        rounds: 1,
        commits_per_round: args.commits_per_round,
        state_size_bytes: args.state_size,
        item_cost,
        spacings: vec![spacing_min],
    };
    let scratch = Scratch::new(&args.dir)?;
    let pilot_cost = measure_with_bar(&scratch.path().join("pilot"), &pilot, cancel, "pilot")?;
    let plan = MeasurePlan {
        rounds: args.rounds,
        spacings: spacings(
            spacing_min,
            pilot_cost
                .spacings
                .first()
                .map_or(0.0, |s| measure::mean(&s.samples_sorted())),
            args.max_overhead,
            args.spacing_max,
        ),
        ..pilot
    };
    let cost = measure_with_bar(&scratch.path().join("rounds"), &plan, cancel, "measuring")?;
    scratch.close()?;
    let tuning = recommend(args, &plan, &cost, item_cost, item_cost_source)?;
    if tuning.commit.noisy {
        eprintln!(
            "warning: the disk changed regime while tune-k measured: the rounds' mean commits \
             spread up to {:.1}x (p90 over p10 of the rounds at one spacing). The recommendation \
             meets the target at the p90 round; the median round would need only K = {}. Rerun \
             when the disk is as busy as it will be in production, or let the runner choose K \
             (RunnerConfig::adaptive).",
            tuning.commit.round_spread_max, tuning.recommended_at_p50
        );
    }
    plot::write_svg(
        &tuning.plot,
        &plot::PlotInput {
            rows: &tuning.rows,
            max_overhead_fraction: tuning.max_overhead_fraction,
            recommended: tuning.recommended.checkpoint_every,
            subtitle: format!(
                "{}: mean commit {} at the recommended K (p50 round), item {}, state {} bytes",
                tuning.dir.display(),
                report::format_seconds(tuning.recommended.commit_seconds),
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

/// The spacings to measure at: from `spacing_min` up by [`SPACING_STEP`]
/// to twice the interval the target needs with the pilot's commit cost
/// (`2 · c / f`), at most `spacing_max`, which is measured too when the
/// climb stops short of it.
fn spacings(
    spacing_min: Duration,
    pilot_commit_seconds: f64,
    max_overhead: f64,
    spacing_max: Duration,
) -> Vec<Duration> {
    let wanted = 2.0 * pilot_commit_seconds / max_overhead;
    let top = if wanted.is_finite() && wanted > 0.0 {
        Duration::try_from_secs_f64(wanted)
            .unwrap_or(spacing_max)
            .clamp(spacing_min, spacing_max.max(spacing_min))
    } else {
        spacing_min
    };
    let mut ladder = vec![spacing_min];
    while let Some(&last) = ladder.last() {
        let next = last.saturating_mul(SPACING_STEP);
        if next >= top {
            if top.as_secs_f64() > last.as_secs_f64() * 1.5 {
                ladder.push(top);
            }
            break;
        }
        ladder.push(next);
    }
    ladder
}

/// A fresh hidden subdirectory of `--dir`, removed by [`Scratch::close`]
/// (best effort on drop, when the measurement failed: its error is the one
/// reported).
struct Scratch(tempfile::TempDir);

impl Scratch {
    fn new(dir: &Path) -> Result<Self, TuneError> {
        tempfile::Builder::new()
            .prefix(".crashproof-tune-k-")
            .tempdir_in(dir)
            .map(Self)
            .map_err(|source| TuneError::Scratch {
                dir: dir.to_path_buf(),
                source,
            })
    }

    fn path(&self) -> &Path {
        self.0.path()
    }

    fn close(self) -> Result<(), TuneError> {
        let path = self.0.path().to_path_buf();
        self.0
            .close()
            .map_err(|source| TuneError::ScratchRemove { path, source })
    }
}

/// Measures `plan` under `dir` with a progress bar named `what`.
fn measure_with_bar(
    dir: &Path,
    plan: &MeasurePlan,
    cancel: &AtomicBool,
    what: &str,
) -> Result<CommitCost, TuneError> {
    let progress = progress_bar(plan.boundaries(), what);
    let measured = measure::commit_cost(dir, plan, &progress, cancel);
    progress.finish_and_clear();
    measured
}

/// A bar on stderr when stderr is a terminal; hidden otherwise, so logs
/// and pipes get no control codes.
fn progress_bar(commits: u64, what: &str) -> ProgressBar {
    if !io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(commits);
    let template = format!("{what} {{bar:40}} {{pos}}/{{len}} commits ({{eta}} left)");
    if let Ok(style) = ProgressStyle::with_template(&template) {
        bar.set_style(style);
    }
    bar
}

fn recommend(
    args: &TuneKArgs,
    plan: &MeasurePlan,
    cost: &CommitCost,
    item_cost: Duration,
    item_cost_source: String,
) -> Result<Tuning, TuneError> {
    let item = item_cost.as_secs_f64();
    let target = args.max_overhead;
    let spacings: Vec<SpacingSummary> = cost.spacings.iter().map(summarise).collect();
    let points = spacings
        .iter()
        .map(|s| Point {
            spacing_seconds: s.spacing_seconds,
            p50_seconds: s.round_p50_seconds,
            p90_seconds: s.round_p90_seconds,
        })
        .collect();
    let curve = Curve::new(points).ok_or(TuneError::NothingMeasured(0))?;
    let no_k = || TuneError::NoRecommendation {
        commit_seconds: curve.max(Level::P90),
        item_seconds: item,
        max_overhead_fraction: target,
    };
    let k = model::recommended_on_curve(&curve, Level::P90, item, target).ok_or_else(no_k)?;
    let k_at_p50 =
        model::recommended_on_curve(&curve, Level::P50, item, target).ok_or_else(no_k)?;
    let rows: Vec<Row> = model::table_ks(k)
        .into_iter()
        .map(|k| Row::on_curve(&curve, item, k))
        .collect();
    let spread_max = spacings.iter().map(|s| s.round_spread).fold(1.0, f64::max);
    Ok(Tuning {
        dir: args.dir.clone(),
        state_size_bytes: args.state_size,
        commit: CommitSummary {
            samples: cost.spacings.iter().map(|s| s.samples_sorted().len()).sum(),
            rounds: plan.rounds,
            commits_per_round: plan.commits_per_round,
            spacings,
            curve: curve.points().to_vec(),
            round_spread_max: spread_max,
            noisy: spread_max > REGIME_SPREAD,
            state_bytes_encoded: cost.state_bytes_encoded,
        },
        item_cost_seconds: item,
        item_cost_source,
        probe_item_measured_seconds: cost.item_median_seconds(),
        probe_item_seconds: cost.probe_item_seconds,
        max_overhead_fraction: target,
        recommended: Row::on_curve(&curve, item, k),
        rows,
        recommended_at_p50: k_at_p50,
        plot: plot_path(args),
    })
}

/// One spacing's numbers for the report.
fn summarise(cost: &measure::SpacingCost) -> SpacingSummary {
    let samples = cost.samples_sorted();
    SpacingSummary {
        spacing_seconds: cost.spacing_seconds,
        probe_checkpoint_every: cost.checkpoint_every,
        round_means_seconds: cost.round_means(),
        round_p50_seconds: cost.round_quantile_seconds(0.5),
        round_p90_seconds: cost.round_quantile_seconds(0.9),
        round_spread: cost.round_spread(),
        mean_seconds: measure::mean(&samples),
        p10_seconds: measure::quantile(&samples, 0.1),
        p50_seconds: measure::quantile(&samples, 0.5),
        p90_seconds: measure::quantile(&samples, 0.9),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn spacings_climb_by_four_to_twice_the_needed_interval() {
        // 0.5 ms commits at 1 %: the target needs 50 ms; climb to 100 ms.
        assert_eq!(
            spacings(MS, 0.5e-3, 0.01, 250 * MS),
            [MS, 4 * MS, 16 * MS, 64 * MS, 100 * MS]
        );
        // Capped by --spacing-max.
        assert_eq!(
            spacings(MS, 10e-3, 0.01, 250 * MS),
            [MS, 4 * MS, 16 * MS, 64 * MS, 250 * MS]
        );
        // A top close above a rung is not measured twice.
        assert_eq!(spacings(MS, 0.07e-3, 0.1, 250 * MS), [MS]);
        assert_eq!(spacings(MS, 0.25e-3, 0.1, 250 * MS), [MS, 4 * MS]);
        assert_eq!(spacings(MS, 0.2e-3, 0.1, 250 * MS), [MS, 4 * MS]);
        // Nothing usable measured: the smallest spacing only.
        assert_eq!(spacings(MS, f64::NAN, 0.01, 250 * MS), [MS]);
        assert_eq!(spacings(2 * MS, 1.0, 0.01, MS), [2 * MS]);
    }
}
