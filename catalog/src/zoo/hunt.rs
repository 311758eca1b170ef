//! Hunting the zoo: run one exploration of a workload and summarise what it
//! found, in the terms the mutation table uses.
//!
//! Four kinds of exploration ([`Exploration`]), each one pass of the
//! explorer ([`Pass`]):
//!
//! - **exhaustive single crash** under one crash model
//!   ([`Explorer::explore_exhaustive`]); its crash points are visited in
//!   step order, so the first violation is already the earliest crash step
//!   that fails under that model (a shrunk single-crash counterexample);
//! - **sync-EIO sweep** under one model ([`Explorer::explore_sync_eio`]):
//!   every `sync` of the clean run fails with EIO in turn, then the run
//!   crashes at every later step; visited in (sync step, crash step) order,
//!   so the first violation is the smallest failing pair;
//! - **exhaustive two crashes** under one model
//!   ([`Explorer::explore_two_crashes`]): every crash state of the clean
//!   run, then every crash state of its recovery run, in step order;
//! - **random multi-crash** over every model, which shrinks a failing
//!   schedule itself.
//!
//! **Counterexample size.** `steps` of a [`Detection`] is the number of
//! filesystem steps the first run executed before its first crash: how much
//! of the program a reader must follow to see the bug. `schedule_len` is
//! the number of items in the kill schedule (crash points plus injected
//! faults).
//!
//! Nothing here reads a clock: wall time is measured by the caller (the
//! CLI), around these calls.

use std::fmt;

use crashproof_fault::CrashModel;

use super::Needs;
use crashproof_sim::explore::{
    ExploreOptions, Explorer, HarnessError, Oracle, Pass, RandomConfig, Violation, Workload,
};

/// One way of looking for a violation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Exploration {
    /// Exhaustive single crash under one crash model.
    Exhaustive(CrashModel),
    /// Every sync of the clean run failing with EIO, then a crash at every
    /// later step, under one crash model.
    SyncEio(CrashModel),
    /// Exhaustive two crashes under one model: every crash state of the
    /// clean run, then every crash state of each recovery run.
    TwoCrashes(CrashModel),
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
        Exploration::SyncEio(CrashModel::DropUnsynced),
        Exploration::SyncEio(CrashModel::EagerDirs),
        Exploration::TwoCrashes(CrashModel::Prefix),
        Exploration::TwoCrashes(CrashModel::EagerDirs),
    ];

    /// Whether this is the kind of exploration a mutant that `needs` it is
    /// expected to be caught by.
    pub fn serves(self, needs: Needs) -> bool {
        matches!(
            (self, needs),
            (Exploration::Exhaustive(_), Needs::SingleCrash)
                | (Exploration::SyncEio(_), Needs::SyncEio)
                | (
                    Exploration::Random | Exploration::TwoCrashes(_),
                    Needs::MultiCrash
                )
        )
    }

    /// The crash model this exploration uses, if it uses one.
    pub fn model(self) -> Option<CrashModel> {
        match self {
            Exploration::Exhaustive(m) | Exploration::SyncEio(m) | Exploration::TwoCrashes(m) => {
                Some(m)
            }
            Exploration::Random => None,
        }
    }

    /// Whether this exploration uses one of the strict crash models (every
    /// model but `EagerDirs`).
    pub fn is_strict(self) -> bool {
        match self {
            Exploration::Exhaustive(m) | Exploration::SyncEio(m) | Exploration::TwoCrashes(m) => {
                m != CrashModel::EagerDirs
            }
            Exploration::Random => false,
        }
    }
}

impl Exploration {
    /// The explorer's pass this exploration runs.
    pub fn pass(self) -> Pass {
        match self {
            Exploration::Exhaustive(m) => Pass::Exhaustive(m),
            Exploration::SyncEio(m) => Pass::SyncEio(m),
            Exploration::TwoCrashes(m) => Pass::TwoCrashes(m),
            Exploration::Random => Pass::Random {
                models: CrashModel::ALL.to_vec(),
                config: RandomConfig::default(),
            },
        }
    }
}

impl fmt::Display for Exploration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.pass())
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
    /// Sizes `violation` by its schedule and its first crash.
    pub fn of(violation: Violation) -> Detection {
        let steps = violation.steps_before_first_crash.unwrap_or(0);
        let schedule_len = violation.schedule.points.len() + violation.schedule.faults.len();
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
    /// Cases run: post-crash states checked, or schedules run (random).
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

    /// Whether this exploration checked anything (a clean hunt of zero
    /// cases vouches for nothing).
    pub fn checked(&self) -> bool {
        self.cases > 0 || self.violations > 0
    }
}

/// Runs `exploration` on `workload`: one pass of the explorer. A pass
/// with nothing to check on this workload (the sync-EIO sweep of a program
/// that never syncs a file) is a hunt of zero cases that caught nothing,
/// with the explorer's reason as its note: the mutation table runs every
/// exploration on every program, and such a hunt claims nothing. Callers
/// that need a pass ([`Hunt::checked`]) say so.
pub fn hunt(
    workload: &dyn Workload,
    exploration: Exploration,
    options: &ExploreOptions,
) -> Result<Hunt, HarnessError> {
    let report = match Explorer::new(workload, options.clone()).explore_pass(&exploration.pass()) {
        Ok(report) => report,
        Err(e @ HarnessError::NothingChecked { .. }) => {
            return Ok(Hunt {
                exploration,
                cases: 0,
                violations: 0,
                first: None,
                notes: vec![e.to_string()],
            });
        }
        Err(e) => return Err(e),
    };
    let cases = match report.passes.first().and_then(|p| p.cases) {
        Some(cases) => cases,
        None => report.states_checked(),
    };
    let first = report.violations().next().cloned().map(Detection::of);
    Ok(Hunt {
        exploration,
        cases,
        violations: report.violation_count(),
        first,
        notes: report.notes_all(),
    })
}
