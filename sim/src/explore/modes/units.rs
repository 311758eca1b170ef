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
/// through ([`check_group`] with a group of one).
pub(crate) fn check_units<U, W>(
    engine: &Engine<'_>,
    (pass, model, clean): (&Pass, CrashModel, &CleanRun),
    tally: Tally,
    (units, total): (&mut dyn Iterator<Item = U>, u64),
    observer: &mut dyn FnMut(Event<'_>),
    weight: impl Fn(&U) -> usize,
    work: W,
) -> Result<Report, HarnessError>
where
    U: Send,
    W: Fn(U) -> Result<Records, HarnessError> + Sync,
{
    let mut reports = check_group(
        engine,
        (std::slice::from_ref(pass), &[model], clean),
        vec![tally],
        (units, total),
        observer,
        weight,
        |unit| work(unit).map(|records| vec![records]),
    )?;
    reports.pop().ok_or_else(|| HarnessError::ExplorerBug {
        what: "a pass of one model made no report".to_string(),
    })
}

/// [`check_units`] for a group of passes that check the same units under
/// different models (`passes[i]` under `models[i]` into `tallies[i]`; the
/// exhaustive passes of a plan, which share one twin run): `work` returns
/// each pass's records of a unit, in the group's order, and each tally
/// gets its own, in unit order, so every pass's report is the one it
/// would make alone. Progress is told for the group under its first pass
/// (states: the group's).
pub(crate) fn check_group<U, W>(
    engine: &Engine<'_>,
    (passes, models, clean): (&[Pass], &[CrashModel], &CleanRun),
    mut tallies: Vec<Tally>,
    (units, total): (&mut dyn Iterator<Item = U>, u64),
    observer: &mut dyn FnMut(Event<'_>),
    weight: impl Fn(&U) -> usize,
    work: W,
) -> Result<Vec<Report>, HarnessError>
where
    U: Send,
    W: Fn(U) -> Result<Vec<Records>, HarnessError> + Sync,
{
    // A group without a pass would check nothing and report nothing.
    let Some(told_as) = passes.first() else {
        return Err(HarnessError::EmptyPlan {
            workload: engine.workload().name(),
            missing: "crash model",
        });
    };
    let states = |tallies: &[Tally]| tallies.iter().map(|t| t.report.states_checked).sum();
    observer(Event::Checking {
        pass: told_as,
        done: 0,
        total,
        states: 0,
    });
    let mut done = 0;
    let checked = engine.for_each_unit((units, total), weight, work, |records| {
        // The caller's cancel flag, between units: stop, report so far.
        // Checked before folding: a unit that finished after the flag was
        // set may have been overtaken by the interruption (a program on a
        // mount is killed by it), so what it found is not counted.
        if engine.options().cancel.is_set() {
            return Err(HarnessError::Interrupted);
        }
        engine.check_harness()?;
        // One list of records per pass: a unit that made another number
        // would give its records to the wrong pass.
        if records.len() != tallies.len() {
            return Err(HarnessError::ExplorerBug {
                what: format!(
                    "a unit gave records for {} passes to a group of {}",
                    records.len(),
                    tallies.len()
                ),
            });
        }
        for (tally, records) in tallies.iter_mut().zip(records) {
            for record in records {
                tally.record(record)?;
            }
        }
        done += 1;
        if tells_progress(done, total) {
            observer(Event::Checking {
                pass: told_as,
                done,
                total,
                states: states(&tallies),
            });
        }
        Ok(())
    });
    let interrupted = |tallies: Vec<Tally>| -> Vec<Report> {
        tallies.into_iter().map(Tally::finish_interrupted).collect()
    };
    match checked {
        Err(HarnessError::Interrupted) => return Ok(interrupted(tallies)),
        other => other?,
    }
    // Set after the last unit, or while the units ran out early (a twin
    // run or program stopped by the interruption): not a whole pass.
    if engine.options().cancel.is_set() {
        return Ok(interrupted(tallies));
    }
    let mut reports = Vec::with_capacity(tallies.len());
    for (mut tally, model) in tallies.into_iter().zip(models) {
        if engine.options().shard.is_last() {
            determinism::check_pass(engine, clean, *model, &mut tally)?;
        }
        reports.push(tally.finish()?);
    }
    Ok(reports)
}

/// Units told one by one at the start of a pass.
const PROGRESS_FIRST_UNITS: u64 = 16;

/// About how many progress events a pass tells past its first units.
const PROGRESS_EVENTS: u64 = 256;

/// Whether the progress after `done` of `total` units is told: each of the
/// first [`PROGRESS_FIRST_UNITS`], then about [`PROGRESS_EVENTS`] times per
/// pass, and the last. Each event is a round trip to the observer's thread
/// (`Explorer::observed`), which on a long run cost more than the units
/// (a fifth of a 16,000-item exploration went to waking threads). Counts
/// only, no clock: the same events for any thread count.
fn tells_progress(done: u64, total: u64) -> bool {
    done <= PROGRESS_FIRST_UNITS
        || done >= total
        || done.is_multiple_of((total / PROGRESS_EVENTS).max(1))
}

#[cfg(test)]
mod tests {
    use super::tells_progress;

    #[test]
    fn progress_is_told_for_the_first_units_the_last_and_a_bounded_number_between() {
        let total = 100_000;
        let told: Vec<u64> = (1..=total).filter(|&d| tells_progress(d, total)).collect();
        assert_eq!(&told[..16], &(1..=16).collect::<Vec<_>>()[..]);
        assert_eq!(told.last(), Some(&total));
        assert!(told.len() <= 16 + 256 + 1, "{}", told.len());
        // A short pass tells every unit.
        assert!((1..=200).all(|d| tells_progress(d, 200)));
    }
}
