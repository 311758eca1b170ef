//! The two oracles (and the redo bound) as plain functions over values.
//!
//! The state oracle comes in two halves so that each distinct post-crash
//! disk is asked once (see `dedup.rs`): [`inspect_state`] is a function of
//! the disk alone, [`judge_state`] of what it said and of the progress
//! record at the crash; [`check_predicate`] is the workload's own check of
//! the disk against that record.

use std::panic::{AssertUnwindSafe, catch_unwind};

use super::clean::CleanRun;
use super::run_end::panic_message;
use crate::SimFs;
pub use crate::explore::report::violation::Finding;
use crate::explore::report::violation::Oracle;
use crate::explore::vocabulary::checks::Checks;
use crate::explore::vocabulary::workload::{
    CheckpointId, Completion, Progress, Recovered, Workload,
};

/// Where recovery goes from a post-crash state the state oracle accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recovery {
    /// Recovery resumes at this cursor (`None`: it starts over).
    Resumes(Option<u64>),
    /// Recovery finds the job already completed, with the clean run's
    /// output ([`Workload::completed`]).
    Completed,
}

/// What the last crash of a case left for the result oracle.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LastCrash {
    /// `processed_max` the crash forgot (for the redo bound).
    pub(crate) processed: Option<u64>,
    /// The cursor `inspect` said recovery resumes at (`None`: start over).
    pub(crate) recovered: Option<u64>,
    /// Whether recovery found the job already completed
    /// (`Workload::completed`): then nothing is resumed or redone.
    pub(crate) completed: bool,
}

/// What recovery said about a post-crash disk, panics caught: the
/// expensive half of the state oracle, a function of the disk alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Inspected {
    /// [`Workload::completed`] found the job done, with this output.
    Completed(String),
    /// [`Workload::inspect`] named the checkpoint recovery would load (or
    /// none).
    Loaded(Recovered),
    /// `completed` or `inspect` returned an error (its text).
    Failed(String),
    /// `completed` or `inspect` panicked: which one, and the payload's text.
    Panicked {
        /// `recovery (completed)` or `recovery (inspect)`.
        what: &'static str,
        /// The panic payload's text.
        message: String,
    },
}

/// Asks recovery about `image`, catching a panic: first whether the job is
/// already done ([`Workload::completed`]), then which checkpoint it would
/// load ([`Workload::inspect`]).
pub(crate) fn inspect_state(workload: &dyn Workload, image: &SimFs) -> Inspected {
    match catch_unwind(AssertUnwindSafe(|| workload.completed(image))) {
        Err(p) => {
            return Inspected::Panicked {
                what: "recovery (completed)",
                message: panic_message(p.as_ref()),
            };
        }
        Ok(Err(e)) => return Inspected::Failed(e.to_string()),
        Ok(Ok(Some(output))) => return Inspected::Completed(output),
        Ok(Ok(None)) => {}
    }
    match catch_unwind(AssertUnwindSafe(|| workload.inspect(image))) {
        Err(p) => Inspected::Panicked {
            what: "recovery (inspect)",
            message: panic_message(p.as_ref()),
        },
        Ok(Err(e)) => Inspected::Failed(e.to_string()),
        Ok(Ok(recovered)) => Inspected::Loaded(recovered),
    }
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
    let recovery = judge_state(
        &inspect_state(workload, image),
        &checks,
        clean_output,
        &|id| progress.attempted().contains(id),
        progress.acknowledged(),
    )?;
    check_predicate(workload, &checks, image, progress)?;
    Ok(recovery)
}

/// The cheap half of the state oracle: what recovery said, against the
/// clean run's output and the progress record at the crash (`attempted`,
/// `acked`), as far as `checks` says the workload reports them.
pub(crate) fn judge_state(
    inspected: &Inspected,
    checks: &Checks,
    clean_output: &str,
    attempted: &dyn Fn(&CheckpointId) -> bool,
    acked: Option<CheckpointId>,
) -> Result<Recovery, Finding> {
    let acked = acked.filter(|_| checks.acknowledgements);
    match inspected {
        Inspected::Panicked { what, message } => Err(Finding::new(
            Oracle::Panic,
            format!("{what} panicked: {message}"),
        )),
        Inspected::Completed(output) if output == clean_output => Ok(Recovery::Completed),
        Inspected::Completed(output) => Err(Finding::new(
            Oracle::State,
            format!(
                "recovery would find the job completed with output {:?}, but the clean run's \
                 output is {:?} (a result published before it was complete, or torn)",
                clip(output),
                clip(clean_output)
            ),
        )),
        Inspected::Loaded(Recovered {
            checkpoint: Some(id),
        }) => {
            if checks.attempts && !attempted(id) {
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
        Inspected::Loaded(Recovered { checkpoint: None }) => match acked {
            Some(ack) => Err(Finding::new(
                Oracle::State,
                format!(
                    "acknowledged progress lost: recovery would start over but cursor {} was acknowledged durable",
                    ack.cursor
                ),
            )),
            None => Ok(Recovery::Resumes(None)),
        },
        Inspected::Failed(e) if checks.recovery_never_fails => Err(Finding::new(
            Oracle::State,
            format!("recovery fails on this post-crash state: {e}"),
        )),
        // A workload may refuse a disk it has promised nothing about.
        Inspected::Failed(e) => match acked {
            Some(ack) => Err(Finding::new(
                Oracle::State,
                format!(
                    "recovery fails ({e}) although cursor {} was acknowledged durable",
                    ack.cursor
                ),
            )),
            None => Ok(Recovery::Resumes(None)),
        },
    }
}

/// The workload's own check of a post-crash disk against what the program
/// had reported when it crashed ([`Workload::state_predicate`]); asked only
/// when [`Checks::state_predicate`] describes it, so every check that runs
/// is listed in the report.
pub(crate) fn check_predicate(
    workload: &dyn Workload,
    checks: &Checks,
    image: &SimFs,
    progress: &Progress,
) -> Result<(), Finding> {
    if checks.state_predicate.is_none() {
        return Ok(());
    }
    match catch_unwind(AssertUnwindSafe(|| {
        workload.state_predicate(image, progress)
    })) {
        Err(p) => Err(Finding::new(
            Oracle::Panic,
            format!(
                "the state predicate panicked: {}",
                panic_message(p.as_ref())
            ),
        )),
        Ok(Err(message)) => Err(Finding::new(
            Oracle::State,
            format!("state predicate failed: {message}"),
        )),
        Ok(Ok(())) => Ok(()),
    }
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
    check_completion(workload, clean, fs, completion)?;
    match last_crash {
        Some(last_crash) => check_resume(
            workload,
            &workload.checks(),
            last_crash,
            completion.resumed_from,
        ),
        None => Ok(()),
    }
}

/// The half of the result oracle that depends on the run alone: the clean
/// run's output, no leftovers on `fs`.
pub(crate) fn check_completion(
    workload: &dyn Workload,
    clean: &CleanRun,
    fs: &SimFs,
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
        Err(p) => Err(Finding::new(
            Oracle::Panic,
            format!("leftovers panicked: {}", panic_message(p.as_ref())),
        )),
        Ok(Err(e)) => Err(Finding::new(
            Oracle::Result,
            format!("could not list leftovers: {e}"),
        )),
        Ok(Ok(left)) if !left.is_empty() => Err(Finding::new(
            Oracle::Result,
            format!("completed but left files behind: {}", left.join(", ")),
        )),
        Ok(Ok(_)) => Ok(()),
    }
}

/// The half of the result oracle that depends on the crash: the resumed
/// run started (`resumed_from`) where `inspect` said recovery would (if the
/// workload reports where it resumed), within the redo bound of what the
/// crash forgot. A job recovery found completed resumes nowhere and redoes
/// nothing. `checks` are the workload's (asked once by the caller).
pub(crate) fn check_resume(
    workload: &dyn Workload,
    checks: &Checks,
    last_crash: LastCrash,
    resumed_from: Option<u64>,
) -> Result<(), Finding> {
    if last_crash.completed {
        return Ok(());
    }
    // `inspect` must tell the truth about recovery, or the state oracle
    // checked a different checkpoint than the one actually resumed.
    let (said, did) = (last_crash.recovered.unwrap_or(0), resumed_from.unwrap_or(0));
    if checks.resume_cursor && said != did {
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
        resumed_from.unwrap_or(0),
        "the resumed run started",
    )
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
