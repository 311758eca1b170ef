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

use rayon::prelude::*;

use super::start::Engine;
use crate::explore::report::tally::Record;
use crate::explore::vocabulary::error::HarnessError;

impl Engine<'_> {
    /// Runs `work` on every unit of `units` on
    /// [`crate::explore::ExploreOptions::jobs`]
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
