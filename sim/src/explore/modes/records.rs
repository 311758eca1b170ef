//! What the modes tally for a crash point and for the end of a faulted
//! run: shared by the passes that crash a run at every step
//! (`exhaustive.rs`, `sync_eio.rs`, `fault_rules.rs`), so a point's records
//! and its violations' schedules are made one way.

use crashproof_fault::{CrashModel, Fault, KillSchedule};

use crate::explore::engine::case::Case;
use crate::explore::engine::clean::CleanRun;
use crate::explore::engine::dedup::{Checker, CrashedRun};
use crate::explore::engine::points::PointStates;
use crate::explore::engine::run_end::RunEnd;
use crate::explore::engine::start::Engine;
use crate::explore::report::summary::Work;
use crate::explore::report::tally::{Digests, Record, Records};
use crate::explore::vocabulary::error::HarnessError;

/// Checks every state of `point` (a crash of `run` under `model`) and adds
/// its records to `records`: the point, then one case per state, whose
/// violation's schedule is the crash at that step and state with `faults`
/// (the faults the run was under, none for a clean run's point).
pub(crate) fn crash_point(
    checker: &Checker<'_, '_>,
    run: &CrashedRun<'_>,
    point: PointStates,
    (model, faults): (CrashModel, &[Fault]),
    records: &mut Records,
) -> Result<(), HarnessError> {
    let step = point.step;
    records.push(Record::Point(point.summary()));
    for (selector, image) in point.into_states() {
        let checked = checker.check(run, step, image)?;
        records.push(Record::Case {
            digests: checked.digests,
            work: checked.work,
            found: checked.finding.map(|f| {
                let mut schedule = KillSchedule::at_step(step, model, selector);
                schedule.faults = faults.to_vec();
                (f, schedule)
            }),
        });
    }
    Ok(())
}

/// Concludes a faulted run that ended with `end` (it was not crashed: the
/// program's own answer to the faults) and adds its records to `records`:
/// one single-state point per state its runs checked, then the case, whose
/// violation's schedule is `faults` alone.
pub(crate) fn faulted_end(
    (engine, clean): (&Engine<'_>, &CleanRun),
    faulted: Case,
    end: RunEnd,
    faults: Vec<Fault>,
    records: &mut Records,
) -> Result<(), HarnessError> {
    let runs_before = faulted.history.runs;
    let (ended, finding) = faulted
        .conclude(engine, clean, end)
        .finish(engine, clean, &[])?;
    for _ in &ended.history.state_digests {
        records.push(Record::SingleStatePoint);
    }
    records.push(Record::Case {
        digests: Digests::Many(ended.history.state_digests),
        work: Work {
            recoveries: ended.history.runs - runs_before,
            recoveries_converged: 0,
        },
        found: finding.map(|f| {
            let schedule = KillSchedule {
                points: Vec::new(),
                faults,
            };
            (f, schedule)
        }),
    });
    Ok(())
}
