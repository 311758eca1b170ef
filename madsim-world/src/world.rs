//! The world: a job process and a client process sharing one disk (a
//! `SimFs`), a supervisor that cuts the power at seeded virtual times and
//! reboots both processes on the disk's crash image, and the record they
//! leave for the checks.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use crashproof_core::fs::Fs;
use crashproof_core::runner::LOCK_FILE_NAME;
use crashproof_core::{
    CheckpointStore, JobIdentity, Outcome, RunError, Runner, RunnerConfig, Step,
};
use crashproof_sim::{CrashModel, SimFs, SimView};
use madsim::rand::{Rng, thread_rng};
use madsim::runtime::Handle;
use madsim::time::{Instant, sleep, sleep_until};

use crate::clock::WorldClock;
use crate::job::{HashJob, JOB_NAME, clean_output};

/// The job directory on the world's disk.
const JOB_DIR: &str = "/jobs/hash";
/// How long a rebooted machine takes to start its processes again.
const REBOOT: Duration = Duration::from_secs(10);

/// The job process: honest, or with a planted bug the checks must catch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// Acknowledges progress (tells the world "done up to here") after
    /// `Runner::step` returned the batch's `Committed`, and runs with the
    /// configured T.
    Honest,
    /// Planted bug: acknowledges a batch when it starts, before its items
    /// are processed and committed.
    AckBeforeCommit,
    /// Planted bug: the runner is configured without T (K only), while the
    /// world still promises at most T of work lost per power loss.
    IgnoresInterval,
}

/// When the client's short operations start (virtual time since the
/// world's origin).
#[derive(Debug, Clone)]
pub enum Ops {
    /// At these times.
    At(Vec<Duration>),
    /// `count` operations, each `gap_min..gap_max` after the previous one
    /// started, drawn from the world's seed.
    Random {
        /// How many.
        count: usize,
        /// Shortest gap.
        gap_min: Duration,
        /// Longest gap.
        gap_max: Duration,
    },
}

/// When the power is cut (virtual time since the world's origin).
#[derive(Debug, Clone)]
pub enum Kills {
    /// At these times.
    At(Vec<Duration>),
    /// `count` times drawn uniformly from the job's uninterrupted duration
    /// after its first item (so each hits the job's work).
    Random {
        /// How many.
        count: usize,
    },
}

/// One world.
#[derive(Debug, Clone)]
pub struct WorldConfig {
    /// The job's item count.
    pub items: u64,
    /// K.
    pub checkpoint_every: u64,
    /// T (the time-based policy), read from the world clock.
    pub checkpoint_interval: Option<Duration>,
    /// How often the runner looks at the sentinel (zero: at every commit).
    pub sentinel_check_interval: Duration,
    /// Virtual time each item costs.
    pub item_cost: Duration,
    /// How long a short operation holds the lock.
    pub op_cost: Duration,
    /// How often the client polls the lock and the job polls the sentinel.
    pub poll_interval: Duration,
    /// The client's short operations.
    pub ops: Ops,
    /// Power losses.
    pub kills: Kills,
    /// What a power loss keeps of unsynced operations.
    pub crash_model: CrashModel,
    /// The job process's variant.
    pub variant: Variant,
}

impl WorldConfig {
    /// The longest batch, in items: K, or fewer when the runner's T ends it
    /// first (the item whose cost crosses T is the batch's last).
    pub fn batch_items_max(&self) -> u64 {
        let by_time = self.runner_interval().map_or(u64::MAX, |t| {
            let cost = self.item_cost.as_nanos().max(1);
            u64::try_from(t.as_nanos().div_ceil(cost)).unwrap_or(u64::MAX)
        });
        self.checkpoint_every.min(by_time).max(1)
    }

    /// The longest batch in virtual time.
    pub fn batch_time_max(&self) -> Duration {
        self.item_cost * u32::try_from(self.batch_items_max()).unwrap_or(u32::MAX)
    }

    /// The job's duration without interruptions.
    pub fn job_time(&self) -> Duration {
        self.item_cost * u32::try_from(self.items).unwrap_or(u32::MAX)
    }

    /// T as the runner is configured (none in [`Variant::IgnoresInterval`]).
    fn runner_interval(&self) -> Option<Duration> {
        match self.variant {
            Variant::IgnoresInterval => None,
            Variant::Honest | Variant::AckBeforeCommit => self.checkpoint_interval,
        }
    }

    fn runner_config(&self) -> RunnerConfig {
        RunnerConfig {
            checkpoint_interval: self.runner_interval(),
            sentinel_check_interval: self.sentinel_check_interval,
            ..RunnerConfig::every(self.checkpoint_every)
        }
    }

    /// Items the next batch from `cursor` processes.
    fn batch_items(&self, cursor: u64) -> u64 {
        self.batch_items_max()
            .min(self.items.saturating_sub(cursor))
    }
}

/// A runner opening: where it resumed and what had been acknowledged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Open {
    /// The highest cursor the job had acknowledged before this opening.
    pub acked_cursor: u64,
    /// Where the runner resumed (0: fresh).
    pub resumed_cursor: u64,
}

/// One power loss.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KillRecord {
    /// When (since the origin).
    pub at: Duration,
    /// Items the job had processed (committed or not) at that moment.
    pub done_cursor: u64,
    /// Where the next opening resumed (`None`: the job never reopened).
    pub resumed_cursor: Option<u64>,
}

/// What a world did, for the checks.
#[derive(Debug, Clone)]
pub struct Report {
    /// The world's madsim seed.
    pub seed: u64,
    /// The configuration.
    pub config: WorldConfig,
    /// When each short operation started (resolved from [`Ops`]).
    pub op_times: Vec<Duration>,
    /// When each power loss came (resolved from [`Kills`]).
    pub kill_times: Vec<Duration>,
    /// For each completed short operation: from creating the sentinel to
    /// holding the lock.
    pub waits: Vec<Duration>,
    /// Every runner opening.
    pub opens: Vec<Open>,
    /// Every power loss that hit before the job finished.
    pub kills: Vec<KillRecord>,
    /// The job's output, if it finished.
    pub output: Option<u64>,
    /// The clean run's output.
    pub clean_output: u64,
    /// Harness failures (unexpected errors inside the processes).
    pub errors: Vec<String>,
}

/// Where the job is inside a batch (for the work a power loss destroys).
#[derive(Debug, Clone, Copy)]
struct Batch {
    start: Duration,
    cursor: u64,
    items: u64,
}

/// What the processes share: the disk and the record.
#[derive(Debug)]
struct Shared {
    disk: Arc<SimFs>,
    acked_cursor: u64,
    batch: Option<Batch>,
    committed_cursor: u64,
    ops_done: usize,
    waits: Vec<Duration>,
    opens: Vec<Open>,
    kills: Vec<KillRecord>,
    output: Option<u64>,
    errors: Vec<String>,
}

struct World {
    config: WorldConfig,
    origin: Instant,
    op_times: Vec<Duration>,
    shared: Mutex<Shared>,
}

impl World {
    fn shared(&self) -> MutexGuard<'_, Shared> {
        // A poisoned lock means a process panicked; its record is still the
        // best account of what happened.
        self.shared.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn now(&self) -> Duration {
        Instant::now().saturating_duration_since(self.origin)
    }

    fn disk(&self) -> Arc<SimFs> {
        Arc::clone(&self.shared().disk)
    }

    fn error(&self, what: String) {
        self.shared().errors.push(what);
    }
}

fn sentinel_path() -> PathBuf {
    Path::new(JOB_DIR).join(format!("{JOB_NAME}.yield"))
}

/// Runs one world to its end (the job finished, or a harness error) and
/// returns its record. Prints the seed and the resolved schedules.
pub async fn run_world(config: WorldConfig) -> Report {
    let handle = Handle::current();
    let seed = handle.seed();
    let mut rng = thread_rng();
    let op_times = match &config.ops {
        Ops::At(times) => times.clone(),
        Ops::Random {
            count,
            gap_min,
            gap_max,
        } => {
            let mut at = Duration::ZERO;
            (0..*count)
                .map(|_| {
                    at += rng.gen_range(*gap_min..=*gap_max);
                    at
                })
                .collect()
        }
    };
    let mut kill_times = match &config.kills {
        Kills::At(times) => times.clone(),
        Kills::Random { count } => (0..*count)
            .map(|_| rng.gen_range(config.item_cost..config.job_time()))
            .collect(),
    };
    kill_times.sort();
    println!(
        "madsim world: MADSIM_TEST_SEED={seed} ops at {op_times:?}, power losses at {kill_times:?}"
    );
    let clean = clean_output(config.items, config.checkpoint_every);
    let world = Arc::new(World {
        config: config.clone(),
        origin: Instant::now(),
        op_times: op_times.clone(),
        shared: Mutex::new(Shared {
            disk: Arc::new(SimFs::default()),
            acked_cursor: 0,
            batch: None,
            committed_cursor: 0,
            ops_done: 0,
            waits: Vec::new(),
            opens: Vec::new(),
            kills: Vec::new(),
            output: None,
            errors: Vec::new(),
        }),
    });
    if let Err(e) = &clean {
        world.error(e.clone());
    }
    let job_node = {
        let world = Arc::clone(&world);
        handle
            .create_node()
            .name("job")
            .init(move || job_process(Arc::clone(&world)))
            .build()
    };
    let client_node = {
        let world = Arc::clone(&world);
        handle
            .create_node()
            .name("client")
            .init(move || client_process(Arc::clone(&world)))
            .build()
    };
    for at in &kill_times {
        sleep_until(world.origin + *at).await;
        if world.shared().output.is_some() {
            break;
        }
        handle.kill(job_node.id());
        handle.kill(client_node.id());
        power_loss(&world, *at, rng.r#gen());
        sleep(REBOOT).await;
        handle.restart(job_node.id());
        handle.restart(client_node.id());
    }
    // Every short operation can at most double the job's time; far beyond
    // that the world is stuck (a harness error, not a pass).
    let deadline = world.origin
        + REBOOT * u32::try_from(kill_times.len()).unwrap_or(u32::MAX)
        + (config.job_time() + config.op_cost * 2) * 4
        + config.batch_time_max() * u32::try_from(op_times.len() * 4 + 4).unwrap_or(u32::MAX)
        + op_times.last().copied().unwrap_or_default();
    loop {
        let finished = {
            let shared = world.shared();
            shared.output.is_some() && shared.ops_done == op_times.len()
        };
        if finished {
            break;
        }
        if Instant::now() > deadline {
            world.error("the world did not finish by its deadline".to_owned());
            break;
        }
        sleep(config.poll_interval).await;
    }
    let shared = world.shared();
    Report {
        seed,
        config,
        op_times,
        kill_times,
        waits: shared.waits.clone(),
        opens: shared.opens.clone(),
        kills: shared.kills.clone(),
        output: shared.output,
        clean_output: clean.unwrap_or_default(),
        errors: shared.errors.clone(),
    }
}

/// Cuts the power at `at`: records the job's progress and swaps the disk
/// for its crash image under the world's crash model.
fn power_loss(world: &World, at: Duration, seed: u64) {
    let mut shared = world.shared();
    let done_cursor = match shared.batch {
        Some(batch) => {
            let cost = world.config.item_cost.as_nanos().max(1);
            let elapsed = at.saturating_sub(batch.start).as_nanos();
            let items = u64::try_from(elapsed / cost).unwrap_or(u64::MAX);
            batch.cursor + items.min(batch.items)
        }
        None => shared.committed_cursor,
    };
    shared.kills.push(KillRecord {
        at,
        done_cursor,
        resumed_cursor: None,
    });
    shared.batch = None;
    let image = shared.disk.crash_image(world.config.crash_model, seed);
    shared.disk = Arc::new(image.fs);
}

/// The long job: waits while a sentinel is out, opens the runner (retrying
/// while the lock is held), then steps it, sleeping each batch's virtual
/// cost before the step that processes and commits it.
async fn job_process(world: Arc<World>) {
    if let Err(e) = job_loop(&world).await {
        world.error(format!("job: {e}"));
    }
}

async fn job_loop(world: &World) -> Result<(), String> {
    let config = &world.config;
    loop {
        let disk = world.disk();
        let fs: &SimFs = &disk;
        if fs.exists(&sentinel_path()).map_err(|e| e.to_string())? {
            sleep(config.poll_interval).await;
            continue;
        }
        let clock = WorldClock::new(world.origin, config.item_cost);
        let mut job = HashJob::new(config.items, Some(clock.clone()));
        let mut runner = match Runner::open(fs, JOB_DIR, &mut job, config.runner_config()) {
            Ok(runner) => runner.with_clock(clock.clone()),
            Err(RunError::Locked { .. }) => {
                sleep(config.poll_interval).await;
                continue;
            }
            Err(e) => return Err(e.to_string()),
        };
        let mut cursor = runner.resume_point().map_or(0, |r| r.cursor);
        {
            let mut shared = world.shared();
            let open = Open {
                acked_cursor: shared.acked_cursor,
                resumed_cursor: cursor,
            };
            shared.opens.push(open);
            shared.committed_cursor = cursor;
            if let Some(kill) = shared.kills.last_mut()
                && kill.resumed_cursor.is_none()
            {
                kill.resumed_cursor = Some(cursor);
            }
        }
        loop {
            let items = config.batch_items(cursor);
            clock.begin_batch();
            {
                let mut shared = world.shared();
                shared.batch = Some(Batch {
                    start: world.now(),
                    cursor,
                    items,
                });
                if config.variant == Variant::AckBeforeCommit {
                    shared.acked_cursor = shared.acked_cursor.max(cursor + items);
                }
            }
            sleep(config.item_cost * u32::try_from(items).unwrap_or(u32::MAX)).await;
            let step = runner.step().map_err(|e| e.to_string())?;
            let mut shared = world.shared();
            shared.batch = None;
            match step {
                Step::Committed {
                    cursor: committed, ..
                }
                | Step::Yielded(Outcome::Yielded {
                    cursor: committed, ..
                }) => {
                    if committed != cursor + items {
                        return Err(format!(
                            "the batch from {cursor} committed at {committed}, the world \
                             expected {items} items"
                        ));
                    }
                    cursor = committed;
                    shared.committed_cursor = committed;
                    shared.acked_cursor = shared.acked_cursor.max(committed);
                    if matches!(step, Step::Yielded(_)) {
                        break;
                    }
                }
                Step::Finished(Outcome::Completed { output, .. }) => {
                    shared.output = Some(output);
                    return Ok(());
                }
                other => return Err(format!("unexpected step {other:?}")),
            }
        }
    }
}

/// The short operations: for each, create the sentinel, poll the job lock,
/// read the newest checkpoint while holding it, release, remove the
/// sentinel durably. An operation cut by a power loss is redone after the reboot
/// (it removes the sentinel its first attempt may have left).
async fn client_process(world: Arc<World>) {
    if let Err(e) = client_loop(&world).await {
        world.error(format!("client: {e}"));
    }
}

async fn client_loop(world: &World) -> Result<(), String> {
    let config = &world.config;
    let lock_path = Path::new(JOB_DIR).join(LOCK_FILE_NAME);
    let identity = JobIdentity {
        name: JOB_NAME.to_owned(),
        fingerprint: config.items,
    };
    loop {
        let next = world.shared().ops_done;
        let Some(start) = world.op_times.get(next) else {
            return Ok(());
        };
        sleep_until(world.origin + *start).await;
        let disk = world.disk();
        let fs: &SimFs = &disk;
        fs.create_dir_all(Path::new(JOB_DIR))
            .and_then(|()| fs.open_truncate(&sentinel_path()))
            .and_then(|file| fs.close(file))
            .map_err(|e| format!("creating the sentinel: {e}"))?;
        let asked = world.now();
        let lock = loop {
            match fs.try_lock(&lock_path) {
                Ok(lock) => break lock,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    sleep(config.poll_interval).await;
                }
                Err(e) => return Err(format!("taking the job lock: {e}")),
            }
        };
        let waited = world.now().saturating_sub(asked);
        CheckpointStore::peek_latest(fs, Path::new(JOB_DIR), &identity)
            .map_err(|e| format!("reading the newest checkpoint: {e}"))?;
        sleep(config.op_cost).await;
        // The removal is made durable before the operation counts as done:
        // the runner's commits fsync the job directory, so the sentinel's
        // creation is durable, and an unsynced removal would bring it back
        // after a power loss, with nobody left to remove it (the world found
        // this: the job then waits, or yields at every batch, forever).
        fs.close(lock)
            .and_then(|()| fs.remove_file(&sentinel_path()))
            .and_then(|()| fs.sync_dir(Path::new(JOB_DIR)))
            .map_err(|e| format!("releasing the job: {e}"))?;
        let mut shared = world.shared();
        shared.waits.push(waited);
        shared.ops_done += 1;
    }
}
