//! Exhaustive single-crash exploration: every step of one clean run as the
//! crash point, times every post-crash state the model allows.

use crashproof_fault::{CrashModel, KillSchedule};

use super::units::check_units;
use crate::explore::engine::dedup::{Checker, CrashedRun};
use crate::explore::engine::points::PointStates;
use crate::explore::engine::start::Engine;
use crate::explore::report::event::Event;
use crate::explore::report::summary::Report;
use crate::explore::report::tally::Record;
use crate::explore::vocabulary::error::HarnessError;
use crate::explore::vocabulary::plan::Pass;

/// Every single crash of one clean run under `model`
/// ([`crate::explore::Explorer::explore_exhaustive`]), telling `observer`
/// how far it got.
pub(crate) fn explore(
    engine: &Engine<'_>,
    model: CrashModel,
    observer: &mut dyn FnMut(Event<'_>),
) -> Result<Report, HarnessError> {
    let pass = Pass::Exhaustive(model);
    let (clean, clean_case, mut points) = engine.collect(model, 0, engine.options().dedup)?;
    let range = engine.options().shard.range(points.len());
    let points: Vec<PointStates> = points.drain(range).collect();
    let mut tally = engine.tally(&clean, pass.clone());
    tally.shard(points.len(), points.first().map(|p| p.step));
    let checker = Checker::new(engine, &clean);
    let run = CrashedRun::new(&clean_case.history);
    check_units(
        engine,
        (&pass, model, &clean),
        tally,
        points,
        observer,
        |point| {
            let mut records = vec![Record::Point(point.summary())];
            for (selector, image) in point.states {
                let checked = checker.check(&run, point.step, image)?;
                records.push(Record::Case {
                    digests: checked.digests,
                    work: checked.work,
                    found: checked
                        .finding
                        .map(|f| (f, KillSchedule::at_step(point.step, model, selector))),
                });
            }
            Ok(records)
        },
    )
}
