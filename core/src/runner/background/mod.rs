//! Background commits: the runner hands each encoded checkpoint to a
//! committer and keeps processing items while it is written.
//!
//! # Contract (with [`crate::CommitMode::Background`])
//!
//! - **At most one commit in flight.** Before handing off the next
//!   checkpoint the runner waits for the previous one to finish, so the
//!   committer never holds two and commits finish in cursor order.
//! - **Acknowledged only once durable.** [`crate::RunObserver::after_commit`]
//!   fires (on the runner's thread) only after the committer reports the
//!   generation durable: its `replace` returned `Ok`, directory fsync
//!   included.
//! - **A yield waits.** After each hand-off the runner checks for a yield
//!   request; if there is one it waits for that commit to be durable before
//!   returning [`crate::Outcome::Yielded`], whose cursor is that commit's.
//! - **An error stops the job.** A commit error is returned by `run` as soon
//!   as the runner sees it (at the next item, hand-off or wait), and nothing
//!   later is handed off or acknowledged.
//! - **Redo bound 2K.** When a crash hits, the newest durable checkpoint may
//!   be K items behind the one in flight, and the runner may be up to K items
//!   past that: at most 2K items (or what 2T of time covers) are redone,
//!   against K with synchronous commits. [`crate::Outcome`]'s
//!   `redone_at_most` says so.
//!
//! # The seam
//!
//! The control loop ([`drive`]) is written once, against two small traits:
//! [`Batches`] (what the runner does: process, encode, acknowledge, look
//! for a yield) and [`Committer`] (hand off, poll, wait). Two committers
//! implement the same contract:
//!
//! - [`ThreadCommitter`] over a [`Handoff`]: the committer runs
//!   [`Handoff::serve`] on another thread (production, and `tests/loom.rs`
//!   with [`crate::seam`]'s loom primitives);
//! - [`Interleaved`]: the commit runs on the calling thread between items,
//!   at points a seeded schedule picks ([`crate::CommitInterleaving`]), so
//!   the crash explorer explores a background-commit runner
//!   deterministically (no thread timing in a simulation).

mod handoff;
mod interleave;
mod planted;
#[cfg(test)]
mod tests;

pub use handoff::{Handoff, ThreadCommitter};
pub use interleave::{CommitInterleaving, Interleaved};
pub use planted::Planted;

/// The committer stopped without reporting the commit it held (its thread
/// ended early, for example by a panic in the filesystem).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "the background committer stopped without reporting its commit; the last acknowledged \
     checkpoint is the resume point, run the job again"
)]
pub struct CommitterGone;

/// A checkpoint the runner acknowledged as durable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Acked {
    /// Its generation.
    pub generation: u64,
    /// Its cursor.
    pub cursor: u64,
}

/// How [`drive`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// Every item was processed and the commit at `cursor` (the item count)
    /// is durable, unless no item was left to process (nothing committed).
    Finished {
        /// The item count.
        cursor: u64,
        /// The last acknowledged checkpoint of this run, if any.
        last: Option<Acked>,
    },
    /// A yield was requested; `acked` (at the cursor reached) is durable.
    Yielded {
        /// The checkpoint the yield waited for.
        acked: Acked,
    },
}

/// The runner's side of the loop: everything [`drive`] does besides
/// talking to the committer. All of it runs on the calling thread.
pub trait Batches {
    /// Why the run stops.
    type Error: From<CommitterGone>;
    /// A checkpoint handed to the committer.
    type Request;
    /// What the committer reports for one request.
    type Done;

    /// Items in the job.
    fn item_count(&self) -> u64;

    /// Processes item `index`.
    fn process(&mut self, index: u64) -> Result<(), Self::Error>;

    /// Called after each item: whether the batch that began at `start` ends
    /// at `cursor` (K items, or T elapsed). `cursor == item_count` always
    /// ends it without asking.
    fn batch_ends(&mut self, start: u64, cursor: u64) -> bool;

    /// The checkpoint of everything before `cursor`, to hand off (the
    /// observer's `before_commit` fires here).
    fn request(&mut self, cursor: u64) -> Result<Self::Request, Self::Error>;

    /// What the committer reported for the commit in flight: its error, or
    /// the checkpoint now durable (the observer's `after_commit` fires here).
    fn acknowledge(&mut self, done: Self::Done) -> Result<Acked, Self::Error>;

    /// Whether a yield is requested, asked after each hand-off.
    fn yield_requested(&mut self) -> bool;
}

/// Where [`drive`] hands checkpoints: at most one at a time.
pub trait Committer<Request, Done> {
    /// Hands off `request`. Called only when nothing is in flight
    /// ([`Committer::wait`] returned since the last hand-off).
    fn submit(&mut self, request: Request) -> Result<(), CommitterGone>;

    /// Without blocking: the in-flight commit's report, if it finished.
    fn poll(&mut self) -> Result<Option<Done>, CommitterGone>;

    /// Blocks until the in-flight commit (if any) finishes and returns its
    /// report; `None` when nothing was in flight.
    fn wait(&mut self) -> Result<Option<Done>, CommitterGone>;
}

/// The background-commit loop from `cursor` to the end (or a yield):
/// process an item, collect a finished commit if there is one; at the end
/// of a batch wait for the commit in flight, hand off the next one and
/// check for a yield; at the end wait for the last commit. See the
/// [module documentation](self) for the contract it keeps.
pub fn drive<B, C>(batches: &mut B, committer: &mut C, cursor: u64) -> Result<Ended, B::Error>
where
    B: Batches,
    C: Committer<B::Request, B::Done> + ?Sized,
{
    drive_planted(batches, committer, cursor, Planted::None)
}

/// [`drive`] with a planted bug (only [`Planted::None`] exists without the
/// `loom` feature): how `tests/loom.rs` shows that each property it checks
/// catches the bug that breaks it.
pub fn drive_planted<B, C>(
    batches: &mut B,
    committer: &mut C,
    cursor: u64,
    planted: Planted,
) -> Result<Ended, B::Error>
where
    B: Batches,
    C: Committer<B::Request, B::Done> + ?Sized,
{
    let item_count = batches.item_count();
    let mut cursor = cursor;
    let mut last: Option<Acked> = None;
    let acknowledge = |batches: &mut B, done: B::Done, last: &mut Option<Acked>| {
        let acked = batches.acknowledge(done)?;
        // Commits finish in cursor order: one in flight at a time.
        debug_assert!(
            last.is_none_or(|l| l.cursor <= acked.cursor && l.generation < acked.generation)
        );
        *last = Some(acked);
        Ok::<Acked, B::Error>(acked)
    };
    while cursor < item_count {
        let start = cursor;
        loop {
            batches.process(cursor)?;
            cursor += 1;
            if let Some(done) = committer.poll()? {
                acknowledge(batches, done, &mut last)?;
            }
            if cursor == item_count || batches.batch_ends(start, cursor) {
                break;
            }
        }
        // Planted: the flag read before the hand-off misses a request made
        // while the previous commit is waited for and this one handed off.
        let asked_early = planted.flag_before_commit() && batches.yield_requested();
        // At most one in flight: the previous checkpoint is durable (or its
        // error is returned) before the next one is handed off.
        if !planted.two_in_flight()
            && let Some(done) = committer.wait()?
        {
            acknowledge(batches, done, &mut last)?;
        }
        let request = batches.request(cursor)?;
        committer.submit(request)?;
        let asked = if planted.flag_before_commit() {
            asked_early
        } else {
            batches.yield_requested()
        };
        if asked {
            // A yield returns only once what it reports is durable.
            let done = committer.wait()?.ok_or(CommitterGone)?;
            let acked = acknowledge(batches, done, &mut last)?;
            debug_assert_eq!(acked.cursor, cursor);
            return Ok(Ended::Yielded { acked });
        }
    }
    if let Some(done) = committer.wait()? {
        acknowledge(batches, done, &mut last)?;
    }
    debug_assert!(last.is_none_or(|l| l.cursor == item_count));
    Ok(Ended::Finished {
        cursor: item_count,
        last,
    })
}
