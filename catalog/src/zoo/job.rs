//! The job every zoo program runs: a deterministic count over `items`
//! values, checkpointed every `every` items.
//!
//! The state is deliberately larger than one 512-byte sector once encoded
//! (see [`super::envelope`]), so a write torn at sector granularity can mix
//! the cursor of one checkpoint with the buckets of another — the way a real
//! multi-sector progress file tears.

use serde::{Deserialize, Serialize};

use crashproof_sim::explore::CheckpointId;

/// Number of histogram buckets in [`JobState`].
pub const BUCKETS: usize = 40;

/// What the job computes: a wrapping sum of the item values and a histogram
/// of them (value modulo [`BUCKETS`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobState {
    /// Wrapping sum of every processed value.
    pub sum: u64,
    /// How many processed values fell in each bucket.
    pub buckets: Vec<u64>,
}

impl JobState {
    /// The state before any item is processed.
    pub fn initial() -> Self {
        Self {
            sum: 0,
            buckets: vec![0; BUCKETS],
        }
    }

    /// A stable 64-bit digest (FNV-1a over the little-endian fields), so
    /// two states compare equal exactly when their digests do in practice.
    pub fn digest(&self) -> u64 {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        let mut eat = |word: u64| {
            for byte in word.to_le_bytes() {
                hash ^= u64::from(byte);
                hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
            }
        };
        eat(self.sum);
        eat(self.buckets.len() as u64);
        for &b in &self.buckets {
            eat(b);
        }
        hash
    }
}

/// A checkpoint's content: resume at `cursor` with `state`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Items fully processed; resume at this index.
    pub cursor: u64,
    /// The state after processing items `0..cursor`.
    pub state: JobState,
}

impl Checkpoint {
    /// The identity the oracles compare: cursor plus state digest.
    pub fn id(&self) -> CheckpointId {
        CheckpointId {
            cursor: self.cursor,
            state_digest: self.state.digest(),
        }
    }
}

/// The job's shape: how many items, and how often to checkpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CountingJob {
    /// Total items (N).
    pub items: u64,
    /// Checkpoint after every `every` items (K), and after the last item.
    pub every: u64,
}

impl CountingJob {
    /// The zoo's default size: small enough that exhaustive exploration is
    /// fast and counterexamples are short (N = 40, K = 5).
    pub const SMALL: CountingJob = CountingJob {
        items: 40,
        every: 5,
    };

    /// The value of item `index` (a fixed, seedless mix: the job's input).
    pub fn value(index: u64) -> u64 {
        splitmix64(index ^ 0x5eed_c0de_0000_0000)
    }

    /// Folds item `index` into `state`.
    pub fn step(state: &mut JobState, index: u64) {
        let value = Self::value(index);
        state.sum = state.sum.wrapping_add(value);
        let bucket = (value % BUCKETS as u64) as usize;
        if let Some(count) = state.buckets.get_mut(bucket) {
            *count += 1;
        }
    }

    /// Whether a checkpoint is due once `cursor` items are done.
    pub fn is_commit_point(&self, cursor: u64) -> bool {
        cursor > 0 && (cursor.is_multiple_of(self.every.max(1)) || cursor == self.items)
    }

    /// The commit sequence number of the checkpoint at `cursor` (1 for the
    /// first checkpoint): monotone and identical across resumes.
    pub fn generation(&self, cursor: u64) -> u64 {
        cursor.div_ceil(self.every.max(1))
    }

    /// The canonical printable result the result oracle compares.
    pub fn output(&self, state: &JobState) -> String {
        format!(
            "items={} sum={:016x} digest={:016x}",
            self.items,
            state.sum,
            state.digest()
        )
    }

    /// The state of a run from scratch to `cursor`, for tests and oracles.
    pub fn state_at(cursor: u64) -> JobState {
        let mut state = JobState::initial();
        for i in 0..cursor {
            Self::step(&mut state, i);
        }
        state
    }
}

fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_points_are_every_k_and_the_end() {
        let job = CountingJob {
            items: 12,
            every: 5,
        };
        let points: Vec<u64> = (0..=12).filter(|&c| job.is_commit_point(c)).collect();
        assert_eq!(points, vec![5, 10, 12]);
        assert_eq!(job.generation(12), 3);
        assert_eq!(job.generation(10), 2);
    }

    #[test]
    fn digest_tells_states_apart() {
        let a = CountingJob::state_at(5);
        let b = CountingJob::state_at(6);
        assert_ne!(a.digest(), b.digest());
        assert_eq!(a.digest(), CountingJob::state_at(5).digest());
        assert_eq!(a.buckets.iter().sum::<u64>(), 5);
    }
}
