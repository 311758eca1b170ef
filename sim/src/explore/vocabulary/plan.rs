//! One call explores a workload under a set of crash models and modes and
//! returns one merged report: the loop every user test would otherwise
//! copy.

use std::fmt;

use crashproof_fault::{CrashModel, KillSchedule};
use serde::{Deserialize, Serialize};

/// How an exploration chooses its cases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// Every step of the clean run as the crash point, times every
    /// post-crash state the model allows (seeded picks past the cap); one
    /// crash per case.
    Exhaustive,
    /// Every crash of the clean run as in `Exhaustive`, then every crash of
    /// each recovery run: finds bugs only a crash during recovery shows.
    /// Quadratic in the run's length.
    TwoCrashes,
    /// For every `sync` of the clean run: that sync fails with EIO (Linux
    /// semantics), then a crash at every later step of that run, and the
    /// restart after a power loss if the run fails on the error. Finds
    /// programs that believe a retried fsync.
    SyncEio,
    /// Random multi-crash schedules (proptest, shrinking a failure), over
    /// every model of the plan at once.
    Random(RandomConfig),
}

impl Mode {
    /// The mode's name in reports and on the command line.
    pub fn name(&self) -> &'static str {
        match self {
            Mode::Exhaustive => "exhaustive",
            Mode::TwoCrashes => "two-crashes",
            Mode::SyncEio => "sync-eio",
            Mode::Random(_) => "random",
        }
    }
}

/// What random mode draws (the crash models come from the plan).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RandomConfig {
    /// Cases (schedules) to run before declaring success; at least 1.
    pub cases: u32,
    /// Most crash points per schedule (crashes during recovery included).
    pub points_per_case_max: usize,
    /// Whether schedules may also make a sync of the first run fail with
    /// EIO (`eio:N`), to catch programs that believe a retried fsync.
    pub sync_faults: bool,
}

impl Default for RandomConfig {
    fn default() -> Self {
        Self {
            cases: 64,
            points_per_case_max: 3,
            sync_faults: true,
        }
    }
}

/// What [`crate::explore::Explorer::explore`] runs: every mode, in order, under
/// every model (random schedules draw from all the models in one pass). A
/// config struct rather than a list of flags, so a test states its plan in one
/// expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Crash models; each non-random mode runs once under each, in order.
    pub models: Vec<CrashModel>,
    /// Modes, run in this order.
    pub modes: Vec<Mode>,
}

impl Default for Plan {
    /// Exhaustive single crashes under every model (what `crashproof
    /// explore` runs by default).
    fn default() -> Self {
        Self {
            models: CrashModel::ALL.to_vec(),
            modes: vec![Mode::Exhaustive],
        }
    }
}

impl Plan {
    /// The passes the plan runs, in order: each mode under each model, a
    /// random mode once over every model.
    pub fn passes(&self) -> Vec<Pass> {
        let mut passes = Vec::new();
        for mode in &self.modes {
            match mode {
                Mode::Random(config) => passes.push(Pass::Random {
                    models: self.models.clone(),
                    config: config.clone(),
                }),
                Mode::Exhaustive => passes.extend(self.models.iter().map(|&m| Pass::Exhaustive(m))),
                Mode::TwoCrashes => passes.extend(self.models.iter().map(|&m| Pass::TwoCrashes(m))),
                Mode::SyncEio => passes.extend(self.models.iter().map(|&m| Pass::SyncEio(m))),
            }
        }
        passes
    }
}

/// One pass of an exploration: a mode under one crash model (random
/// schedules: under the models they draw from).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Pass {
    /// [`Mode::Exhaustive`] under one model.
    Exhaustive(#[serde(with = "super::json::model_name")] CrashModel),
    /// [`Mode::TwoCrashes`] under one model (both crashes).
    TwoCrashes(#[serde(with = "super::json::model_name")] CrashModel),
    /// [`Mode::SyncEio`] under one model.
    SyncEio(#[serde(with = "super::json::model_name")] CrashModel),
    /// [`Mode::Random`] drawing from `models`.
    Random {
        /// The models crash points draw from.
        #[serde(with = "super::json::model_names")]
        models: Vec<CrashModel>,
        /// What to draw.
        config: RandomConfig,
    },
    /// One schedule replayed (`CRASHPROOF_REPLAY`, `crashproof replay`):
    /// a pass of one case. No [`Mode`] makes it; see [`Pass::replay`].
    Replay {
        /// The schedule.
        #[serde(with = "super::json::schedule_text")]
        schedule: KillSchedule,
        /// The crash models its points use, each once, in order.
        #[serde(with = "super::json::model_names")]
        models: Vec<CrashModel>,
    },
}

impl Pass {
    /// The pass that replays `schedule`.
    pub fn replay(schedule: &KillSchedule) -> Pass {
        let mut models = Vec::new();
        for point in &schedule.points {
            if !models.contains(&point.model) {
                models.push(point.model);
            }
        }
        Pass::Replay {
            schedule: schedule.clone(),
            models,
        }
    }

    /// The mode's name ([`Mode::name`]; `replay` for [`Pass::Replay`]).
    pub fn mode_name(&self) -> &'static str {
        match self {
            Pass::Exhaustive(_) => "exhaustive",
            Pass::TwoCrashes(_) => "two-crashes",
            Pass::SyncEio(_) => "sync-eio",
            Pass::Random { .. } => "random",
            Pass::Replay { .. } => "replay",
        }
    }

    /// The crash models the pass uses.
    pub fn models(&self) -> &[CrashModel] {
        match self {
            Pass::Exhaustive(m) | Pass::TwoCrashes(m) | Pass::SyncEio(m) => std::slice::from_ref(m),
            Pass::Random { models, .. } | Pass::Replay { models, .. } => models,
        }
    }
}

impl fmt::Display for Pass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Pass::Random { models, .. } if models.len() == CrashModel::ALL.len() => {
                f.write_str("random (every model)")
            }
            Pass::Random { models, .. } => {
                let names: Vec<&str> = models.iter().map(|m| m.name()).collect();
                write!(f, "random {}", names.join("+"))
            }
            Pass::Exhaustive(m) | Pass::TwoCrashes(m) | Pass::SyncEio(m) => {
                write!(f, "{} {m}", self.mode_name())
            }
            Pass::Replay { schedule, .. } => write!(f, "replay `{schedule}`"),
        }
    }
}
