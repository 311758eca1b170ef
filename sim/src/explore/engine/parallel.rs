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
//! back (a batch that finishes early waits for the ones before it),
//! handing out the batches that replace them first. So
//! groups, counts, first violations and their confirmation replays come
//! out the same for one thread or many, and what is held at once is a few
//! batches per thread, not the pass. The threads share nothing but the
//! dedup cache (`dedup.rs`), whose entries are pure functions of their
//! keys.

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;

use super::run_end::panic_message;
use super::start::Engine;
use crate::explore::vocabulary::error::HarnessError;

/// About how many states of work a batch of a large pass holds (and what
/// a unit that should fill a batch on its own weighs): enough that handing
/// it out costs little next to checking it, and that two threads seldom
/// check the same disk at once. Neighbouring crash points leave the same
/// disks (a commit spans a dozen steps), and a thread that meets a disk
/// another is checking waits for that check (`dedup.rs`): with batches of
/// 64 states, the two threads of an all-models exploration of 16,000 items
/// waited so about 200 times, 50-60 ms of their 2 x 120 ms (perf's
/// scheduler events); with 256, about 30 times, 15-20 ms.
pub(crate) const BATCH_WEIGHT: usize = 256;

/// About how many states a batch of a small pass holds: few enough that
/// the threads share the pass evenly. A pass of costly states (a program
/// run on a mount for each, tens of ms) is small: `explore-cmd` of
/// `examples/programs/progress.py` (48 crash points, 302 states) took
/// 11 s at `--jobs 2` with batches of 64 states, 15-17 s with 256 (one
/// or two batches) and 14-16 s with one crash point per batch (the two
/// threads then check neighbouring points, and wait on each other's
/// disks).
pub(crate) const BATCH_WEIGHT_SMALL: usize = 64;

/// The states per batch of a pass of `total` units: [`BATCH_WEIGHT_SMALL`]
/// up to 1,024 units, growing with the pass to [`BATCH_WEIGHT`] from
/// 4,096 units on (one sixteenth of the units, in states).
pub(crate) fn batch_weight(total: u64) -> usize {
    let grown = usize::try_from(total / 16).unwrap_or(usize::MAX);
    grown.clamp(BATCH_WEIGHT_SMALL, BATCH_WEIGHT)
}

/// Batches handed out and not yet folded, per thread: one being checked,
/// one waiting, so a thread never idles while the calling thread folds.
pub(crate) const IN_FLIGHT_PER_THREAD: usize = 2;

/// What a batch sends back: the records of each unit it checked, in
/// order, and how it ended: the error of the unit after them, if one
/// failed (the units after that are not checked).
type Done<R> = (Vec<R>, Result<(), HarnessError>);

impl Engine<'_> {
    /// Runs `work` on every unit of `units` (`total` of them, as the pass
    /// counts them) on [`crate::explore::ExploreOptions::jobs`] threads
    /// (batched by `weight`, about the states a unit holds, into batches
    /// of [`batch_weight`]) and hands each unit's
    /// records (`R`: one pass's `Records`, or one per pass of a group)
    /// to `done` on the calling thread, in unit order. Stops early
    /// (after the batches already running) at the first error of `work` or
    /// `done` in unit order, and returns it. With one thread, each unit is
    /// taken, checked and folded on the calling thread in turn.
    pub(crate) fn for_each_unit<U, R, W, D>(
        &self,
        (units, total): (&mut dyn Iterator<Item = U>, u64),
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
        let weight_max = batch_weight(total);
        let stop = AtomicBool::new(false);
        let (sender, receiver) = mpsc::channel::<(usize, Done<R>)>();
        pool.in_place_scope(|scope| {
            let (work, stop) = (&work, &stop);
            let mut units = units.peekable();
            let mut handed_out = 0usize;
            // Hands out batches until `in_flight_max` are out or the units
            // run out; the number handed out.
            let mut hand_out = |in_flight: usize| {
                let mut more = 0;
                while in_flight + more < in_flight_max && units.peek().is_some() {
                    let mut batch = Vec::new();
                    let mut held = 0;
                    while held < weight_max
                        && let Some(unit) = units.next()
                    {
                        held += weight(&unit).max(1);
                        batch.push(unit);
                    }
                    let (index, sender) = (handed_out, sender.clone());
                    handed_out += 1;
                    more += 1;
                    scope.spawn(move |_| {
                        // A panic (an explorer bug: a workload's own are
                        // caught where it runs) becomes the batch's error:
                        // uncaught, the batch would never send, and the
                        // calling thread would wait for it for ever.
                        let mut records = Vec::with_capacity(batch.len());
                        let ended = catch_unwind(AssertUnwindSafe(|| {
                            for unit in batch {
                                // Past an error, nothing more is folded.
                                if stop.load(Ordering::Relaxed) {
                                    break;
                                }
                                records.push(work(unit)?);
                            }
                            Ok(())
                        }))
                        .unwrap_or_else(|payload| {
                            Err(HarnessError::ExplorerBug {
                                what: format!(
                                    "checking a batch of units panicked: {}",
                                    panic_message(payload.as_ref())
                                ),
                            })
                        });
                        // The receiver is gone only once the caller stopped.
                        let _ = sender.send((index, (records, ended)));
                    });
                }
                more
            };
            let mut waiting: BTreeMap<usize, Done<R>> = BTreeMap::new();
            let mut next = 0usize;
            let mut outcome = Ok(());
            let mut in_flight = hand_out(0);
            while in_flight > 0 {
                // A sender is held here, so this waits for a batch.
                let Ok((index, records)) = receiver.recv() else {
                    break;
                };
                waiting.insert(index, records);
                in_flight -= 1;
                while let Ok((index, records)) = receiver.try_recv() {
                    waiting.insert(index, records);
                    in_flight -= 1;
                }
                // The batches that replace them go out before the fold,
                // which may wait on the observer's thread: the threads
                // should not wait with it. Past an error, none does.
                if outcome.is_ok() {
                    in_flight += hand_out(in_flight);
                }
                while let Some((records, ended)) = waiting.remove(&next) {
                    next += 1;
                    if outcome.is_err() {
                        continue;
                    }
                    // The units before a failed one are folded first, as
                    // with one thread: their own fold may fail earlier.
                    outcome = records.into_iter().try_for_each(&mut done).and(ended);
                    if outcome.is_err() {
                        stop.store(true, Ordering::Relaxed);
                    }
                }
            }
            outcome
        })
    }
}

#[cfg(test)]
mod tests {
    use crashproof_core::fs::Fs;

    use super::{BATCH_WEIGHT, BATCH_WEIGHT_SMALL, batch_weight};
    use crate::explore::engine::start::Engine;
    use crate::explore::vocabulary::error::HarnessError;
    use crate::explore::vocabulary::options::ExploreOptions;
    use crate::explore::vocabulary::workload::{
        Completion, Progress, Recovered, Workload, WorkloadError,
    };

    /// A workload `for_each_unit` never runs: the units here are numbers.
    struct Idle;

    impl Workload for Idle {
        fn name(&self) -> String {
            "idle".to_string()
        }
        fn run(&self, _: &dyn Fs, _: &mut Progress) -> Result<Completion, WorkloadError> {
            Err(WorkloadError::Invariant("never run".to_string()))
        }
        fn inspect(&self, _: &dyn Fs) -> Result<Recovered, WorkloadError> {
            Err(WorkloadError::Invariant("never run".to_string()))
        }
        fn redo_bound(&self) -> u64 {
            0
        }
        fn leftovers(&self, _: &dyn Fs) -> Result<Vec<String>, WorkloadError> {
            Ok(Vec::new())
        }
    }

    /// Runs `work` on units 0..count with `jobs` threads, and returns what
    /// `done` was given, in order, and the outcome.
    fn fold(
        jobs: usize,
        count: u64,
        work: impl Fn(u64) -> Result<u64, HarnessError> + Sync,
    ) -> (Vec<u64>, Result<(), HarnessError>) {
        let workload = Idle;
        let engine = Engine::new(
            &workload,
            ExploreOptions {
                jobs,
                ..ExploreOptions::default()
            },
        );
        let mut folded = Vec::new();
        let outcome = engine.for_each_unit(
            (&mut (0..count), count),
            |_| 1,
            work,
            |r| {
                folded.push(r);
                Ok(())
            },
        );
        (folded, outcome)
    }

    #[test]
    fn units_are_folded_in_their_order_whatever_the_threads() {
        let count = 20 * BATCH_WEIGHT as u64 + 7;
        let expected: Vec<u64> = (0..count).map(|u| u * 3).collect();
        for jobs in [1, 2, 4] {
            let (folded, outcome) = fold(jobs, count, |u| Ok(u * 3));
            assert!(outcome.is_ok(), "jobs {jobs}: {outcome:?}");
            assert_eq!(folded, expected, "jobs {jobs}");
        }
    }

    #[test]
    fn the_first_error_in_unit_order_stops_the_fold_there() {
        let failing = 5 * BATCH_WEIGHT as u64 + 3;
        for jobs in [1, 2, 4] {
            let (folded, outcome) = fold(jobs, 20 * BATCH_WEIGHT as u64, |u| {
                if u >= failing {
                    Err(HarnessError::ExplorerBug {
                        what: format!("unit {u}"),
                    })
                } else {
                    Ok(u)
                }
            });
            assert_eq!(folded, (0..failing).collect::<Vec<_>>(), "jobs {jobs}");
            match outcome {
                Err(HarnessError::ExplorerBug { what }) => {
                    assert_eq!(what, format!("unit {failing}"), "jobs {jobs}");
                }
                other => panic!("jobs {jobs}: {other:?}"),
            }
        }
    }

    #[test]
    fn a_unit_that_panics_is_an_explorer_bug_not_a_hang() {
        let count = 4 * BATCH_WEIGHT as u64;
        for jobs in [2, 4] {
            let (folded, outcome) = fold(jobs, count, |u| {
                assert!(u != 2 * BATCH_WEIGHT as u64, "planted");
                Ok(u)
            });
            assert!(folded.len() < count as usize, "jobs {jobs}");
            match outcome {
                Err(HarnessError::ExplorerBug { what }) => {
                    assert!(what.contains("panicked: planted"), "{what}");
                }
                other => panic!("jobs {jobs}: {other:?}"),
            }
        }
    }

    #[test]
    fn small_passes_get_small_batches_large_ones_large() {
        assert_eq!(batch_weight(0), BATCH_WEIGHT_SMALL);
        assert_eq!(batch_weight(48), BATCH_WEIGHT_SMALL);
        assert_eq!(batch_weight(1024), BATCH_WEIGHT_SMALL);
        assert_eq!(batch_weight(3531), 220);
        assert_eq!(batch_weight(4096), BATCH_WEIGHT);
        assert_eq!(batch_weight(u64::MAX), BATCH_WEIGHT);
        // Growing, never shrinking, with the pass.
        let weights: Vec<usize> = (0..10_000).step_by(7).map(batch_weight).collect();
        assert!(weights.windows(2).all(|w| w[0] <= w[1]));
    }
}
