//! Exhaustive two-crash exploration: every single crash of the clean run,
//! then every crash of the recovery run from each of those states. Finds
//! bugs that only a crash *during recovery* exposes (cleanup, migration or
//! rewriting done at startup).

use crashproof_fault::{CrashAt, CrashModel, CrashPoint, KillSchedule, StateSelector};

use super::exhaustive::point_count;
use super::units::check_units;
use crate::SimFs;
use crate::explore::engine::case::{Case, History, Next};
use crate::explore::engine::clean::CleanRun;
use crate::explore::engine::dedup::{Checker, CrashedRun};
use crate::explore::engine::parallel::BATCH_WEIGHT;
use crate::explore::engine::points::PointStates;
use crate::explore::engine::start::Engine;
use crate::explore::report::event::Event;
use crate::explore::report::summary::{Report, Work};
use crate::explore::report::tally::{Digests, Record, Records};
use crate::explore::vocabulary::error::HarnessError;
use crate::explore::vocabulary::plan::Pass;

/// Every crash of the clean run under `model` and every crash of each
/// recovery run ([`crate::explore::Explorer::explore_two_crashes`]),
/// telling `observer` how far it got (in first crash points).
pub(crate) fn explore(
    engine: &Engine<'_>,
    model: CrashModel,
    observer: &mut dyn FnMut(Event<'_>),
) -> Result<Report, HarnessError> {
    let pass = Pass::TwoCrashes(model);
    // First crash images keep their own seed: the recovery run's own
    // crash images (garbage bytes, picks) derive from it.
    let pass_clean = engine.pass_clean_run()?;
    let (clean, clean_history) = (&pass_clean.clean, &pass_clean.history);
    let range = engine.options().shard.range(point_count(clean));
    let mut tally = engine.tally(clean, pass.clone());
    tally.shard(
        range.len(),
        (!range.is_empty()).then_some(range.start as u64),
    );
    // One cache for the whole pass: second crashes of different first
    // crashes often leave the same disk.
    let checker = Checker::new(engine, clean);
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
            // Each state is a whole recovery run with its own crash points.
            |first: &PointStates| first.len() * BATCH_WEIGHT,
            |first| {
                let step = first.step;
                let mut records = Records::starting(Record::Point(first.summary()));
                let history = clean_history.at_step(step);
                for (selector, image) in first.into_states() {
                    let crash1 = point(step, model, selector);
                    second_level(
                        engine,
                        clean,
                        &checker,
                        &mut records,
                        history.clone(),
                        (step, crash1),
                        image.into_fs(),
                    )?;
                }
                Ok(records)
            },
        )
    })
}

/// One first-crash state: its state oracle, its recovery run (collecting
/// crash states) and result oracle, then every second crash of it.
fn second_level(
    engine: &Engine<'_>,
    clean: &CleanRun,
    checker: &Checker<'_, '_>,
    records: &mut Records,
    history: History,
    (step1, crash1): (u64, CrashPoint),
    image: SimFs,
) -> Result<(), HarnessError> {
    let runs_before = history.runs;
    let only_first = |finding| (finding, KillSchedule::single(crash1.clone()));
    let mut recovery = match Case::from_crash(engine, clean, history, step1, image, "") {
        Next::Done(case, finding) => {
            records.push(Record::Case {
                digests: Digests::Many(case.history.state_digests),
                work: Work::default(),
                found: finding.map(only_first),
            });
            return Ok(());
        }
        Next::Run(case) => case,
    };
    let (end, points) = recovery.run_collecting(engine, crash1.model, 0);
    let (recovery, finding) = recovery
        .conclude(engine, clean, end)
        .finish(engine, clean, &[])?;
    let failed = finding.is_some();
    records.push(Record::Case {
        digests: Digests::Many(recovery.history.state_digests.clone()),
        work: Work {
            recoveries: recovery.history.runs - runs_before,
            recoveries_converged: 0,
        },
        found: finding.map(only_first),
    });
    if failed {
        return Ok(());
    }
    let run = CrashedRun::new(&recovery.history);
    for second in points {
        records.push(Record::Point(second.summary()));
        let step2 = second.step;
        for (selector, image) in second.into_states() {
            let checked = checker.check(&run, step2, image)?;
            records.push(Record::Case {
                digests: checked.digests,
                work: checked.work,
                found: checked.finding.map(|f| {
                    let schedule = KillSchedule {
                        points: vec![crash1.clone(), point(step2, crash1.model, selector)],
                        faults: Vec::new(),
                    };
                    (f, schedule)
                }),
            });
        }
    }
    Ok(())
}

fn point(step: u64, model: CrashModel, state: StateSelector) -> CrashPoint {
    CrashPoint {
        at: CrashAt::Step(step),
        model,
        state,
    }
}
