//! One replayed schedule as a pass of one case: the report a replay gives
//! (`CRASHPROOF_REPLAY` in a crash test, [`Pass::Replay`] explored), in the
//! same form as an exploration's.

use crashproof_fault::KillSchedule;

use crate::explore::engine::clean::CleanRun;
use crate::explore::engine::schedule::CaseOutcome;
use crate::explore::engine::start::Engine;
use crate::explore::report::summary::Report;
use crate::explore::vocabulary::error::HarnessError;
use crate::explore::vocabulary::plan::Pass;

/// Replays `schedule` (`Engine::replay`: every point must be reached,
/// every index in range) and reports it.
pub(crate) fn explore(
    engine: &Engine<'_>,
    schedule: &KillSchedule,
) -> Result<Report, HarnessError> {
    let (clean, outcome) = engine.replay(schedule)?;
    report(engine, &clean, schedule, &outcome)
}

/// The report of the replayed case `outcome` of `schedule`: each crash a
/// crash point with its one state, the states' digests, the violation in
/// full if an oracle failed.
pub(crate) fn report(
    engine: &Engine<'_>,
    clean: &CleanRun,
    schedule: &KillSchedule,
    outcome: &CaseOutcome,
) -> Result<Report, HarnessError> {
    let mut tally = engine.tally(clean, Pass::replay(schedule));
    for _ in 0..outcome.crashes {
        tally.single_state_point();
    }
    tally.states(&outcome.state_digests);
    if let Some(violation) = &outcome.violation {
        tally.violation(violation.clone());
    }
    tally.finish()
}
