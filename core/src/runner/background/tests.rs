//! Background commits: [`super::drive`] against scripted committers (the
//! error path, the order of acknowledgements), and the runner on the real
//! filesystem with both committers (same output as synchronous commits,
//! acknowledged only once durable, a yield waits for its commit).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::cell::RefCell;
use std::rc::Rc;

use serde::{Deserialize, Serialize};

use super::{Acked, Batches, CommitInterleaving, Committer, CommitterGone, Ended, drive};
use crate::fs::StdFs;
use crate::runner::{
    CheckpointInfo, CommitMode, ConfigError, Job, JobError, Outcome, RunError, RunObserver, Runner,
    RunnerConfig,
};
use crate::store::{CheckpointStore, JobIdentity};

/// Batches over `item_count` items, K = `k`, recording what `drive` did.
#[derive(Default)]
struct Script {
    item_count: u64,
    k: u64,
    processed: u64,
    handed_off: Vec<u64>,
    acked: Vec<u64>,
    yield_after_handoffs: Option<usize>,
}

impl Batches for Script {
    type Error = String;
    type Request = u64;
    type Done = Result<u64, String>;

    fn item_count(&self) -> u64 {
        self.item_count
    }
    fn process(&mut self, _index: u64) -> Result<(), String> {
        self.processed += 1;
        Ok(())
    }
    fn batch_ends(&mut self, start: u64, cursor: u64) -> bool {
        cursor - start >= self.k
    }
    fn request(&mut self, cursor: u64) -> Result<u64, String> {
        self.handed_off.push(cursor);
        Ok(cursor)
    }
    fn acknowledge(&mut self, done: Result<u64, String>) -> Result<Acked, String> {
        let cursor = done?;
        self.acked.push(cursor);
        Ok(Acked {
            generation: self.acked.len() as u64,
            cursor,
        })
    }
    fn yield_requested(&mut self) -> bool {
        self.yield_after_handoffs == Some(self.handed_off.len())
    }
}

impl From<CommitterGone> for String {
    fn from(e: CommitterGone) -> Self {
        e.to_string()
    }
}

/// A committer that finishes each commit at once and reports it at the
/// next poll, failing the one at `failing_cursor`.
struct Immediate {
    failing_cursor: Option<u64>,
    held: Option<Result<u64, String>>,
    in_flight_max: usize,
}

impl Committer<u64, Result<u64, String>> for Immediate {
    fn submit(&mut self, request: u64) -> Result<(), CommitterGone> {
        self.in_flight_max = self.in_flight_max.max(1 + usize::from(self.held.is_some()));
        self.held = Some(if Some(request) == self.failing_cursor {
            Err(format!("commit at {request} failed"))
        } else {
            Ok(request)
        });
        Ok(())
    }
    fn poll(&mut self) -> Result<Option<Result<u64, String>>, CommitterGone> {
        Ok(self.held.take())
    }
    fn wait(&mut self) -> Result<Option<Result<u64, String>>, CommitterGone> {
        Ok(self.held.take())
    }
}

fn immediate(failing_cursor: Option<u64>) -> Immediate {
    Immediate {
        failing_cursor,
        held: None,
        in_flight_max: 0,
    }
}

#[test]
fn drive_acknowledges_every_handoff_in_order_and_one_at_a_time() {
    let mut script = Script {
        item_count: 10,
        k: 3,
        ..Script::default()
    };
    let mut committer = immediate(None);
    let ended = drive(&mut script, &mut committer, 0).unwrap();
    assert_eq!(script.handed_off, [3, 6, 9, 10]);
    assert_eq!(script.acked, script.handed_off);
    assert_eq!(script.processed, 10);
    assert_eq!(committer.in_flight_max, 1);
    assert!(matches!(
        ended,
        Ended::Finished {
            cursor: 10,
            last: Some(Acked { cursor: 10, .. })
        }
    ));
}

/// The error path: the failed commit is never acknowledged, nothing later
/// is handed off, and the error is what `drive` returns.
#[test]
fn a_commit_error_stops_the_loop_and_nothing_later_is_acknowledged() {
    for failing in [3, 6, 9, 10] {
        let mut script = Script {
            item_count: 10,
            k: 3,
            ..Script::default()
        };
        let error = drive(&mut script, &mut immediate(Some(failing)), 0).unwrap_err();
        assert_eq!(error, format!("commit at {failing} failed"));
        assert_eq!(
            script.handed_off.last(),
            Some(&failing),
            "nothing handed off after it"
        );
        assert!(
            script.acked.iter().all(|&c| c < failing),
            "{:?}",
            script.acked
        );
        // The failure is seen at the next item at the latest.
        assert!(script.processed <= failing + 1);
    }
}

#[test]
fn a_yield_returns_the_commit_it_waited_for() {
    let mut script = Script {
        item_count: 10,
        k: 3,
        yield_after_handoffs: Some(2),
        ..Script::default()
    };
    let ended = drive(&mut script, &mut immediate(None), 0).unwrap();
    assert_eq!(
        ended,
        Ended::Yielded {
            acked: Acked {
                generation: 2,
                cursor: 6
            }
        }
    );
    assert_eq!(script.acked, [3, 6]);
    assert_eq!(script.processed, 6);
}

/// A running hash over `items` items (any lost or repeated item changes
/// the output).
struct Hash {
    items: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct HashState {
    acc: u64,
}

impl Job for Hash {
    type State = HashState;
    type Output = u64;
    fn name(&self) -> &str {
        "bg-hash"
    }
    fn fingerprint(&self) -> u64 {
        self.items
    }
    fn item_count(&self) -> u64 {
        self.items
    }
    fn initial_state(&self) -> HashState {
        HashState { acc: 17 }
    }
    fn process(&mut self, index: u64, state: &mut HashState) -> Result<(), JobError> {
        state.acc = state.acc.rotate_left(7) ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        Ok(())
    }
    fn finalize(&mut self, state: &HashState) -> Result<u64, JobError> {
        Ok(state.acc)
    }
}

/// Checks at every acknowledgement that the checkpoint is what the store
/// reads back: durable before `after_commit` fires (on one machine,
/// "readable by a second opener" is the durability the thread can see).
struct Acks {
    dir: std::path::PathBuf,
    acked: Rc<RefCell<Vec<u64>>>,
    before: Rc<RefCell<Vec<u64>>>,
}

impl RunObserver for Acks {
    fn before_commit(&mut self, checkpoint: &CheckpointInfo<'_>) {
        self.before.borrow_mut().push(checkpoint.cursor);
    }
    fn after_commit(&mut self, checkpoint: &CheckpointInfo<'_>) {
        let fs = StdFs::new();
        let identity = JobIdentity {
            name: "bg-hash".to_owned(),
            fingerprint: 1000,
        };
        let latest = CheckpointStore::peek_latest(&fs, &self.dir, &identity)
            .unwrap()
            .expect("a checkpoint is on disk when after_commit fires");
        assert!(
            latest.generation >= checkpoint.generation,
            "generation {} acknowledged, the store's newest is {}",
            checkpoint.generation,
            latest.generation
        );
        self.acked.borrow_mut().push(checkpoint.cursor);
    }
}

fn config(mode: CommitMode) -> RunnerConfig {
    RunnerConfig {
        commit_mode: mode,
        ..RunnerConfig::every(50)
    }
}

enum Committer2 {
    Sync,
    Thread,
    Interleaved(u64),
}

fn run_hash(which: &Committer2) -> (Outcome<u64>, Vec<u64>, Vec<u64>) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("job");
    let fs = StdFs::new();
    let mut job = Hash { items: 1000 };
    let mode = match which {
        Committer2::Sync => CommitMode::Synchronous,
        _ => CommitMode::Background,
    };
    let acks = Acks {
        dir: dir.clone(),
        acked: Rc::default(),
        before: Rc::default(),
    };
    let (acked, before) = (Rc::clone(&acks.acked), Rc::clone(&acks.before));
    let runner = Runner::open(&fs, &dir, &mut job, config(mode)).unwrap();
    let runner = match which {
        Committer2::Sync => runner,
        Committer2::Thread => runner.with_committer_thread(),
        Committer2::Interleaved(seed) => {
            runner.with_commit_interleaving(CommitInterleaving::seeded(*seed))
        }
    };
    let outcome = runner.with_observer(acks).run().unwrap();
    let acked = acked.borrow().clone();
    let before = before.borrow().clone();
    (outcome, acked, before)
}

#[test]
fn background_commits_give_the_synchronous_output_and_acknowledge_every_checkpoint() {
    let (sync, sync_acked, _) = run_hash(&Committer2::Sync);
    let Outcome::Completed {
        output,
        redone_at_most,
        ..
    } = sync
    else {
        panic!("{sync:?}")
    };
    assert_eq!(redone_at_most, 50);
    let expected: Vec<u64> = (1..=20).map(|b| b * 50).collect();
    assert_eq!(sync_acked, expected);
    for which in [
        Committer2::Thread,
        Committer2::Interleaved(0),
        Committer2::Interleaved(7),
    ] {
        let (outcome, acked, before) = run_hash(&which);
        let Outcome::Completed {
            output: bg_output,
            redone_at_most,
            items_processed,
            ..
        } = outcome
        else {
            panic!("{outcome:?}")
        };
        assert_eq!(bg_output, output);
        assert_eq!(items_processed, 1000);
        assert_eq!(redone_at_most, 100, "2K with background commits");
        assert_eq!(acked, expected, "every checkpoint acknowledged, in order");
        assert_eq!(before, expected);
    }
}

#[test]
fn a_committer_must_match_the_commit_mode() {
    let tmp = tempfile::tempdir().unwrap();
    let fs = StdFs::new();
    let mut job = Hash { items: 10 };
    let runner = Runner::open(&fs, tmp.path(), &mut job, config(CommitMode::Background)).unwrap();
    assert!(matches!(
        runner.run(),
        Err(RunError::Config(ConfigError::NoCommitter))
    ));
    let mut job = Hash { items: 10 };
    let runner = Runner::open(&fs, tmp.path(), &mut job, config(CommitMode::Synchronous)).unwrap();
    assert!(matches!(
        runner.with_committer_thread().run(),
        Err(RunError::Config(ConfigError::CommitterWithoutBackground))
    ));
}

/// A yield requested mid-run returns a checkpoint that is on disk, and the
/// next run resumes from it and finishes with the clean output.
#[test]
fn a_background_yield_returns_a_durable_checkpoint_and_resumes() {
    let (clean, _, _) = run_hash(&Committer2::Sync);
    let Outcome::Completed { output, .. } = clean else {
        panic!()
    };
    for threaded in [true, false] {
        let tmp = tempfile::tempdir().unwrap();
        let fs = StdFs::new();
        let mut job = Hash { items: 1000 };
        let runner =
            Runner::open(&fs, tmp.path(), &mut job, config(CommitMode::Background)).unwrap();
        let signal = runner.yield_signal();
        struct YieldAt(crate::YieldSignal);
        impl RunObserver for YieldAt {
            fn item_processed(&mut self, index: u64) {
                if index == 420 {
                    self.0.request();
                }
            }
        }
        let runner = if threaded {
            runner.with_committer_thread()
        } else {
            runner.with_commit_interleaving(CommitInterleaving::seeded(3))
        };
        let outcome = runner.with_observer(YieldAt(signal)).run().unwrap();
        let Outcome::Yielded {
            cursor, generation, ..
        } = outcome
        else {
            panic!("{outcome:?}")
        };
        assert_eq!(
            cursor, 450,
            "the yield comes at the first hand-off after the request"
        );
        let identity = JobIdentity {
            name: "bg-hash".to_owned(),
            fingerprint: 1000,
        };
        let latest = CheckpointStore::peek_latest(&fs, tmp.path(), &identity)
            .unwrap()
            .unwrap();
        assert_eq!((latest.generation, latest.cursor), (generation, cursor));
        let mut job = Hash { items: 1000 };
        let runner =
            Runner::open(&fs, tmp.path(), &mut job, config(CommitMode::Background)).unwrap();
        let outcome = runner.with_committer_thread().run().unwrap();
        let Outcome::Completed {
            output: resumed,
            items_processed,
            ..
        } = outcome
        else {
            panic!("{outcome:?}")
        };
        assert_eq!(resumed, output);
        assert_eq!(items_processed, 550);
    }
}

/// Records items and acknowledgements in the order the runner reports them.
#[derive(Default)]
struct Order(Rc<RefCell<Vec<(char, u64)>>>);

impl RunObserver for Order {
    fn item_processed(&mut self, index: u64) {
        self.0.borrow_mut().push(('i', index));
    }
    fn after_commit(&mut self, checkpoint: &CheckpointInfo<'_>) {
        self.0.borrow_mut().push(('a', checkpoint.cursor));
    }
}

/// The seeded interleaving really overlaps: some checkpoint is
/// acknowledged only after items past its cursor were processed, and other
/// seeds place the acknowledgements elsewhere.
#[test]
fn interleaved_commits_overlap_items_and_seeds_move_them() {
    let items_before_ack = |seed: u64| {
        let tmp = tempfile::tempdir().unwrap();
        let fs = StdFs::new();
        let mut job = Hash { items: 1000 };
        let order = Order::default();
        let events = Rc::clone(&order.0);
        Runner::open(&fs, tmp.path(), &mut job, config(CommitMode::Background))
            .unwrap()
            .with_commit_interleaving(CommitInterleaving::seeded(seed))
            .with_observer(order)
            .run()
            .unwrap();
        let events = events.borrow();
        let mut processed = 0u64;
        let mut overlaps = Vec::new();
        for &(kind, n) in events.iter() {
            match kind {
                'i' => processed = n + 1,
                _ => overlaps.push(processed - n),
            }
        }
        overlaps
    };
    let seed0 = items_before_ack(0);
    assert_eq!(seed0.len(), 20);
    assert!(seed0.iter().any(|&o| o > 0), "{seed0:?}");
    assert!(
        seed0.iter().all(|&o| o <= 50),
        "at most one batch overlaps: {seed0:?}"
    );
    assert_ne!(seed0, items_before_ack(1));
    assert_eq!(seed0, items_before_ack(0));
}
