//! Model-checks the runner's concurrency with loom: the background
//! committer's hand-off ([`Handoff`] served on a second thread, the loop
//! [`drive_planted`]) and the in-process yield flag ([`YieldSignal`]) with
//! a short operation that sets it and waits for the job's lock. The core
//! is built with its `loom` feature, so [`crashproof_core::seam`] hands the
//! runner's own code loom's primitives: loom runs every interleaving of
//! these threads up to a preemption bound.
//!
//! Run: `cargo test -p crashproof-core --features loom --test loom`
//! (about a minute at most on 2 cores; `LOOM_MAX_PREEMPTIONS` overrides the
//! bound of 2).
//!
//! Properties, each asserted where it can break:
//! - mutual exclusion: the short operation never holds the job's lock while
//!   the job processes an item;
//! - a short operation waits at most one batch: after it sets the flag, the
//!   job processes at most K items and hands off at most one checkpoint
//!   before it gets the lock;
//! - no acknowledged commit is lost or reordered: acknowledgements come in
//!   hand-off order, each once, and a finished run acknowledged every
//!   hand-off;
//! - no commit is acknowledged before it is durable;
//! - at most one commit in flight: a checkpoint is handed off only after
//!   the previous one was acknowledged;
//! - a commit error stops the job: it is what the run returns, nothing
//!   after it is handed off or acknowledged;
//! - no deadlock (loom fails any execution in which every thread blocks).
//!
//! Each property is shown to catch a planted bug: the file re-runs itself
//! with `CRASHPROOF_LOOM_PLANTED=<bug>` in a child process (a loom failure
//! may abort the process) and asserts that the child failed with that
//! property's message. This file has its own `main` (`harness = false`),
//! so a run checks every model and every planted bug or fails.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::{Command, ExitCode};
use std::time::Instant;

use crashproof_core::YieldSignal;
use crashproof_core::runner::background::{
    Acked, Batches, Committer, CommitterGone, Ended, Handoff, Planted, ThreadCommitter,
    drive_planted,
};
use loom::sync::{Arc, Mutex};

/// The environment variable selecting a planted bug in a child run.
const PLANTED_VAR: &str = "CRASHPROOF_LOOM_PLANTED";

/// The preemption bound unless `LOOM_MAX_PREEMPTIONS` says otherwise:
/// small enough for CI (unbounded does not finish in 10 minutes), large
/// enough for each planted bug to be found.
const PREEMPTION_BOUND: usize = 2;

/// Items in each modelled job, and K.
const ITEMS: u64 = 4;
const K: u64 = 2;

/// Each property's failure message (what a child run must print).
const MUTUAL_EXCLUSION: &str = "property violated: mutual exclusion";
const ONE_BATCH: &str = "property violated: the short operation waited more than one batch";
const ACK_BEFORE_DURABLE: &str = "property violated: acknowledged before durable";
const TWO_IN_FLIGHT: &str = "property violated: two commits in flight";
const LOST_OR_REORDERED: &str = "property violated: an acknowledged commit lost or reordered";
const ERROR_PATH: &str = "property violated: a commit error did not stop the job";

fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    if std::env::var_os("LOOM_MAX_PREEMPTIONS").is_none() {
        builder.preemption_bound = Some(PREEMPTION_BOUND);
    }
    builder.check(f);
}

/// The disk as the committer thread sees it: the cursors made durable, in
/// order.
type Disk = Arc<Mutex<Vec<u64>>>;

/// The job's side of the loop: records hand-offs and acknowledgements and
/// asserts the properties where they can break.
struct Job {
    disk: Disk,
    signal: YieldSignal,
    /// Shared with the short operation (behind a lock, so a reading is the
    /// latest: loom models `SeqCst` atomics as acquire/release, whose loads
    /// may read older values and would make the wait look longer).
    seen: Arc<Mutex<Seen>>,
    handed_off: Vec<u64>,
    acked: Vec<u64>,
}

impl Job {
    fn new(disk: Disk, signal: YieldSignal) -> Self {
        Self {
            disk,
            signal,
            seen: Arc::default(),
            handed_off: Vec::new(),
            acked: Vec::new(),
        }
    }
}

/// What the short operation watches.
#[derive(Debug, Default, Clone, Copy)]
struct Seen {
    items: u64,
    handoffs: u64,
    processing: bool,
}

/// The run's error: a commit's, or the committer gone.
#[derive(Debug, PartialEq, Eq)]
enum Stop {
    Commit(u64),
    Gone,
}

impl From<CommitterGone> for Stop {
    fn from(_: CommitterGone) -> Self {
        Stop::Gone
    }
}

impl Batches for Job {
    type Error = Stop;
    type Request = u64;
    type Done = Result<u64, u64>;

    fn item_count(&self) -> u64 {
        ITEMS
    }

    fn process(&mut self, _index: u64) -> Result<(), Stop> {
        self.seen.lock().unwrap().processing = true;
        self.seen.lock().unwrap().items += 1;
        self.seen.lock().unwrap().processing = false;
        Ok(())
    }

    fn batch_ends(&mut self, start: u64, cursor: u64) -> bool {
        cursor - start >= K
    }

    fn request(&mut self, cursor: u64) -> Result<u64, Stop> {
        assert_eq!(self.handed_off, self.acked, "{TWO_IN_FLIGHT}");
        self.handed_off.push(cursor);
        self.seen.lock().unwrap().handoffs += 1;
        Ok(cursor)
    }

    fn acknowledge(&mut self, done: Result<u64, u64>) -> Result<Acked, Stop> {
        let cursor = done.map_err(Stop::Commit)?;
        assert!(
            self.disk.lock().unwrap().contains(&cursor),
            "{ACK_BEFORE_DURABLE}: cursor {cursor}"
        );
        self.acked.push(cursor);
        assert!(
            self.handed_off.starts_with(&self.acked),
            "{LOST_OR_REORDERED}: handed off {:?}, acknowledged {:?}",
            self.handed_off,
            self.acked
        );
        Ok(Acked {
            generation: self.acked.len() as u64,
            cursor,
        })
    }

    fn yield_requested(&mut self) -> bool {
        self.signal.is_requested()
    }
}

/// The cursors a run hands off: every K items, and the end.
fn batch_ends() -> Vec<u64> {
    let mut ends: Vec<u64> = (1..).map(|b| b * K).take_while(|&c| c < ITEMS).collect();
    ends.push(ITEMS);
    ends
}

/// The committer thread's work: make the cursor durable, or fail at
/// `failing`.
fn commit(disk: &Disk, failing: Option<u64>, cursor: u64) -> Result<u64, u64> {
    if Some(cursor) == failing {
        return Err(cursor);
    }
    disk.lock().unwrap().push(cursor);
    Ok(cursor)
}

/// A committer that acknowledges each commit at the next poll after its
/// hand-off, whether or not the thread has made it durable: the planted
/// "acknowledgement sent before the fsync".
struct AckAtHandoff<'h> {
    inner: ThreadCommitter<'h, u64, Result<u64, u64>>,
    early: Option<Result<u64, u64>>,
}

impl Committer<u64, Result<u64, u64>> for AckAtHandoff<'_> {
    fn submit(&mut self, request: u64) -> Result<(), CommitterGone> {
        self.early = Some(Ok(request));
        self.inner.submit(request)
    }
    fn poll(&mut self) -> Result<Option<Result<u64, u64>>, CommitterGone> {
        let _ = self.inner.poll()?;
        Ok(self.early.take())
    }
    fn wait(&mut self) -> Result<Option<Result<u64, u64>>, CommitterGone> {
        let _ = self.inner.wait()?;
        Ok(self.early.take())
    }
}

/// Runs the job on this thread with a committer thread serving a hand-off
/// (closed and joined before returning).
fn run_job(
    job: &mut Job,
    failing: Option<u64>,
    planted: Planted,
    ack_at_handoff: bool,
) -> Result<Ended, Stop> {
    let handoff: Arc<Handoff<u64, Result<u64, u64>>> = Arc::new(Handoff::new());
    let committer = {
        let handoff = Arc::clone(&handoff);
        let disk = Arc::clone(&job.disk);
        loom::thread::spawn(move || handoff.serve(|cursor| commit(&disk, failing, cursor)))
    };
    let ended = if ack_at_handoff {
        let mut c = AckAtHandoff {
            inner: ThreadCommitter::new(&handoff),
            early: None,
        };
        drive_planted(job, &mut c, 0, planted)
    } else {
        drive_planted(job, &mut ThreadCommitter::new(&handoff), 0, planted)
    };
    handoff.close();
    committer.join().unwrap();
    ended
}

/// The committer's hand-off, acknowledgement and error path: a job of
/// [`ITEMS`] items in batches of K, its commits on a second thread,
/// failing at `failing`.
fn committer_model(failing: Option<u64>, planted: Planted, ack_at_handoff: bool) {
    model(move || {
        let disk = Disk::default();
        let mut job = Job::new(Arc::clone(&disk), YieldSignal::new());
        let ended = run_job(&mut job, failing, planted, ack_at_handoff);
        let durable = disk.lock().unwrap().clone();
        match failing {
            None => {
                let batch_ends = batch_ends();
                assert_eq!(
                    ended,
                    Ok(Ended::Finished {
                        cursor: ITEMS,
                        last: Some(Acked {
                            generation: batch_ends.len() as u64,
                            cursor: ITEMS
                        })
                    }),
                    "{LOST_OR_REORDERED}"
                );
                assert_eq!(job.acked, batch_ends, "{LOST_OR_REORDERED}");
                assert_eq!(durable, job.acked, "{LOST_OR_REORDERED}");
            }
            Some(failing) => {
                assert_eq!(ended, Err(Stop::Commit(failing)), "{ERROR_PATH}");
                assert_eq!(job.handed_off.last(), Some(&failing), "{ERROR_PATH}");
                assert!(job.acked.iter().all(|&c| c < failing), "{ERROR_PATH}");
                assert!(durable.iter().all(|&c| c < failing), "{ERROR_PATH}");
            }
        }
    });
}

/// The tzel pattern: the job holds its lock while it runs (committer on a
/// second thread); `short_ops` short operations each set the yield flag
/// and wait for the lock. It must get it after at most one more batch, never while the job
/// processes, and the job's yield must report a durable checkpoint.
fn yield_model(planted: Planted, short_ops: usize) {
    model(move || {
        let lock = Arc::new(Mutex::new(()));
        let signal = YieldSignal::new();
        let disk = Disk::default();
        let mut job = Job::new(Arc::clone(&disk), signal.clone());
        let short_ops: Vec<_> = (0..short_ops).map(|_| {
            let (lock, signal) = (Arc::clone(&lock), signal.clone());
            let seen = Arc::clone(&job.seen);
            loom::thread::spawn(move || {
                signal.request();
                let at = *seen.lock().unwrap();
                let _held = lock.lock().unwrap();
                let now = *seen.lock().unwrap();
                assert!(!now.processing, "{MUTUAL_EXCLUSION}");
                let items_waited = now.items - at.items;
                let handoffs_waited = now.handoffs - at.handoffs;
                assert!(
                    items_waited <= K && handoffs_waited <= 1,
                    "{ONE_BATCH}: {items_waited} items and {handoffs_waited} hand-offs after the request"
                );
            })
        }).collect();
        let ended = {
            let _held = lock.lock().unwrap();
            run_job(&mut job, None, planted, false)
        };
        match ended {
            Ok(Ended::Yielded { acked }) => {
                assert!(
                    disk.lock().unwrap().contains(&acked.cursor),
                    "{ACK_BEFORE_DURABLE}"
                );
            }
            Ok(Ended::Finished { .. }) => {}
            Err(e) => panic!("the job failed: {e:?}"),
        }
        for short_op in short_ops {
            short_op.join().unwrap();
        }
    });
}

/// One model of the file: a name and what it runs.
struct Check {
    name: &'static str,
    run: fn(),
}

const CHECKS: [Check; 4] = [
    Check {
        name: "committer: hand-off, acknowledgement, order, one in flight",
        run: || committer_model(None, Planted::None, false),
    },
    Check {
        name: "committer: a commit error stops the job",
        run: || committer_model(Some(K), Planted::None, false),
    },
    Check {
        name: "yield: mutual exclusion, a short op waits at most one batch",
        run: || yield_model(Planted::None, 1),
    },
    Check {
        name: "yield: the same with two short ops",
        run: || yield_model(Planted::None, 2),
    },
];

/// A planted bug: its name, what runs it, the property that must catch it.
struct Bug {
    name: &'static str,
    run: fn(),
    caught_by: &'static str,
}

const BUGS: [Bug; 3] = [
    Bug {
        name: "flag-before-commit",
        run: || yield_model(Planted::FlagBeforeCommit, 1),
        caught_by: ONE_BATCH,
    },
    Bug {
        name: "ack-before-durable",
        run: || committer_model(None, Planted::None, true),
        caught_by: ACK_BEFORE_DURABLE,
    },
    Bug {
        name: "two-in-flight",
        run: || committer_model(None, Planted::TwoInFlight, false),
        caught_by: TWO_IN_FLIGHT,
    },
];

fn main() -> ExitCode {
    if let Some(name) = std::env::var_os(PLANTED_VAR) {
        // A child run: exactly the bug asked for; failing is the point.
        let name = name.to_string_lossy().into_owned();
        let Some(bug) = BUGS.iter().find(|b| b.name == name) else {
            eprintln!("{PLANTED_VAR}={name} names no planted bug");
            return ExitCode::from(2);
        };
        (bug.run)();
        eprintln!("planted bug {name} was not caught");
        return ExitCode::SUCCESS;
    }
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    if !filter.is_empty() {
        // `cargo test --workspace --features loom -- some_filter` reaches
        // this binary too; a filter it does not know must not pass quietly.
        eprintln!("this loom test takes no filter (got {filter:?}); run it without one");
        return ExitCode::from(2);
    }
    let mut failed = 0;
    for check in &CHECKS {
        let start = Instant::now();
        (check.run)();
        println!("ok   {} ({:.1?})", check.name, start.elapsed());
    }
    let exe = std::env::current_exe().expect("the test binary's path");
    for bug in &BUGS {
        let start = Instant::now();
        let out = Command::new(&exe)
            .env(PLANTED_VAR, bug.name)
            .output()
            .expect("re-running the loom test binary");
        let stderr = String::from_utf8_lossy(&out.stderr);
        if !out.status.success() && stderr.contains(bug.caught_by) {
            println!(
                "ok   planted {} caught: \"{}\" ({:.1?})",
                bug.name,
                bug.caught_by,
                start.elapsed()
            );
        } else {
            failed += 1;
            println!(
                "FAIL planted {} not caught by \"{}\": child {}; stderr:\n{stderr}",
                bug.name, bug.caught_by, out.status
            );
        }
    }
    println!(
        "loom: {} models and {} planted bugs checked, {failed} failed",
        CHECKS.len(),
        BUGS.len()
    );
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
