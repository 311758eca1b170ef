//! What a run ends with.

use crate::store::SkippedGeneration;

/// Where a run resumed from: a durable checkpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ResumePoint {
    /// The checkpoint's generation.
    pub generation: u64,
    /// Its cursor: the first item this run processed.
    pub cursor: u64,
}

/// How [`crate::Runner::run`] ended (errors aside).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome<O> {
    /// Every item was processed, the final checkpoint is durable and
    /// `finalize` returned `output`.
    Completed {
        /// What [`crate::Job::finalize`] returned.
        output: O,
        /// The checkpoint this run resumed from; `None` for a fresh start.
        resumed_from: Option<ResumePoint>,
        /// Items this run processed (`item_count - cursor` it started at).
        items_processed: u64,
        /// An upper bound on the items this run processed that a crashed
        /// predecessor had already processed. A runner cannot know what a
        /// dead process did after its last durable checkpoint; it knows the
        /// predecessor got at most K items past each checkpoint (2K with
        /// [`crate::CommitMode::Background`]: the checkpoint in flight may
        /// be lost with the batch after it), so the bound is
        /// `min(items_processed, K * damaged generations skipped + R)` with
        /// R = [`crate::RunnerConfig::redo_items_max`] (K or 2K). The
        /// predecessor is assumed to have run in this run's commit mode.
        /// It is not a count: a predecessor that yielded or failed cleanly
        /// redid nothing.
        redone_at_most: u64,
        /// Generation files newer than `resumed_from` that recovery passed
        /// over, newest first: damaged ones, and other jobs' files (left in
        /// place). Empty for a fresh start or a clean resume.
        skipped: Vec<SkippedGeneration>,
    },
    /// A yield was requested (signal or sentinel file); everything up to
    /// `cursor` is durable in generation `generation`. Run again to resume.
    Yielded {
        /// Items fully processed and durable.
        cursor: u64,
        /// The generation holding them.
        generation: u64,
        /// The checkpoint this run resumed from; `None` for a fresh start.
        resumed_from: Option<ResumePoint>,
        /// Items this run processed.
        items_processed: u64,
        /// As in [`Outcome::Completed`]: what recovery passed over.
        skipped: Vec<SkippedGeneration>,
    },
}
