//! The sync-EIO sweep: every `sync` of the clean run fails with EIO in turn
//! (Linux semantics: the dirty data is dropped from the log, a retried
//! sync returns `Ok`, a crash loses it), then the run crashes at every
//! later step. Finds programs that believe a retried fsync (fsyncgate).

use std::collections::BTreeSet;

use crashproof_fault::{CrashAt, CrashModel, CrashPoint, Fault, KillSchedule};

use super::units::check_units;
use crate::FaultConfig;
use crate::explore::engine::case::Case;
use crate::explore::engine::dedup::{Checker, CrashedRun};
use crate::explore::engine::parallel::BATCH_WEIGHT;
use crate::explore::engine::start::Engine;
use crate::explore::report::event::Event;
use crate::explore::report::summary::{Report, Work};
use crate::explore::report::tally::{Digests, Record, Records};
use crate::explore::vocabulary::error::HarnessError;
use crate::explore::vocabulary::plan::Pass;

/// Every sync of the clean run failing with EIO in turn, then a crash at
/// every later step ([`crate::explore::Explorer::explore_sync_eio`]),
/// telling `observer` how far it got (in failed syncs).
pub(crate) fn explore(
    engine: &Engine<'_>,
    model: CrashModel,
    observer: &mut dyn FnMut(Event<'_>),
) -> Result<Report, HarnessError> {
    let pass = Pass::SyncEio(model);
    // The clean run, recording where it converges; no states collected.
    let (clean, _) = engine.pass_clean_run()?;
    let mut syncs = clean.sync_steps();
    let range = engine.options().shard.range(syncs.len());
    let syncs: Vec<u64> = syncs.drain(range).collect();
    let total = syncs.len() as u64;
    let mut tally = engine.tally(&clean, pass.clone());
    // Every group's key names its failed sync (`eio:E`), so no group
    // continues into another shard.
    tally.shard(syncs.len(), None);
    let checker = Checker::new(engine, &clean);
    check_units(
        engine,
        (&pass, model, &clean),
        tally,
        (&mut syncs.into_iter(), total),
        observer,
        // A whole faulted run with a crash at every later step.
        |_| BATCH_WEIGHT,
        |eio| {
            let mut records = Records::default();
            let fault = Fault::SyncEio(eio);
            let faults = FaultConfig {
                sync_eio_at_steps: BTreeSet::from([eio]),
                ..FaultConfig::default()
            };
            let (fs, progress) = engine.start(faults)?;
            let mut faulted = Case::start(fs, progress, false);
            let (end, points) = faulted.run_collecting(engine, model, eio + 1);
            let runs_before = faulted.history.runs;
            {
                let run = CrashedRun::new(&faulted.history);
                for point in points {
                    records.push(Record::Point(point.summary()));
                    let step = point.step;
                    for (selector, image) in point.into_states() {
                        let checked = checker.check(&run, step, image)?;
                        let schedule = || KillSchedule {
                            points: vec![CrashPoint {
                                at: CrashAt::Step(step),
                                model,
                                state: selector,
                            }],
                            faults: vec![fault],
                        };
                        records.push(Record::Case {
                            digests: checked.digests,
                            work: checked.work,
                            found: checked.finding.map(|f| (f, schedule())),
                        });
                    }
                }
            }
            let (ended, finding) =
                faulted
                    .conclude(engine, &clean, end)
                    .finish(engine, &clean, &[])?;
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
                        faults: vec![fault],
                    };
                    (f, schedule)
                }),
            });
            Ok(records)
        },
    )
}
