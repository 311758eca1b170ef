//! What a [`super::SimFs`] is configured with: the seed, the sector size, the
//! faults to inject, and the crash models an image can be built with.

use std::collections::BTreeSet;

use crashproof_fault::FaultRule;

/// Everything a [`super::SimFs`] run depends on besides the calls made to it.
/// Two filesystems built from equal configs and given the same calls produce
/// identical traces and crash images.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// Drives every random choice (faults, crash picks, garbage bytes); child
    /// seeds are drawn from it.
    pub seed: u64,
    /// Torn-write granularity in bytes: a write torn by a crash is torn at
    /// file offsets that are multiples of this. Default 512; 0 is treated as 1.
    pub sector_size_bytes: usize,
    /// Faults injected while the filesystem runs. Default: none.
    pub faults: FaultConfig,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            seed: 0,
            sector_size_bytes: 512,
            faults: FaultConfig::default(),
        }
    }
}

impl SimConfig {
    /// The default config with `seed`.
    pub fn with_seed(seed: u64) -> Self {
        Self {
            seed,
            ..Self::default()
        }
    }

    /// The sector size actually used, in bytes (at least 1).
    pub(crate) fn sector_size_bytes_used(&self) -> u64 {
        self.sector_size_bytes.max(1) as u64
    }
}

/// Faults besides crashes, each seeded and recorded in the trace of the step
/// it hit. Probabilities outside `0.0..=1.0` are clamped.
#[derive(Clone, Debug, Default)]
pub struct FaultConfig {
    /// Steps (by index) at which a `sync` fails with EIO, Linux semantics:
    /// the dirty data it covered is no longer pending (readers still see it,
    /// a later `sync` returns `Ok`) and is lost on a crash. A step in this set
    /// that is not a `sync` is not affected.
    pub sync_eio_at_steps: BTreeSet<u64>,
    /// Probability (0.0..=1.0) that any given `sync` fails with EIO (seeded).
    pub sync_eio_probability: f64,
    /// Total visible bytes allowed (the lengths of every file that has a name
    /// or an open handle); a write that would go past it fails with ENOSPC
    /// (`ErrorKind::StorageFull`) and changes nothing.
    pub capacity_bytes: Option<u64>,
    /// Probability that a write is short: a seeded prefix (possibly empty) of
    /// the bytes is written, then the call returns an error.
    pub short_write_probability: f64,
    /// Steps at which one seeded bit of durable data is flipped before the
    /// step runs. The flip persists: it is in every later crash image, and
    /// readers see it at once when the file had no unsynced changes (its
    /// page cache was clean).
    pub bit_flip_at_steps: BTreeSet<u64>,
    /// Fault rules (`eio:fsync:*.wal`): before every step, each rule that
    /// matches its operation and path counts the match, and the first that
    /// injects (every match, or only its `n`-th) fails the call with its
    /// error: an `fsync` with Linux's failed-fsync semantics (as
    /// `sync_eio_at_steps`), any other call changing nothing. Matches are
    /// counted per filesystem ([`super::SimFs::fault_rule_counts`]), so a
    /// rule that never matched can be reported.
    pub rules: Vec<FaultRule>,
}
