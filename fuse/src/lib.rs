//! crashproof-fuse: the simulated disk as a real mount.
//!
//! (crate docs: see the end of this work)

pub mod attrs;
pub mod cleanup;
pub mod command;
pub mod control;
pub mod dispatch;
pub mod errno;
pub mod inodes;
pub mod mount;
pub mod pool;
pub mod preflight;
pub mod request;
pub mod run;
pub mod server;
pub mod snapshot;
pub mod standalone;
pub mod unmodelled;

pub use cleanup::Cleanup;
pub use mount::{Mount, MountError, fuse_available, is_mounted, mounts_under};
pub use pool::{MountPool, Pooled};
pub use run::{Ended, RunEnd, RunError, RunSpec, run_on_mount};
pub use unmodelled::{Refusal, Unmodelled};
pub use command::{ACKED_ENV, CommandWorkload, Stats};
pub use snapshot::{Entry, Snapshot};
pub use preflight::{Preflight, PreflightError, preflight};
pub use standalone::{Served, StandaloneError, StandaloneOptions, serve};
