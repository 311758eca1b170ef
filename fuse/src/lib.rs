//! crashproof-fuse: the simulated disk as a real mount, so that any
//! program, in any language, can be crashed at every filesystem step and
//! recovered on every post-crash state a crash model allows.
//!
//! - [`mount`]: a FUSE mount (the `fuser` crate, its pure-Rust mount: root
//!   and `/dev/fuse`, no libfuse) whose session thread only forwards
//!   requests ([`dispatch`]); unmounted on every path, lazily if it must be.
//! - [`server`]: one run's server: each request becomes the `Fs` calls that
//!   mean it, on the `&dyn Fs` the run attached (the table of which request
//!   makes which steps is there); [`inodes`] maps FUSE's inode numbers to
//!   paths, [`errno`] errors to errnos, [`attrs`] fixes what the model
//!   does not keep (times, modes); [`unmodelled`] counts what it refuses.
//! - [`run`]: one program run on a mount: the `crashproof kill` contract
//!   (`{dir}`, `CRASHPROOF_DIR`, progress lines on descriptor 3), its own
//!   process group, requests served one at a time on the calling thread,
//!   every wait with a deadline, the group killed on every path out.
//! - [`command`]: a program as a `crashproof_sim::explore::Workload`, so the
//!   explorer runs it unchanged; [`pool`] keeps one mount per thread that
//!   runs a program, reused across cases; [`preflight()`] refuses programs
//!   that would be explored vacuously; [`snapshot`] is a post-crash tree
//!   as a value (the check cache's key, `crashproof materialize`'s output).
//! - [`standalone`] and [`control`]: `crashproof mount`, a mount crashed on
//!   command over a control socket, for other harnesses.
//! - [`cleanup`]: what a signal handler removes before the process exits.
//!
//! # One run
//!
//! The explorer calls `Workload::run(fs, progress)` on one of its threads.
//! That thread takes an idle mount from the pool, attaches (the mount's
//! channel now leads to it), starts the program in its own process group
//! and serves each request as it comes, the only thread that touches `fs`:
//! no lifetime trick, no `unsafe`, and the step order is the program's
//! request order. A request from outside the program's process group is
//! answered `EIO` and is never a step. When the simulated disk crashes
//! (the explorer's step hook), every later call fails: the program gets
//! `EIO`, its group is killed, and the run returns the crash. At the end
//! the run detaches (requests still queued get `EIO`) and drops the
//! kernel's cached names, so every run starts from the same cold cache and
//! a program makes the same steps every time.
//!
//! # Which requests are crash points
//!
//! Every `Fs` call on a `SimFs` is a step, and every step is a crash point.
//! Lookups and `getattr` are steps (they read; the explorer's dedup checks
//! the equal states they leave once). `flush`, `release`, `opendir`,
//! `releasedir`, `statfs`, `forget`, `access` and `getattr` of the root are
//! not: they make no `Fs` call. `release` in particular arrives in the
//! background, at a moment the program does not choose, so it closes
//! nothing: a file's `Fs` handle lives until the run ends. Locks (`flock`,
//! `fcntl`) are kept by the kernel between the processes of a run and hold
//! nothing durable. Operations the model has no rule for are refused with
//! an errno and counted ([`Unmodelled`]): `symlink` and `mknod` (`EPERM`),
//! `setxattr` (`EOPNOTSUPP`), `RENAME_EXCHANGE` and `RENAME_WHITEOUT`
//! (`EINVAL`), `fallocate` with mode bits (`EOPNOTSUPP`), ioctls other than
//! the terminal probe (`ENOTTY`); `chmod`, `chown` and `utimens` are
//! accepted and not kept (counted too). Shared writable `mmap` is refused
//! by the kernel itself on a `direct_io` file (`ENODEV`), before the mount
//! sees it, so it cannot be counted.

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
pub use command::{ACKED_ENV, CommandWorkload, Stats};
pub use mount::{Mount, MountError, fuse_available, is_mounted, mounts_under};
pub use pool::{MountPool, Pooled};
pub use preflight::{Preflight, PreflightError, preflight};
pub use run::{Ended, RunEnd, RunError, RunSpec, run_on_mount};
pub use snapshot::{Entry, Snapshot};
pub use standalone::{Served, StandaloneError, StandaloneOptions, serve};
pub use unmodelled::{Refusal, Unmodelled};
