//! Hunting the zoo: run one exploration of a workload and summarise what it
//! found, in the terms the mutation table uses.
//!
//! Three kinds of exploration ([`Exploration`]):
//!
//! - **exhaustive single crash** under one crash model — the explorer's
//!   [`Explorer::explore_exhaustive`]; its crash points are visited in step
//!   order, so the first violation is already the earliest crash step that
//!   fails under that model (a shrunk single-crash counterexample);
//! - **sync-fault sweep** — for every `sync` of the clean run, that sync
//!   fails with EIO (Linux semantics) and the run crashes at each later
//!   step; visited in (sync step, crash step) order, so the first violation
//!   is the lexicographically smallest failing pair;
//! - **exhaustive two crashes** under one crash model — the explorer's
//!   [`Explorer::explore_exhaustive_two_crashes`]: every crash state of the
//!   clean run, then every crash state of its recovery run, in step order;
//! - **random multi-crash** — the explorer's proptest mode, which shrinks a
//!   failing schedule itself.
//!
//! **Counterexample size.** `steps` of a [`Detection`] is the number of
//! filesystem steps the first run executed before its first crash (the `N`
//! of `step:N` in the schedule): how much of the program a reader must
//! follow to see the bug. `schedule_len` is the number of items in the kill
//! schedule (crash points plus injected faults).
//!
//! Nothing here reads a clock: wall time is measured by the caller (the
//! CLI), around these calls.

use std::fmt;

use crashproof_core::fs::FsOp;
use crashproof_fault::{CrashAt, CrashModel, CrashPoint, Fault, KillSchedule, StateSelector};

use super::Needs;
use crashproof_sim::explore::{
    CleanRun, ExploreOptions, Explorer, HarnessError, Oracle, RandomConfig, Violation, Workload,
};

/// One way of looking for a violation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Exploration {
    /// Exhaustive single crash under one crash model.
    Exhaustive(CrashModel),
    /// Every sync of the clean run failing with EIO, then a crash at every
    /// later step, under one crash model.
    SyncFault(CrashModel),
    /// Exhaustive two crashes under one model: every crash state of the
    /// clean run, then every crash state of each recovery run (the
    /// explorer's [`Explorer::explore_exhaustive_two_crashes`]).
    DoubleCrash(CrashModel),
    /// Random multi-crash schedules over every model (proptest, shrinking).
    Random,
}

impl Exploration {
    /// The explorations the mutation table runs for every workload, in the
    /// order time to first detection is counted: single crashes under the
    /// strict models and the kind `EagerDirs` model, the sync-fault sweep
    /// and the double-crash sweep each under a strict and the kind model.
    pub const TABLE: [Exploration; 8] = [
        Exploration::Exhaustive(CrashModel::DropUnsynced),
        Exploration::Exhaustive(CrashModel::Prefix),
        Exploration::Exhaustive(CrashModel::Subset),
        Exploration::Exhaustive(CrashModel::EagerDirs),
        Exploration::SyncFault(CrashModel::DropUnsynced),
        Exploration::SyncFault(CrashModel::EagerDirs),
        Exploration::DoubleCrash(CrashModel::Prefix),
        Exploration::DoubleCrash(CrashModel::EagerDirs),
    ];

    /// Whether this is the kind of exploration a mutant that `needs` it is
    /// expected to be caught by.
    pub fn serves(self, needs: Needs) -> bool {
        matches!(
            (self, needs),
            (Exploration::Exhaustive(_), Needs::SingleCrash)
                | (Exploration::SyncFault(_), Needs::SyncFault)
                | (
                    Exploration::Random | Exploration::DoubleCrash(_),
                    Needs::MultiCrash
                )
        )
    }

    /// The crash model this exploration uses, if it uses one.
    pub fn model(self) -> Option<CrashModel> {
        match self {
            Exploration::Exhaustive(m)
            | Exploration::SyncFault(m)
            | Exploration::DoubleCrash(m) => Some(m),
            Exploration::Random => None,
        }
    }

    /// Whether this exploration uses one of the strict crash models (every
    /// model but `EagerDirs`).
    pub fn is_strict(self) -> bool {
        match self {
            Exploration::Exhaustive(m)
            | Exploration::SyncFault(m)
            | Exploration::DoubleCrash(m) => m != CrashModel::EagerDirs,
            Exploration::Random => false,
        }
    }
}

impl fmt::Display for Exploration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Exploration::Exhaustive(m) => write!(f, "exhaustive {m}"),
            Exploration::SyncFault(m) => write!(f, "EIO+crash {m}"),
            Exploration::DoubleCrash(m) => write!(f, "double crash {m}"),
            Exploration::Random => f.write_str("random multi-crash"),
        }
    }
}

/// The first violation an exploration found, with its size.
#[derive(Debug, Clone)]
pub struct Detection {
    /// The violation in full (trace, replay command).
    pub violation: Violation,
    /// Filesystem steps run before the first crash (see the module docs).
    pub steps: u64,
    /// Crash points plus faults in the schedule.
    pub schedule_len: usize,
}

impl Detection {
    /// Sizes `violation` from its schedule text.
    pub fn of(violation: Violation) -> Detection {
        let parsed: Option<KillSchedule> = violation.schedule.parse().ok();
        let steps = parsed
            .as_ref()
            .and_then(|s| s.points.first())
            .and_then(|p| match p.at {
                CrashAt::Step(n) => Some(n),
                CrashAt::Failpoint { .. } => None,
            })
            .unwrap_or(0);
        let schedule_len = parsed.map_or(1, |s| s.points.len() + s.faults.len());
        Detection {
            violation,
            steps,
            schedule_len,
        }
    }

    /// The oracle that failed.
    pub fn oracle(&self) -> Oracle {
        self.violation.oracle
    }
}

/// What one exploration of one workload found.
#[derive(Debug, Clone)]
pub struct Hunt {
    /// Which exploration ran.
    pub exploration: Exploration,
    /// Cases run: post-crash states checked (exhaustive, random) or
    /// fault-plus-crash schedules run (sync-fault sweep).
    pub cases: u64,
    /// Cases that failed an oracle.
    pub violations: u64,
    /// The first (smallest) violation, if any.
    pub first: Option<Detection>,
    /// Remarks from the explorer (sampling past the cap, ...).
    pub notes: Vec<String>,
}

impl Hunt {
    /// Whether this exploration found a violation.
    pub fn caught(&self) -> bool {
        self.violations > 0
    }
}

/// Runs `exploration` on `workload`. With `stop_at_first`, the sync-fault
/// sweep stops at its first violation (the exhaustive and random modes
/// always run to their end).
pub fn hunt(
    workload: &dyn Workload,
    exploration: Exploration,
    options: &ExploreOptions,
    stop_at_first: bool,
) -> Result<Hunt, HarnessError> {
    let explorer = Explorer::new(workload, options.clone());
    match exploration {
        Exploration::Exhaustive(model) => {
            let report = explorer.explore_exhaustive(model)?;
            Ok(Hunt {
                exploration,
                cases: report.states_checked(),
                violations: report.violation_count,
                first: report.violations.into_iter().next().map(Detection::of),
                notes: report.notes,
            })
        }
        Exploration::Random => {
            let report = explorer.explore_random(&RandomConfig::default())?;
            Ok(Hunt {
                exploration,
                cases: report.cases.unwrap_or(0),
                violations: report.violation_count,
                first: report.violations.into_iter().next().map(Detection::of),
                notes: report.notes,
            })
        }
        Exploration::SyncFault(model) => {
            let clean = explorer.clean_run()?;
            sync_fault_sweep(&explorer, &clean, model, stop_at_first)
        }
        Exploration::DoubleCrash(model) => {
            let report = explorer.explore_exhaustive_two_crashes(model)?;
            Ok(Hunt {
                exploration,
                cases: report.states_checked(),
                violations: report.violation_count,
                first: report.violations.into_iter().next().map(Detection::of),
                notes: report.notes,
            })
        }
    }
}

/// The steps of the clean run that are a `sync` of a file.
pub fn sync_steps(clean: &CleanRun) -> Vec<u64> {
    clean
        .trace
        .entries
        .iter()
        .filter(|e| e.step.op == FsOp::Sync)
        .map(|e| e.step.index)
        .collect()
}

/// For every sync of the clean run, that sync fails with EIO and the run
/// crashes before each later step (up to one past the clean run's end,
/// since a retried sync adds a step), keeping state 0 of `model`.
fn sync_fault_sweep(
    explorer: &Explorer<'_>,
    clean: &CleanRun,
    model: CrashModel,
    stop_at_first: bool,
) -> Result<Hunt, HarnessError> {
    let mut hunt = Hunt {
        exploration: Exploration::SyncFault(model),
        cases: 0,
        violations: 0,
        first: None,
        notes: Vec::new(),
    };
    for eio in sync_steps(clean) {
        for crash in eio + 1..=clean.steps + 1 {
            let schedule = KillSchedule {
                points: vec![CrashPoint {
                    at: CrashAt::Step(crash),
                    model,
                    state: StateSelector::Index(0),
                }],
                faults: vec![Fault::SyncEio(eio)],
            };
            hunt.cases += 1;
            let outcome = explorer.run_case(clean, &schedule)?;
            if let Some(v) = outcome.violation {
                hunt.violations += 1;
                if hunt.first.is_none() {
                    hunt.first = Some(Detection::of(v));
                }
                if stop_at_first {
                    return Ok(hunt);
                }
            }
        }
    }
    Ok(hunt)
}
