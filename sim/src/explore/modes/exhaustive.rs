//! Exhaustive single-crash exploration: every step of one clean run as the
//! crash point, times every post-crash state the model allows.

use crashproof_fault::CrashModel;

use super::records;
use super::units::check_group;
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
    let mut reports = explore_models(engine, &[model], observer)?;
    reports.pop().ok_or_else(|| HarnessError::ExplorerBug {
        what: "an exhaustive pass made no report".to_string(),
    })
}

/// The exhaustive passes of `models` together, one report each, in their
/// order, each the report its pass makes alone: one twin run streams every
/// crash point's states under every model (the run and its snapshots are
/// most of a cheap model's cost, and the threads would otherwise wait on
/// it), and each unit, a crash point, is checked under every model, each
/// model with its own dedup cache and tally. Progress is told under the
/// first pass.
pub(crate) fn explore_models(
    engine: &Engine<'_>,
    models: &[CrashModel],
    observer: &mut dyn FnMut(Event<'_>),
) -> Result<Vec<Report>, HarnessError> {
    let passes: Vec<Pass> = models.iter().map(|m| Pass::Exhaustive(*m)).collect();
    let pass_clean = engine.pass_clean_run()?;
    let (clean, clean_history) = (&pass_clean.clean, &pass_clean.history);
    // A crash before every step, and one after the last.
    let range = engine.options().shard.range(point_count(clean));
    let tallies = passes
        .iter()
        .map(|pass| {
            let mut tally = engine.tally(clean, pass.clone());
            tally.shard(
                range.len(),
                (!range.is_empty()).then_some(range.start as u64),
            );
            tally
        })
        .collect();
    let checkers: Vec<Checker> = models.iter().map(|_| Checker::new(engine, clean)).collect();
    let run = CrashedRun::new(clean_history);
    let total = range.len() as u64;
    let range = range.start as u64..range.end as u64;
    let prefetch = engine.options().threads() > 1;
    engine.with_crash_moments(clean, models, range, prefetch, |moments| {
        check_group(
            engine,
            (&passes, models, clean),
            tallies,
            (moments, total),
            observer,
            |moment| moment.iter().map(PointStates::len).sum(),
            |moment| {
                let mut tallied = Vec::with_capacity(moment.len());
                for ((point, model), checker) in moment.into_iter().zip(models).zip(&checkers) {
                    let mut records = Records::default();
                    records::crash_point(checker, &run, point, (*model, &[]), &mut records)?;
                    tallied.push(records);
                }
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
