//! The clean runs, and the refusals they decide before any case.
//!
//! The program runs twice unkilled, each in a new, empty directory of its
//! own (`clean-1`, `clean-2`). A campaign is refused (a [`CampaignError`],
//! never a pass) when:
//!
//! - a clean run does not exit 0, or a check fails on it, or no check could
//!   fail ([`CampaignError::CleanRunFailed`], `CheckFailsOnCleanRun`,
//!   `NothingToCheck`);
//! - a clean run leaves no file in its directory: the program keeps its
//!   state elsewhere, where every later run would find the finished state
//!   ([`CampaignError::NoStateInDir`]);
//! - a run changes an earlier run's directory, or puts anything beside the
//!   runs' directories ([`CampaignError::NotIsolated`]; [`Isolation`] checks
//!   this again after every case);
//! - no check looks at stdout and every check passes on a damaged copy of
//!   the clean run's directory ([`CampaignError::ChecksPassDamage`]).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::attempt::{AttemptEnd, AttemptError, run_attempt};
use crate::case::CASE_DIR_PREFIX;
use crate::check::{Check, CheckInput};
use crate::clip::clip;
use crate::dir_state::{Snapshot, damaged_copy, holds_a_file};
use crate::error::CampaignError;
use crate::program::Program;

/// What the clean (unkilled) run showed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CleanRun {
    /// Its stdout: the result every killed case must reproduce.
    pub stdout: Vec<u8>,
    /// How long it took: random time kills are drawn in `[0, elapsed]`.
    pub elapsed: Duration,
    /// Progress lines it wrote: progress kills are drawn in `1..=lines`.
    pub progress_lines: u64,
}

/// Unkilled runs before any case.
const CLEAN_RUNS: u32 = 2;

/// The name of the `n`th clean run's directory in the campaign directory.
fn clean_dir_name(n: u32) -> String {
    format!("clean-{n}")
}

/// The name of the damaged copy made to test the checks (removed at once).
const DAMAGED_DIR_NAME: &str = "damaged-copy";

/// What the campaign directory holds once the clean runs are done, to
/// check after every case that no run touched anything but its own
/// directory.
#[derive(Debug)]
pub struct Isolation {
    root: PathBuf,
    clean: Vec<(PathBuf, Snapshot)>,
}

impl Isolation {
    /// The clean runs' directories.
    pub fn clean_dirs(&self) -> impl Iterator<Item = &Path> {
        self.clean.iter().map(|(dir, _)| dir.as_path())
    }

    /// `Ok` when every clean run's directory is as that run left it and the
    /// campaign directory holds only the runs' directories; `during` names
    /// the run(s) that would be to blame ("random case 3").
    pub fn check(&self, during: &str) -> Result<(), CampaignError> {
        for (dir, snapshot) in &self.clean {
            let now = Snapshot::take(dir).map_err(AttemptError::from)?;
            if let Some(change) = now.changed_since(snapshot) {
                return Err(CampaignError::NotIsolated {
                    what: format!(
                        "during {during}, {change} in {}, the directory of an earlier run",
                        dir.display()
                    ),
                });
            }
        }
        let allowed = |name: &str| {
            name.starts_with(CASE_DIR_PREFIX) || (1..=CLEAN_RUNS).any(|n| clean_dir_name(n) == name)
        };
        for entry in std::fs::read_dir(&self.root).map_err(AttemptError::from)? {
            let name = entry.map_err(AttemptError::from)?.file_name();
            let name = name.to_string_lossy();
            if !allowed(&name) {
                return Err(CampaignError::NotIsolated {
                    what: format!(
                        "during {during}, `{name}` appeared in the campaign directory {}, beside the runs' own directories",
                        self.root.display()
                    ),
                });
            }
        }
        Ok(())
    }
}

/// Runs `program` unkilled twice in new directories under `root` and
/// decides the refusals listed in the module docs. The faster run's time is
/// the clean duration (the first run may pay for a cold start); the second
/// run is judged against the first's stdout, so a program whose result
/// varies run to run is refused.
pub fn clean_runs(
    program: &Program,
    checks: &[&dyn Check],
    root: &Path,
    run_timeout: Option<Duration>,
    interrupt: &AtomicBool,
) -> Result<(CleanRun, Isolation), CampaignError> {
    let timeout = run_timeout.unwrap_or(Duration::from_secs(600));
    let mut clean: Option<CleanRun> = None;
    let mut isolation = Isolation {
        root: root.to_path_buf(),
        clean: Vec::new(),
    };
    for run in 1..=CLEAN_RUNS {
        let dir = root.join(clean_dir_name(run));
        std::fs::create_dir(&dir).map_err(AttemptError::from)?;
        let attempt = run_attempt(program, &dir, None, timeout, interrupt)?;
        match attempt.end {
            AttemptEnd::Exited(0) => {}
            AttemptEnd::Interrupted => return Err(CampaignError::Interrupted),
            end => {
                return Err(CampaignError::CleanRunFailed {
                    end,
                    stderr: clip(&attempt.stderr),
                });
            }
        }
        isolation.check(&format!("clean run {run}"))?;
        if !holds_a_file(&dir).map_err(AttemptError::from)? {
            return Err(CampaignError::NoStateInDir { dir });
        }
        if checks.iter().all(|c| c.is_vacuous(&attempt.stdout)) {
            return Err(CampaignError::NothingToCheck);
        }
        let first = clean.as_ref().map_or(&attempt.stdout, |c| &c.stdout);
        let input = CheckInput {
            dir: &dir,
            stdout: &attempt.stdout,
            clean_stdout: first,
        };
        if let Some(e) = checks.iter().find_map(|c| c.check(&input).err()) {
            // A terminal's Ctrl-C reaches a check command too.
            if interrupt.load(Ordering::SeqCst) {
                return Err(CampaignError::Interrupted);
            }
            return Err(CampaignError::CheckFailsOnCleanRun(e));
        }
        // After the checks, which may read (never should write) the
        // directory: from here on nothing may change it.
        let snapshot = Snapshot::take(&dir).map_err(AttemptError::from)?;
        isolation.clean.push((dir, snapshot));
        clean = Some(match clean {
            None => CleanRun {
                stdout: attempt.stdout,
                elapsed: attempt.elapsed,
                progress_lines: attempt.progress_lines,
            },
            Some(first) => CleanRun {
                elapsed: first.elapsed.min(attempt.elapsed),
                progress_lines: first.progress_lines.max(attempt.progress_lines),
                ..first
            },
        });
    }
    let clean = clean.ok_or(CampaignError::NothingToCheck)?;
    if let Some((dir, _)) = isolation.clean.first() {
        checks_see_damage(checks, &clean, dir, root)?;
    }
    Ok((clean, isolation))
}

/// When no check judges stdout, the checks must fail on a damaged copy of
/// the clean run's directory `dir` (made under `root`, removed after):
/// checks that pass on it cannot tell a kill's damage from success.
fn checks_see_damage(
    checks: &[&dyn Check],
    clean: &CleanRun,
    dir: &Path,
    root: &Path,
) -> Result<(), CampaignError> {
    if checks
        .iter()
        .any(|c| c.judges_stdout() && !c.is_vacuous(&clean.stdout))
    {
        // The last run's stdout is the program's own reading of its state
        // after the kills: that is what is judged, not the directory alone.
        return Ok(());
    }
    let copy = root.join(DAMAGED_DIR_NAME);
    let damage = damaged_copy(dir, &copy).map_err(AttemptError::from)?;
    let input = CheckInput {
        dir: &copy,
        stdout: &clean.stdout,
        clean_stdout: &clean.stdout,
    };
    let every_check_passes = checks.iter().all(|c| c.check(&input).is_ok());
    std::fs::remove_dir_all(&copy).map_err(AttemptError::from)?;
    if every_check_passes {
        return Err(CampaignError::ChecksPassDamage {
            checks: checks
                .iter()
                .map(|c| c.describe())
                .collect::<Vec<_>>()
                .join("; "),
            damage: damage.to_string(),
        });
    }
    Ok(())
}
