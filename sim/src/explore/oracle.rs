//! The two oracles (and the redo bound) as plain functions over values.

use std::panic::{AssertUnwindSafe, catch_unwind};

use super::case::{LastCrash, panic_message};
use super::checks::Checks;
use super::explorer::CleanRun;
use super::violation::Oracle;
use super::workload::{Completion, Progress, Recovered, Workload, WorkloadError};
use crate::SimFs;

/// An oracle's "no": which one and why. Becomes a `Violation` with the
/// schedule, seed and trace attached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The check that failed.
    pub oracle: Oracle,
    /// What it saw, one line.
    pub message: String,
}

impl Finding {
    /// A finding of `oracle` saying `message`.
    pub fn new(oracle: Oracle, message: impl Into<String>) -> Self {
        Self {
            oracle,
            message: message.into(),
        }
    }
}

/// Where recovery goes from a post-crash state the state oracle accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recovery {
    /// Recovery resumes at this cursor (`None`: it starts over).
    Resumes(Option<u64>),
    /// Recovery finds the job already completed, with the clean run's
    /// output ([`Workload::completed`]).
    Completed,
}

/// The state oracle on one post-crash disk: recovery must not panic; if it
/// finds the job completed ([`Workload::completed`]), the output it finds
/// must be `clean_output`; otherwise the checkpoint it would load must be
/// one the program attempted (else it is garbage or a torn file that
/// happens to parse) and must not be older than the last acknowledged one,
/// and without a loadable checkpoint nothing may have been acknowledged;
/// last, the workload's [`Workload::state_predicate`] must hold. The fact
/// checks apply only as far as the workload reports the facts, and a
/// recovery error is allowed only as [`Workload::checks`] says. Returns
/// where recovery goes.
pub fn check_state(
    workload: &dyn Workload,
    image: &SimFs,
    progress: &Progress,
    clean_output: &str,
) -> Result<Recovery, Finding> {
    let checks = workload.checks();
    let recovery = match guard("recovery (completed)", || workload.completed(image))? {
        Ok(Some(output)) if output == clean_output => Recovery::Completed,
        Ok(Some(output)) => {
            return Err(Finding::new(
                Oracle::State,
                format!(
                    "recovery would find the job completed with output {:?}, but the clean run's \
                     output is {:?} (a result published before it was complete, or torn)",
                    clip(&output),
                    clip(clean_output)
                ),
            ));
        }
        Ok(None) => resumes(workload, &checks, image, progress)?,
        Err(e) => failed(&checks, progress, &e)?,
    };
    if let Err(message) = guard("the state predicate", || {
        workload.state_predicate(image, progress)
    })? {
        return Err(Finding::new(
            Oracle::State,
            format!("state predicate failed: {message}"),
        ));
    }
    Ok(recovery)
}

/// The state oracle on what [`Workload::inspect`] says recovery resumes
/// from.
fn resumes(
    workload: &dyn Workload,
    checks: &Checks,
    image: &SimFs,
    progress: &Progress,
) -> Result<Recovery, Finding> {
    let acked = checks
        .acknowledgements
        .then(|| progress.acknowledged())
        .flatten();
    match guard("recovery (inspect)", || workload.inspect(image))? {
        Ok(Recovered {
            checkpoint: Some(id),
        }) => {
            if checks.attempts && !progress.attempted().contains(&id) {
                return Err(Finding::new(
                    Oracle::State,
                    format!(
                        "recovery would load checkpoint cursor {} digest {:#018x}, which the program never wrote \
                         (garbage or a torn file that parses)",
                        id.cursor, id.state_digest
                    ),
                ));
            }
            if let Some(ack) = acked.filter(|a| id.cursor < a.cursor) {
                return Err(Finding::new(
                    Oracle::State,
                    format!(
                        "acknowledged progress lost: recovery would resume at cursor {} but cursor {} was acknowledged durable",
                        id.cursor, ack.cursor
                    ),
                ));
            }
            Ok(Recovery::Resumes(Some(id.cursor)))
        }
        Ok(Recovered { checkpoint: None }) => match acked {
            Some(ack) => Err(Finding::new(
                Oracle::State,
                format!(
                    "acknowledged progress lost: recovery would start over but cursor {} was acknowledged durable",
                    ack.cursor
                ),
            )),
            None => Ok(Recovery::Resumes(None)),
        },
        Err(e) => failed(checks, progress, &e),
    }
}

/// The state oracle on a recovery that returned an error: allowed only
/// when the workload may fail recovery ([`Checks::recovery_never_fails`]
/// off) and nothing it reports was acknowledged (it may refuse a disk it
/// has promised nothing about).
fn failed(checks: &Checks, progress: &Progress, e: &WorkloadError) -> Result<Recovery, Finding> {
    if checks.recovery_never_fails {
        return Err(Finding::new(
            Oracle::State,
            format!("recovery fails on this post-crash state: {e}"),
        ));
    }
    match progress.acknowledged().filter(|_| checks.acknowledgements) {
        Some(ack) => Err(Finding::new(
            Oracle::State,
            format!(
                "recovery fails ({e}) although cursor {} was acknowledged durable",
                ack.cursor
            ),
        )),
        None => Ok(Recovery::Resumes(None)),
    }
}

/// Runs `f`, turning a panic into a [`Oracle::Panic`] finding naming `what`.
fn guard<T>(what: &str, f: impl FnOnce() -> T) -> Result<T, Finding> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|p| {
        Finding::new(
            Oracle::Panic,
            format!("{what} panicked: {}", panic_message(p.as_ref())),
        )
    })
}

/// The redo bound: after a crash that forgot items up to `processed`, a
/// resume at `resumed` redoes `processed + 1 - resumed` items, at most
/// `workload.redo_bound()`.
pub fn check_redo(
    workload: &dyn Workload,
    processed: Option<u64>,
    resumed: u64,
    how: &str,
) -> Result<(), Finding> {
    let Some(processed) = processed else {
        return Ok(());
    };
    let redo = processed.saturating_add(1).saturating_sub(resumed);
    let bound = workload.redo_bound();
    if redo > bound {
        return Err(Finding::new(
            Oracle::Result,
            format!(
                "too much work redone: items up to {processed} were processed before the crash, {how} at {resumed}: \
                 {redo} items redone > redo bound {bound}"
            ),
        ));
    }
    Ok(())
}

/// The result oracle on a run that completed on `fs`: same output as the
/// clean run, no leftovers, and, if it resumed from a crash (`last_crash`)
/// whose recovery did not find the job completed, the cursor `inspect`
/// promised (if the workload reports where it resumed) and the redo bound.
pub(crate) fn check_result(
    workload: &dyn Workload,
    clean: &CleanRun,
    fs: &SimFs,
    last_crash: Option<LastCrash>,
    completion: &Completion,
) -> Result<(), Finding> {
    if completion.output != clean.output {
        return Err(Finding::new(
            Oracle::Result,
            format!(
                "output differs from the clean run: expected {:?}, got {:?}",
                clip(&clean.output),
                clip(&completion.output)
            ),
        ));
    }
    match catch_unwind(AssertUnwindSafe(|| workload.leftovers(fs))) {
        Err(p) => {
            return Err(Finding::new(
                Oracle::Panic,
                format!("leftovers panicked: {}", panic_message(p.as_ref())),
            ));
        }
        Ok(Err(e)) => {
            return Err(Finding::new(
                Oracle::Result,
                format!("could not list leftovers: {e}"),
            ));
        }
        Ok(Ok(left)) if !left.is_empty() => {
            return Err(Finding::new(
                Oracle::Result,
                format!("completed but left files behind: {}", left.join(", ")),
            ));
        }
        Ok(Ok(_)) => {}
    }
    // A job recovery found completed redoes nothing and resumes nowhere.
    if let Some(last_crash) = last_crash.filter(|c| !c.completed) {
        // `inspect` must tell the truth about recovery, or the state oracle
        // checked a different checkpoint than the one actually resumed.
        let (said, did) = (
            last_crash.recovered.unwrap_or(0),
            completion.resumed_from.unwrap_or(0),
        );
        if workload.checks().resume_cursor && said != did {
            return Err(Finding::new(
                Oracle::State,
                format!(
                    "inspect said recovery resumes at cursor {said}, but the resumed run started at cursor {did}"
                ),
            ));
        }
        check_redo(
            workload,
            last_crash.processed,
            completion.resumed_from.unwrap_or(0),
            "the resumed run started",
        )?;
    }
    Ok(())
}

fn clip(s: &str) -> String {
    const MAX: usize = 120;
    if s.len() <= MAX {
        return s.to_string();
    }
    let mut end = MAX;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &s[..end])
}
