//! The explorer's knobs, in one documented struct, and their checks.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::replay_line::ReplayLine;
use super::shard::Shard;

/// The largest sector a simulated disk may have, in bytes (1 MiB): far past
/// any real device (4 KiB sectors, 64 KiB stripes), small enough that a torn
/// write still has several sectors to tear.
pub const SECTOR_SIZE_BYTES_MAX: usize = 1 << 20;

/// How the explorer runs. Everything a run depends on is here (and in the
/// workload), so an exploration is a pure function of this struct.
#[derive(Debug, Clone, PartialEq)]
pub struct ExploreOptions {
    /// Seed of every `SimFs` the explorer builds (`SimConfig::seed`) and of
    /// the explorer's own draws (seeded picks, random schedules).
    pub seed: u64,
    /// Most post-crash states enumerated at one crash point; past it the
    /// exhaustive modes check `picks_per_capped_point` seeded picks instead
    /// and say so (see [`ExploreOptions::states_enumerated_max`]).
    pub states_per_point_max: usize,
    /// Seeded post-crash states checked at a crash point whose states exceed
    /// `states_per_point_max`.
    pub picks_per_capped_point: usize,
    /// Torn-write granularity of the simulated disk, in bytes: a power of
    /// two, at most [`SECTOR_SIZE_BYTES_MAX`].
    pub sector_size_bytes: usize,
    /// Run cases twice and compare traces and results (madsim's
    /// `MADSIM_TEST_CHECK_DETERMINISM`): in random mode every case, in the
    /// exhaustive mode the clean run and a sample of crash points.
    pub check_determinism: bool,
    /// Violation groups kept in full (with traces) in a report; the rest are
    /// counted.
    pub violations_in_full_max: usize,
    /// How a violation says to replay it: in code (the default, for your
    /// own workloads) or as a `crashproof replay` command (for the
    /// catalogue's workloads, which the CLI loads by name).
    pub replay: ReplayLine,
    /// Check each distinct post-crash state once: crash points whose image
    /// is the same (by content digest) share one inspection and one resumed
    /// run, and only the checks that depend on the crash moment (the
    /// progress record: attempted, acknowledged, processed) run per point.
    /// Exact: the report is the same as without it. Off: every state is
    /// recovered on its own (the naive path, kept for comparison).
    pub dedup: bool,
    /// Stop a resumed run once it has converged with the clean run: at a point
    /// the workload declares ([`crate::explore::Progress::converged`]) with the
    /// same disk (visible and durable) as the clean run had at that point, the
    /// rest is the clean run by determinism, so its outcome is taken. Exact
    /// under the workload's contract; off: every resumed run runs to its end.
    pub converge: bool,
    /// Threads that check crash points in parallel; 0 means one per core.
    /// The report is the same for every value.
    pub jobs: usize,
    /// Which part of each pass's crash points this run checks (default: the
    /// whole). Shards' reports merge into the whole run's
    /// ([`crate::explore::Report::merge_shards`]).
    pub shard: Shard,
    /// A flag the caller may set (from a Ctrl-C handler, say) to stop the
    /// exploration between units of work: the report then covers what was
    /// done so far and is marked interrupted ([`crate::explore::Report::interrupted`]),
    /// never clean. Default: none.
    pub cancel: Cancel,
    /// Audit the workload once per [`crate::explore::Explorer`] for
    /// real-disk calls it was denied and swallowed (`let _ =
    /// std::fs::write(..)`, then on through the simulator, so every run
    /// looks sound): before the first run, the clean run is run once more
    /// on a confined thread that [`ExploreOptions::strace`] follows, and a
    /// denied write it shows is
    /// [`crate::explore::HarnessError::BypassedSimulator`]. Only where
    /// Landlock confines the runs (elsewhere nothing is denied). Costs one
    /// clean run under `strace` per explorer. Default on; off, or without
    /// `strace`, every report says swallowed denials were not checked
    /// ([`crate::explore::SwallowedDenials`]).
    pub audit: bool,
    /// The `strace` the explorer runs for the audit and to name the path of
    /// a denied call a failed clean run's error does not name. Default
    /// `strace`, found on `PATH`; a program that cannot be started makes
    /// every report say why swallowed denials were not checked.
    pub strace: PathBuf,
}

/// A caller's "stop now" flag ([`ExploreOptions::cancel`]), checked
/// between units of work (crash points, first crashes, failed syncs,
/// random cases, passes). Two are equal when both are absent or they share
/// one flag.
#[derive(Clone, Default)]
pub struct Cancel(Option<Arc<AtomicBool>>);

impl Cancel {
    /// A cancel that is set when `flag` is (`Arc<AtomicBool>`, as a signal
    /// handler such as `signal_hook::flag::register` sets it).
    pub fn when(flag: Arc<AtomicBool>) -> Self {
        Self(Some(flag))
    }

    /// Whether the caller asked to stop.
    pub fn is_set(&self) -> bool {
        self.0.as_ref().is_some_and(|f| f.load(Ordering::SeqCst))
    }
}

impl PartialEq for Cancel {
    fn eq(&self, other: &Self) -> bool {
        match (&self.0, &other.0) {
            (None, None) => true,
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

impl fmt::Debug for Cancel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            None => f.write_str("Cancel(none)"),
            Some(_) if self.is_set() => f.write_str("Cancel(set)"),
            Some(_) => f.write_str("Cancel(not set)"),
        }
    }
}

impl Default for ExploreOptions {
    fn default() -> Self {
        Self {
            seed: 0,
            states_per_point_max: 256,
            picks_per_capped_point: 16,
            sector_size_bytes: 512,
            check_determinism: false,
            violations_in_full_max: 3,
            replay: ReplayLine::default(),
            dedup: true,
            converge: true,
            jobs: 0,
            shard: Shard::WHOLE,
            cancel: Cancel::default(),
            audit: true,
            strace: PathBuf::from("strace"),
        }
    }
}

/// An option no exploration can run with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidOptions {
    /// A sector of 0 bytes.
    #[error("a sector size of 0 bytes cannot tear a write: use a power of two such as 512 or 4096")]
    SectorSizeZero,
    /// A sector size that is not a power of two.
    #[error(
        "a sector size of {0} bytes is not a power of two (real sectors are): use one such as 512 \
         or 4096"
    )]
    SectorSizeNotPowerOfTwo(usize),
    /// No state would be taken at any crash point: nothing enumerated and
    /// nothing sampled.
    #[error(
        "the cap (--cap, states_per_point_max) and the seeded picks past it (--picks, \
         picks_per_capped_point) are both 0, so no post-crash state would be checked at any \
         crash point: raise either"
    )]
    NoStatesPerPoint,
    /// A sector larger than [`SECTOR_SIZE_BYTES_MAX`].
    #[error(
        "a sector size of {0} bytes is larger than the most a simulated disk allows \
         ({SECTOR_SIZE_BYTES_MAX} bytes): use a power of two such as 512 or 4096"
    )]
    SectorSizeTooLarge(usize),
    /// A shard outside its count (`--shard 0/4`, `--shard 5/4`, `--shard 1/0`).
    #[error(
        "shard {index} of {count} does not exist: shards are numbered 1 to their count (--shard \
         1/4 ... 4/4), and the count is at least 1"
    )]
    ShardOutOfRange {
        /// The shard asked for, 1-based.
        index: u64,
        /// How many shards.
        count: u64,
    },
    /// Random schedules cannot be split: proptest draws them from one
    /// stream and stops at the first failure.
    #[error(
        "random schedules are drawn from one stream and cannot be split into shards: run the \
         random mode in one job without --shard (and the exhaustive, two-crash and sync-eio \
         passes sharded)"
    )]
    ShardedRandom,
}

impl ExploreOptions {
    /// The most states a crash point may have and still be enumerated (and
    /// `idx=` select from): `states_per_point_max`, or `picks_per_capped_point`
    /// when that is larger, since drawing more seeded picks than a point has
    /// states would check the same states again.
    pub fn states_enumerated_max(&self) -> usize {
        self.states_per_point_max.max(self.picks_per_capped_point)
    }

    /// Checks every option a run cannot use: the sector size, a cap and
    /// picks that would take no state at any crash point, a shard outside
    /// its count.
    pub fn validate(&self) -> Result<(), InvalidOptions> {
        if self.states_enumerated_max() == 0 {
            return Err(InvalidOptions::NoStatesPerPoint);
        }
        self.shard.validate()?;
        validate_sector_size_bytes(self.sector_size_bytes)
    }
}

/// Whether `bytes` is a sector size a simulated disk can have: a power of
/// two, at most [`SECTOR_SIZE_BYTES_MAX`].
pub fn validate_sector_size_bytes(bytes: usize) -> Result<(), InvalidOptions> {
    if bytes == 0 {
        return Err(InvalidOptions::SectorSizeZero);
    }
    if !bytes.is_power_of_two() {
        return Err(InvalidOptions::SectorSizeNotPowerOfTwo(bytes));
    }
    if bytes > SECTOR_SIZE_BYTES_MAX {
        return Err(InvalidOptions::SectorSizeTooLarge(bytes));
    }
    Ok(())
}

impl ExploreOptions {
    /// The threads [`ExploreOptions::jobs`] asks for: itself, or one per
    /// core for 0 (1 if the core count is unknown).
    pub fn threads(&self) -> usize {
        if self.jobs > 0 {
            return self.jobs;
        }
        std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
    }
}
