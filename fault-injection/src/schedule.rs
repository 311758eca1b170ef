//! Kill schedules: where each run of a case crashes and what survives.

use std::fmt;

pub use crate::rule::FaultRule;

/// Which post-crash states a crash may leave: the one crash-model type of
/// the project. `crashproof_sim` defines the precise rules of each model in
/// its durability model (the first section of its crate docs) and re-exports
/// this type; a [`KillSchedule`] names it in its text form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CrashModel {
    /// Strict, the default: only synced file data and synced directory
    /// entries survive. Exactly one state.
    DropUnsynced,
    /// An ordered journal: a prefix, in issue order across the whole
    /// filesystem, of the unsynced operations survives, each whole (a rename,
    /// within or across directories, is one journal entry).
    Prefix,
    /// Any subset of the unsynced operations survives; each write survives
    /// whole, is lost, or is torn per sector (old | new | garbage bytes, a
    /// torn append ending at any sector boundary inside it).
    Subset,
    /// Kinder: every directory operation is durable at once (as if each were
    /// followed by `sync_dir`); unsynced file data is dropped.
    EagerDirs,
}

impl CrashModel {
    /// Every model, strict default first.
    pub const ALL: [CrashModel; 4] = [
        CrashModel::DropUnsynced,
        CrashModel::Prefix,
        CrashModel::Subset,
        CrashModel::EagerDirs,
    ];

    /// A short stable name (`"drop-unsynced"`), used in the text form of a
    /// schedule, in reports and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            CrashModel::DropUnsynced => "drop-unsynced",
            CrashModel::Prefix => "prefix",
            CrashModel::Subset => "subset",
            CrashModel::EagerDirs => "eager-dirs",
        }
    }

    /// The model called `name` (see [`CrashModel::name`]).
    pub fn from_name(name: &str) -> Option<CrashModel> {
        CrashModel::ALL.into_iter().find(|m| m.name() == name)
    }
}

impl fmt::Display for CrashModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Where in a run the crash happens. Step indexes count from 0 within each
/// run (a recovery run starts again at 0).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CrashAt {
    /// Before filesystem step `n` runs (every `Fs` call is one step,
    /// failpoints included). `n` equal to the run's step count means at the
    /// end of a run that completed.
    Step(u64),
    /// Before the `hit`-th call (1-based) of the named failpoint.
    Failpoint {
        /// The failpoint name, e.g. `replace.after_sync_before_rename`.
        name: String,
        /// Which call of it, counting from 1.
        hit: u32,
    },
}

/// Which of the post-crash states the model allows is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StateSelector {
    /// One state picked by the simulator with this seed (`crash_image`).
    Seed(u64),
    /// The state at this index of the model's enumeration
    /// (`crash_images`), taken modulo the number of states so that every
    /// index names a state.
    Index(usize),
}

/// One crash: where, under which model, and which surviving state.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CrashPoint {
    /// Where the run is killed.
    pub at: CrashAt,
    /// What may survive.
    pub model: CrashModel,
    /// Which surviving state is kept.
    pub state: StateSelector,
}

/// A fault injected besides crashes, in the first run of a case only (the
/// explorer clears faults on the crash images later runs start from).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Fault {
    /// The `sync` at step `n` of the first run fails with EIO (Linux semantics:
    /// the dirty data is no longer pending, a later sync returns `Ok`, and a
    /// crash loses it). A step `n` that is not a `sync` is unaffected.
    SyncEio(u64),
    /// Every call (or the `n`-th call) of one kind of operation on the paths
    /// a glob matches fails (see [`FaultRule`]).
    Rule(FaultRule),
}

/// A case: crash points applied one per run, in order (the first point to
/// the first run, the second to the recovery run after it, ...), plus faults.
///
/// Text form (what [`fmt::Display`] prints and [`str::parse`] reads), items
/// separated by `;`:
///
/// ```text
/// step:37@subset#seed=9;fp:replace.after_sync_before_rename*2@prefix#idx=3;eio:12
/// ```
///
/// - `step:N@MODEL#STATE` crashes before step `N`;
/// - `fp:NAME[*HIT]@MODEL#STATE` crashes before the `HIT`-th (default 1st)
///   call of failpoint `NAME`;
/// - `MODEL` is `drop-unsynced`, `prefix`, `subset` or `eager-dirs`;
///   `STATE` is `seed=S` or `idx=I`;
/// - `eio:N` makes the sync at step `N` of the first run fail with EIO;
/// - `eio:OP[*N]:GLOB` and `enospc:OP[*N]:GLOB` are fault rules
///   ([`FaultRule`]): every (or the `N`-th) call of `OP` on a path the glob
///   matches fails in the first run.
///
/// Crash points are printed before faults; a schedule has at least one item.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KillSchedule {
    /// The crash points, one per run, in order.
    pub points: Vec<CrashPoint>,
    /// Faults injected in the first run (see [`Fault`]).
    pub faults: Vec<Fault>,
}

impl KillSchedule {
    /// A schedule of one crash point.
    pub fn single(point: CrashPoint) -> Self {
        Self {
            points: vec![point],
            faults: Vec::new(),
        }
    }

    /// A single crash before step `step`, keeping state `state`.
    pub fn at_step(step: u64, model: CrashModel, state: StateSelector) -> Self {
        Self::single(CrashPoint {
            at: CrashAt::Step(step),
            model,
            state,
        })
    }

    /// The steps of every fault of kind [`Fault::SyncEio`].
    pub fn sync_eio_steps(&self) -> impl Iterator<Item = u64> + '_ {
        self.faults.iter().filter_map(|f| match f {
            Fault::SyncEio(step) => Some(*step),
            Fault::Rule(_) => None,
        })
    }

    /// Every fault of kind [`Fault::Rule`], in order.
    pub fn rules(&self) -> impl Iterator<Item = &FaultRule> + '_ {
        self.faults.iter().filter_map(|f| match f {
            Fault::SyncEio(_) => None,
            Fault::Rule(rule) => Some(rule),
        })
    }
}

/// Whether `name` can appear in the text form: non-empty, made of ASCII
/// letters, digits, `.`, `_` and `-`.
pub(crate) fn is_valid_failpoint_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

impl fmt::Display for CrashAt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CrashAt::Step(n) => write!(f, "step:{n}"),
            CrashAt::Failpoint { name, hit: 1 } => write!(f, "fp:{name}"),
            CrashAt::Failpoint { name, hit } => write!(f, "fp:{name}*{hit}"),
        }
    }
}

impl fmt::Display for StateSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StateSelector::Seed(s) => write!(f, "seed={s}"),
            StateSelector::Index(i) => write!(f, "idx={i}"),
        }
    }
}

impl fmt::Display for CrashPoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}#{}", self.at, self.model, self.state)
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::SyncEio(n) => write!(f, "eio:{n}"),
            Fault::Rule(rule) => write!(f, "{rule}"),
        }
    }
}

impl fmt::Display for KillSchedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let points = self.points.iter().map(ToString::to_string);
        let faults = self.faults.iter().map(ToString::to_string);
        let items: Vec<String> = points.chain(faults).collect();
        f.write_str(&items.join(";"))
    }
}
