//! Background commits under the explorer: the mutant that acknowledges a
//! checkpoint when it is handed off instead of when it is durable.
//!
//! The correct runner with background commits is `core-runner-background`
//! ([`crate::core_runner::CoreRunnerWorkload::background`]). This module's
//! [`HandoffAckRunner`] is a small runner built from the core's own
//! background-commit loop ([`crashproof_core::runner::background::drive`])
//! and the deterministic committer the explorer uses
//! ([`Interleaved`]), on the core-runner's hash job and store. Honest, it
//! acknowledges what the committer reports durable (the control, in the
//! tests); as the mutant `background-ack-before-durable` its committer
//! reports every commit as done at the hand-off, before the commit's first
//! write: the bug of a committer that answers "queued" as if it were
//! "durable". A crash between the two loses acknowledged progress.

use std::path::PathBuf;

use crashproof_core::fs::Fs;
use crashproof_core::runner::background::{
    Acked, Batches, CommitInterleaving, Committer, CommitterGone, Interleaved, drive,
};
use crashproof_core::store::{CheckpointStore, StoreError};
use crashproof_core::{Codec, Job, JobIdentity, stable_digest};

use crashproof_sim::explore::{
    CheckpointId, Completion, JobWorkload, Progress, Recovered, Workload, WorkloadError,
};

use crate::core_runner::{HashJob, HashState};

/// N for [`HandoffAckRunner`]: small, so exploring it takes a second.
pub const ITEMS: u64 = 100;
/// K for [`HandoffAckRunner`].
pub const CHECKPOINT_EVERY: u64 = 10;
/// Valid generations its store keeps.
const KEEP: usize = 2;

/// The hand-built background-commit runner; see the module documentation.
#[derive(Debug, Clone)]
pub struct HandoffAckRunner {
    name: &'static str,
    /// The mutant's bug: acknowledge at hand-off.
    ack_at_handoff: bool,
    interleaving: CommitInterleaving,
    /// The same job and directory under the core's runner: what recovery
    /// reads, the leftovers rule and the redo bound (2K) come from it.
    reference: JobWorkload<HashJob>,
    dir: PathBuf,
}

impl HandoffAckRunner {
    /// The mutant `background-ack-before-durable`.
    pub fn mutant() -> Self {
        Self::new("background-ack-before-durable", true)
    }

    /// The same runner acknowledging only what is durable (the control the
    /// tests compare the mutant with).
    pub fn control() -> Self {
        Self::new("background-ack-when-durable", false)
    }

    fn new(name: &'static str, ack_at_handoff: bool) -> Self {
        let config = crashproof_core::RunnerConfig {
            keep: KEEP,
            commit_mode: crashproof_core::CommitMode::Background,
            ..crashproof_core::RunnerConfig::every(CHECKPOINT_EVERY)
        };
        let reference =
            JobWorkload::with_output(|| HashJob { items: ITEMS }, config, String::clone);
        Self {
            name,
            ack_at_handoff,
            interleaving: CommitInterleaving::default(),
            dir: reference.job_dir().to_path_buf(),
            reference,
        }
    }
}

/// One checkpoint handed to the committer.
struct Request {
    generation: u64,
    cursor: u64,
    state: Vec<u8>,
}

/// What the committer reports.
struct Done {
    id: CheckpointId,
    generation: u64,
    written: Result<(), StoreError>,
}

fn id_of(cursor: u64, state: &[u8]) -> CheckpointId {
    CheckpointId {
        cursor,
        state_digest: stable_digest(state),
    }
}

/// The runner's side of the loop: the job, its state, the progress report.
struct Side<'p> {
    job: HashJob,
    state: HashState,
    progress: &'p mut Progress,
    next_generation: u64,
}

impl Batches for Side<'_> {
    type Error = Stop;
    type Request = Request;
    type Done = Done;

    fn item_count(&self) -> u64 {
        self.job.item_count()
    }

    fn process(&mut self, index: u64) -> Result<(), Stop> {
        self.job
            .process(index, &mut self.state)
            .map_err(WorkloadError::core)?;
        self.progress.processed(index);
        Ok(())
    }

    fn batch_ends(&mut self, start: u64, cursor: u64) -> bool {
        cursor - start >= CHECKPOINT_EVERY
    }

    fn request(&mut self, cursor: u64) -> Result<Request, Stop> {
        let state = Codec::Json
            .to_vec(&self.state)
            .map_err(WorkloadError::core)?;
        self.progress.attempt(id_of(cursor, &state));
        let generation = self.next_generation;
        self.next_generation += 1;
        Ok(Request {
            generation,
            cursor,
            state,
        })
    }

    fn acknowledge(&mut self, done: Done) -> Result<Acked, Stop> {
        done.written.map_err(WorkloadError::core)?;
        self.progress.acknowledge(done.id);
        Ok(Acked {
            generation: done.generation,
            cursor: done.id.cursor,
        })
    }

    fn yield_requested(&mut self) -> bool {
        false
    }
}

/// Why the loop stopped (a local type, so the committer's error converts).
struct Stop(WorkloadError);

impl From<CommitterGone> for Stop {
    fn from(e: CommitterGone) -> Self {
        Self(WorkloadError::core(e))
    }
}

impl From<WorkloadError> for Stop {
    fn from(e: WorkloadError) -> Self {
        Self(e)
    }
}

/// The mutant's committer: reports each commit done at the hand-off (at
/// the next poll) and runs the real commit whenever the honest committer
/// would, dropping its report.
struct AckAtHandoff<C> {
    inner: C,
    early: Option<Done>,
}

impl<C: Committer<Request, Done>> Committer<Request, Done> for AckAtHandoff<C> {
    fn submit(&mut self, request: Request) -> Result<(), CommitterGone> {
        self.early = Some(Done {
            id: id_of(request.cursor, &request.state),
            generation: request.generation,
            written: Ok(()),
        });
        self.inner.submit(request)
    }

    fn poll(&mut self) -> Result<Option<Done>, CommitterGone> {
        let _ = self.inner.poll()?;
        Ok(self.early.take())
    }

    fn wait(&mut self) -> Result<Option<Done>, CommitterGone> {
        let early = self.early.take();
        let _ = self.inner.wait()?;
        Ok(early)
    }
}

impl Workload for HandoffAckRunner {
    fn name(&self) -> String {
        self.name.to_owned()
    }

    fn run(&self, fs: &dyn Fs, progress: &mut Progress) -> Result<Completion, WorkloadError> {
        let mut job = HashJob { items: ITEMS };
        let identity = JobIdentity {
            name: job.name().to_owned(),
            fingerprint: job.fingerprint(),
        };
        let mut store =
            CheckpointStore::open(fs, &self.dir, identity, KEEP).map_err(WorkloadError::core)?;
        let (cursor, state) = match store.latest().map_err(WorkloadError::core)? {
            Some(c) => {
                let state: HashState = c.codec.from_slice(&c.state).map_err(WorkloadError::core)?;
                (Some(c.cursor), state)
            }
            None => (None, job.initial_state()),
        };
        progress.resumed(cursor);
        let mut side = Side {
            job: job.clone(),
            state,
            progress,
            next_generation: store.next_generation(),
        };
        {
            let work = |request: Request| {
                let written = store
                    .write_generation(request.cursor, &request.state)
                    .and_then(|_| store.collect_garbage().map(|_| ()));
                Done {
                    id: id_of(request.cursor, &request.state),
                    generation: request.generation,
                    written,
                }
            };
            let honest = Interleaved::new(self.interleaving, CHECKPOINT_EVERY, work);
            let start = cursor.unwrap_or(0);
            if self.ack_at_handoff {
                let mut committer = AckAtHandoff {
                    inner: honest,
                    early: None,
                };
                drive(&mut side, &mut committer, start).map_err(|Stop(e)| e)?;
            } else {
                let mut committer = honest;
                drive(&mut side, &mut committer, start).map_err(|Stop(e)| e)?;
            }
        }
        store.sync_removals().map_err(WorkloadError::core)?;
        let output = job.finalize(&side.state).map_err(WorkloadError::core)?;
        Ok(Completion {
            output,
            resumed_from: cursor,
        })
    }

    fn inspect(&self, fs: &dyn Fs) -> Result<Recovered, WorkloadError> {
        self.reference.inspect(fs)
    }

    fn redo_bound(&self) -> u64 {
        self.reference.redo_bound()
    }

    fn leftovers(&self, fs: &dyn Fs) -> Result<Vec<String>, WorkloadError> {
        self.reference.leftovers(fs)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use crashproof_fault::CrashModel;
    use crashproof_sim::explore::{ExploreOptions, Explorer, Oracle, Plan, Report};

    use super::*;
    use crate::core_runner::CoreRunnerWorkload;

    /// Exhaustive single crashes under every model.
    fn explore(workload: &dyn Workload) -> Report {
        Explorer::new(workload, ExploreOptions::default())
            .explore(&Plan::default())
            .unwrap()
    }

    /// The hand-built control passes every crash model, so what the mutant
    /// is caught for is its acknowledgement and nothing else.
    #[test]
    fn the_control_passes_every_model() {
        let report = explore(&HandoffAckRunner::control());
        assert!(report.states_checked() > 0);
        assert!(report.is_clean(), "{report}");
    }

    /// The state oracle catches the acknowledgement at hand-off (acknowledged
    /// progress lost) under every model.
    #[test]
    fn the_mutant_is_caught_under_every_model() {
        let report = explore(&HandoffAckRunner::mutant());
        assert_eq!(report.models().len(), 4);
        for model in CrashModel::ALL {
            assert!(report.caught_under(model), "{model}: {report}");
        }
        for pass in &report.passes {
            assert!(
                pass.violations_per_oracle.get(&Oracle::State) > Some(&0),
                "{:?}: {report}",
                pass.pass
            );
        }
    }

    /// The core's runner with background commits (N = 1000, K = 50) passes
    /// every crash model, under two interleavings, and its redo bound is 2K.
    #[test]
    fn the_background_runner_passes_every_model() {
        let workload = CoreRunnerWorkload::background();
        assert_eq!(workload.redo_bound(), 100);
        let report = explore(&workload);
        assert!(report.states_checked() > 0);
        assert!(report.is_clean(), "{report}");
    }
}
