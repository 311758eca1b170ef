//! SimFs: a deterministic in-memory filesystem that models what survives a
//! crash.
//!
//! # Durability model (read this first)
//!
//! State is kept **per inode**, never per path. A file inode has the bytes
//! readers see now (*visible*) and the bytes on "disk" (*durable*); a
//! directory inode has visible entries and durable entries (name -> inode).
//! A handle points at its inode, so writes through it land in the file even
//! after the file was renamed or unlinked, and data written before a rename
//! is never lost track of.
//!
//! Every change is applied to the visible state at once and, unless it is
//! already durable, appended to one **log of unsynced operations** in issue
//! order. The log holds five kinds of operation:
//!
//! | operation | issued by | durable after |
//! |---|---|---|
//! | write (offset, bytes) | `write_all_at`, `append` | `sync` of the file |
//! | truncate to 0 | `open_truncate` of a non-empty file | `sync` of the file |
//! | link (dir, name -> inode) | `create_new`, `open_truncate`/`try_lock` creating, `create_dir_all`, the target half of a cross-directory rename | `sync_dir` of that dir |
//! | unlink (dir, name) | `remove_file`, the source half of a cross-directory rename | `sync_dir` of that dir |
//! | rename (dir, from -> to) | `rename` inside one directory: one atomic unit | `sync_dir` of that dir |
//!
//! - `sync(file)` applies the file's pending writes and truncations to its
//!   durable bytes and removes them from the log. It does **not** make the
//!   file's name durable.
//! - `sync_dir(dir)` applies the directory's pending entry changes to its
//!   durable entries. (On a regular file it syncs the file, as Linux does.)
//! - `close` makes nothing durable. Reads, listings and metadata see the
//!   visible state.
//! - `sync` failing with injected EIO follows Linux (fsyncgate): the file's
//!   pending operations are removed from the log **without** being applied,
//!   so readers still see the data, a later `sync` returns `Ok`, and a crash
//!   loses it.
//!
//! # What a crash leaves
//!
//! A crash image is the durable state plus the surviving unsynced operations
//! applied in issue order, then trimmed to what is reachable from `/`
//! through durable entries (unreachable inodes are gone). Which operations
//! survive is the [`CrashModel`]:
//!
//! - [`CrashModel::DropUnsynced`] (strict, the default to test against):
//!   none survive. Exactly one state.
//! - [`CrashModel::Prefix`]: the first *k* operations of the log survive
//!   whole, for any `0 <= k <= n` (an ordered journal). `n + 1` states.
//! - [`CrashModel::Subset`]: any subset survives, in any combination (a later
//!   write may survive while an earlier one is lost). Directory operations
//!   survive or not as units (a same-directory rename is one unit, so the
//!   target holds the old inode or the new one, never neither; the two halves
//!   of a cross-directory rename are independent, so both names or neither
//!   can survive). Each write touching `s` sectors (file offsets cut at
//!   multiples of `sector_size_bytes`) has `3^s` outcomes: each sector holds the
//!   old bytes, the new bytes, or garbage (every garbage byte differs from
//!   both the old and the new byte; garbage covers only the bytes the write
//!   touched). All-old is "lost", all-new is "kept", anything else "torn".
//!   A write that survives in any sector extends the file to its end (old
//!   sectors past the old end read as zeros). Truncations survive or not.
//!   `2^(dir ops + truncations) * prod(3^s)` states.
//! - [`CrashModel::EagerDirs`] (kinder, like filesystems that commit
//!   metadata in order): every directory operation survives, as if each
//!   were followed by `sync_dir`; unsynced file data is dropped. One state.
//!   Bugs found under the strict models but not here are missing `sync_dir`s.
//!
//! Dependencies between operations fall out of the inode model: a write to a
//! file whose creating link did not survive is unreachable and disappears; a
//! surviving rename of a file whose data did not survive exposes that inode's
//! *durable* content, which for a never-synced new file is empty (the
//! "rename without fsync" bug). Under Subset a surviving rename whose create
//! was lost still names the new inode. A directory reachable under two names
//! (halves of cross-directory renames surviving differently) keeps only the
//! first name in breadth-first name order.
//!
//! [`SimFs::crash_image`] picks one state with a seed (Prefix: `k` uniform;
//! Subset: each directory op kept with probability 1/2, each write lost, kept
//! or torn with 1/3 each, a torn write's sectors uniform over old/new/garbage).
//! [`SimFs::crash_images`] enumerates every state of the model, one per
//! distinct choice (**not** deduplicated: two choices can give equal trees),
//! garbage as one seeded representative value, first state always "all
//! lost"; past the cap it returns [`TooManyStates`] with the exact count.
//! A crash image is a new [`SimFs`] (the running one is untouched) whose
//! visible state equals its durable state, with no open handles, no locks,
//! step counter 0, an empty trace and the same config except a seed derived
//! from the pick. Files whose bytes did not change share them with the source
//! (`Arc`), so an image costs a walk of the tree, not a copy of the data.
//!
//! # Steps, the hook, and the trace
//!
//! Every `Fs` call, failed ones and `failpoint` included, is one numbered
//! step. Before it runs, the step hook (if set) sees its [`StepInfo`] and a
//! [`CrashSource`] of the state before it and may answer
//! [`StepAction::Crash`]: that call and every later one return the
//! [`Crashed`] error (recognise it with [`is_crashed`]). Each executed step
//! lands in the [`Trace`] with its result and any injected fault.
//!
//! # Faults besides crashes ([`FaultConfig`])
//!
//! Built in, because each needs the inode state: sync EIO (above), ENOSPC
//! when visible bytes would pass `capacity_bytes` (nothing is written),
//! short writes (a seeded prefix is written and logged, then an error with
//! an [`InjectedFault`] payload), and bit flips in durable data at given
//! steps (the flipped bit is in every later image; readers see it at once if
//! the file had no unsynced changes, otherwise only after a crash).
//!
//! # Errors
//!
//! Error kinds follow what `StdFs` gives on Linux (`NotFound`,
//! `AlreadyExists`, `NotADirectory`, `IsADirectory`, `DirectoryNotEmpty`,
//! `InvalidInput` for moving a directory into itself, `WouldBlock` for a held
//! lock); every error names the operation and path through
//! [`crashproof_core::fs::FsOpError`]. Relative paths are resolved against
//! `/`; `..` is resolved lexically. A write that would grow a file past
//! 256 MiB fails with `FileTooLarge` (EFBIG) and changes nothing, so wild
//! offsets cannot exhaust memory.
//!
//! # Determinism
//!
//! Everything follows from [`SimConfig::seed`]: a ChaCha8 stream for faults,
//! seeds derived by hashing for crash picks and images. No clock, threads,
//! OS randomness, global state or hash-map iteration.

mod config;
mod crash;
mod digest;
mod error;
mod ops;
mod seeds;
mod sim_fs;
mod state;
mod trace;
mod view;

pub use config::{FaultConfig, SimConfig};
pub use crash::{CrashChoice, OpChoice, OpFate, SectorFate};
pub use crashproof_fault::CrashModel;
pub use digest::ContentDigest;
pub use error::{Crashed, InjectedFault, TooManyStates, is_crashed};
pub use sim_fs::{CrashImage, CrashSource, SimFs, StepAction, StepHook};
pub use trace::{StepInfo, StepOutcome, Trace, TraceEntry};
pub use view::SimView;
