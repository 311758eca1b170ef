//! The one loop every mode's units (crash points, first crashes, failed
//! syncs) go through: checked on the engine's threads, tallied in unit
//! order, progress told to the observer, then the pass's determinism
//! sample.

use crashproof_fault::CrashModel;

use super::determinism;
use crate::explore::engine::clean::CleanRun;
use crate::explore::engine::start::Engine;
use crate::explore::report::event::Event;
use crate::explore::report::summary::Report;
use crate::explore::report::tally::{Records, Tally};
use crate::explore::vocabulary::error::HarnessError;
use crate::explore::vocabulary::plan::Pass;

/// Checks one pass's `total` `units` with `work` (see
/// `Engine::for_each_unit`; `weight`: about how many states a unit's work
/// checks) into `tally`, telling `observer` how far it got (units done of
/// all, states checked), then checks the pass's determinism on the last
/// shard and returns the pass's report. The one loop every mode's units go
/// through.
pub(crate) fn check_units<U, W>(
    engine: &Engine<'_>,
    (pass, model, clean): (&Pass, CrashModel, &CleanRun),
    mut tally: Tally,
    (units, total): (&mut dyn Iterator<Item = U>, u64),
    observer: &mut dyn FnMut(Event<'_>),
    weight: impl Fn(&U) -> usize,
    work: W,
) -> Result<Report, HarnessError>
where
    U: Send,
    W: Fn(U) -> Result<Records, HarnessError> + Sync,
{
    observer(Event::Checking {
        pass,
        done: 0,
        total,
        states: 0,
    });
    let mut done = 0;
    let checked = engine.for_each_unit(units, weight, work, |records| {
        // The caller's cancel flag, between units: stop, report so far.
        // Checked before folding: a unit that finished after the flag was
        // set may have been overtaken by the interruption (a program on a
        // mount is killed by it), so what it found is not counted.
        if engine.options().cancel.is_set() {
            return Err(HarnessError::Interrupted);
        }
        engine.check_harness()?;
        for record in records {
            tally.record(record)?;
        }
        done += 1;
        observer(Event::Checking {
            pass,
            done,
            total,
            states: tally.report.states_checked,
        });
        Ok(())
    });
    match checked {
        Err(HarnessError::Interrupted) => return Ok(tally.finish_interrupted()),
        other => other?,
    }
    // Set after the last unit, or while the units ran out early (a twin
    // run or program stopped by the interruption): not a whole pass.
    if engine.options().cancel.is_set() {
        return Ok(tally.finish_interrupted());
    }
    if engine.options().shard.is_last() {
        determinism::check_pass(engine, clean, model, &mut tally)?;
    }
    tally.finish()
}
