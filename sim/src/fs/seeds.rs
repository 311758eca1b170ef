//! Deterministic seed derivation: child seeds from a parent without an RNG
//! borrow, so a read-only state can still derive them.

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};

/// SplitMix64's finaliser: a bijective, well-mixed function of `x`.
pub(crate) fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// The `n`th child seed of `parent`.
pub(crate) fn child(parent: u64, n: u64) -> u64 {
    mix(mix(parent) ^ mix(n.wrapping_add(0x51_7CC1_B727_220A)))
}

/// A number in `0..n` (0 when `n == 0`). Modulo bias is irrelevant here:
/// the draws need to be deterministic and spread out, not exactly uniform.
pub(crate) fn below(rng: &mut ChaCha8Rng, n: u64) -> u64 {
    if n == 0 { 0 } else { rng.next_u64() % n }
}

/// True with probability `p` (never for `p <= 0` or NaN, always for
/// `p >= 1`). Draws once from `rng` whatever `p` is.
pub(crate) fn chance(rng: &mut ChaCha8Rng, p: f64) -> bool {
    // 53 random bits as a float in [0, 1).
    let x = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
    x < p
}

/// `len` garbage bytes for sector `sector` of the write with sequence `seq`,
/// each different from the old and the new byte at its position so a reader
/// can always tell garbage from either.
pub(crate) fn garbage(seed: u64, seq: u64, sector: u64, old: &[u8], new: &[u8]) -> Vec<u8> {
    let mut rng = ChaCha8Rng::seed_from_u64(child(child(seed, seq), sector));
    let mut bytes = vec![0u8; new.len()];
    rng.fill_bytes(&mut bytes);
    for (i, b) in bytes.iter_mut().enumerate() {
        let o = old.get(i).copied().unwrap_or(0);
        let n = new[i];
        while *b == o || *b == n {
            *b = b.wrapping_add(1);
        }
    }
    bytes
}
