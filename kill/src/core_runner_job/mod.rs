//! The core-runner job as a real program: the explorer's `core-runner`
//! workload (the core's [`Runner`] on the hash job, N = 1000, K = 50 by
//! default) on the real filesystem, for `crashproof kill`, the real-process
//! test and the side-by-side comparison with the explorer.
//!
//! A case directory holds `job/` (the checkpoint store), `journal` (what
//! each run loaded and each commit acknowledged, see [`journal`]) and, with
//! `--items-log`, `items.log` (a per-item side effect). The job prints its
//! output on stdout and nothing else; with the `failpoints` feature (always
//! on here) `FAILPOINTS` reaches the core's failpoints; it writes one
//! progress line per item on `CRASHPROOF_PROGRESS_FD` when given one.
//!
//! `--verify` does not run the job: it checks a case directory after the
//! case (no load older than an acknowledged checkpoint; no temp file, stray
//! file or extra generation left in `job/`).
//!
//! Deliberately broken [`Variant`]s show that the checks have teeth.

mod job;
pub mod journal;

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::ValueEnum;
use crashproof_core::fs::{Fs, StdFs};
use crashproof_core::{
    CheckpointInfo, Outcome, ResumeMode, RunError, RunObserver, Runner, RunnerConfig,
};

pub use job::{HashJob, ItemsLog, JOB_NAME, LogMode};
use journal::Journal;

/// The job's own failpoint, passed after every processed item (through
/// `StdFs::failpoint`, so `FAILPOINTS` reaches it like the core's): a kill
/// at its `n`th hit lands exactly after item `n - 1`, which makes
/// item-count kills exact and reproducible.
pub const ITEM_FAILPOINT: &str = "core-runner-job.after_item";

/// The store's directory inside a case directory.
pub const JOB_DIR_NAME: &str = "job";
/// The items log's file name inside a case directory.
pub const ITEMS_LOG_FILE_NAME: &str = "items.log";

/// The job, correct or deliberately broken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Variant {
    /// The correct job.
    Correct,
    /// Appends each item to `items.log` without checkpointing the log's
    /// length, so items redone after a kill are logged twice (the output
    /// differs from the clean run's). Implies `--items-log`.
    AppendOutput,
    /// Ignores its checkpoints and starts over on every run: the output is
    /// right, but it loads less than was acknowledged (the journal check).
    RestartFromScratch,
    /// Creates a scratch file per run in `job/` and removes only its own on
    /// success, so a kill leaves one behind (the leftovers check).
    OrphanScratch,
}

/// The core-runner job's command line (`crashproof core-runner-job`, and the
/// test binary `crashproof-real-job`).
#[derive(Debug, Clone, clap::Args)]
pub struct CoreRunnerJobArgs {
    /// The case directory (holds `job/`, `journal`, `items.log`).
    #[arg(long, env = "CRASHPROOF_DIR")]
    pub dir: PathBuf,
    /// N: items in the job.
    #[arg(long, default_value_t = 1000)]
    pub items: u64,
    /// K: commit every this many items.
    #[arg(long, default_value_t = 50)]
    pub checkpoint_every: u64,
    /// Valid generations the store keeps.
    #[arg(long, default_value_t = 2)]
    pub keep: usize,
    /// Correct, or one of the deliberately broken variants.
    #[arg(long, value_enum, default_value_t = Variant::Correct)]
    pub variant: Variant,
    /// Also append one line per item to `items.log` (idempotently, unless
    /// the variant is `append-output`); the output then covers the log.
    #[arg(long)]
    pub items_log: bool,
    /// Do not run: check the case directory (journal, leftovers) and exit
    /// 0 if it is right, 1 if not.
    #[arg(long)]
    pub verify: bool,
}

impl CoreRunnerJobArgs {
    /// The arguments for a case directory `dir` with defaults elsewhere.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            items: 1000,
            checkpoint_every: 50,
            keep: 2,
            variant: Variant::Correct,
            items_log: false,
            verify: false,
        }
    }
}

/// Runs the job (or `--verify`) as a program's `main`: prints the output
/// or the problems, and returns the exit code.
pub fn main(args: &CoreRunnerJobArgs) -> ExitCode {
    if args.verify {
        return match verify(&args.dir, args.keep) {
            Ok(report) => {
                println!(
                    "verified: {} loads ({} after an acknowledged checkpoint), no leftovers",
                    report.loads, report.loads_after_ack
                );
                ExitCode::SUCCESS
            }
            Err(problems) => {
                println!("{problems}");
                ExitCode::FAILURE
            }
        };
    }
    if let Err(e) = failpoints_from_env() {
        eprintln!("core-runner-job: {e}");
        return ExitCode::FAILURE;
    }
    match run(args) {
        Ok(output) => {
            println!("{output}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("core-runner-job: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Configures the `fail` registry from `FAILPOINTS` (`name=actions;...`),
/// as `fail::FailScenario::setup` does, but reporting a bad value instead
/// of panicking. The registry is process-global: this process is one run of
/// one job, which is what it is for.
fn failpoints_from_env() -> Result<(), String> {
    let Some(value) = std::env::var_os("FAILPOINTS") else {
        return Ok(());
    };
    let value = value
        .into_string()
        .map_err(|v| format!("FAILPOINTS={v:?} is not UTF-8"))?;
    for entry in value.split(';').map(str::trim).filter(|e| !e.is_empty()) {
        let (name, actions) = entry
            .split_once('=')
            .ok_or_else(|| format!("FAILPOINTS entry {entry:?} is not name=actions"))?;
        fail::cfg(name.trim(), actions.trim())
            .map_err(|e| format!("FAILPOINTS entry {entry:?}: {e}"))?;
    }
    Ok(())
}

/// Why a run failed.
#[derive(Debug, thiserror::Error)]
pub enum JobRunError {
    /// The runner failed.
    #[error(transparent)]
    Run(#[from] RunError),
    /// A side file (journal, items log, progress pipe, scratch) failed.
    #[error("{what}: {source}")]
    Side {
        /// Which file and operation.
        what: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// The runner yielded although nothing asked it to.
    #[error("the runner yielded at cursor {0} although nothing asked it to")]
    Yielded(u64),
}

fn side(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> JobRunError {
    let what = what.into();
    move |source| JobRunError::Side { what, source }
}

/// Runs the job once in `args.dir` (resuming from its checkpoint) and
/// returns the output line.
pub fn run(args: &CoreRunnerJobArgs) -> Result<String, JobRunError> {
    let fs = StdFs::new();
    let job_dir = args.dir.join(JOB_DIR_NAME);
    let log_mode = match args.variant {
        Variant::AppendOutput => Some(LogMode::AppendOnly),
        _ if args.items_log => Some(LogMode::Idempotent),
        _ => None,
    };
    let log = log_mode
        .map(|mode| ItemsLog::open(&args.dir.join(ITEMS_LOG_FILE_NAME), mode))
        .transpose()
        .map_err(side("items.log: open"))?;
    let log_sync = log
        .as_ref()
        .map(ItemsLog::sync_handle)
        .transpose()
        .map_err(side("items.log: open a sync handle"))?;
    let mut journal = Journal::open(&args.dir).map_err(side("journal: open"))?;
    let progress = crate::program::progress_pipe_from_env().map_err(side("progress pipe: open"))?;
    let mut job = HashJob::new(args.items, log);
    let config = RunnerConfig {
        keep: args.keep,
        resume: match args.variant {
            Variant::RestartFromScratch => ResumeMode::NoResume,
            _ => ResumeMode::Resume,
        },
        ..RunnerConfig::every(args.checkpoint_every)
    };
    let runner = Runner::open(&fs, &job_dir, &mut job, config)?;
    let resumed = runner.resume_point();
    journal
        .load(
            resumed.map_or(0, |r| r.cursor),
            resumed.map(|r| r.generation),
        )
        .map_err(side("journal: append load"))?;
    let scratch = match args.variant {
        Variant::OrphanScratch => {
            let path = job_dir.join(format!("scratch-{}", resumed.map_or(0, |r| r.cursor)));
            std::fs::write(&path, b"scratch\n").map_err(side("scratch: write"))?;
            Some(path)
        }
        _ => None,
    };
    let mut observer = JobObserver {
        fs: &fs,
        progress,
        log_sync,
        journal,
        error: None,
    };
    let outcome = runner.with_observer(&mut observer).run()?;
    if let Some(e) = observer.error.take() {
        return Err(e);
    }
    let output = match outcome {
        Outcome::Completed { output, .. } => output,
        Outcome::Yielded { cursor, .. } => return Err(JobRunError::Yielded(cursor)),
    };
    if let Some(path) = scratch {
        std::fs::remove_file(&path).map_err(side("scratch: remove"))?;
    }
    Ok(output)
}

/// Progress lines and the item failpoint, the items log's sync before each
/// commit, and acks.
struct JobObserver<'a> {
    fs: &'a StdFs,
    progress: Option<File>,
    log_sync: Option<File>,
    journal: Journal,
    /// The first side-file error (observers cannot return errors; the run
    /// reports it when the runner returns).
    error: Option<JobRunError>,
}

impl JobObserver<'_> {
    fn keep_first(&mut self, result: Result<(), JobRunError>) {
        if let (Err(e), None) = (result, &self.error) {
            self.error = Some(e);
        }
    }
}

impl RunObserver for JobObserver<'_> {
    fn item_processed(&mut self, index: u64) {
        if let Some(pipe) = &mut self.progress {
            // The harness may stop reading once it has killed; a failed
            // progress write never fails the job.
            let _ = writeln!(pipe, "{index}");
        }
        let passed = self
            .fs
            .failpoint(ITEM_FAILPOINT)
            .map_err(side(ITEM_FAILPOINT));
        self.keep_first(passed);
    }

    fn before_commit(&mut self, _checkpoint: &CheckpointInfo<'_>) {
        // The checkpoint records the log's length: that much must be
        // durable before it is (a process kill keeps the page cache, power
        // loss does not).
        if let Some(log) = &self.log_sync {
            let synced = log.sync_data().map_err(side("items.log: fsync"));
            self.keep_first(synced);
        }
    }

    fn after_commit(&mut self, checkpoint: &CheckpointInfo<'_>) {
        let acked = self
            .journal
            .ack(checkpoint.cursor, checkpoint.generation)
            .map_err(side("journal: append ack"));
        self.keep_first(acked);
    }
}

/// What [`verify`] checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// Runs recorded in the journal.
    pub loads: u64,
    /// Of those, runs that started after an acknowledged commit.
    pub loads_after_ack: u64,
}

/// Checks a case directory after its last run: every run loaded at least
/// the last acknowledged cursor, and `job/` holds no temp file, stray file
/// or generation beyond `keep`. `Err` lists every problem, one per line.
pub fn verify(dir: &Path, keep: usize) -> Result<VerifyReport, String> {
    let path = dir.join(journal::JOURNAL_FILE_NAME);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read the journal {}: {e}", path.display()))?;
    let records = journal::parse(&text)?;
    let acks = journal::check_loads(&records);
    let mut problems = acks.problems;
    if acks.loads == 0 {
        problems.push("the journal records no run: the job never started".to_string());
    }
    let job_dir = dir.join(JOB_DIR_NAME);
    match crashproof_core::store::leftovers(&StdFs::new(), &job_dir, keep, &[]) {
        Ok(left) => problems.extend(left.iter().map(|l| format!("left behind in job/: {l}"))),
        Err(e) => problems.push(format!("cannot list {}: {e}", job_dir.display())),
    }
    if problems.is_empty() {
        Ok(VerifyReport {
            loads: acks.loads,
            loads_after_ack: acks.loads_after_ack,
        })
    } else {
        Err(problems.join("\n"))
    }
}

/// [`verify`] as a harness [`Check`](crate::check::Check), run in-process
/// on each finished case directory. Counts the loads it could have failed
/// on, so a caller can prove the journal check was not vacuous.
#[derive(Debug, Default)]
pub struct VerifyCheck {
    /// The store's retention, as the job was run with.
    pub keep: usize,
    loads_after_ack: std::sync::atomic::AtomicU64,
}

impl VerifyCheck {
    /// Checks case directories of a job run with `keep`.
    pub fn new(keep: usize) -> Self {
        Self {
            keep,
            loads_after_ack: Default::default(),
        }
    }

    /// Runs, over every case checked so far, that started after an
    /// acknowledged commit (each one a load the check could have failed).
    pub fn loads_after_ack(&self) -> u64 {
        self.loads_after_ack
            .load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl crate::check::Check for VerifyCheck {
    fn describe(&self) -> String {
        "no load older than an acknowledged checkpoint, nothing left in job/".to_string()
    }

    fn check(&self, input: &crate::check::CheckInput<'_>) -> Result<(), String> {
        let report = verify(input.dir, self.keep)?;
        self.loads_after_ack
            .fetch_add(report.loads_after_ack, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    }
}
