//! Any program as a [`Workload`]: each run serves the explorer's `&dyn Fs`
//! on a mount and waits for the program, so the explorer's cases, oracles,
//! dedup, two crashes, sync-EIO sweep, random mode and replay apply to it
//! unchanged.
//!
//! The contract is `crashproof kill`'s (`docs/real-process.md`), so a
//! program instrumented for one runs under the other unchanged:
//!
//! - `{dir}` in its arguments and `CRASHPROOF_DIR` name its data directory,
//!   here the mount; it must keep its state there (a run that makes no step
//!   on the mount is refused by the caller's preflight);
//! - descriptor 3 (`CRASHPROOF_PROGRESS_FD`) may carry one line per
//!   acknowledged commit, written after the commit returned and before the
//!   next filesystem call; the last acknowledged line before a crash is
//!   handed to the check command in `CRASHPROOF_ACKED` (a line that is a
//!   decimal number is a committed value: the largest one counts);
//! - stdout is its result: a resumed run must print the clean run's;
//! - `--check '<cmd>'` (`sh -c`, `{dir}` and `CRASHPROOF_DIR` naming the
//!   mount) must exit 0 on every post-crash state (the state oracle: there
//!   it decides whether an acknowledged commit was lost) and on the state
//!   every completed run leaves (the result oracle).

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use crashproof_core::fs::Fs;
use crashproof_kill::program::{DIR_PLACEHOLDER, EmptyProgram, Program};
use crashproof_sim::explore::{
    CheckpointId, Checks, Completion, Progress, Recovered, Sandbox, Workload, WorkloadError,
};
use xxhash_rust::xxh3::xxh3_64;

use crate::pool::MountPool;
use crate::run::{Ended, RunEnd, RunSpec, run_on_mount};
use crate::snapshot::Snapshot;
use crate::unmodelled::Unmodelled;

/// Environment variable of a check command: the last progress line the
/// program wrote before the crash (unset when it wrote none).
pub const ACKED_ENV: &str = "CRASHPROOF_ACKED";

/// The timeout of each run until the caller sets one from the clean run.
pub const RUN_TIMEOUT_DEFAULT: Duration = Duration::from_secs(300);

/// What a check verdict depends on: the post-crash tree's digest and the
/// acknowledged progress line the check is told.
type VerdictKey = (u64, Option<String>);

/// Work done, for the report's numbers (not part of any verdict).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Program runs (clean and resumed).
    pub program_runs: u64,
    /// Check command runs.
    pub check_runs: u64,
    /// Check verdicts answered from the cache (the same post-crash tree
    /// with the same acknowledged line).
    pub check_cache_hits: u64,
    /// Wall time of every program run, summed.
    pub program_time: Duration,
    /// Wall time of every check run, summed.
    pub check_time: Duration,
    /// FUSE requests served, summed.
    pub requests: u64,
}

/// A program (any language) explored through a FUSE mount of the
/// simulated disk.
pub struct CommandWorkload {
    program: Program,
    check: Option<String>,
    compare_stdout: bool,
    pool: MountPool,
    /// Real directories the program may write besides its mounts.
    writable: Vec<PathBuf>,
    run_timeout_ms: AtomicU64,
    unmodelled: Mutex<Unmodelled>,
    /// Progress lines by the digest their acknowledgement carries.
    acked_lines: Mutex<BTreeMap<u64, String>>,
    /// Check verdicts by (post-crash tree, acknowledged line): a pure
    /// function of its key, so sharing it between threads changes nothing.
    check_verdicts: Mutex<BTreeMap<VerdictKey, Result<(), String>>>,
    /// With `capturing`: the tree of the last post-crash state checked.
    captured: Option<Mutex<Option<Snapshot>>>,
    stats: Mutex<Stats>,
}

impl fmt::Debug for CommandWorkload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CommandWorkload")
            .field("program", &self.program)
            .field("check", &self.check)
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl CommandWorkload {
    /// The program `argv` (with `{dir}` placeholders), run on mounts of
    /// `pool`, its stdout compared with the clean run's, no check command.
    pub fn new(argv: Vec<String>, pool: MountPool) -> Result<Self, EmptyProgram> {
        Ok(Self {
            program: Program::new(argv)?,
            check: None,
            compare_stdout: true,
            pool,
            writable: Vec::new(),
            run_timeout_ms: AtomicU64::new(RUN_TIMEOUT_DEFAULT.as_millis() as u64),
            unmodelled: Mutex::new(Unmodelled::default()),
            acked_lines: Mutex::new(BTreeMap::new()),
            check_verdicts: Mutex::new(BTreeMap::new()),
            captured: None,
            stats: Mutex::new(Stats::default()),
        })
    }

    /// Runs `command` (`sh -c`) on every post-crash state and every final
    /// state; it must exit 0.
    pub fn with_check(mut self, command: impl Into<String>) -> Self {
        self.check = Some(command.into());
        self
    }

    /// Lets the program (and the check) write beneath these real
    /// directories too — scratch space it needs, never its data, whose
    /// writes are then neither crashed nor checked. Every other real write
    /// outside its mounts is refused (`EACCES`) and reported as a bypass of
    /// the simulator.
    pub fn writable_beneath(mut self, dirs: Vec<PathBuf>) -> Self {
        self.writable = dirs;
        self
    }

    /// Does not compare stdout (every run's output is empty to the oracle).
    pub fn ignoring_stdout(mut self) -> Self {
        self.compare_stdout = false;
        self
    }

    /// Records the tree of every post-crash state the state oracle sees;
    /// [`CommandWorkload::captured`] gives the last (what `materialize`
    /// writes out).
    pub fn capturing(mut self) -> Self {
        self.captured = Some(Mutex::new(None));
        self
    }

    /// The tree of the last post-crash state checked (with `capturing`).
    pub fn captured(&self) -> Option<Snapshot> {
        self.captured.as_ref().and_then(|c| lock(c).clone())
    }

    /// Kills every later run that takes longer than `timeout`.
    pub fn set_run_timeout(&self, timeout: Duration) {
        let ms = u64::try_from(timeout.as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        self.run_timeout_ms.store(ms, Ordering::Relaxed);
    }

    fn run_timeout(&self) -> Duration {
        Duration::from_millis(self.run_timeout_ms.load(Ordering::Relaxed))
    }

    /// The program's command line as given.
    pub fn argv(&self) -> &[String] {
        self.program.argv()
    }

    /// The check command, if any.
    pub fn check_command(&self) -> Option<&str> {
        self.check.as_deref()
    }

    /// Whether stdout is compared.
    pub fn compares_stdout(&self) -> bool {
        self.compare_stdout
    }

    /// Mounts one mount per thread that will run the program at once
    /// (`threads`), before the exploration: see [`MountPool::warm`].
    pub fn warm_mounts(&self, threads: usize) -> Result<(), crate::mount::MountError> {
        self.pool.warm(threads)
    }

    /// The private directory holding this workload's mount points (empty
    /// of mounts once the workload is dropped).
    pub fn mount_base(&self) -> std::path::PathBuf {
        self.pool.base().to_path_buf()
    }

    /// What every run so far did that the model refused or did not keep.
    pub fn unmodelled(&self) -> Unmodelled {
        lock(&self.unmodelled).clone()
    }

    /// The work done so far.
    pub fn stats(&self) -> Stats {
        *lock(&self.stats)
    }

    /// The acknowledgement a progress line stands for: a number is a
    /// committed value, any other line counts as the `ordinal`-th commit
    /// of its run; the digest names the line's text.
    fn acknowledgement(&self, line: &str, ordinal: u64) -> CheckpointId {
        let digest = xxh3_64(line.as_bytes());
        lock(&self.acked_lines)
            .entry(digest)
            .or_insert_with(|| line.to_string());
        CheckpointId {
            cursor: line.trim().parse().unwrap_or(ordinal),
            state_digest: digest,
        }
    }

    /// Runs `spec` with a pooled mount serving `fs`.
    fn run_spec(
        &self,
        fs: &dyn Fs,
        argv: impl FnOnce(&std::path::Path) -> Vec<String>,
        envs: Vec<(String, OsString)>,
        on_line: &mut dyn FnMut(&str),
    ) -> Result<RunEnd, WorkloadError> {
        let mount = self
            .pool
            .take()
            .map_err(|e| WorkloadError::Core(e.to_string()))?;
        let spec = RunSpec {
            argv: argv(mount.dir()),
            envs,
            timeout: self.run_timeout(),
        };
        let end = run_on_mount(&mount, fs, &spec, self.pool.cleanup(), on_line)
            .map_err(|e| WorkloadError::Core(e.to_string()))?;
        lock(&self.unmodelled).add(&end.unmodelled);
        Ok(end)
    }

    /// The check command on `fs`, told the acknowledged line: `Err` says
    /// how it failed.
    fn run_check(&self, fs: &dyn Fs, acked: Option<&str>) -> Result<(), String> {
        let Some(check) = &self.check else {
            return Ok(());
        };
        let envs = acked
            .map(|line| vec![(ACKED_ENV.to_string(), OsString::from(line))])
            .unwrap_or_default();
        let end = self
            .run_spec(
                fs,
                |dir| {
                    let command = check.replace(DIR_PLACEHOLDER, &dir.to_string_lossy());
                    vec!["sh".to_string(), "-c".to_string(), command]
                },
                envs,
                &mut |_| {},
            )
            .map_err(|e| format!("could not run the check command `{check}`: {e}"))?;
        {
            let mut stats = lock(&self.stats);
            stats.check_runs += 1;
            stats.check_time += end.elapsed;
            stats.requests += end.requests;
        }
        match end.ended {
            Ended::Exited(0) => Ok(()),
            ended => Err(format!(
                "check command `{check}` {}{}",
                describe(ended),
                last_words(&end)
            )),
        }
    }

    /// The acknowledged line `progress` holds, if any.
    fn acked_line(&self, progress: &Progress) -> Option<String> {
        let ack = progress.acknowledged()?;
        lock(&self.acked_lines).get(&ack.state_digest).cloned()
    }
}

/// How a run ended, as the end of a sentence.
fn describe(ended: Ended) -> String {
    match ended {
        Ended::Exited(code) => format!("exited with code {code}"),
        Ended::Signaled(signal) => format!("was killed by signal {signal}"),
        Ended::TimedOut => "ran past its timeout and was killed".to_string(),
        Ended::Crashed => "saw the disk crash".to_string(),
    }
}

/// `: <the last line of stderr (else stdout)>`, clipped, or nothing.
fn last_words(end: &RunEnd) -> String {
    let last = |bytes: &[u8]| {
        String::from_utf8_lossy(bytes)
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .map(|l| l.trim().to_string())
    };
    match last(&end.stderr).or_else(|| last(&end.stdout)) {
        Some(line) => {
            let clipped: String = line.chars().take(200).collect();
            format!(": {clipped}")
        }
        None => String::new(),
    }
}

impl Workload for CommandWorkload {
    fn name(&self) -> String {
        shlex::try_join(self.program.argv().iter().map(String::as_str))
            .unwrap_or_else(|_| self.program.argv().join(" "))
    }

    /// The program writes its state through the mounts, which reach the
    /// simulator (and beneath [`CommandWorkload::writable_beneath`]); any
    /// other real write of a run is refused and reported.
    fn sandbox(&self) -> Sandbox {
        let mut beneath = vec![self.pool.base().to_path_buf()];
        beneath.extend(self.writable.iter().cloned());
        Sandbox::WritableBeneath(beneath)
    }

    fn run(&self, fs: &dyn Fs, progress: &mut Progress) -> Result<Completion, WorkloadError> {
        let mut ordinal = 0u64;
        let end = self.run_spec(
            fs,
            |dir| self.program.argv_for(dir),
            Vec::new(),
            &mut |line| {
                ordinal += 1;
                progress.acknowledge(self.acknowledgement(line, ordinal));
            },
        )?;
        {
            let mut stats = lock(&self.stats);
            stats.program_runs += 1;
            stats.program_time += end.elapsed;
            stats.requests += end.requests;
        }
        if let Some(crashed) = end.crashed {
            return Err(WorkloadError::Fs(crashed));
        }
        match end.ended {
            Ended::Exited(0) => Ok(Completion {
                output: if self.compare_stdout {
                    String::from_utf8_lossy(&end.stdout).into_owned()
                } else {
                    String::new()
                },
                resumed_from: None,
            }),
            ended => Err(WorkloadError::Core(format!(
                "the program {}{}",
                describe(ended),
                last_words(&end)
            ))),
        }
    }

    /// Recovery is the program's own business: the check command judges
    /// the state (in [`Workload::state_predicate`]), the resumed run its
    /// result.
    fn inspect(&self, _fs: &dyn Fs) -> Result<Recovered, WorkloadError> {
        Ok(Recovered { checkpoint: None })
    }

    fn redo_bound(&self) -> u64 {
        u64::MAX
    }

    /// The check command on the state a completed run left: one line
    /// saying how it failed, or nothing.
    fn leftovers(&self, fs: &dyn Fs) -> Result<Vec<String>, WorkloadError> {
        Ok(match self.run_check(fs, None) {
            Ok(()) => Vec::new(),
            Err(message) => vec![format!("(final state) {message}")],
        })
    }

    fn checks(&self) -> Checks {
        let predicate = match (&self.check, &self.captured) {
            (Some(check), _) => Some(format!(
                "check command `{check}` exits 0 (given the last acknowledged progress line in \
                 {ACKED_ENV})"
            )),
            (None, Some(_)) => Some("the post-crash tree is recorded".to_string()),
            (None, None) => None,
        };
        Checks {
            attempts: false,
            acknowledgements: false,
            recovery_never_fails: false,
            resume_cursor: false,
            redo_bound: false,
            // "No leftovers" is the check command on every final state.
            leftovers: self.check.is_some(),
            state_predicate: predicate,
        }
    }

    fn state_predicate(&self, fs: &dyn Fs, progress: &Progress) -> Result<(), String> {
        let needs_tree = self.captured.is_some() || self.check.is_some();
        if !needs_tree {
            return Ok(());
        }
        // `fs` is the explorer's copy of the post-crash state: reading it
        // is no step of any run.
        let tree =
            Snapshot::of(fs).map_err(|e| format!("cannot read the post-crash state: {e}"))?;
        let digest = tree.digest();
        if let Some(captured) = &self.captured {
            *lock(captured) = Some(tree);
        }
        if self.check.is_none() {
            return Ok(());
        }
        let acked = self.acked_line(progress);
        let key = (digest, acked.clone());
        if let Some(verdict) = lock(&self.check_verdicts).get(&key) {
            lock(&self.stats).check_cache_hits += 1;
            return verdict.clone();
        }
        let verdict = self.run_check(fs, acked.as_deref());
        lock(&self.check_verdicts).insert(key, verdict.clone());
        verdict
    }
}
