//! Checking a pass's units (crash points, first crashes, failed syncs) on
//! every core, with a report that does not depend on how many.
//!
//! Each unit's work is a pure function of the clean run and the unit, and
//! returns the [`Record`]s the tally needs, in the unit's own order. The
//! calling thread adds the units' records to the tally in unit order as
//! they become available (a unit that finishes early waits for the ones
//! before it), so groups, counts, first violations and their confirmation
//! replays come out the same for one thread or many. The threads share
//! nothing but the dedup cache (`dedup.rs`), whose entries are pure
//! functions of their keys.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;

use crashproof_fault::CrashModel;
use rayon::prelude::*;

use super::explorer::{CleanRun, Explorer};
use super::report::event::Event;
use super::report::summary::Report;
use super::report::tally::Record;
use super::report::tally::Tally;
use super::vocabulary::error::HarnessError;
use super::vocabulary::plan::Pass;

impl Explorer<'_> {
    /// Checks one pass's `units` with `work` (see
    /// [`Explorer::for_each_unit`]) into `tally`, telling `observer` how far
    /// it got (units done of all, states checked), then checks the pass's
    /// determinism on the last shard and returns the pass's report. The one
    /// loop every mode's units go through.
    pub(crate) fn check_units<U, W>(
        &self,
        (pass, model, clean): (&Pass, CrashModel, &CleanRun),
        mut tally: Tally,
        units: Vec<U>,
        observer: &mut dyn FnMut(Event<'_>),
        work: W,
    ) -> Result<Report, HarnessError>
    where
        U: Send,
        W: Fn(U) -> Result<Vec<Record>, HarnessError> + Sync,
    {
        let total = units.len() as u64;
        observer(Event::Checking {
            pass,
            done: 0,
            total,
            states: 0,
        });
        let mut done = 0;
        self.for_each_unit(units, work, |records| {
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
        })?;
        if self.options().shard.is_last() {
            self.check_pass_determinism(clean, model, &mut tally)?;
        }
        tally.finish()
    }

    /// Runs `work` on every unit of `units` on [`super::ExploreOptions::jobs`]
    /// threads and hands each unit's records to `done` on the calling
    /// thread, in unit order. Stops early (after the units already running)
    /// at the first error of `work` or `done`.
    pub(crate) fn for_each_unit<U, W, D>(
        &self,
        units: Vec<U>,
        work: W,
        mut done: D,
    ) -> Result<(), HarnessError>
    where
        U: Send,
        W: Fn(U) -> Result<Vec<Record>, HarnessError> + Sync,
        D: FnMut(Vec<Record>) -> Result<(), HarnessError>,
    {
        let Some(pool) = self.pool()? else {
            for unit in units {
                done(work(unit)?)?;
            }
            return Ok(());
        };
        let stop = AtomicBool::new(false);
        let (sender, receiver) = mpsc::channel::<(usize, Result<Vec<Record>, HarnessError>)>();
        pool.in_place_scope(|scope| {
            let (work, stop) = (&work, &stop);
            scope.spawn(move |_| {
                units
                    .into_par_iter()
                    .enumerate()
                    .for_each_with(sender, |sender, (index, unit)| {
                        if stop.load(Ordering::Relaxed) {
                            return;
                        }
                        // The receiver is gone only once the caller stopped.
                        let _ = sender.send((index, work(unit)));
                    });
            });
            // The workers' senders close the channel when they are done.
            let mut waiting: BTreeMap<usize, Result<Vec<Record>, HarnessError>> = BTreeMap::new();
            let mut next = 0usize;
            let mut outcome = Ok(());
            for (index, records) in receiver {
                waiting.insert(index, records);
                while let Some(records) = waiting.remove(&next) {
                    next += 1;
                    if outcome.is_ok() {
                        outcome = records.and_then(&mut done);
                        if outcome.is_err() {
                            stop.store(true, Ordering::Relaxed);
                        }
                    }
                }
            }
            outcome
        })
    }
}
