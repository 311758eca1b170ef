//! Exhaustive single-crash exploration: every step of one clean run as the
//! crash point, times every post-crash state the model allows.

use crashproof_fault::CrashModel;

use super::records;
use super::units::check_units;
use crate::explore::engine::clean::CleanRun;
use crate::explore::engine::dedup::{Checker, CrashedRun};
use crate::explore::engine::points::PointStates;
use crate::explore::engine::start::Engine;
use crate::explore::report::event::Event;
use crate::explore::report::summary::Report;
use crate::explore::report::tally::Records;
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
    let pass_clean = engine.pass_clean_run()?;
    let (clean, clean_history) = (&pass_clean.clean, &pass_clean.history);
    // A crash before every step, and one after the last.
    let range = engine.options().shard.range(point_count(clean));
    let mut tally = engine.tally(clean, pass.clone());
    tally.shard(
        range.len(),
        (!range.is_empty()).then_some(range.start as u64),
    );
    let checker = Checker::new(engine, clean);
    let run = CrashedRun::new(clean_history);
    let total = range.len() as u64;
    let range = range.start as u64..range.end as u64;
    let prefetch = engine.options().threads() > 1;
    engine.with_crash_points(clean, model, range, prefetch, |points| {
        check_units(
            engine,
            (&pass, model, clean),
            tally,
            (points, total),
            observer,
            PointStates::len,
            |point| {
                let mut tallied = Records::default();
                records::crash_point(&checker, &run, point, (model, &[]), &mut tallied)?;
                Ok(tallied)
            },
        )
    })
}

/// How many crash points a pass over `clean` has: one before every step,
/// one after the last.
pub(crate) fn point_count(clean: &CleanRun) -> usize {
    usize::try_from(clean.steps).map_or(usize::MAX, |steps| steps.saturating_add(1))
}
