//! SimFs: a deterministic in-memory filesystem that models what survives a
//! crash. The durability model it implements is the
//! [crate documentation](crate); this module holds the types.
//!
//! One file per job: `state` (the inode table and the log of unsynced
//! operations), `ops` (the POSIX operations on it), `sim_fs` (steps, the
//! hook, the trace), `crash` (which operations survive under each model),
//! `view` (the read-only crash API), `invariants` (the checks asserted after
//! every step and every crash image), `config`, `error`, `seeds`, `trace`.

mod config;
mod crash;
mod digest;
mod error;
mod invariants;
#[cfg(test)]
mod invariants_tests;
mod ops;
mod seeds;
mod sim_fs;
mod snapshot;
#[cfg(test)]
mod snapshot_tests;
mod state;
mod trace;
mod unsynced;
mod view;

pub use config::{FaultConfig, SimConfig};
pub use crash::{CrashChoice, OpChoice, OpFate, RenameHalf, SectorFate};
pub use crashproof_fault::CrashModel;
pub use digest::ContentDigest;
pub use error::{Crashed, InjectedFault, TooManyStates, is_crashed};
pub use invariants::InvariantViolation;
pub use sim_fs::{CrashImage, CrashSource, SimFs, StepAction, StepHook};
pub(crate) use snapshot::Snapshot;
pub use trace::{StepInfo, StepOutcome, Trace, TraceEntry};
pub use unsynced::{Unsynced, UnsyncedOp};
pub use view::SimView;
