//! What the explorer drives: a program that checkpoints to an [`Fs`] and can
//! be crashed, resumed and inspected.
//!
//! A [`Workload`] is object safe so catalogues (the core runner, the bug
//! zoo, the seed scenarios) can hold `Box<dyn Workload>`.

use std::collections::BTreeSet;
use std::fmt;
use std::panic::{RefUnwindSafe, UnwindSafe};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crashproof_core::fs::Fs;

use super::checks::Checks;
use super::sandbox::Sandbox;

/// A program under exploration.
///
/// The explorer runs it once on a fresh filesystem holding only what
/// [`Workload::initial_disk`] made durable (the clean run), then
/// crashes it at chosen steps, inspects each post-crash disk state with
/// [`Workload::inspect`], and runs it again from that state with
/// [`Workload::run`] until it completes.
pub trait Workload: Send + Sync {
    /// Short stable name, used in reports and in replay commands.
    fn name(&self) -> String;

    /// Writes the disk an earlier process of this program left behind, for
    /// workloads that model a restart rather than a first start (a progress
    /// file to resume from, an existing checkpoint list). Uses ordinary
    /// [`Fs`] calls and must make everything it writes durable itself
    /// (fsync files and directories): the explorer keeps only the durable
    /// state, so nothing written here is ever a crash point, and the first
    /// run's step 0 is the first step of [`Workload::run`]. Acknowledges in
    /// `progress` every checkpoint the earlier process was told is durable;
    /// the state oracle then holds every later crash state to it. Must be
    /// deterministic. Default: nothing (a fresh, empty disk).
    fn initial_disk(&self, fs: &dyn Fs, progress: &mut Progress) -> Result<(), WorkloadError> {
        let _ = (fs, progress);
        Ok(())
    }

    /// Runs the program from whatever `fs` holds (nothing, or a post-crash
    /// state) to completion. Reports what it attempts and what it was told
    /// is durable through `progress`, so the oracles can check it; it must
    /// not read `progress` back (the run depends on the disk only, which is
    /// what lets the explorer check equal post-crash disks once). It may
    /// declare where it resumed and the points where it converges
    /// ([`Progress::resumed`], [`Progress::converged`]) so resumed runs can
    /// stop early.
    ///
    /// Must return (never panic) on any filesystem error, including the
    /// simulator's `Crashed` error, which it propagates as
    /// [`WorkloadError::Fs`].
    fn run(&self, fs: &dyn Fs, progress: &mut Progress) -> Result<Completion, WorkloadError>;

    /// Looks at a post-crash state exactly the way recovery would choose a
    /// checkpoint, without changing anything: which checkpoint would be
    /// loaded, if any. A typed error is allowed (the state oracle then checks
    /// that no acknowledged progress existed); a panic is a violation.
    fn inspect(&self, fs: &dyn Fs) -> Result<Recovered, WorkloadError>;

    /// The most items a crash may force the program to redo (its K, plus
    /// anything its time-based policy adds). The result oracle checks it.
    fn redo_bound(&self) -> u64;

    /// Files that a completed run left behind and should not have (temp
    /// files, orphans of an interrupted GC). Empty when the run cleaned up.
    fn leftovers(&self, fs: &dyn Fs) -> Result<Vec<String>, WorkloadError>;

    /// Which facts this workload reports and which checks it provides, so
    /// the oracles skip only what it cannot be held to and the report says
    /// what ran (see [`Checks`]). Default: everything reported.
    fn checks(&self) -> Checks {
        Checks::default()
    }

    /// Part of inspection, asked before [`Workload::inspect`]: whether
    /// recovery on this post-crash state finds the job already completed
    /// (its result published, its checkpoint perhaps removed) and, if so,
    /// the output it finds, in the form [`Completion::output`] has. The
    /// state oracle accepts a completed job only with the clean run's
    /// output (then [`Workload::inspect`] is not asked, and the resumed run
    /// must still reproduce that output). Read-only, like `inspect`.
    /// Default: never completed.
    fn completed(&self, fs: &dyn Fs) -> Result<Option<String>, WorkloadError> {
        let _ = fs;
        Ok(None)
    }

    /// An extra check of every post-crash state, given what the program
    /// had reported when it crashed (for example "`state.json` parses and
    /// its counter is not below the last committed value"). `Err` says what
    /// is wrong; the state oracle reports it. Read-only. Default: nothing;
    /// describe what it checks in [`Checks::state_predicate`].
    fn state_predicate(&self, fs: &dyn Fs, progress: &Progress) -> Result<(), String> {
        let _ = (fs, progress);
        Ok(())
    }

    /// What this workload's runs may do on the real disk. Default:
    /// [`Sandbox::NoRealWrites`]: every run (clean, crashed, resumed,
    /// inspection) runs on a thread that cannot create, write, truncate,
    /// rename or remove a real file, so a call that bypasses the `Fs` it is
    /// given fails with `EACCES` and the explorer reports it (with its path)
    /// instead of trusting a run that never went through the simulator.
    /// Declare [`Sandbox::WritableBeneath`] for a mount whose writes reach
    /// the simulator, [`Sandbox::Unrestricted`] only for what cannot be
    /// confined (the report then says bypass detection is off, and why).
    fn sandbox(&self) -> Sandbox {
        Sandbox::default()
    }
}

/// What a completed run reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    /// The job's result in a canonical printable form; the result oracle
    /// compares it with the clean run's byte for byte.
    pub output: String,
    /// The cursor the run resumed from (`None` for a fresh start).
    pub resumed_from: Option<u64>,
}

/// The checkpoint recovery would load from a disk state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Recovered {
    /// The checkpoint recovery would resume from, or `None` to start over.
    pub checkpoint: Option<CheckpointId>,
}

/// Identifies a checkpoint's content: the cursor it resumes at and a digest
/// of the state it carries, so a torn or stale file that still parses is
/// told apart from what the program actually committed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CheckpointId {
    /// Items fully processed: resume at this index.
    pub cursor: u64,
    /// A digest of the checkpointed state (any stable 64-bit hash).
    pub state_digest: u64,
}

/// The record a running workload keeps for the oracles. One `Progress` spans
/// every run of one case (clean, crashed, resumed), so it accumulates.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Progress {
    attempted: BTreeSet<CheckpointId>,
    acknowledged: Option<CheckpointId>,
    processed_max: Option<u64>,
    journal: Option<Journal>,
    /// Where the explorer listens for [`Progress::resumed`] and
    /// [`Progress::converged`]; not part of the record (never journaled,
    /// dropped by [`Progress::as_of`]).
    watch: Option<Watch>,
}

/// What listens to a run's [`Progress::resumed`] and
/// [`Progress::converged`]: the engine's convergence watch
/// (`engine/converge.rs`). Declared here, as the one thing the record
/// calls, so the vocabulary imports nothing of the engine. The unwind-safety
/// bounds keep [`Progress`] `UnwindSafe` and `RefUnwindSafe`, as it was when
/// it held the watch itself.
pub(crate) trait Listener: Send + Sync + UnwindSafe + RefUnwindSafe {
    /// The run said where it resumed.
    fn resumed(&self, from: Option<u64>);
    /// The run reached the converged point `label`.
    fn converged(&self, label: String);
}

/// The listener a [`Progress`] tells, shared by its clones: equal when it is
/// the same listener.
#[derive(Clone)]
struct Watch(Arc<dyn Listener>);

impl fmt::Debug for Watch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Watch")
    }
}

impl PartialEq for Watch {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for Watch {}

/// A per-run step counter shared by the explorer's step hook and a
/// [`Progress`], so every progress event is stamped with the number of
/// filesystem steps started before it. Per instance, never process-global.
#[derive(Debug, Clone, Default)]
pub struct StepClock(Arc<AtomicU64>);

impl StepClock {
    /// A clock at 0 (no step started yet).
    pub fn new() -> Self {
        Self::default()
    }

    /// Records that `steps_started` steps have begun (the hook sets
    /// `index + 1` before step `index`).
    pub fn set(&self, steps_started: u64) {
        self.0.store(steps_started, Ordering::Relaxed);
    }

    /// Steps started so far.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

impl PartialEq for StepClock {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for StepClock {}

/// The events of one run, stamped with a [`StepClock`], on top of the state
/// the run started from; lets the explorer ask "what was true before step n".
#[derive(Debug, Clone, PartialEq, Eq)]
struct Journal {
    clock: StepClock,
    start: Box<Progress>,
    events: Vec<(u64, Event)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Event {
    Attempt(CheckpointId),
    Acknowledge(CheckpointId),
    Processed(u64),
}

impl Progress {
    /// A record with nothing attempted, acknowledged or processed.
    pub fn new() -> Self {
        Self::default()
    }

    /// Call before writing a checkpoint: this content may now appear on disk.
    pub fn attempt(&mut self, id: CheckpointId) {
        self.log(Event::Attempt(id));
        self.attempted.insert(id);
    }

    /// Call when the protocol says `id` is durable (its commit returned `Ok`,
    /// or a yield reported it committed). Recovery must never go back past it.
    pub fn acknowledge(&mut self, id: CheckpointId) {
        self.log(Event::Acknowledge(id));
        self.attempted.insert(id);
        if self.acknowledged.is_none_or(|a| a.cursor <= id.cursor) {
            self.acknowledged = Some(id);
        }
    }

    /// Call after processing item `index` (in memory, not yet durable).
    pub fn processed(&mut self, index: u64) {
        self.log(Event::Processed(index));
        self.processed_max = Some(self.processed_max.map_or(index, |m| m.max(index)));
    }

    /// Every checkpoint content the program tried to write.
    pub fn attempted(&self) -> &BTreeSet<CheckpointId> {
        &self.attempted
    }

    /// The newest checkpoint the program was told is durable.
    pub fn acknowledged(&self) -> Option<CheckpointId> {
        self.acknowledged
    }

    /// The highest item index processed so far, across runs.
    pub fn processed_max(&self) -> Option<u64> {
        self.processed_max
    }

    /// Call once the run knows where it resumes: the cursor of the
    /// checkpoint it loaded (`None`: from the start), the value its
    /// [`Completion::resumed_from`] will hold. Without it the explorer never
    /// stops the run at a converged point (it could not check where the
    /// run resumed).
    pub fn resumed(&mut self, from: Option<u64>) {
        if let Some(watch) = &self.watch {
            watch.0.resumed(from);
        }
    }

    /// Call at a point after which the rest of the run (every file
    /// operation it makes, and its [`Completion`] except `resumed_from`)
    /// depends only on what is on disk and on `point` (a label that names
    /// what the program holds in memory there; equal labels, equal memory).
    /// The core runner right after a commit is acknowledged: its memory is
    /// exactly the checkpoint it just wrote, so a label such as `commit
    /// generation 7 cursor 350 state <digest>` says it all.
    ///
    /// When a resumed run reaches a point with the label and disk (visible and
    /// durable) the clean run had at one of its points, the explorer stops it
    /// there and takes the clean run's outcome
    /// ([`crate::explore::ExploreOptions::converge`]): the rest would be the
    /// clean run, by determinism. A label that does not name everything the
    /// rest of the run depends on breaks that; leave such points out. Formats
    /// `point` only while the explorer listens.
    pub fn converged(&mut self, point: impl fmt::Display) {
        if let Some(watch) = &self.watch {
            watch.0.converged(point.to_string());
        }
    }

    /// Starts telling `watch` about [`Progress::resumed`] and
    /// [`Progress::converged`] (explorer use).
    pub(crate) fn watch(&mut self, watch: Arc<dyn Listener>) {
        self.watch = Some(Watch(watch));
    }

    /// The start of the journaled run and its stamped events, if a run is
    /// journaled (explorer use: `engine/timeline.rs` answers
    /// [`Progress::as_of`] questions for every step at once).
    pub(crate) fn journal(&self) -> Option<(&Progress, &[(u64, Event)])> {
        self.journal
            .as_ref()
            .map(|j| (j.start.as_ref(), j.events.as_slice()))
    }

    /// Forgets in-memory progress at a crash: what was processed but not
    /// checkpointed is gone with the process. Attempts and acks stay.
    pub fn crashed(&mut self) -> Option<u64> {
        self.processed_max.take()
    }

    /// Starts stamping events with `clock` (explorer use; additive to the
    /// original interface). The current state becomes the journal's start;
    /// [`Progress::as_of`] can then rewind to any step of this run.
    pub fn record_steps(&mut self, clock: StepClock) {
        let mut start = self.clone();
        start.journal = None;
        start.watch = None;
        self.journal = Some(Journal {
            clock,
            start: Box::new(start),
            events: Vec::new(),
        });
    }

    /// The record as it was when `steps` steps of the journaled run had
    /// started (events stamped `<= steps`), without a journal. Without a
    /// journal, a copy of `self`.
    pub fn as_of(&self, steps: u64) -> Progress {
        let Some(journal) = &self.journal else {
            let mut p = self.clone();
            p.watch = None;
            return p;
        };
        let mut p = (*journal.start).clone();
        for (_, event) in journal
            .events
            .iter()
            .take_while(|(stamp, _)| *stamp <= steps)
        {
            match *event {
                Event::Attempt(id) => p.attempt(id),
                Event::Acknowledge(id) => p.acknowledge(id),
                Event::Processed(i) => p.processed(i),
            }
        }
        p
    }

    /// This record without its journal (what [`Progress::as_of`] would give
    /// at the end of the run).
    pub fn without_journal(&self) -> Progress {
        let mut p = self.clone();
        p.journal = None;
        p
    }

    fn log(&mut self, event: Event) {
        let Some(journal) = &mut self.journal else {
            return;
        };
        let stamp = journal.clock.get();
        // Items processed between two steps share a stamp, so `as_of`
        // replays all of them or none: only the highest counts. Keeping
        // just that one keeps the journal to the run's steps, not items.
        if let (Event::Processed(index), Some((last_stamp, Event::Processed(last)))) =
            (event, journal.events.last_mut())
            && *last_stamp == stamp
        {
            *last = (*last).max(index);
            return;
        }
        journal.events.push((stamp, event));
    }
}

/// Why a workload run or inspection failed.
#[derive(Debug, thiserror::Error)]
pub enum WorkloadError {
    /// A filesystem call failed (including the simulator's `Crashed`).
    #[error("filesystem error: {0}")]
    Fs(#[from] std::io::Error),
    /// The core reported an error (bad checkpoint, fingerprint, lock, ...).
    #[error("{0}")]
    Core(String),
    /// The workload detected something impossible in its own data.
    #[error("workload invariant broken: {0}")]
    Invariant(String),
}

impl WorkloadError {
    /// Wraps any displayable core error.
    pub fn core(e: impl fmt::Display) -> Self {
        WorkloadError::Core(e.to_string())
    }
}
