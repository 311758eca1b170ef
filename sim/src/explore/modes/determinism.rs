//! Determinism checked, not hoped: run a case twice and compare.

use crashproof_fault::{CrashModel, Fault, KillSchedule, StateSelector};

use crate::explore::engine::clean::CleanRun;
use crate::explore::engine::schedule::CaseOutcome;
use crate::explore::engine::start::Engine;
use crate::explore::report::tally::Tally;
use crate::explore::report::violation::{Finding, Oracle, Violation};
use crate::explore::vocabulary::error::HarnessError;
use crate::explore::vocabulary::plan::Pass;

/// Cases a pass samples for its determinism check.
const SAMPLED_CASES: u64 = 8;

/// Runs `schedule` twice and compares the two traces, outputs and verdicts
/// ([`crate::explore::Explorer::check_determinism`]).
pub(crate) fn check_case(
    engine: &Engine<'_>,
    clean: &CleanRun,
    schedule: &KillSchedule,
) -> Result<Option<Violation>, HarnessError> {
    let first = engine.run_case(clean, schedule)?;
    let second = engine.run_case(clean, schedule)?;
    let (a, b) = (first.trace.to_string(), second.trace.to_string());
    let verdict = |o: &CaseOutcome| o.violation.as_ref().map(|v| v.summary());
    let difference = if a != b {
        let (line, (x, y)) = a
            .lines()
            .chain(std::iter::repeat(""))
            .zip(b.lines().chain(std::iter::repeat("")))
            .enumerate()
            .find(|(_, (x, y))| x != y)
            .unwrap_or((0, ("", "")));
        Some(format!(
            "traces differ at line {}: `{}` then `{}`",
            line + 1,
            x.trim(),
            y.trim()
        ))
    } else if first.output != second.output {
        Some(format!(
            "outputs differ: {:?} then {:?}",
            first.output, second.output
        ))
    } else if verdict(&first) != verdict(&second) {
        Some(format!(
            "verdicts differ: {:?} then {:?}",
            verdict(&first),
            verdict(&second)
        ))
    } else {
        None
    };
    Ok(difference.map(|d| {
        let finding = Finding::new(
            Oracle::NonDeterminism,
            format!("two runs of the same case differ: {d}"),
        );
        engine.violation(
            finding,
            schedule,
            second.trace,
            second.steps_before_first_crash,
        )
    }))
}

/// With `check_determinism`, for a non-random pass: the clean run twice,
/// and [`SAMPLED_CASES`] cases spread over the run (single crashes; for
/// the sync-EIO pass, each after a failed sync), each run twice and
/// compared. Differences are violations of the pass; a note says what
/// was checked.
pub(crate) fn check_pass(
    engine: &Engine<'_>,
    clean: &CleanRun,
    model: CrashModel,
    tally: &mut Tally<'_>,
) -> Result<(), HarnessError> {
    if !engine.options().check_determinism {
        return Ok(());
    }
    let syncs = clean.sync_steps();
    let samples: Vec<KillSchedule> = (0..SAMPLED_CASES)
        .map(|k| match tally.report.pass {
            Pass::SyncEio(_) if !syncs.is_empty() => {
                let eio = syncs[(syncs.len() as u64 * k / SAMPLED_CASES) as usize];
                let mut s = KillSchedule::at_step(eio + 1, model, StateSelector::Seed(k));
                s.faults.push(Fault::SyncEio(eio));
                s
            }
            _ => KillSchedule::at_step(
                clean.steps * k / SAMPLED_CASES,
                model,
                StateSelector::Seed(k),
            ),
        })
        .collect();
    let mut differing = Vec::new();
    // The pass's own clean run keeps no trace: compare two traced ones,
    // and their output with the pass's.
    let once = engine.clean_run()?;
    let again = engine.clean_run()?;
    if again.trace.to_string() != once.trace.to_string()
        || again.output != once.output
        || again.output != clean.output
    {
        // The case to replay: a crash after the clean run's last step.
        let schedule = KillSchedule::at_step(clean.steps, model, StateSelector::Index(0));
        let finding = Finding::new(
            Oracle::NonDeterminism,
            "two clean runs differ (trace or output)",
        );
        differing.push(engine.violation(finding, &schedule, again.trace, None));
    }
    for schedule in &samples {
        if let Some(v) = check_case(engine, clean, schedule)? {
            differing.push(v);
        }
    }
    tally.note(format!(
        "{}: determinism checked: the clean run and {SAMPLED_CASES} sampled cases each ran \
         twice, {} differed",
        tally.report.pass,
        differing.len()
    ));
    for v in differing {
        tally.violation(v);
    }
    Ok(())
}
