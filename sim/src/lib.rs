//! Deterministic crash-consistency simulator: SimFs, crash models and the
//! crash explorer.
//!
//! - [`fs`]: `SimFs`, the in-memory filesystem that models what survives a
//!   crash;
//! - [`explore`]: the explorer, which crashes a workload at every step and
//!   checks the oracles on every post-crash state (a core `Job` as is:
//!   `JobWorkload`; a program without hooks: `ProgramWorkload`);
//! - [`check`]: `CrashTest`, one call that puts a workload under the
//!   explorer in a test and panics with a readable, replayable report.
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
//! order (the journal a crash cuts). The log holds five kinds of operation:
//!
//! | operation | issued by | durable after |
//! |---|---|---|
//! | write (offset, bytes) | `write_all_at`, `append` | `sync` of the file |
//! | truncate to a length | `open_truncate` of a non-empty file, `set_len` | `sync` (or `sync_data`) of the file |
//! | link (dir, name -> inode) | `create_new`, `open_truncate`/`open(Create)`/`try_lock` creating, `create_dir`, `create_dir_all`, `hard_link` | `sync_dir` of that dir |
//! | unlink (dir, name) | `remove_file`, `remove_dir` | `sync_dir` of that dir |
//! | rename (old name -> new name) | `rename`, inside one directory or across two: **one** entry | each directory's half: `sync_dir` of that dir |
//!
//! - `sync(file)` applies the file's pending writes and truncations to its
//!   durable bytes and removes them from the log. It does **not** make the
//!   file's name durable. `sync_data` is the same (the model keeps no
//!   metadata fdatasync could skip).
//! - A file may have several names (`hard_link`): one inode, one set of
//!   bytes; it survives a crash while any durable entry reaches it.
//! - `sync_dir(dir)` applies the directory's pending entry changes to its
//!   durable entries, in issue order. (On a regular file it syncs the file,
//!   as Linux does.) A rename across directories has a half in each: the
//!   old name removed from the source, the new name added to the target.
//!   Syncing one of the two makes that half durable and leaves the other
//!   half in the log, at the rename's place (strict per-directory
//!   durability: a program that synced only the source directory can lose
//!   the file's name entirely).
//! - `close` makes nothing durable. Reads, listings and metadata see the
//!   visible state.
//! - `sync` failing with injected EIO follows Linux (fsyncgate): the file's
//!   pending operations are removed from the log **without** being applied,
//!   so readers still see the data, a later `sync` returns `Ok`, and a crash
//!   loses it. Such a file is *diverged*: its durable bytes plus its pending
//!   operations no longer give its visible bytes.
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
//! - [`CrashModel::Prefix`] (an ordered journal): the first *k* entries of
//!   the log survive whole, for any `0 <= k <= n`. `n + 1` states. A rename,
//!   inside one directory or across two, is one entry, so while both its
//!   halves are unsynced no state shows the file under neither name.
//! - [`CrashModel::Subset`]: any subset survives, in any combination (a later
//!   write may survive while an earlier one is lost). Links, unlinks,
//!   truncations and renames inside one directory survive or not as units
//!   (a rename's target holds the old inode or the new one, never neither).
//!   The two halves of a rename across directories are **independent**
//!   (each directory's entries are written back on their own), so it has 4
//!   outcomes: lost, kept, only the old name removed (the file under neither
//!   name) or only the new name added (under both). Each write touching `s`
//!   sectors (file offsets cut at multiples of `sector_size_bytes`) has `3^s`
//!   outcomes: each sector holds the old bytes, the new bytes, or garbage
//!   (every garbage byte differs from both the old and the new byte; a torn
//!   write changes only bytes in its range). All-old is "lost", all-new is
//!   "kept", anything else "torn". A file's length grows sector by sector as
//!   it is written back: a write that reaches the disk in some sector grows
//!   the file to the end of the **last** such sector (clipped to the write's
//!   end), never shrinks it, and old sectors below that end but past the old
//!   end read as zeros; so a torn append can leave the file ending at any
//!   sector boundary inside the append. Each of the `3^s` outcomes is a
//!   different state. In all,
//!   `2^(other directory ops + truncations) * 4^(renames across directories)
//!   * prod(3^s)` states.
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
//! (one half of a rename across directories surviving) keeps only the first
//! name in breadth-first name order.
//!
//! [`SimView::crash_image`] picks one state with a seed (Prefix: `k`
//! uniform; Subset: each directory op kept with probability 1/2, each half of
//! a rename across directories on its own, each write lost, kept or torn
//! with 1/3 each, a torn write's sectors uniform over old/new/garbage, redrawn
//! into a tear if they came out all old or all new).
//! [`SimView::crash_images`] enumerates every state of the model, one per
//! distinct choice (**not** deduplicated: two choices can give equal trees),
//! first state always "all lost"; past the cap it returns [`TooManyStates`]
//! with the exact count. **A pick reaches every enumerated state as the very
//! same image**: garbage bytes and the image's seed are functions of the
//! source state and the choice alone (the op and sector, for garbage), never
//! of the pick's seed, so random exploration and seeded picks past a cap
//! can reach exactly the states enumeration lists.
//!
//! A crash image is a new [`SimFs`] (the running one is untouched) whose
//! visible state equals its durable state, with no open handles, no locks,
//! step counter 0, an empty trace and the same config except a seed derived
//! from the choice. Files whose bytes did not change share them with the
//! source (`Arc`), so an image costs a walk of the tree, not a copy of the
//! data.
//!
//! # Invariants, asserted
//!
//! The model above is checked, not only described ([`InvariantViolation`]
//! says which rule broke, naming the inode and its path). Debug builds (all
//! tests, fuzzing) assert after every step: for every file that is not
//! diverged, durable bytes + its unsynced data ops in issue order == visible
//! bytes; for every directory, durable entries + its unsynced directory ops
//! == visible entries; every inode named by an entry, a handle or an
//! unsynced op exists and is of the right kind; counters and locks agree.
//! After building every crash image: the image holds visible == durable,
//! nothing unsynced, no handles or locks, step 0, only what `/` reaches; the
//! running filesystem is unchanged; and every torn write obeys the torn-write
//! and length rules above. Release builds skip these checks (the explorer
//! does not pay for them); [`SimFs::check_invariants`] runs them on demand.
//! An inode that "cannot be missing" is an error or an assertion, never
//! skipped.
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
//! an [`fs::InjectedFault`] payload), and bit flips in durable data at given
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

pub mod check;
pub mod explore;
pub mod fs;

pub use fs::{
    ContentDigest, CrashChoice, CrashImage, CrashModel, CrashSource, Crashed, FaultConfig,
    InvariantViolation, SimConfig, SimFs, SimView, StepAction, StepHook, StepInfo, TooManyStates,
    Trace, TraceEntry, Unsynced, UnsyncedOp, is_crashed,
};
