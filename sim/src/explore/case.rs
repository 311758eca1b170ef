//! One case: run the workload, crash where the schedule says, check the
//! state oracle on every post-crash state and the result oracle at the end.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex};

use crashproof_fault::{CrashAt, CrashPoint, KillSchedule};

use super::error::HarnessError;
use super::images::pick;
use super::options::ExploreOptions;
use super::oracle::{Finding, check_redo, check_result, check_state};
use super::violation::{Oracle, Violation, replay_command};
use super::workload::{Completion, Progress, StepClock, Workload, WorkloadError};
use crate::{CrashModel, FaultConfig, SimConfig, SimFs, SimView, StepAction, Trace};

/// How many times a case restarts a run that failed on an injected fault
/// before calling it "did not complete".
pub const MAX_FAULT_RESTARTS: usize = 3;

/// Drives one [`Workload`] on [`SimFs`] under kill schedules.
pub struct Explorer<'w> {
    workload: &'w dyn Workload,
    options: ExploreOptions,
}

/// The reference run: no crash, no fault.
#[derive(Debug, Clone)]
pub struct CleanRun {
    /// The workload's output; every resumed run must reproduce it.
    pub output: String,
    /// Filesystem steps the clean run took.
    pub steps: u64,
    /// Every step of the clean run.
    pub trace: Trace,
    /// The failpoint names the clean run passed, sorted, deduplicated.
    pub failpoints: Vec<String>,
}

/// What one case did.
#[derive(Debug, Clone)]
pub struct CaseOutcome {
    /// Every step of every run, crash points marked, runs under headings.
    pub trace: Trace,
    /// The final run's output, if it completed.
    pub output: Option<String>,
    /// The first oracle failure, if any (the case stops there).
    pub violation: Option<Violation>,
    /// Crash points reached (= post-crash states checked).
    pub crashes: u64,
    /// Runs started (clean or resumed).
    pub runs: u64,
}

/// How one run of a case ended.
pub(crate) enum RunEnd {
    Crashed {
        before_step: u64,
        image: Box<SimFs>,
        choice: String,
    },
    Completed(Completion),
    Failed(WorkloadError),
}

/// The evolving state of one case between runs.
pub(crate) struct CaseState {
    pub(crate) fs: SimFs,
    pub(crate) progress: Progress,
    /// `None` when the caller does not want a trace (the exhaustive pass
    /// only builds one for a failing case, by replaying it).
    pub(crate) trace: Option<Trace>,
    /// `processed_max` forgotten at the last crash, for the redo bound.
    pub(crate) last_crash_processed: Option<u64>,
    /// The cursor `inspect` said recovery would resume at after the last
    /// crash (`None`: start over).
    pub(crate) last_crash_recovered: Option<u64>,
    pub(crate) crashes: u64,
    pub(crate) runs: u64,
    /// The output of the run that completed.
    pub(crate) output: Option<String>,
}

impl<'w> Explorer<'w> {
    /// An explorer of `workload` with `options`.
    pub fn new(workload: &'w dyn Workload, options: ExploreOptions) -> Self {
        Self { workload, options }
    }

    /// The workload under exploration.
    pub fn workload(&self) -> &'w dyn Workload {
        self.workload
    }

    /// The options in force.
    pub fn options(&self) -> &ExploreOptions {
        &self.options
    }

    pub(crate) fn config(&self, faults: FaultConfig) -> SimConfig {
        SimConfig {
            seed: self.options.seed,
            sector_size_bytes: self.options.sector_size_bytes,
            faults,
        }
    }

    /// The disk and progress record every run of a case starts from: a new
    /// [`SimFs`] on which the workload's [`Workload::initial_disk`] wrote
    /// what an earlier process left behind, reduced to exactly its durable
    /// state (a drop-unsynced crash image: step counter 0, empty trace), so
    /// step indexes count from the first step of the real run and nothing
    /// the initial disk did is a crash point. `faults` apply from the real
    /// run's step 0 on, never to the initial disk. The progress holds the
    /// earlier process's acknowledgements (before step 0 of any journal)
    /// and none of its in-memory progress, which died with it.
    pub(crate) fn start(&self, faults: FaultConfig) -> Result<(SimFs, Progress), HarnessError> {
        let scratch = SimFs::new(self.config(FaultConfig::default()));
        let mut progress = Progress::new();
        let failed = |reason: String| HarnessError::InitialDiskFailed {
            workload: self.workload.name(),
            reason,
        };
        match catch_unwind(AssertUnwindSafe(|| {
            self.workload.initial_disk(&scratch, &mut progress)
        })) {
            Err(payload) => {
                return Err(failed(format!(
                    "panicked: {}",
                    panic_message(payload.as_ref())
                )));
            }
            Ok(Err(e)) => return Err(failed(e.to_string())),
            Ok(Ok(())) => {}
        }
        progress.crashed();
        let fs = scratch.crash_image(CrashModel::DropUnsynced, 0).fs;
        fs.set_faults(faults);
        Ok((fs, progress))
    }

    /// Runs the workload once from its start state (a fresh filesystem plus
    /// its [`Workload::initial_disk`], if any) without crashes. It must
    /// complete, without panicking and without leftovers, or the exploration
    /// cannot be trusted ([`HarnessError::CleanRunFailed`];
    /// [`HarnessError::InitialDiskFailed`] if the initial disk fails).
    pub fn clean_run(&self) -> Result<CleanRun, HarnessError> {
        let (fs, mut progress) = self.start(FaultConfig::default())?;
        let ran = catch_unwind(AssertUnwindSafe(|| self.workload.run(&fs, &mut progress)));
        self.finish_clean_run(&fs, ran)
    }

    pub(crate) fn finish_clean_run(
        &self,
        fs: &SimFs,
        ran: std::thread::Result<Result<Completion, WorkloadError>>,
    ) -> Result<CleanRun, HarnessError> {
        let failed = |reason: String| HarnessError::CleanRunFailed {
            workload: self.workload.name(),
            reason,
        };
        let completion = match ran {
            Err(payload) => {
                return Err(failed(format!(
                    "panicked: {}",
                    panic_message(payload.as_ref())
                )));
            }
            Ok(Err(e)) => return Err(failed(e.to_string())),
            Ok(Ok(c)) => c,
        };
        // Read the run's length and trace before `leftovers` adds its own steps.
        let (steps, trace) = (fs.steps(), fs.trace());
        match self.workload.leftovers(fs) {
            Ok(left) if left.is_empty() => {}
            Ok(left) => return Err(failed(format!("left files behind: {}", left.join(", ")))),
            Err(e) => return Err(failed(format!("listing leftovers failed: {e}"))),
        }
        let mut failpoints: Vec<String> = trace
            .entries
            .iter()
            .filter_map(|e| e.step.failpoint)
            .map(str::to_string)
            .collect();
        failpoints.sort();
        failpoints.dedup();
        Ok(CleanRun {
            output: completion.output,
            steps,
            trace,
            failpoints,
        })
    }

    /// Runs the clean run, then `schedule` (what `crashproof replay` does).
    pub fn replay(&self, schedule: &KillSchedule) -> Result<(CleanRun, CaseOutcome), HarnessError> {
        let clean = self.clean_run()?;
        let outcome = self.run_case(&clean, schedule)?;
        Ok((clean, outcome))
    }

    /// Runs one case from the start state: the `i`-th crash point applies
    /// to the `i`-th run; after the last one the workload runs to completion.
    /// A point a run never reaches (a step past its end, a failpoint hit it
    /// does not make) lets that run complete, and later points are unused.
    /// A run that fails on an injected fault (see `Fault`) is restarted
    /// after a modelled power loss, at most [`crate::explore::MAX_FAULT_RESTARTS`] times; so
    /// at most `points + 1 + MAX_FAULT_RESTARTS` runs start and a case
    /// always ends.
    pub fn run_case(
        &self,
        clean: &CleanRun,
        schedule: &KillSchedule,
    ) -> Result<CaseOutcome, HarnessError> {
        let faults = FaultConfig {
            sync_eio_at_steps: schedule.sync_eio_steps().collect(),
            ..FaultConfig::default()
        };
        let (fs, progress) = self.start(faults)?;
        let mut trace = Trace::new();
        if let Some(heading) = initial_disk_heading(&fs) {
            trace.append(Trace::new(), &heading);
        }
        let mut st = CaseState {
            fs,
            progress,
            trace: Some(trace),
            last_crash_processed: None,
            last_crash_recovered: None,
            crashes: 0,
            runs: 0,
            output: None,
        };
        let mut fault_restarts = 0;
        let mut point_index = 0;
        let finding = loop {
            let point = schedule.points.get(point_index);
            point_index += 1;
            match self.run_once(&mut st, point)? {
                Err(finding) => break Some(finding),
                Ok(RunEnd::Crashed {
                    before_step,
                    image,
                    choice,
                }) => {
                    if let Err(finding) = self.after_crash(&mut st, before_step, *image, &choice) {
                        break Some(finding);
                    }
                }
                Ok(RunEnd::Completed(c)) => {
                    let verdict = check_result(self.workload, clean, &st, &c).err();
                    st.output = Some(c.output);
                    break verdict;
                }
                Ok(RunEnd::Failed(e))
                    if fault_restarts < MAX_FAULT_RESTARTS && ran_into_fault(&st.fs) =>
                {
                    // The process exits on the injected error; model the
                    // restart pessimistically as a power loss.
                    fault_restarts += 1;
                    let steps = st.fs.steps();
                    let image = st.fs.crash_image(CrashModel::DropUnsynced, 0);
                    let choice = format!(
                        "the run failed on an injected fault ({e}); restarted after a power loss: {}",
                        image.choice
                    );
                    if let Err(finding) = self.after_crash(&mut st, steps, image.fs, &choice) {
                        break Some(finding);
                    }
                }
                Ok(RunEnd::Failed(e)) => {
                    break Some(Finding::new(
                        Oracle::Result,
                        format!("did not complete: {e}"),
                    ));
                }
            }
            if point_index > schedule.points.len() + 1 + fault_restarts {
                break Some(Finding::new(
                    Oracle::Result,
                    "did not complete within the bounded number of runs",
                ));
            }
        };
        let trace = st.trace.take().unwrap_or_default();
        let violation = finding.map(|f| self.violation(f, schedule, trace.clone()));
        Ok(CaseOutcome {
            trace,
            output: st.output,
            violation,
            crashes: st.crashes,
            runs: st.runs,
        })
    }

    /// Turns a finding into a full [`Violation`].
    pub(crate) fn violation(
        &self,
        finding: Finding,
        schedule: &KillSchedule,
        trace: Trace,
    ) -> Violation {
        let name = self.workload.name();
        let schedule = schedule.to_string();
        let mut extra = Vec::new();
        let defaults = ExploreOptions::default();
        if self.options.states_per_point_max != defaults.states_per_point_max {
            extra.push(format!("--cap {}", self.options.states_per_point_max));
        }
        if self.options.sector_size_bytes != defaults.sector_size_bytes {
            extra.push(format!("--sector-size {}", self.options.sector_size_bytes));
        }
        let replay = replay_command(&name, &schedule, self.options.seed, &extra.join(" "));
        Violation {
            oracle: finding.oracle,
            workload: name,
            schedule,
            seed: self.options.seed,
            message: finding.message,
            trace,
            replay,
        }
    }

    /// Runs the workload once on `st.fs`, crashing at `point` if it is
    /// reached. `Err(finding)` for a panic.
    pub(crate) fn run_once(
        &self,
        st: &mut CaseState,
        point: Option<&CrashPoint>,
    ) -> Result<Result<RunEnd, Finding>, HarnessError> {
        st.runs += 1;
        let clock = StepClock::new();
        st.progress.record_steps(clock.clone());
        type Slot = Arc<Mutex<Option<Result<(u64, SimFs, String), HarnessError>>>>;
        let slot: Slot = Arc::new(Mutex::new(None));
        let hook_slot = Arc::clone(&slot);
        let hook_point = point.cloned();
        let cap = self.options.states_per_point_max;
        let mut hits = 0u32;
        st.fs.set_step_hook(Box::new(move |info, src| {
            clock.set(info.index + 1);
            let Some(point) = &hook_point else {
                return StepAction::Continue;
            };
            let here = match &point.at {
                CrashAt::Step(n) => info.index == *n,
                CrashAt::Failpoint { name, hit } => {
                    if info.failpoint == Some(name.as_str()) {
                        hits += 1;
                    }
                    info.failpoint == Some(name.as_str()) && hits == *hit
                }
            };
            if !here {
                return StepAction::Continue;
            }
            let picked = pick(src, point, cap).map(|(fs, choice)| (info.index, fs, choice));
            *lock(&hook_slot) = Some(picked);
            StepAction::Crash
        }));
        let ran = catch_unwind(AssertUnwindSafe(|| {
            self.workload.run(&st.fs, &mut st.progress)
        }));
        st.fs.clear_step_hook();
        let captured = lock(&slot).take();
        if let Some(trace) = &mut st.trace {
            // Run 1 follows the initial disk's heading, if the case has one.
            let heading = if st.runs == 1 && trace.markers().next().is_some() {
                "run 1: from the initial disk".to_string()
            } else if st.runs == 1 {
                "run 1: fresh filesystem".to_string()
            } else {
                format!("run {}: recovery after crash {}", st.runs, st.crashes)
            };
            trace.append(st.fs.trace(), &heading);
        }
        if let Some(captured) = captured {
            let (before_step, image, choice) = captured?;
            return Ok(Ok(RunEnd::Crashed {
                before_step,
                image: Box::new(image),
                choice,
            }));
        }
        match ran {
            Err(payload) => Ok(Err(Finding::new(
                Oracle::Panic,
                format!(
                    "run {} panicked: {}",
                    st.runs,
                    panic_message(payload.as_ref())
                ),
            ))),
            Ok(Ok(completion)) => match point {
                // `step:N` with N the run's length: crash after the last step.
                Some(p) if p.at == CrashAt::Step(st.fs.steps()) => {
                    let (image, choice) = pick(&st.fs, p, cap)?;
                    Ok(Ok(RunEnd::Crashed {
                        before_step: st.fs.steps(),
                        image: Box::new(image),
                        choice,
                    }))
                }
                _ => Ok(Ok(RunEnd::Completed(completion))),
            },
            Ok(Err(e)) => Ok(Ok(RunEnd::Failed(e))),
        }
    }

    /// The crash just happened before step `before_step` of the current run
    /// and left `image`: rewind the progress record to that moment, apply
    /// the state oracle and the redo bound, and make `image` the disk.
    pub(crate) fn after_crash(
        &self,
        st: &mut CaseState,
        before_step: u64,
        image: SimFs,
        choice: &str,
    ) -> Result<(), Finding> {
        if let Some(trace) = &mut st.trace {
            trace.mark_crash(before_step, choice);
        }
        // A schedule's faults apply to its first run only; images inherit
        // the configuration, so clear it for every later run.
        image.set_faults(FaultConfig::default());
        let mut progress = st.progress.as_of(before_step);
        let processed = progress.crashed();
        st.crashes += 1;
        // Inspect a copy so neither inspection's steps nor anything it might
        // write reach the disk the recovery run starts from. A crash image is
        // fully durable, so a drop-unsynced image of it is an exact copy.
        let probe = image.crash_image(CrashModel::DropUnsynced, 0).fs;
        let recovered = check_state(self.workload, &probe, &progress)?;
        check_redo(
            self.workload,
            processed,
            recovered.unwrap_or(0),
            "recovery would resume",
        )?;
        st.progress = progress;
        st.fs = image;
        st.last_crash_processed = processed;
        st.last_crash_recovered = recovered;
        Ok(())
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

/// Whether the run hit an injected fault (the trace records it).
fn ran_into_fault(fs: &SimFs) -> bool {
    fs.trace().entries.iter().any(|e| !e.faults.is_empty())
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A poisoned slot only means a hook panicked; its content is still ours.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The text of a panic payload.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_string()
    }
}
