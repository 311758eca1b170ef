//! A program without progress hooks as a [`Workload`], built from closures:
//! how to run it, and optionally how its recovery reads a post-crash disk,
//! what must hold on every post-crash disk, and what a finished run must
//! not leave. Production code needs no hook: the crash test's closures call
//! it as it is.

use std::fmt;
use std::sync::Arc;

use crashproof_core::fs::Fs;
use crashproof_core::stdfs;

use super::checks::Checks;
use super::workload::{CheckpointId, Completion, Progress, Recovered, Workload, WorkloadError};

/// What a program's recovery finds on a disk ([`ProgramWorkload::recover`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// Nothing to resume from: the program starts over.
    Nothing,
    /// Progress to resume from, as the value the program reports as
    /// committed ([`Reporter::committed`]): a counter, a cursor, a sequence
    /// number. The state oracle requires it is never below the last value
    /// committed before the crash.
    Progress(u64),
    /// The job already completed: the output it published (in the form the
    /// run closure returns). The state oracle requires the clean run's.
    Done(String),
}

/// The lightweight channel a program's run reports through. A program that
/// reports nothing ignores it; one that tells its user "value N is durable"
/// (prints it, returns it to a caller) passes N to
/// [`Reporter::committed`], typically from a callback the production code
/// takes anyway (`on_commit: impl FnMut(u64)`, a no-op or a log line in
/// production).
pub struct Reporter<'p> {
    progress: &'p mut Progress,
}

impl Reporter<'_> {
    /// The program has told its user that `value` is durable: recovery
    /// must never find less from now on (checked on every later post-crash
    /// state, if the workload has a [`ProgramWorkload::recover`]).
    pub fn committed(&mut self, value: u64) {
        self.progress.acknowledge(checkpoint(value));
    }
}

/// A program's committed `value` as the checkpoint the oracles compare.
/// The digest is unused: a program workload reports no attempts, so the
/// state oracle compares the value (as a cursor) only.
fn checkpoint(value: u64) -> CheckpointId {
    CheckpointId {
        cursor: value,
        state_digest: 0,
    }
}

type RunFn = dyn Fn(&dyn Fs, &mut Reporter<'_>) -> Result<String, WorkloadError> + Send + Sync;
type DiskFn = dyn Fn(&dyn Fs) -> Result<(), WorkloadError> + Send + Sync;
type RecoverFn = dyn Fn(&dyn Fs) -> Result<Found, WorkloadError> + Send + Sync;
type PredicateFn = dyn Fn(&dyn Fs, Option<u64>) -> Result<(), String> + Send + Sync;
type LeftoversFn = dyn Fn(&dyn Fs) -> Result<Vec<String>, WorkloadError> + Send + Sync;

/// A program under the explorer, from closures. The explorer runs `run`
/// on a fresh disk (the clean run), crashes it at every step, and from
/// every post-crash state:
///
/// - **always**: recovery must not panic, and `run` resumed there must
///   complete with the clean run's output (so a recovery that fails is
///   caught by the run that resumes);
/// - with [`ProgramWorkload::recover`]: recovery's read path must not fail
///   on any state, must never find less than the last value the program
///   reported committed, and a job it finds done must hold the clean run's
///   output;
/// - with [`ProgramWorkload::check_state`]: your predicate;
/// - with [`ProgramWorkload::leftovers`]: nothing left behind at the end.
///
/// The report lists the checks that ran ([`Checks::describe`]).
#[derive(Clone)]
pub struct ProgramWorkload {
    name: String,
    run: Arc<RunFn>,
    initial_disk: Option<Arc<DiskFn>>,
    recover: Option<Arc<RecoverFn>>,
    predicate: Option<(String, Arc<PredicateFn>)>,
    leftovers: Option<Arc<LeftoversFn>>,
    /// Every closure runs inside `stdfs::with_fs(fs, ..)`
    /// ([`ProgramWorkload::std_fs`]).
    std_fs: bool,
}

impl ProgramWorkload {
    /// The program named `name` whose one run is `run`: it runs from
    /// whatever the disk holds to completion and returns its output (what
    /// the result oracle compares; make it canonical). It must return, not
    /// panic, on any filesystem error: the simulator's crash is one.
    pub fn new<E: fmt::Display>(
        name: impl Into<String>,
        run: impl Fn(&dyn Fs, &mut Reporter<'_>) -> Result<String, E> + Send + Sync + 'static,
    ) -> Self {
        Self {
            name: name.into(),
            run: Arc::new(move |fs, reporter| run(fs, reporter).map_err(program_error)),
            initial_disk: None,
            recover: None,
            predicate: None,
            leftovers: None,
            std_fs: false,
        }
    }

    /// A program written with `std::fs`'s shape (`crashproof_core::stdfs`
    /// in place of `std::fs`), named `name`, whose one run is `run`: every
    /// clean, crashed and resumed run runs inside
    /// `stdfs::with_fs(&simulated_disk, ..)`, so the program's own `fs::`
    /// and `File` calls reach the simulated disk. So do the optional
    /// closures ([`ProgramWorkload::recover`], `check_state`, `leftovers`,
    /// `initial_disk`): they may call the program's `stdfs` code too, or
    /// use the `fs` they are given. Otherwise as [`ProgramWorkload::new`].
    ///
    /// The scope is per thread: a program that spawns threads must enter
    /// it in each (see `stdfs::with_fs`).
    pub fn std_fs<E: fmt::Display>(
        name: impl Into<String>,
        run: impl Fn(&mut Reporter<'_>) -> Result<String, E> + Send + Sync + 'static,
    ) -> Self {
        let mut workload = Self::new(name, move |_fs, reporter| run(reporter));
        workload.std_fs = true;
        workload
    }

    /// Runs `f` inside the `stdfs` scope of `fs` if this is a
    /// [`ProgramWorkload::std_fs`] program, else as is.
    fn in_scope<R>(&self, fs: &dyn Fs, f: impl FnOnce() -> R) -> R {
        if self.std_fs {
            stdfs::with_fs(fs, f)
        } else {
            f()
        }
    }

    /// What an earlier process left on disk before the first run (see
    /// [`Workload::initial_disk`]; fsync what must be durable).
    pub fn initial_disk<E: fmt::Display>(
        mut self,
        write: impl Fn(&dyn Fs) -> Result<(), E> + Send + Sync + 'static,
    ) -> Self {
        self.initial_disk = Some(Arc::new(move |fs| write(fs).map_err(program_error)));
        self
    }

    /// The program's recovery read path, without changing anything: what
    /// it finds on a disk. Usually the function the program itself calls
    /// at start-up, mapped to [`Found`].
    pub fn recover<E: fmt::Display>(
        mut self,
        recover: impl Fn(&dyn Fs) -> Result<Found, E> + Send + Sync + 'static,
    ) -> Self {
        self.recover = Some(Arc::new(move |fs| recover(fs).map_err(program_error)));
        self
    }

    /// A predicate every post-crash state must satisfy, given the last
    /// value the program reported committed before the crash (`None`:
    /// nothing yet). `what` says what it checks, for the report.
    pub fn check_state(
        mut self,
        what: impl Into<String>,
        predicate: impl Fn(&dyn Fs, Option<u64>) -> Result<(), String> + Send + Sync + 'static,
    ) -> Self {
        self.predicate = Some((what.into(), Arc::new(predicate)));
        self
    }

    /// Lists what a finished run left behind and should not have (temp
    /// files, say); a completed run must leave nothing.
    pub fn leftovers<E: fmt::Display>(
        mut self,
        leftovers: impl Fn(&dyn Fs) -> Result<Vec<String>, E> + Send + Sync + 'static,
    ) -> Self {
        self.leftovers = Some(Arc::new(move |fs| leftovers(fs).map_err(program_error)));
        self
    }

    fn found(&self, fs: &dyn Fs) -> Result<Found, WorkloadError> {
        match &self.recover {
            Some(recover) => self.in_scope(fs, || recover(fs)),
            None => Ok(Found::Nothing),
        }
    }
}

impl fmt::Debug for ProgramWorkload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProgramWorkload")
            .field("name", &self.name)
            .field("checks", &self.checks())
            .field("std_fs", &self.std_fs)
            .finish_non_exhaustive()
    }
}

/// A program's own error, as the explorer reports it.
fn program_error(e: impl fmt::Display) -> WorkloadError {
    WorkloadError::core(e)
}

impl Workload for ProgramWorkload {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn initial_disk(&self, fs: &dyn Fs, progress: &mut Progress) -> Result<(), WorkloadError> {
        let _ = progress;
        match &self.initial_disk {
            Some(write) => self.in_scope(fs, || write(fs)),
            None => Ok(()),
        }
    }

    fn run(&self, fs: &dyn Fs, progress: &mut Progress) -> Result<Completion, WorkloadError> {
        let output = self.in_scope(fs, || (self.run)(fs, &mut Reporter { progress }))?;
        Ok(Completion {
            output,
            resumed_from: None,
        })
    }

    fn inspect(&self, fs: &dyn Fs) -> Result<Recovered, WorkloadError> {
        let checkpoint = match self.found(fs)? {
            Found::Progress(value) => Some(checkpoint(value)),
            Found::Nothing | Found::Done(_) => None,
        };
        Ok(Recovered { checkpoint })
    }

    fn completed(&self, fs: &dyn Fs) -> Result<Option<String>, WorkloadError> {
        match self.found(fs)? {
            Found::Done(output) => Ok(Some(output)),
            Found::Nothing | Found::Progress(_) => Ok(None),
        }
    }

    /// Unbounded: a program without hooks does not report the items it
    /// processed ([`Checks::redo_bound`] is off).
    fn redo_bound(&self) -> u64 {
        u64::MAX
    }

    fn leftovers(&self, fs: &dyn Fs) -> Result<Vec<String>, WorkloadError> {
        match &self.leftovers {
            Some(leftovers) => self.in_scope(fs, || leftovers(fs)),
            None => Ok(Vec::new()),
        }
    }

    fn checks(&self) -> Checks {
        Checks {
            attempts: false,
            acknowledgements: self.recover.is_some(),
            recovery_never_fails: self.recover.is_some(),
            resume_cursor: false,
            redo_bound: false,
            leftovers: self.leftovers.is_some(),
            state_predicate: self.predicate.as_ref().map(|(what, _)| what.clone()),
        }
    }

    fn state_predicate(&self, fs: &dyn Fs, progress: &Progress) -> Result<(), String> {
        match &self.predicate {
            Some((_, predicate)) => self.in_scope(fs, || {
                predicate(fs, progress.acknowledged().map(|a| a.cursor))
            }),
            None => Ok(()),
        }
    }
}
