//! Deterministic crash-consistency simulator: SimFs, crash models and the
//! crash explorer.

pub mod explore;
pub mod fs;

pub use fs::{
    ContentDigest, CrashChoice, CrashImage, CrashModel, CrashSource, Crashed, FaultConfig,
    SimConfig, SimFs, SimView, StepAction, StepHook, StepInfo, TooManyStates, Trace, TraceEntry,
    is_crashed,
};
