//! One case: a fresh directory, the program killed at each point of its
//! plan in turn, restarted until a run exits 0, then the checks.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::attempt::{AttemptEnd, AttemptError, run_attempt};
use crate::check::{Check, CheckInput};
use crate::dir_state::holds_a_file;
use crate::plan::{KillPoint, Plan};
use crate::program::Program;

/// What every case of a campaign shares.
pub struct CaseSetup<'a> {
    /// The program.
    pub program: &'a Program,
    /// Where case directories are created.
    pub root: &'a Path,
    /// Most time one run may take before it counts as hung.
    pub run_timeout: Duration,
    /// The checks, in order (the first failure is reported).
    pub checks: &'a [&'a dyn Check],
    /// The clean run's stdout.
    pub clean_stdout: &'a [u8],
    /// Set by the caller to stop (Ctrl-C, SIGTERM): the running program's
    /// group is killed and the case ends unjudged.
    pub interrupt: &'a AtomicBool,
}

/// The prefix of every case directory's name in the campaign directory.
pub const CASE_DIR_PREFIX: &str = "case-";

/// What one case did.
#[derive(Debug, Clone)]
pub struct CaseReport {
    /// The points tried, in order: every landed kill, then the point the
    /// program outran (it exited first), if any. Replaying this plan
    /// repeats the case.
    pub tried: Plan,
    /// Kills that landed.
    pub kills: u64,
    /// Whether the last point tried was outrun (the program exited 0
    /// before it).
    pub missed: bool,
    /// Runs started, the first included.
    pub runs: u64,
    /// Why the case failed, if it did.
    pub failure: Option<CaseFailure>,
    /// The caller's interrupt stopped the case before its end: it was not
    /// judged (no failure), and its directory was removed.
    pub interrupted: bool,
}

/// A failed case: the reason, the last run's output, and the kept directory.
#[derive(Debug, Clone)]
pub struct CaseFailure {
    /// What went wrong, in a sentence or a few lines.
    pub reason: String,
    /// The last run's stdout.
    pub stdout: Vec<u8>,
    /// The last run's stderr.
    pub stderr: Vec<u8>,
    /// The case directory, left in place for inspection.
    pub dir: PathBuf,
}

/// Runs one case with `plan` in a new, empty, uniquely named directory
/// under `setup.root`. The directory is removed when the case passes or is
/// interrupted, and kept when it fails. A last run that exits 0 must leave
/// a file in the directory (its state) before the checks judge it.
pub fn run_case(setup: &CaseSetup<'_>, plan: &Plan) -> Result<CaseReport, AttemptError> {
    let dir = tempfile::Builder::new()
        .prefix(CASE_DIR_PREFIX)
        .tempdir_in(setup.root)?;
    let mut report = CaseReport {
        tried: Plan::default(),
        kills: 0,
        missed: false,
        runs: 0,
        failure: None,
        interrupted: false,
    };
    let mut points = plan.0.iter();
    loop {
        let point: Option<&KillPoint> = points.next();
        let attempt = run_attempt(
            setup.program,
            dir.path(),
            point,
            setup.run_timeout,
            setup.interrupt,
        )?;
        report.runs += 1;
        if let Some(point) = point {
            report.tried.0.push(point.clone());
        }
        let run = report.runs;
        let failure = |reason: String| CaseFailure {
            reason,
            stdout: attempt.stdout.clone(),
            stderr: attempt.stderr.clone(),
            dir: PathBuf::new(),
        };
        let failed = match attempt.end {
            AttemptEnd::Killed | AttemptEnd::KilledAtFailpoint => {
                report.kills += 1;
                continue;
            }
            AttemptEnd::Exited(0) => {
                report.missed = point.is_some();
                let input = CheckInput {
                    dir: dir.path(),
                    stdout: &attempt.stdout,
                    clean_stdout: setup.clean_stdout,
                };
                if holds_a_file(dir.path())? {
                    setup
                        .checks
                        .iter()
                        .find_map(|c| c.check(&input).err())
                        .map(failure)
                } else {
                    Some(failure(format!(
                        "run {run} (after {} kills) exited 0 but left no file in its directory, where the clean runs kept their state: after a restart the program keeps its state elsewhere",
                        report.kills
                    )))
                }
            }
            AttemptEnd::Exited(code) => Some(failure(format!(
                "run {run} (after {} kills) exited with code {code}",
                report.kills
            ))),
            AttemptEnd::Signaled(signal) => Some(failure(format!(
                "run {run} (after {} kills) was ended by signal {signal}, which the harness did not send",
                report.kills
            ))),
            AttemptEnd::TimedOut => Some(failure(format!(
                "run {run} (after {} kills) did not finish within {:?}",
                report.kills, setup.run_timeout
            ))),
            AttemptEnd::Interrupted => {
                report.interrupted = true;
                return Ok(report);
            }
        };
        if setup.interrupt.load(Ordering::SeqCst) {
            // The signal may have reached a check command too (a terminal's
            // Ctrl-C goes to the harness's process group): a case that ended
            // during an interrupt is not judged.
            report.interrupted = true;
            return Ok(report);
        }
        if let Some(mut failure) = failed {
            failure.dir = dir.keep();
            report.failure = Some(failure);
        }
        return Ok(report);
    }
}
