//! Suite: what the runner costs per commit and what it tells its caller.

use std::io;
use std::path::Path;
use std::time::Duration;

use crashproof_core::envelope::Codec;
use crashproof_core::fs::{Fs, FsOp};
use crashproof_core::store::{
    CheckpointStore, JobIdentity, SkipReason, StoreError, WRITE_PROBE_FILE_NAME,
    generation_file_name,
};
use crashproof_core::{
    CommitInterleaving, CommitMode, Job, ManualClock, Outcome, RunError, Runner, RunnerConfig,
    YieldSentinel, YieldSignal,
};

use crate::check::{Ctx, SuiteResult, case_dir, names, write_file};
use crate::fs_wrappers::{FailRule, FailingFs, RecordedOp, RecordingFs};
use crate::jobs::{SumJob, expected_output};
use crate::{ensure, ensure_eq};

const ITEMS: u64 = 100;
const K: u64 = 10;

/// The operations between the rename of generation `g` and that of `g + 1`:
/// the tail of commit `g` (its GC and yield check) and commit `g + 1` up to
/// its rename.
fn window(ops: &[RecordedOp], dir: &Path, g: u64) -> Result<Vec<RecordedOp>, String> {
    let rename_of = |g: u64| {
        let target = dir.join(generation_file_name(g));
        ops.iter()
            .position(|o| o.op == FsOp::Rename && o.to.as_deref() == Some(target.as_path()))
            .ctx(&format!("no rename of generation {g} in {ops:#?}"))
    };
    let (from, to) = (rename_of(g)?, rename_of(g + 1)?);
    Ok(ops.get(from..to).unwrap_or_default().to_vec())
}

fn count(ops: &[RecordedOp], op: FsOp) -> usize {
    ops.iter().filter(|o| o.op == op).count()
}

/// A steady-state commit makes two fsyncs (the temp file, the directory),
/// one unlink, and one sentinel `stat` with the default configuration;
/// none with the sentinel disabled. Before `run` returns, the last GC's
/// removal is made durable by one more directory fsync.
pub fn runner_steady_state_commit_makes_two_fsyncs(fs: &dyn Fs, root: &Path) -> SuiteResult {
    for (case, sentinel, stats) in [
        ("runner_two_fsyncs", YieldSentinel::JobName, 1),
        ("runner_two_fsyncs_nostat", YieldSentinel::Disabled, 0),
    ] {
        let dir = case_dir(fs, root, case)?;
        let recording = RecordingFs::new(fs);
        let mut job = SumJob::new("sum", ITEMS, 7);
        let config = RunnerConfig {
            yield_sentinel: sentinel,
            ..RunnerConfig::every(K)
        };
        let outcome = Runner::open(&recording, &dir, &mut job, config)
            .ctx("open")?
            .run()
            .ctx("run")?;
        ensure!(matches!(outcome, Outcome::Completed { .. }), "{outcome:?}");
        let ops = recording.ops();
        let steady = window(&ops, &dir, 5)?;
        ensure_eq!(
            (
                count(&steady, FsOp::Sync),
                count(&steady, FsOp::SyncDir),
                count(&steady, FsOp::RemoveFile),
                count(&steady, FsOp::Rename),
                count(&steady, FsOp::Metadata),
            ),
            (1, 1, 1, 1, stats),
            "{case}: one steady-state commit: {steady:#?}"
        );
        let last_remove = ops
            .iter()
            .rposition(|o| o.op == FsOp::RemoveFile)
            .ctx("a removal")?;
        ensure!(
            ops.get(last_remove..)
                .unwrap_or_default()
                .iter()
                .any(|o| o.op == FsOp::SyncDir && o.path == dir),
            "{case}: the final commit's GC was not made durable: {ops:#?}"
        );
    }
    Ok(())
}

/// A background commit costs what a synchronous one does: over a whole
/// run, the same fsyncs, renames, removals and sentinel looks (one per
/// commit), only overlapped with the work; at every seed of the
/// interleaving.
pub fn runner_background_commit_costs_what_a_synchronous_one_does(
    fs: &dyn Fs,
    root: &Path,
) -> SuiteResult {
    let costs = |case: &str, background: Option<u64>| -> Result<Vec<usize>, String> {
        let dir = case_dir(fs, root, case)?;
        let recording = RecordingFs::new(fs);
        let mut job = SumJob::new("sum", ITEMS, 7);
        let config = RunnerConfig {
            commit_mode: match background {
                Some(_) => CommitMode::Background,
                None => CommitMode::Synchronous,
            },
            ..RunnerConfig::every(K)
        };
        let runner = Runner::open(&recording, &dir, &mut job, config).ctx("open")?;
        let runner = match background {
            Some(seed) => runner.with_commit_interleaving(CommitInterleaving::seeded(seed)),
            None => runner,
        };
        let outcome = runner.run().ctx("run")?;
        ensure!(
            matches!(outcome, Outcome::Completed { .. }),
            "{case}: {outcome:?}"
        );
        let sentinel = RunnerConfig::every(K)
            .sentinel_file_name(job.name())
            .map(|name| dir.join(name))
            .ctx("the default configuration has a sentinel")?;
        let ops = recording.ops();
        let mut costs: Vec<usize> = [FsOp::Sync, FsOp::SyncDir, FsOp::Rename, FsOp::RemoveFile]
            .into_iter()
            .map(|op| count(&ops, op))
            .collect();
        costs.push(
            ops.iter()
                .filter(|o| o.op == FsOp::Metadata && o.path == sentinel)
                .count(),
        );
        Ok(costs)
    };
    let synchronous = costs("runner_costs_sync", None)?;
    ensure_eq!(
        synchronous.get(4).copied(),
        Some(usize::try_from(ITEMS / K).unwrap_or(usize::MAX)),
        "one sentinel look per commit ({synchronous:?}: sync, sync_dir, rename, remove, stat)"
    );
    for seed in 0..4 {
        let background = costs(&format!("runner_costs_background_{seed}"), Some(seed))?;
        ensure_eq!(
            background,
            synchronous,
            "seed {seed}: background vs synchronous (sync, sync_dir, rename, remove, stat)"
        );
    }
    Ok(())
}

/// With `sentinel_check_interval`, the sentinel file is looked at after the
/// first commit and then only once that much time (by the runner's clock)
/// has passed; with the default it is looked at after every commit.
pub fn runner_sentinel_check_interval_spaces_out_looks(fs: &dyn Fs, root: &Path) -> SuiteResult {
    for (case, interval, expected_looks) in [
        (
            "runner_sentinel_every",
            Duration::ZERO,
            (1..=30).collect::<Vec<u64>>(),
        ),
        // 1 s per item, K = 1: looks at t = 1, 11, 21 with a 10 s interval
        // (11 - 1 = 10 is due: at least the interval, not more than it).
        (
            "runner_sentinel_interval",
            Duration::from_secs(10),
            vec![1, 11, 21],
        ),
    ] {
        let dir = case_dir(fs, root, case)?;
        let recording = RecordingFs::new(fs);
        let clock = ManualClock::new();
        let mut job = SumJob::new("sum", 30, 7);
        job.tick = Some((clock.clone(), Duration::from_secs(1)));
        let config = RunnerConfig {
            sentinel_check_interval: interval,
            ..RunnerConfig::every(1)
        };
        Runner::open(&recording, &dir, &mut job, config)
            .ctx("open")?
            .with_clock(clock)
            .run()
            .ctx("run")?;
        let sentinel = dir.join("sum.yield");
        // The generation committed last before each look: with K = 1 it is
        // the cursor (and the time, in seconds) of the look.
        let mut committed = 0u64;
        let mut looks = Vec::new();
        for o in recording.ops() {
            if o.op == FsOp::Rename {
                committed += 1;
            } else if o.op == FsOp::Metadata && o.path == sentinel {
                looks.push(committed);
            }
        }
        ensure_eq!(
            looks,
            expected_looks,
            "{case}: sentinel looked at after commits"
        );
    }
    // The interval does not hide a sentinel present at the first commit.
    let dir = case_dir(fs, root, "runner_sentinel_interval_yields")?;
    write_file(fs, &dir.join("sum.yield"), b"")?;
    let mut job = SumJob::new("sum", 30, 7);
    let config = RunnerConfig {
        sentinel_check_interval: Duration::from_secs(3600),
        ..RunnerConfig::every(1)
    };
    match Runner::open(fs, &dir, &mut job, config)
        .ctx("open")?
        .with_clock(ManualClock::new())
        .run()
        .ctx("run")?
    {
        Outcome::Yielded { cursor: 1, .. } => Ok(()),
        other => Err(format!("expected a yield at cursor 1, got {other:?}")),
    }
}

/// Another job's newer checkpoint in the job directory: the runner resumes
/// this job's own newest valid generation, reports the other file in the
/// Outcome, completes with the clean output and leaves the file in place.
pub fn runner_resumes_own_checkpoint_below_another_jobs(fs: &dyn Fs, root: &Path) -> SuiteResult {
    let dir = case_dir(fs, root, "runner_foreign_newer")?;
    let signal = YieldSignal::new();
    let mut job = SumJob::new("sum", ITEMS, 7);
    job.yield_after = Some((42, signal.clone()));
    let first = Runner::open(fs, &dir, &mut job, RunnerConfig::every(K))
        .ctx("open")?
        .with_yield_signal(signal)
        .run()
        .ctx("run")?;
    let Outcome::Yielded {
        cursor, generation, ..
    } = first
    else {
        return Err(format!("expected a yield, got {first:?}"));
    };
    let other = JobIdentity {
        name: "other".to_owned(),
        fingerprint: 0xbad,
    };
    let foreign = CheckpointStore::open(fs, &dir, other, 2)
        .ctx("open other")?
        .commit(1, b"{}")
        .ctx("commit other")?;
    let mut job = SumJob::new("sum", ITEMS, 7);
    let runner = Runner::open(fs, &dir, &mut job, RunnerConfig::every(K)).ctx("reopen")?;
    ensure_eq!(runner.dir(), dir.as_path(), "Runner::dir");
    ensure_eq!(
        runner.resume_point(),
        Some(crashproof_core::ResumePoint { generation, cursor }),
        "Runner::resume_point before the run"
    );
    ensure_eq!(
        runner
            .skipped()
            .iter()
            .map(|s| s.generation)
            .collect::<Vec<_>>(),
        vec![foreign],
        "Runner::skipped before the run"
    );
    let outcome = runner.run().ctx("resume")?;
    let Outcome::Completed {
        output,
        resumed_from,
        skipped,
        ..
    } = outcome
    else {
        return Err(format!("expected Completed, got {outcome:?}"));
    };
    ensure_eq!(output, expected_output(ITEMS, 7), "output");
    ensure_eq!(
        resumed_from.map(|r| (r.generation, r.cursor)),
        Some((generation, cursor)),
        "resumed from this job's own newest"
    );
    ensure_eq!(
        skipped
            .iter()
            .map(|s| (s.generation, s.reason.clone()))
            .collect::<Vec<_>>(),
        vec![(
            foreign,
            SkipReason::OtherJob {
                name: "other".to_owned(),
                fingerprint: 0xbad
            }
        )],
        "reported"
    );
    ensure!(
        fs.exists(&dir.join(generation_file_name(foreign)))
            .ctx("exists")?,
        "the other job's checkpoint was deleted"
    );
    Ok(())
}

/// A job directory the runner cannot write is refused at open with
/// `JobDirNotWritable`, before any item is processed: when the probe file
/// cannot be created (read-only filesystem, permission denied) and when the
/// lock file cannot be created.
pub fn runner_unwritable_job_dir_is_refused_at_open(fs: &dyn Fs, root: &Path) -> SuiteResult {
    let rules = [
        (
            FsOp::Open,
            WRITE_PROBE_FILE_NAME,
            io::ErrorKind::ReadOnlyFilesystem,
        ),
        (
            FsOp::RemoveFile,
            WRITE_PROBE_FILE_NAME,
            io::ErrorKind::PermissionDenied,
        ),
        (FsOp::TryLock, "LOCK", io::ErrorKind::PermissionDenied),
        (FsOp::TryLock, "LOCK", io::ErrorKind::ReadOnlyFilesystem),
    ];
    for (i, (op, path, kind)) in rules.into_iter().enumerate() {
        let dir = case_dir(fs, root, &format!("runner_unwritable_{i}"))?;
        let failing = FailingFs::new(
            fs,
            FailRule {
                kind,
                ..FailRule::first(op, path)
            },
        );
        let mut job = SumJob::new("sum", ITEMS, 7);
        let opened = Runner::open(&failing, &dir, &mut job, RunnerConfig::every(K));
        ensure!(
            failing.fired(),
            "{op:?} {kind:?}: the failure was not injected"
        );
        match &opened {
            Err(e @ RunError::JobDirNotWritable { .. }) => {
                let message = e.to_string();
                ensure!(
                    message.contains(&format!("{dir:?}")) && message.contains("permissions"),
                    "{op:?} {kind:?}: message: {message}"
                );
                ensure_eq!(
                    e.io_error().map(io::Error::kind),
                    Some(kind),
                    "{op:?}: the OS error is kept"
                );
            }
            Err(other) => {
                return Err(format!(
                    "{op:?} {kind:?}: expected JobDirNotWritable, got {other}"
                ));
            }
            Ok(_) => {
                return Err(format!(
                    "{op:?} {kind:?}: an unwritable directory was accepted"
                ));
            }
        }
        drop(opened);
        ensure!(job.processed.is_empty(), "items were processed");
    }
    // A clean open leaves no probe behind.
    let dir = case_dir(fs, root, "runner_probe_clean")?;
    let mut job = SumJob::new("sum", ITEMS, 7);
    drop(Runner::open(fs, &dir, &mut job, RunnerConfig::every(K)).ctx("open")?);
    ensure_eq!(
        names(fs, &dir)?,
        vec!["LOCK".to_owned()],
        "directory after open"
    );
    // A probe a crash left behind does not block the next open.
    write_file(fs, &dir.join(WRITE_PROBE_FILE_NAME), b"left by a crash")?;
    drop(Runner::open(fs, &dir, &mut job, RunnerConfig::every(K)).ctx("open over a probe")?);
    ensure_eq!(
        names(fs, &dir)?,
        vec!["LOCK".to_owned()],
        "directory after reopen"
    );
    Ok(())
}

/// A regular file as the job directory: "is not a directory", and the lock
/// error other than permission names the lock file once.
pub fn runner_error_messages_are_plain(fs: &dyn Fs, root: &Path) -> SuiteResult {
    let base = case_dir(fs, root, "runner_messages")?;
    let file = base.join("job-dir");
    write_file(fs, &file, b"")?;
    let mut job = SumJob::new("sum", ITEMS, 7);
    match Runner::open(fs, &file, &mut job, RunnerConfig::every(K)) {
        Err(e @ RunError::Store(StoreError::NotADirectory { .. })) => {
            let message = e.to_string();
            ensure!(
                message.contains("is not a directory") && !message.contains("File exists"),
                "message: {message}"
            );
        }
        Err(other) => return Err(format!("expected NotADirectory, got {other}")),
        Ok(_) => return Err("a file was accepted as the job directory".to_owned()),
    }
    let dir = case_dir(fs, root, "runner_messages_lock")?;
    let failing = FailingFs::new(fs, FailRule::first(FsOp::TryLock, "LOCK"));
    let message = match Runner::open(&failing, &dir, &mut job, RunnerConfig::every(K)) {
        Err(e @ RunError::Io { .. }) => e.to_string(),
        Err(other) => return Err(format!("expected Io, got {other}")),
        Ok(_) => return Err("the lock failure was ignored".to_owned()),
    };
    ensure_eq!(message.matches("try_lock").count(), 1, "message: {message}");
    ensure_eq!(message.matches("LOCK").count(), 1, "message: {message}");
    // The Locked advice without a sentinel file points at the signal.
    let dir = case_dir(fs, root, "runner_messages_locked")?;
    let config = RunnerConfig {
        yield_sentinel: YieldSentinel::Disabled,
        ..RunnerConfig::every(K)
    };
    let mut holder = SumJob::new("sum", ITEMS, 7);
    let _held = Runner::open(fs, &dir, &mut holder, config.clone()).ctx("first")?;
    match Runner::open(fs, &dir, &mut job, config) {
        Err(e @ RunError::Locked { sentinel: None, .. }) => {
            let message = e.to_string();
            ensure!(message.contains("YieldSignal"), "message: {message}");
        }
        Err(other) => return Err(format!("expected Locked, got {other}")),
        Ok(_) => return Err("a second runner got the lock".to_owned()),
    }
    Ok(())
}

/// The postcard codec end to end: a run yields with postcard checkpoints,
/// a JSON-configured run resumes them and completes with the clean output
/// (the header, not the configuration, decides how a file is read).
pub fn runner_postcard_checkpoints_resume_under_any_codec(fs: &dyn Fs, root: &Path) -> SuiteResult {
    let dir = case_dir(fs, root, "runner_postcard")?;
    let signal = YieldSignal::new();
    let mut job = SumJob::new("sum", ITEMS, 7);
    job.yield_after = Some((42, signal.clone()));
    let config = RunnerConfig {
        codec: Codec::Postcard,
        ..RunnerConfig::every(K)
    };
    let first = Runner::open(fs, &dir, &mut job, config)
        .ctx("open")?
        .with_yield_signal(signal)
        .run()
        .ctx("run")?;
    ensure!(
        matches!(first, Outcome::Yielded { cursor: 50, .. }),
        "{first:?}"
    );
    let identity = JobIdentity {
        name: "sum".to_owned(),
        fingerprint: job.fingerprint(),
    };
    let stored = CheckpointStore::peek_latest(fs, &dir, &identity)
        .ctx("peek")?
        .ctx("a checkpoint")?;
    ensure_eq!(stored.codec, Codec::Postcard, "written in postcard");
    let mut job = SumJob::new("sum", ITEMS, 7);
    match Runner::open(fs, &dir, &mut job, RunnerConfig::every(K))
        .ctx("reopen")?
        .run()
        .ctx("resume")?
    {
        Outcome::Completed {
            output,
            resumed_from: Some(point),
            ..
        } => {
            ensure_eq!(output, expected_output(ITEMS, 7), "output");
            ensure_eq!(point.cursor, 50, "resume point");
        }
        other => return Err(format!("expected a resumed completion, got {other:?}")),
    }
    Ok(())
}

/// The signal `Runner::yield_signal` hands out is the one the runner
/// checks: requesting it makes the run yield at its first commit.
pub fn runner_yield_signal_handle_is_the_runners(fs: &dyn Fs, root: &Path) -> SuiteResult {
    let dir = case_dir(fs, root, "runner_signal_handle")?;
    let mut job = SumJob::new("sum", ITEMS, 7);
    let runner = Runner::open(fs, &dir, &mut job, RunnerConfig::every(K)).ctx("open")?;
    runner.yield_signal().request();
    match runner.run().ctx("run")? {
        Outcome::Yielded { cursor, .. } => {
            ensure_eq!(cursor, K, "yield at the first commit");
            Ok(())
        }
        other => Err(format!("expected a yield, got {other:?}")),
    }
}
