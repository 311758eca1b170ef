//! Suite: the resumable job runner.

use std::path::Path;
use std::time::Duration;

use crashproof_core::fs::Fs;
use crashproof_core::store::{CheckpointStore, JobIdentity, StoreError, generation_file_name};
use crashproof_core::{
    CheckpointInfo, CommitInterleaving, CommitMode, ConfigError, DecodeErrorKind, Job, ManualClock,
    Outcome, ResumeMode, ResumePoint, RunError, RunObserver, Runner, RunnerConfig, SkipReason,
    SkippedGeneration, YieldSentinel, YieldSignal,
};

use crashproof_core::failpoint;

use crate::check::{Ctx, SuiteResult, case_dir, flip_bit, names, write_file};
use crate::fs_wrappers::{FailRule, FailingFs};
use crate::jobs::{SumJob, expected_output};
use crate::{ensure, ensure_eq};

const ITEMS: u64 = 100;
const K: u64 = 10;

/// Records what the runner reports, for checking order and content.
#[derive(Debug, Default)]
struct Log {
    processed: Vec<u64>,
    before: Vec<(u64, u64, u64)>,
    after: Vec<(u64, u64, u64)>,
}

impl RunObserver for Log {
    fn item_processed(&mut self, index: u64) {
        self.processed.push(index);
    }
    fn before_commit(&mut self, c: &CheckpointInfo<'_>) {
        self.before.push((c.generation, c.cursor, c.state_digest()));
    }
    fn after_commit(&mut self, c: &CheckpointInfo<'_>) {
        self.after.push((c.generation, c.cursor, c.state_digest()));
    }
}

fn completed(outcome: Outcome<String>) -> Result<(String, Option<ResumePoint>, u64, u64), String> {
    match outcome {
        Outcome::Completed {
            output,
            resumed_from,
            items_processed,
            redone_at_most,
            ..
        } => Ok((output, resumed_from, items_processed, redone_at_most)),
        other => Err(format!("expected Completed, got {other:?}")),
    }
}

fn yielded(outcome: Outcome<String>) -> Result<(u64, u64), String> {
    match outcome {
        Outcome::Yielded {
            cursor, generation, ..
        } => Ok((cursor, generation)),
        other => Err(format!("expected Yielded, got {other:?}")),
    }
}

/// Runs `job` once in `dir` with `config`.
fn run(
    fs: &dyn Fs,
    dir: &Path,
    job: &mut SumJob,
    config: RunnerConfig,
) -> Result<Outcome<String>, String> {
    Runner::open(fs, dir, job, config)
        .ctx("open runner")?
        .run()
        .ctx("run")
}

/// Runs a job that yields after item `at`; returns the yielded cursor.
fn run_until_yield(
    fs: &dyn Fs,
    dir: &Path,
    at: u64,
    config: RunnerConfig,
) -> Result<(u64, u64), String> {
    let signal = YieldSignal::new();
    let mut job = SumJob::new("sum", ITEMS, 7);
    job.yield_after = Some((at, signal.clone()));
    let outcome = Runner::open(fs, dir, &mut job, config)
        .ctx("open runner")?
        .with_yield_signal(signal)
        .run()
        .ctx("run")?;
    yielded(outcome)
}

/// A clean run gives the directly computed output; the observer sees every
/// item once, in order, and each commit before then after, at K, 2K, ...
pub fn runner_clean_run_matches_direct_computation(fs: &dyn Fs, root: &Path) -> SuiteResult {
    let dir = case_dir(fs, root, "runner_clean")?;
    let mut job = SumJob::new("sum", ITEMS, 7);
    let mut log = Log::default();
    let outcome = Runner::open(fs, &dir, &mut job, RunnerConfig::every(K))
        .ctx("open")?
        .with_observer(&mut log)
        .run()
        .ctx("run")?;
    let (output, resumed_from, items, redone) = completed(outcome)?;
    ensure_eq!(output, expected_output(ITEMS, 7), "output");
    ensure_eq!(
        (resumed_from, items, redone),
        (None, ITEMS, K),
        "run report"
    );
    ensure_eq!(
        log.processed,
        (0..ITEMS).collect::<Vec<_>>(),
        "items observed"
    );
    ensure_eq!(job.finalized, 1, "finalize calls");
    let cursors: Vec<u64> = log.after.iter().map(|c| c.1).collect();
    ensure_eq!(
        cursors,
        (1..=ITEMS / K).map(|i| i * K).collect::<Vec<_>>(),
        "commit cursors"
    );
    ensure_eq!(
        log.before,
        log.after,
        "each commit announced before and acknowledged after"
    );
    let identity = JobIdentity {
        name: "sum".into(),
        fingerprint: job.fingerprint(),
    };
    let last = CheckpointStore::peek_latest(fs, &dir, &identity)
        .ctx("peek")?
        .ctx("a final checkpoint")?;
    let (generation, cursor, digest) = *log.after.last().ctx("a commit")?;
    ensure_eq!(
        (last.generation, last.cursor, last.state_digest),
        (generation, cursor, digest),
        "final checkpoint"
    );
    Ok(())
}

/// A job yielded at a checkpoint and resumed gives the same output as a
/// clean run, processing each item exactly once across the two runs.
pub fn runner_yield_then_resume_matches_clean_run(fs: &dyn Fs, root: &Path) -> SuiteResult {
    let dir = case_dir(fs, root, "runner_yield_resume")?;
    let (cursor, generation) = run_until_yield(fs, &dir, 42, RunnerConfig::every(K))?;
    ensure_eq!(
        cursor,
        50,
        "yield happens at the first commit after the request"
    );
    let mut job = SumJob::new("sum", ITEMS, 7);
    let identity = JobIdentity {
        name: "sum".into(),
        fingerprint: job.fingerprint(),
    };
    let durable = CheckpointStore::peek_latest(fs, &dir, &identity).ctx("peek")?;
    ensure_eq!(
        durable.map(|c| (c.generation, c.cursor)),
        Some((generation, cursor)),
        "durable at yield"
    );
    let (output, resumed_from, items, redone) =
        completed(run(fs, &dir, &mut job, RunnerConfig::every(K))?)?;
    ensure_eq!(output, expected_output(ITEMS, 7), "resumed output");
    ensure_eq!(
        resumed_from,
        Some(ResumePoint { generation, cursor }),
        "resume point"
    );
    ensure_eq!(items, ITEMS - cursor, "items processed after resume");
    ensure_eq!(redone, K, "redo bound");
    ensure_eq!(
        job.processed,
        (cursor..ITEMS).collect::<Vec<_>>(),
        "items processed after resume"
    );
    Ok(())
}

/// K = 0 is refused at construction, before anything is touched.
pub fn runner_rejects_zero_checkpoint_every(fs: &dyn Fs, root: &Path) -> SuiteResult {
    let dir = root.join("runner_zero_k");
    let mut job = SumJob::new("sum", ITEMS, 7);
    match Runner::open(fs, &dir, &mut job, RunnerConfig::every(0)) {
        Err(RunError::Config(ConfigError::ZeroCheckpointEvery)) => {}
        Err(other) => return Err(format!("expected ZeroCheckpointEvery, got {other}")),
        Ok(_) => return Err("K = 0 was accepted".to_owned()),
    }
    ensure!(
        !fs.exists(&dir).ctx("exists")?,
        "a refused config created the job directory"
    );
    Ok(())
}

/// With a ManualClock, commits happen when T elapses before K items.
pub fn runner_time_based_checkpointing(fs: &dyn Fs, root: &Path) -> SuiteResult {
    // The same policy whether the commit blocks the job or runs beside it.
    for (case, mode) in [
        ("runner_time", CommitMode::Synchronous),
        ("runner_time_background", CommitMode::Background),
    ] {
        let dir = case_dir(fs, root, case)?;
        let clock = ManualClock::new();
        let mut job = SumJob::new("sum", 20, 7);
        job.tick = Some((clock.clone(), Duration::from_secs(3)));
        let config = RunnerConfig {
            checkpoint_interval: Some(Duration::from_secs(10)),
            commit_mode: mode,
            ..RunnerConfig::every(100)
        };
        let mut log = Log::default();
        let runner = Runner::open(fs, &dir, &mut job, config).ctx("open")?;
        let runner = match mode {
            CommitMode::Background => {
                runner.with_commit_interleaving(CommitInterleaving::seeded(5))
            }
            CommitMode::Synchronous => runner,
        };
        let outcome = runner
            .with_clock(clock)
            .with_observer(&mut log)
            .run()
            .ctx("run")?;
        ensure_eq!(
            completed(outcome)?.0,
            expected_output(20, 7),
            "{case}: output"
        );
        let cursors: Vec<u64> = log.after.iter().map(|c| c.1).collect();
        // 3 s per item, T = 10 s: the 4th item since a commit crosses T.
        ensure_eq!(
            cursors,
            vec![4, 8, 12, 16, 20],
            "{case}: time-based commit cursors"
        );
    }

    // Control: the same job without T commits only at K or the end.
    let dir = case_dir(fs, root, "runner_time_control")?;
    let mut job = SumJob::new("sum", 20, 7);
    job.tick = Some((ManualClock::new(), Duration::from_secs(3)));
    let mut log = Log::default();
    Runner::open(fs, &dir, &mut job, RunnerConfig::every(100))
        .ctx("open control")?
        .with_observer(&mut log)
        .run()
        .ctx("run control")?;
    let cursors: Vec<u64> = log.after.iter().map(|c| c.1).collect();
    ensure_eq!(cursors, vec![20], "count-only commit cursors");
    Ok(())
}

/// ForceRestart discards existing checkpoints (even another job's) and
/// starts from item 0.
pub fn runner_force_restart_discards_checkpoints(fs: &dyn Fs, root: &Path) -> SuiteResult {
    let dir = case_dir(fs, root, "runner_force")?;
    run_until_yield(fs, &dir, 42, RunnerConfig::every(K))?;
    let mut other = SumJob::new("other", ITEMS, 99);
    match Runner::open(fs, &dir, &mut other, RunnerConfig::every(K)) {
        Err(RunError::Store(StoreError::FingerprintMismatch { .. })) => {}
        Err(e) => return Err(format!("expected FingerprintMismatch, got {e}")),
        Ok(_) => return Err("another job's checkpoint was accepted".to_owned()),
    }
    let config = RunnerConfig {
        resume: ResumeMode::ForceRestart,
        ..RunnerConfig::every(K)
    };
    let runner = Runner::open(fs, &dir, &mut other, config).ctx("open with ForceRestart")?;
    ensure!(
        !fs.exists(&dir.join(generation_file_name(5)))
            .ctx("exists")?,
        "ForceRestart left the old generation"
    );
    let (output, resumed_from, items, _) = completed(runner.run().ctx("run")?)?;
    ensure_eq!(output, expected_output(ITEMS, 99), "output");
    ensure_eq!((resumed_from, items), (None, ITEMS), "fresh start");
    Ok(())
}

/// NoResume starts from item 0, leaves existing checkpoints at open, and
/// normal retention supersedes them.
pub fn runner_no_resume_ignores_checkpoints(fs: &dyn Fs, root: &Path) -> SuiteResult {
    let dir = case_dir(fs, root, "runner_no_resume")?;
    let (cursor, generation) = run_until_yield(fs, &dir, 42, RunnerConfig::every(K))?;
    let before = names(fs, &dir)?;
    let mut job = SumJob::new("sum", ITEMS, 7);
    let config = RunnerConfig {
        resume: ResumeMode::NoResume,
        ..RunnerConfig::every(K)
    };
    let runner = Runner::open(fs, &dir, &mut job, config).ctx("open with NoResume")?;
    ensure_eq!(
        names(fs, &dir)?,
        before,
        "NoResume touched existing checkpoints at open"
    );
    ensure_eq!(runner.resume_point(), None, "resume point");
    let (output, resumed_from, items, _) = completed(runner.run().ctx("run")?)?;
    ensure_eq!(output, expected_output(ITEMS, 7), "output");
    ensure_eq!(
        (resumed_from, items),
        (None, ITEMS),
        "fresh start despite checkpoint at {cursor}"
    );
    ensure!(
        !fs.exists(&dir.join(generation_file_name(generation)))
            .ctx("exists")?,
        "the superseded generation {generation} survived retention"
    );
    Ok(())
}

/// A second runner on the same job directory is refused at once; the first
/// still works; after it finishes a new runner succeeds.
pub fn runner_lock_refuses_second_runner(fs: &dyn Fs, root: &Path) -> SuiteResult {
    let dir = case_dir(fs, root, "runner_lock")?;
    let mut first_job = SumJob::new("sum", ITEMS, 7);
    let mut second_job = SumJob::new("sum", ITEMS, 7);
    let first = Runner::open(fs, &dir, &mut first_job, RunnerConfig::every(K)).ctx("open first")?;
    match Runner::open(fs, &dir, &mut second_job, RunnerConfig::every(K)) {
        Err(e @ RunError::Locked { .. }) => {
            let message = e.to_string();
            let RunError::Locked { path, sentinel } = e else {
                return Err("unreachable".to_owned());
            };
            ensure_eq!(path, dir.join("LOCK"), "lock path");
            ensure_eq!(sentinel, Some(dir.join("sum.yield")), "sentinel path");
            ensure!(
                message.contains(&format!("{:?}", dir.join("sum.yield"))),
                "the Locked message does not name the sentinel file: {message}"
            );
        }
        Err(e) => return Err(format!("expected Locked, got {e}")),
        Ok(_) => return Err("a second runner got the lock".to_owned()),
    }
    let (output, ..) = completed(first.run().ctx("first run")?)?;
    ensure_eq!(output, expected_output(ITEMS, 7), "first runner output");
    let (output, resumed_from, items, _) =
        completed(run(fs, &dir, &mut second_job, RunnerConfig::every(K))?)?;
    ensure_eq!(output, expected_output(ITEMS, 7), "second runner output");
    ensure_eq!(
        (resumed_from.map(|r| r.cursor), items),
        (Some(ITEMS), 0),
        "the second run finds the final checkpoint and only finalizes"
    );
    // Dropping an unrun runner releases the lock too.
    drop(Runner::open(fs, &dir, &mut first_job, RunnerConfig::every(K)).ctx("open third")?);
    Runner::open(fs, &dir, &mut second_job, RunnerConfig::every(K)).ctx("open after drop")?;
    Ok(())
}

/// The sentinel file `<name>.yield` makes the runner yield at its first
/// commit; the runner never removes it; without it the job completes.
pub fn runner_sentinel_file_yields(fs: &dyn Fs, root: &Path) -> SuiteResult {
    let dir = case_dir(fs, root, "runner_sentinel")?;
    let sentinel = dir.join("sum.yield");
    write_file(fs, &sentinel, b"")?;
    let mut job = SumJob::new("sum", ITEMS, 7);
    let (cursor, _) = yielded(run(fs, &dir, &mut job, RunnerConfig::every(K))?)?;
    ensure_eq!(cursor, K, "yield at the first commit");
    ensure!(
        fs.exists(&sentinel).ctx("exists")?,
        "the runner removed the caller's sentinel"
    );
    let (cursor, _) = yielded(run(fs, &dir, &mut job, RunnerConfig::every(K))?)?;
    ensure_eq!(
        cursor,
        2 * K,
        "each yielding run still makes K items of progress"
    );
    // A disabled sentinel is not checked.
    let config = RunnerConfig {
        yield_sentinel: YieldSentinel::Disabled,
        ..RunnerConfig::every(K)
    };
    let mut job = SumJob::new("sum", ITEMS, 7);
    let (output, ..) = completed(run(fs, &dir, &mut job, config)?)?;
    ensure_eq!(output, expected_output(ITEMS, 7), "output");
    Ok(())
}

/// Near `u64::MAX` the cursor arithmetic saturates instead of overflowing
/// (tzel's `cursor + K`): K = u64::MAX - 1 from a checkpoint 3 items before
/// the end of a `u64::MAX`-item job.
pub fn runner_cursor_near_u64_max_does_not_overflow(fs: &dyn Fs, root: &Path) -> SuiteResult {
    let dir = case_dir(fs, root, "runner_u64_max")?;
    let mut job = SumJob::new("huge", u64::MAX, 7);
    let start = u64::MAX - 3;
    let identity = JobIdentity {
        name: "huge".into(),
        fingerprint: job.fingerprint(),
    };
    let state = serde_json::to_vec(&job.initial_state()).ctx("encode state")?;
    CheckpointStore::open(fs, &dir, identity, 2)
        .ctx("open store")?
        .commit(start, &state)
        .ctx("plant checkpoint")?;
    let (_, resumed_from, items, redone) =
        completed(run(fs, &dir, &mut job, RunnerConfig::every(u64::MAX - 1))?)?;
    ensure_eq!(resumed_from.map(|r| r.cursor), Some(start), "resume point");
    ensure_eq!(items, 3, "items processed");
    ensure_eq!(redone, 3, "redo bound");
    ensure_eq!(
        job.processed,
        vec![start, start + 1, start + 2],
        "indices processed"
    );
    Ok(())
}

/// A job error stops the run without committing; the last checkpoint stays
/// the resume point and a rerun gives the clean output.
pub fn runner_job_error_keeps_last_checkpoint(fs: &dyn Fs, root: &Path) -> SuiteResult {
    let dir = case_dir(fs, root, "runner_job_error")?;
    let mut job = SumJob::new("sum", ITEMS, 7);
    job.fail_at = Some(37);
    match run(fs, &dir, &mut job, RunnerConfig::every(K)) {
        Err(message) if message.contains("item 37") => {}
        other => return Err(format!("expected a job error at item 37, got {other:?}")),
    }
    job.fail_at = None;
    job.processed.clear();
    let (output, resumed_from, ..) = completed(run(fs, &dir, &mut job, RunnerConfig::every(K))?)?;
    ensure_eq!(
        resumed_from.map(|r| r.cursor),
        Some(30),
        "resume at the last commit"
    );
    ensure_eq!(output, expected_output(ITEMS, 7), "output");
    Ok(())
}

/// The final checkpoint is durable before finalize: a failed finalize
/// resumes straight into finalize, processing nothing again.
pub fn runner_final_checkpoint_precedes_finalize(fs: &dyn Fs, root: &Path) -> SuiteResult {
    let dir = case_dir(fs, root, "runner_finalize")?;
    let mut job = SumJob::new("sum", ITEMS, 7);
    job.fail_finalize = true;
    match run(fs, &dir, &mut job, RunnerConfig::every(K)) {
        Err(message) if message.contains("finalize") => {}
        other => return Err(format!("expected a finalize error, got {other:?}")),
    }
    job.fail_finalize = false;
    job.processed.clear();
    let (output, resumed_from, items, redone) =
        completed(run(fs, &dir, &mut job, RunnerConfig::every(K))?)?;
    ensure_eq!(output, expected_output(ITEMS, 7), "output");
    ensure_eq!(
        (resumed_from.map(|r| r.cursor), items, redone),
        (Some(ITEMS), 0, 0),
        "finalize-only run"
    );
    ensure_eq!(job.finalized, 2, "finalize calls across both runs");
    Ok(())
}

/// With `remove_checkpoints_on_success`, a completed run leaves no
/// generation files (only the lock file).
pub fn runner_cleanup_on_success(fs: &dyn Fs, root: &Path) -> SuiteResult {
    let dir = case_dir(fs, root, "runner_cleanup")?;
    let mut job = SumJob::new("sum", ITEMS, 7);
    let config = RunnerConfig {
        remove_checkpoints_on_success: true,
        ..RunnerConfig::every(K)
    };
    completed(run(fs, &dir, &mut job, config)?)?;
    ensure_eq!(
        names(fs, &dir)?,
        vec!["LOCK".to_owned()],
        "directory after success"
    );
    Ok(())
}

/// A damaged newest checkpoint: the run falls back to the previous one,
/// still produces the clean output, and widens its redo bound.
pub fn runner_falls_back_from_corrupt_checkpoint(fs: &dyn Fs, root: &Path) -> SuiteResult {
    let dir = case_dir(fs, root, "runner_fallback")?;
    let (cursor, generation) = run_until_yield(fs, &dir, 42, RunnerConfig::every(K))?;
    flip_bit(fs, &dir.join(generation_file_name(generation)), 25)?;
    let mut job = SumJob::new("sum", ITEMS, 7);
    let outcome = run(fs, &dir, &mut job, RunnerConfig::every(K))?;
    let skipped = match &outcome {
        Outcome::Completed { skipped, .. } => skipped.clone(),
        Outcome::Yielded { .. } => Vec::new(),
    };
    let (output, resumed_from, items, redone) = completed(outcome)?;
    ensure_eq!(output, expected_output(ITEMS, 7), "output");
    ensure_eq!(
        resumed_from.map(|r| r.cursor),
        Some(cursor - K),
        "fell back one generation"
    );
    ensure_eq!(
        skipped,
        vec![SkippedGeneration {
            generation,
            path: dir.join(generation_file_name(generation)),
            reason: SkipReason::Damaged {
                kind: DecodeErrorKind::ChecksumMismatch,
                detail: skipped
                    .first()
                    .map(|s| match &s.reason {
                        SkipReason::Damaged { detail, .. } => detail.clone(),
                        SkipReason::OtherJob { .. } => String::new(),
                    })
                    .unwrap_or_default(),
            },
        }],
        "the Outcome reports the damaged generation recovery skipped"
    );
    ensure_eq!(items, ITEMS - (cursor - K), "items processed");
    ensure_eq!(redone, 2 * K, "redo bound covers the skipped generation");
    Ok(())
}

/// Stopped at the failpoint between the final commit and `finalize` (where
/// a crash would hit), the final checkpoint is already durable; the next
/// run resumes straight into `finalize` (Rooch's finalize-only path).
pub fn runner_stop_before_finalize_resumes_into_finalize(fs: &dyn Fs, root: &Path) -> SuiteResult {
    let dir = case_dir(fs, root, "runner_before_finalize")?;
    let failing = FailingFs::new(
        fs,
        FailRule::first(
            crashproof_core::fs::FsOp::Failpoint,
            failpoint::RUNNER_AFTER_FINAL_COMMIT_BEFORE_FINALIZE,
        ),
    );
    let mut job = SumJob::new("sum", ITEMS, 7);
    let stopped = Runner::open(&failing, &dir, &mut job, RunnerConfig::every(K))
        .ctx("open")?
        .run();
    ensure!(failing.fired(), "the finalize failpoint was never reached");
    ensure!(stopped.is_err(), "the run went on past a failing failpoint");
    ensure_eq!(job.finalized, 0, "finalize calls before the stop");
    job.processed.clear();
    let (output, resumed_from, items, _) =
        completed(run(fs, &dir, &mut job, RunnerConfig::every(K))?)?;
    ensure_eq!(output, expected_output(ITEMS, 7), "output");
    ensure_eq!(
        (resumed_from.map(|r| r.cursor), items),
        (Some(ITEMS), 0),
        "finalize-only run"
    );
    ensure_eq!(job.processed, Vec::<u64>::new(), "items processed again");
    Ok(())
}
