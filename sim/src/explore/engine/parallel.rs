//! Checking a pass's units (crash points, first crashes, failed syncs) on
//! every core, with a report that does not depend on how many, in memory
//! that does not grow with the run or the threads.
//!
//! Each unit's work is a pure function of the clean run and the unit, and
//! returns the records the tally needs
//! ([`crate::explore::report::tally::Records`]), in the unit's own order. The
//! calling thread takes units from their source as threads need them,
//! hands them out in batches of about [`BATCH_WEIGHT`] states, in unit
//! order, at most [`IN_FLIGHT_PER_THREAD`] batches per thread at a time,
//! and adds the batches' records to the tally in unit order as they come
//! back (a batch that finishes early waits for the ones before it). So
//! groups, counts, first violations and their confirmation replays come
//! out the same for one thread or many, and what is held at once is a few
//! batches per thread, not the pass. The threads share nothing but the
//! dedup cache (`dedup.rs`), whose entries are pure functions of their
//! keys.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;

use super::start::Engine;
use crate::explore::vocabulary::error::HarnessError;

/// About how many states of work a batch holds: enough that handing it
/// out costs little next to checking it, few enough that the threads
/// share the end of a pass evenly.
pub(crate) const BATCH_WEIGHT: usize = 64;

/// Batches handed out and not yet folded, per thread: one being checked,
/// one waiting, so a thread never idles while the calling thread folds.
pub(crate) const IN_FLIGHT_PER_THREAD: usize = 2;

/// What a batch sends back: each unit's records, in order, or the first
/// error (the units after it are not checked).
type Done<R> = Result<Vec<R>, HarnessError>;

impl Engine<'_> {
    /// Runs `work` on every unit of `units` on
    /// [`crate::explore::ExploreOptions::jobs`] threads (batched by
    /// `weight`, about the states a unit holds) and hands each unit's
    /// records (`R`: one pass's `Records`, or one per pass of a group)
    /// to `done` on the calling thread, in unit order. Stops early
    /// (after the batches already running) at the first error of `work` or
    /// `done` in unit order, and returns it. With one thread, each unit is
    /// taken, checked and folded on the calling thread in turn.
    pub(crate) fn for_each_unit<U, R, W, D>(
        &self,
        units: &mut dyn Iterator<Item = U>,
        weight: impl Fn(&U) -> usize,
        work: W,
        mut done: D,
    ) -> Result<(), HarnessError>
    where
        U: Send,
        R: Send,
        W: Fn(U) -> Result<R, HarnessError> + Sync,
        D: FnMut(R) -> Result<(), HarnessError>,
    {
        let Some(pool) = self.pool()? else {
            for unit in units {
                done(work(unit)?)?;
            }
            return Ok(());
        };
        let in_flight_max = IN_FLIGHT_PER_THREAD * pool.current_num_threads();
        let stop = AtomicBool::new(false);
        let (sender, receiver) = mpsc::channel::<(usize, Done<R>)>();
        pool.in_place_scope(|scope| {
            let (work, stop) = (&work, &stop);
            let mut handed_out = 0usize;
            let mut in_flight = 0usize;
            let mut waiting: BTreeMap<usize, Done<R>> = BTreeMap::new();
            let mut next = 0usize;
            let mut outcome = Ok(());
            let mut units = units.peekable();
            loop {
                while outcome.is_ok() && in_flight < in_flight_max && units.peek().is_some() {
                    let mut batch = Vec::new();
                    let mut held = 0;
                    while held < BATCH_WEIGHT
                        && let Some(unit) = units.next()
                    {
                        held += weight(&unit).max(1);
                        batch.push(unit);
                    }
                    let (index, sender) = (handed_out, sender.clone());
                    handed_out += 1;
                    in_flight += 1;
                    scope.spawn(move |_| {
                        let mut records = Vec::with_capacity(batch.len());
                        let mut result = Ok(());
                        for unit in batch {
                            // Past an error, nothing more is folded.
                            if stop.load(Ordering::Relaxed) {
                                break;
                            }
                            match work(unit) {
                                Ok(r) => records.push(r),
                                Err(e) => {
                                    result = Err(e);
                                    break;
                                }
                            }
                        }
                        // The receiver is gone only once the caller stopped.
                        let _ = sender.send((index, result.map(|()| records)));
                    });
                }
                if in_flight == 0 {
                    return outcome;
                }
                // A sender is held here, so this waits for a batch.
                let Ok((index, records)) = receiver.recv() else {
                    return outcome;
                };
                in_flight -= 1;
                waiting.insert(index, records);
                while let Some(batch) = waiting.remove(&next) {
                    next += 1;
                    if outcome.is_err() {
                        continue;
                    }
                    outcome = batch.and_then(|units| units.into_iter().try_for_each(&mut done));
                    if outcome.is_err() {
                        stop.store(true, Ordering::Relaxed);
                    }
                }
            }
        })
    }
}
