//! One case as a type: the disk the next run starts from ([`Case`]), what
//! the oracles remember across runs ([`History`]), and the one place where
//! the end of a run becomes the next run or the case's finding
//! ([`Case::conclude`]). Every mode (a replayed schedule, an exhaustive
//! crash state, a crash during recovery, a sync-EIO sweep, a random
//! schedule) goes through it.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex};

use crashproof_fault::{CrashAt, CrashModel, CrashPoint};

use super::bypass::says_denied;
use super::clean::CleanRun;
use super::digest::state_digest;
use super::images::{Picked, as_taken, pick};
use super::lock::lock;
use super::oracle::{LastCrash, Recovery, check_redo, check_result, check_state};
use super::points::{PointStates, states_at};
use super::run_end::RunEnd;
use super::start::Engine;
use crate::explore::report::violation::{Finding, Oracle};
use crate::explore::vocabulary::error::HarnessError;
use crate::explore::vocabulary::unreached::UnreachedPoint;
use crate::explore::vocabulary::workload::{Progress, StepClock};
use crate::{CrashSource, FaultConfig, SimFs, SimView, StepAction, StepInfo, Trace};

/// How many times a case restarts a run that failed on an injected fault
/// before calling it "did not complete".
pub const FAULT_RESTARTS_MAX: usize = 3;

/// What a case remembers across runs, besides the disk.
#[derive(Debug, Clone)]
pub(crate) struct History {
    /// The oracles' record, journaled by step during a run.
    pub(crate) progress: Progress,
    /// Every step of every run, or `None` when the caller builds no trace
    /// (the exhaustive modes replay a failing case for its trace).
    pub(crate) trace: Option<Trace>,
    pub(crate) last_crash: Option<LastCrash>,
    pub(crate) crashes: u64,
    /// Runs started (clean or resumed).
    pub(crate) runs: u64,
    fault_restarts: usize,
    pub(crate) steps_before_first_crash: Option<u64>,
    /// Content digests of the post-crash states this case checked (since
    /// this history was built), one per crash.
    pub(crate) state_digests: Vec<u64>,
    /// The first crash point a run of this case did not reach.
    pub(crate) unreached: Option<UnreachedPoint>,
    /// The crash points the runs of this case were given, in order.
    pub(crate) taken: Vec<Taken>,
}

/// A crash point a run was given, as the state it selected names it (an
/// `idx=` modulo the count), with the count of states an `idx=` chose from
/// (`None`: a seed, or a point the run did not reach).
pub(crate) type Taken = (CrashPoint, Option<usize>);

impl History {
    /// The history of a case at its start state.
    fn new(progress: Progress, trace: Option<Trace>) -> Self {
        Self {
            progress,
            trace,
            last_crash: None,
            crashes: 0,
            runs: 0,
            fault_restarts: 0,
            steps_before_first_crash: None,
            state_digests: Vec::new(),
            unreached: None,
            taken: Vec::new(),
        }
    }

    /// This history as it was when `steps` steps of its last run had
    /// started, without a trace or digests: where a case that crashes there
    /// goes on from. A pure function of the history, so every crash point
    /// of one run can be explored from it independently.
    pub(crate) fn at_step(&self, steps: u64) -> History {
        History {
            progress: self.progress.as_of(steps),
            trace: None,
            last_crash: self.last_crash,
            crashes: self.crashes,
            runs: self.runs,
            fault_restarts: self.fault_restarts,
            steps_before_first_crash: self.steps_before_first_crash,
            state_digests: Vec::new(),
            unreached: None,
            taken: Vec::new(),
        }
    }

    /// The crash just happened before step `before_step` of the current run
    /// and left `image`: rewind the progress record to that moment, forget
    /// in-memory progress, apply the state oracle (against `clean`'s output
    /// for a job recovery finds completed) and the redo bound.
    fn land(
        &mut self,
        ex: &Engine<'_>,
        clean: &CleanRun,
        before_step: u64,
        image: &SimFs,
        choice: &str,
    ) -> Result<(), Finding> {
        if let Some(trace) = &mut self.trace {
            trace.mark_crash(before_step, choice);
        }
        // A schedule's faults apply to its first run only; images inherit
        // the configuration, so clear it for every later run.
        image.set_faults(FaultConfig::default());
        let mut progress = self.progress.as_of(before_step);
        let processed = progress.crashed();
        self.progress = progress;
        self.crashes += 1;
        self.steps_before_first_crash.get_or_insert(before_step);
        self.state_digests.push(state_digest(image));
        // Inspect a copy so neither inspection's steps nor anything it might
        // write reach the disk the recovery run starts from. A crash image is
        // fully durable, so a drop-unsynced image of it is an exact copy.
        let probe = image.crash_image(CrashModel::DropUnsynced, 0).fs;
        let recovery = check_state(ex.workload(), &probe, &self.progress, &clean.output)?;
        let recovered = match recovery {
            Recovery::Resumes(cursor) => {
                check_redo(
                    ex.workload(),
                    processed,
                    cursor.unwrap_or(0),
                    "recovery would resume",
                )?;
                cursor
            }
            Recovery::Completed => None,
        };
        self.last_crash = Some(LastCrash {
            processed,
            recovered,
            completed: recovery == Recovery::Completed,
        });
        Ok(())
    }
}

/// A case between two runs: the disk the next run starts from, and its
/// history. Always on a real disk: built from the start state or from a
/// crash image, never from a placeholder.
pub(crate) struct Case {
    pub(crate) fs: SimFs,
    pub(crate) history: History,
    /// The output of the run that completed.
    pub(crate) output: Option<String>,
}

/// Where a case goes after a run (or a crash) ended.
pub(crate) enum Next {
    /// It crashed and survived the state oracle: the next run recovers.
    Run(Case),
    /// It ended, with the finding of the oracle that failed, if any.
    Done(Case, Option<Finding>),
}

impl Case {
    /// A case at its start state `fs` (see `Engine::start`); with
    /// `traced`, every run's steps are kept under a heading.
    pub(crate) fn start(fs: SimFs, progress: Progress, traced: bool) -> Case {
        let trace = traced.then(|| {
            let mut trace = Trace::new();
            if let Some(heading) = initial_disk_heading(&fs) {
                trace.append(Trace::new(), &heading);
            }
            trace
        });
        Case {
            fs,
            history: History::new(progress, trace),
            output: None,
        }
    }

    /// A case whose run crashed before `before_step`, leaving `image`;
    /// `history` is the case as it was at that moment
    /// ([`History::at_step`]). The state oracle runs here.
    pub(crate) fn from_crash(
        ex: &Engine<'_>,
        clean: &CleanRun,
        mut history: History,
        before_step: u64,
        image: SimFs,
        choice: &str,
    ) -> Next {
        let landed = history.land(ex, clean, before_step, &image, choice);
        let case = Case {
            fs: image,
            history,
            output: None,
        };
        match landed {
            Ok(()) => Next::Run(case),
            Err(finding) => Next::Done(case, Some(finding)),
        }
    }

    /// The one place the end of a run becomes the next step of its case: a
    /// crash lands (state oracle), a completion meets the result oracle, a
    /// run that failed on an injected fault restarts after a modelled power
    /// loss (at most [`FAULT_RESTARTS_MAX`] times), any other failure or a
    /// panic is a finding.
    pub(crate) fn conclude(mut self, ex: &Engine<'_>, clean: &CleanRun, end: RunEnd) -> Next {
        match end {
            RunEnd::Crashed {
                before_step,
                image,
                choice,
            } => Case::from_crash(ex, clean, self.history, before_step, *image, &choice),
            RunEnd::Completed(c) => {
                let finding =
                    check_result(ex.workload(), clean, &self.fs, self.history.last_crash, &c).err();
                self.output = Some(c.output);
                Next::Done(self, finding)
            }
            RunEnd::Failed(e)
                if self.history.fault_restarts < FAULT_RESTARTS_MAX && ran_into_fault(&self.fs) =>
            {
                // The process exits on the injected error; model the
                // restart pessimistically as a power loss.
                self.history.fault_restarts += 1;
                let steps = self.fs.steps();
                let image = self.fs.crash_image(CrashModel::DropUnsynced, 0);
                let choice = format!(
                    "the run failed on an injected fault ({e}); restarted after a power loss: {}",
                    image.choice
                );
                Case::from_crash(ex, clean, self.history, steps, image.fs, &choice)
            }
            RunEnd::Failed(e) => {
                let message = format!("did not complete: {e}");
                let finding = Finding::new(Oracle::Result, with_bypass_hint(message));
                Next::Done(self, Some(finding))
            }
            RunEnd::Panicked(message) => {
                let message = format!("run {} panicked: {message}", self.history.runs);
                let finding = Finding::new(Oracle::Panic, with_bypass_hint(message));
                Next::Done(self, Some(finding))
            }
        }
    }

    /// Runs the workload once on this case's disk, crashing at `point` if
    /// the run reaches it. A point the run does not reach is remembered
    /// ([`History::unreached`]) and the run ends as it ends.
    pub(crate) fn run(
        &mut self,
        ex: &Engine<'_>,
        point: Option<&CrashPoint>,
    ) -> Result<RunEnd, HarnessError> {
        self.history.runs += 1;
        // An unreached point's message lists the run's failpoints, read
        // from its trace.
        self.fs
            .record_trace(self.history.trace.is_some() || point.is_some());
        let clock = StepClock::new();
        self.history.progress.record_steps(clock.clone());
        type Slot = Arc<Mutex<Option<Result<(u64, Picked), HarnessError>>>>;
        let slot: Slot = Arc::new(Mutex::new(None));
        let hook_slot = Arc::clone(&slot);
        let hook_point = point.cloned();
        let states_max = ex.options().states_enumerated_max();
        let mut hits = 0u32;
        self.fs.set_step_hook(Box::new(move |info, src| {
            clock.set(info.index + 1);
            let Some(point) = &hook_point else {
                return StepAction::Continue;
            };
            let here = match &point.at {
                CrashAt::Step(n) => info.index == *n,
                CrashAt::Failpoint { name, hit } => {
                    let named = info.failpoint == Some(name.as_str());
                    hits += u32::from(named);
                    named && hits == *hit
                }
            };
            if !here {
                return StepAction::Continue;
            }
            let picked = pick(src, point, states_max).map(|picked| (info.index, picked));
            *lock(&hook_slot) = Some(picked);
            StepAction::Crash
        }));
        let ran = catch_unwind(AssertUnwindSafe(|| {
            ex.workload().run(&self.fs, &mut self.history.progress)
        }));
        self.fs.clear_step_hook();
        let captured = lock(&slot).take();
        self.append_run_trace();
        if let Some(captured) = captured {
            let (before_step, picked) = captured?;
            return Ok(self.crashed_at(point, before_step, picked));
        }
        let steps = self.fs.steps();
        if let (Some(p), Ok(Ok(_))) = (point, &ran)
            && p.at == CrashAt::Step(steps)
        {
            // `step:N` with N the run's length: a crash after the last step.
            let picked = pick(&self.fs, p, states_max)?;
            return Ok(self.crashed_at(point, steps, picked));
        }
        if let Some(p) = point {
            self.history.taken.push((p.clone(), None));
        }
        if let Some(p) = point
            && self.history.unreached.is_none()
        {
            let unreached = UnreachedPoint::new(p, self.history.runs, steps, &self.fs.trace());
            self.history.unreached = Some(unreached);
        }
        Ok(RunEnd::of(ran))
    }

    /// The end of a run that crashed at `point` before `before_step`,
    /// leaving the state `picked`; the point is recorded as taken.
    fn crashed_at(
        &mut self,
        point: Option<&CrashPoint>,
        before_step: u64,
        picked: Picked,
    ) -> RunEnd {
        if let Some(p) = point {
            self.history
                .taken
                .push((as_taken(p, picked.states), picked.states));
        }
        RunEnd::Crashed {
            before_step,
            image: Box::new(picked.fs),
            choice: picked.choice,
        }
    }

    /// Runs the workload once without a crash point, calling `observe`
    /// before every step (after the step clock moved to it) with the step
    /// and the state before it. The trace is recorded as the filesystem is
    /// set to ([`SimFs::record_trace`]).
    pub(crate) fn run_observed(
        &mut self,
        ex: &Engine<'_>,
        mut observe: impl FnMut(&StepInfo, &CrashSource<'_>) + Send + 'static,
    ) -> RunEnd {
        self.history.runs += 1;
        let clock = StepClock::new();
        self.history.progress.record_steps(clock.clone());
        self.fs.set_step_hook(Box::new(move |info, src| {
            clock.set(info.index + 1);
            observe(info, src);
            StepAction::Continue
        }));
        let ran = catch_unwind(AssertUnwindSafe(|| {
            ex.workload().run(&self.fs, &mut self.history.progress)
        }));
        self.fs.clear_step_hook();
        self.append_run_trace();
        RunEnd::of(ran)
    }

    /// Runs the workload once without crashing, with a hook that collects
    /// the post-crash states of `model` before every step from `from_step`
    /// on, plus those after the last step if the run completed (taken
    /// before anyone calls `leftovers`). The hook only reads (a snapshot of
    /// each moment, no image), so the run is the one a case without a crash
    /// point makes, and every state collected at step `n` is the one
    /// `step:n` selects.
    pub(crate) fn run_collecting(
        &mut self,
        ex: &Engine<'_>,
        model: CrashModel,
        from_step: u64,
    ) -> (RunEnd, Vec<PointStates>) {
        self.fs.record_trace(self.history.trace.is_some());
        let collected: Arc<Mutex<Vec<PointStates>>> = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&collected);
        let options = ex.options().clone();
        let mut last = None;
        let end = self.run_observed(ex, move |info, src| {
            if info.index >= from_step {
                let snapshot = src.snapshot(last.as_ref());
                last = Some(snapshot.clone());
                let states = states_at(snapshot, model, &options, info.index);
                lock(&sink).push(states);
            }
        });
        let mut points = std::mem::take(&mut *lock(&collected));
        let steps = self.fs.steps();
        if matches!(end, RunEnd::Completed(_)) && steps >= from_step {
            points.push(states_at(self.fs.snapshot(), model, ex.options(), steps));
        }
        (end, points)
    }

    /// Adds the run that just ended to the trace, under its heading.
    fn append_run_trace(&mut self) {
        let runs = self.history.runs;
        let crashes = self.history.crashes;
        if let Some(trace) = &mut self.history.trace {
            // Run 1 follows the initial disk's heading, if the case has one.
            let heading = if runs == 1 && trace.markers().next().is_some() {
                "run 1: from the initial disk".to_string()
            } else if runs == 1 {
                "run 1: fresh filesystem".to_string()
            } else {
                format!("run {runs}: recovery after crash {crashes}")
            };
            trace.append(self.fs.trace(), &heading);
        }
    }
}

impl Next {
    /// Runs the case on to its end: the `i`-th of `points` crashes the
    /// `i`-th further run; a run without a point runs to its end. Ends,
    /// since only a run with a point or a fault restart (bounded) crashes.
    pub(crate) fn finish(
        self,
        ex: &Engine<'_>,
        clean: &CleanRun,
        points: &[CrashPoint],
    ) -> Result<(Case, Option<Finding>), HarnessError> {
        let mut next = self;
        let mut points = points.iter();
        loop {
            match next {
                Next::Done(case, finding) => return Ok((case, finding)),
                Next::Run(mut case) => {
                    let end = case.run(ex, points.next())?;
                    next = case.conclude(ex, clean, end);
                }
            }
        }
    }
}

/// The trace heading that shows what a case's first run started from, or
/// `None` for an empty disk: every file of the initial disk with its size.
fn initial_disk_heading(fs: &SimFs) -> Option<String> {
    let files = fs.files();
    if files.is_empty() {
        return None;
    }
    let listed: Vec<String> = files
        .iter()
        .map(|(path, bytes)| format!("{} ({} bytes)", path.display(), bytes.len()))
        .collect();
    Some(format!(
        "initial disk (durable before run 1): {}",
        listed.join(", ")
    ))
}

/// Whether the run hit an injected fault.
fn ran_into_fault(fs: &SimFs) -> bool {
    fs.faulted_steps() > 0
}

/// `message` of a run that failed, saying so when the failure was a real
/// file the confined run was denied (`bypass.rs`): the run went to the real
/// disk behind the simulator's back.
fn with_bypass_hint(message: String) -> String {
    if says_denied(&message) {
        format!(
            "{message} (a real file was denied to the run: this call bypassed the simulator; \
             write through the `Fs` the run is given)"
        )
    } else {
        message
    }
}
