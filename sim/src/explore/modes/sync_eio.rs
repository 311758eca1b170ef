//! The sync-EIO sweep: every `sync` of the clean run fails with EIO in turn
//! (Linux semantics: the dirty data is dropped from the log, a retried
//! sync returns `Ok`, a crash loses it), then the run crashes at every
//! later step. Finds programs that believe a retried fsync (fsyncgate).

use std::collections::BTreeSet;

use crashproof_fault::{CrashModel, Fault};

use super::records;
use super::units::check_units;
use crate::FaultConfig;
use crate::explore::engine::case::Case;
use crate::explore::engine::dedup::{Checker, CrashedRun};
use crate::explore::engine::parallel::BATCH_WEIGHT;
use crate::explore::engine::start::Engine;
use crate::explore::report::event::Event;
use crate::explore::report::summary::Report;
use crate::explore::report::tally::Records;
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
    let pass_clean = engine.pass_clean_run()?;
    let clean = &pass_clean.clean;
    let mut syncs = clean.sync_steps();
    let range = engine.options().shard.range(syncs.len());
    let syncs: Vec<u64> = syncs.drain(range).collect();
    let total = syncs.len() as u64;
    let mut tally = engine.tally(clean, pass.clone());
    // Every group's key names its failed sync (`eio:E`), so no group
    // continues into another shard.
    tally.shard(syncs.len(), None);
    let checker = Checker::new(engine, clean);
    check_units(
        engine,
        (&pass, model, clean),
        tally,
        (&mut syncs.into_iter(), total),
        observer,
        // A whole faulted run with a crash at every later step.
        |_| BATCH_WEIGHT,
        |eio| {
            let mut tallied = Records::default();
            let fault = Fault::SyncEio(eio);
            let faults = FaultConfig {
                sync_eio_at_steps: BTreeSet::from([eio]),
                ..FaultConfig::default()
            };
            let (fs, progress) = engine.start(faults)?;
            let mut faulted = Case::start(fs, progress, false);
            let (end, points) = faulted.run_collecting(engine, model, eio + 1);
            {
                let run = CrashedRun::new(&faulted.history);
                for point in points {
                    records::crash_point(
                        &checker,
                        &run,
                        point,
                        (model, std::slice::from_ref(&fault)),
                        &mut tallied,
                    )?;
                }
            }
            records::faulted_end((engine, clean), faulted, end, vec![fault], &mut tallied)?;
            Ok(tallied)
        },
    )
}
