//! Checking each distinct post-crash state once.
//!
//! What a crash state costs is its inspection and its resumed run; both are
//! functions of the disk alone (the workload may not read its progress
//! record, and a crash image has no pending faults), plus the number of
//! runs before (it names a panicking run). So they are computed once per
//! distinct disk ([`crate::ContentDigest`]) and shared by every crash point
//! that leaves that disk: between two syncs, a drop-unsynced image does not
//! change. What depends on the crash moment, the progress record (attempted,
//! acknowledged, processed), is cheap and checked per point
//! ([`super::oracle::judge_state`], the redo bound,
//! [`super::oracle::check_resume`]), in the order the naive path checks it,
//! so every finding and message is the naive path's.
//!
//! The cache is the only state shared between threads; each entry is
//! computed once ([`OnceLock`]) and is a pure function of its key, so who
//! computes it does not change any result.

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex, OnceLock};

use super::case::{Case, History};
use super::clean::CleanRun;
use super::converge::Watch;
use super::lock::lock;
use super::oracle::{
    Inspected, LastCrash, Recovery, check_completion, check_predicate, check_redo, check_resume,
    inspect_state, judge_state,
};
use super::points::Image;
use super::run_end::RunEnd;
use super::start::Engine;
use super::timeline::Timeline;
use crate::explore::report::summary::Work;
use crate::explore::report::tally::Digests;
use crate::explore::report::violation::{Finding, Oracle};
use crate::explore::vocabulary::checks::Checks;
use crate::explore::vocabulary::error::HarnessError;
use crate::explore::vocabulary::workload::Progress;
use crate::{ContentDigest, FaultConfig, SimFs, StepAction};

/// How many maps the dedup cache is split into.
const CACHE_SHARDS: usize = 64;

/// What one post-crash state's check found.
#[derive(Debug, Clone)]
pub(crate) struct Checked {
    /// Digests of the post-crash states checked (one per crash).
    pub(crate) digests: Digests,
    /// The first oracle failure.
    pub(crate) finding: Option<Finding>,
    /// The resumed runs it started.
    pub(crate) work: Work,
}

/// A run whose crash points are being checked: its history (journaled by
/// step) and the same as a timeline.
pub(crate) struct CrashedRun<'h> {
    history: &'h History,
    timeline: Timeline,
}

impl<'h> CrashedRun<'h> {
    /// The run that `history` journaled (its last).
    pub(crate) fn new(history: &'h History) -> Self {
        Self {
            history,
            timeline: Timeline::of(&history.progress),
        }
    }
}

/// What the cache is keyed by: the post-crash disk and the runs before.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    disk: ContentDigest,
    runs: u64,
}

/// The disk-only work for one key, each half computed at most once.
#[derive(Default)]
struct Entry {
    inspected: OnceLock<Inspected>,
    resumed: OnceLock<Resumed>,
}

/// How the resumed run from a post-crash disk ended, judged where that
/// needs only the run.
#[derive(Debug, Clone)]
enum Resumed {
    /// It completed: `finding` of the output and leftovers checks, and
    /// where it said it resumed.
    Completed {
        finding: Option<Finding>,
        resumed_from: Option<u64>,
    },
    /// It failed or panicked.
    Ended(Finding),
}

/// One of the dedup cache's maps: disk-only work by key.
type CacheShard = Mutex<BTreeMap<Key, Arc<Entry>>>;

/// Checks crash states, the naive way or the shared way as the options
/// say; shared by the threads of one pass.
pub(crate) struct Checker<'a, 'w> {
    ex: &'a Engine<'w>,
    clean: &'a CleanRun,
    /// Disk-only work by key, in [`CACHE_SHARDS`] maps by the key's
    /// digest (so threads rarely wait for one another's lookups); `None`
    /// without dedup (each state on its own).
    cache: Option<Vec<CacheShard>>,
    /// The checks the workload's reports allow (asked once).
    checks: Checks,
}

impl<'a, 'w> Checker<'a, 'w> {
    /// A checker of crash states resumed against `clean`.
    pub(crate) fn new(ex: &'a Engine<'w>, clean: &'a CleanRun) -> Self {
        let cache = ex
            .options()
            .dedup
            .then(|| (0..CACHE_SHARDS).map(|_| Mutex::default()).collect());
        let checks = ex.workload().checks();
        Self {
            ex,
            clean,
            cache,
            checks,
        }
    }

    /// The work of one crash state, a pure function of the clean run, the
    /// run that crashed, the crash step and the image: the state oracle,
    /// recovery to completion, the result oracle. With neither dedup nor
    /// converge, exactly [`check_crash`].
    pub(crate) fn check(
        &self,
        run: &CrashedRun<'_>,
        before_step: u64,
        image: Image,
    ) -> Result<Checked, HarnessError> {
        let options = self.ex.options();
        if !options.dedup && !options.converge {
            let runs_before = run.history.runs;
            let history = run.history.at_step(before_step);
            let image = image.into_fs();
            let (case, finding) = check_crash(self.ex, self.clean, history, before_step, image)?;
            return Ok(Checked {
                digests: Digests::Many(case.history.state_digests),
                finding,
                work: Work {
                    recoveries: case.history.runs - runs_before,
                    recoveries_converged: 0,
                },
            });
        }
        Ok(self.check_shared(run, before_step, image))
    }

    /// The shared way (see the module documentation).
    fn check_shared(&self, run: &CrashedRun<'_>, before_step: u64, image: Image) -> Checked {
        let workload = self.ex.workload();
        let disk = image.digest();
        let runs = run.history.runs;
        let entry = self.entry(Key { disk, runs });
        let at = run.timeline.at(before_step);
        let processed = at.processed_max;
        let mut work = Work::default();
        let finding = (|| {
            let inspected = entry.inspected.get_or_init(|| {
                // A copy of its own, so inspection changes nothing.
                let probe = image.build();
                probe.set_faults(FaultConfig::default());
                inspect_state(workload, &probe)
            });
            let recovery = judge_state(
                inspected,
                &self.checks,
                &self.clean.output,
                &|id| at.attempted(id),
                at.acknowledged,
            )?;
            if self.checks.state_predicate.is_some() {
                // The workload's own check needs the record itself; only
                // workloads with a predicate pay for rebuilding it.
                let mut progress = run.history.progress.as_of(before_step);
                progress.crashed();
                let probe = image.build();
                check_predicate(workload, &self.checks, &probe, &progress)?;
            }
            let recovered = match recovery {
                Recovery::Resumes(cursor) => {
                    check_redo(
                        workload,
                        processed,
                        cursor.unwrap_or(0),
                        "recovery would resume",
                    )?;
                    cursor
                }
                Recovery::Completed => None,
            };
            let resumed = entry
                .resumed
                .get_or_init(|| self.resume(image.build(), runs, &mut work));
            match resumed {
                Resumed::Ended(finding) => Err(finding.clone()),
                Resumed::Completed {
                    finding: Some(finding),
                    ..
                } => Err(finding.clone()),
                Resumed::Completed {
                    finding: None,
                    resumed_from,
                } => check_resume(
                    workload,
                    &self.checks,
                    LastCrash {
                        processed,
                        recovered,
                        completed: recovery == Recovery::Completed,
                    },
                    *resumed_from,
                ),
            }
        })()
        .err();
        Checked {
            digests: Digests::One(disk.visible_short()),
            finding,
            work,
        }
    }

    /// The cache entry of `key` (a fresh one without dedup).
    fn entry(&self, key: Key) -> Arc<Entry> {
        match &self.cache {
            Some(shards) => {
                let shard = &shards[key.disk.visible as usize % CACHE_SHARDS];
                Arc::clone(lock(shard).entry(key).or_default())
            }
            None => Arc::default(),
        }
    }

    /// Resumes the workload on `image` (run number `runs_before + 1`) to
    /// its end, or until it converges with the clean run.
    fn resume(&self, image: SimFs, runs_before: u64, work: &mut Work) -> Resumed {
        work.recoveries += 1;
        // As `History::land` does: a schedule's faults never reach recovery.
        image.set_faults(FaultConfig::default());
        let workload = self.ex.workload();
        // Nobody reads a resumed run's trace here (a finding is replayed).
        image.record_trace(false);
        let mut progress = Progress::new();
        let converging = self.ex.options().converge && self.clean.converged.len() > 0;
        let watch = converging.then(|| Watch::converging(Arc::clone(&self.clean.converged)));
        if let Some(watch) = &watch {
            progress.watch(watch.listener());
            let hook = watch.clone();
            image.set_step_hook(Box::new(move |info, src| {
                if hook.before_step(info.index, src) {
                    StepAction::Crash
                } else {
                    StepAction::Continue
                }
            }));
        }
        let ran = catch_unwind(AssertUnwindSafe(|| workload.run(&image, &mut progress)));
        image.clear_step_hook();
        if let Some(converged) = watch.and_then(|w| w.converged_at()) {
            // The rest is the clean run: its output, and no leftovers (its
            // own were checked to be none). Whatever the stopped run did
            // after the point is not the program's.
            work.recoveries_converged += 1;
            return Resumed::Completed {
                finding: None,
                resumed_from: converged.resumed_from,
            };
        }
        match RunEnd::of(ran) {
            RunEnd::Completed(c) => Resumed::Completed {
                finding: check_completion(workload, self.clean, &image, &c).err(),
                resumed_from: c.resumed_from,
            },
            RunEnd::Failed(e) => {
                // A crash image carries no fault (cleared above), so unlike a
                // schedule's first run this run cannot have failed on one
                // and is never restarted.
                debug_assert!(
                    image.faulted_steps() == 0,
                    "a recovery run from a crash image hit an injected fault"
                );
                Resumed::Ended(Finding::new(
                    Oracle::Result,
                    format!("did not complete: {e}"),
                ))
            }
            RunEnd::Panicked(message) => Resumed::Ended(Finding::new(
                Oracle::Panic,
                format!("run {} panicked: {message}", runs_before + 1),
            )),
            RunEnd::Crashed { .. } => Resumed::Ended(Finding::new(
                Oracle::Result,
                "did not complete: the recovery run crashed without a crash point (a simulator bug)",
            )),
        }
    }
}

/// The work of one crash state, a pure function of the clean run, the
/// case's history at the crash, the crash step and the image: the
/// state oracle, recovery to completion, the result oracle. Every state
/// on its own, to the end of its run (the naive path; the shared one is
/// [`Checker::check_shared`]).
fn check_crash(
    ex: &Engine<'_>,
    clean: &CleanRun,
    history: History,
    before_step: u64,
    image: SimFs,
) -> Result<(Case, Option<Finding>), HarnessError> {
    Case::from_crash(ex, clean, history, before_step, image, "").finish(ex, clean, &[])
}
