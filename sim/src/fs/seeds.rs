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

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn mix_is_splitmix64s_finaliser() {
        // SplitMix64 seeded with 0 (Vigna's reference implementation) first
        // outputs 0xe220a8397b1dcdaf, 0x6e789e6aa1b965f4, 0x06c45d188009454f:
        // its state advances by the golden gamma before each finalisation,
        // which `mix` does to its argument.
        let gamma = 0x9E37_79B9_7F4A_7C15u64;
        assert_eq!(mix(0), 0xe220_a839_7b1d_cdaf);
        assert_eq!(mix(gamma), 0x6e78_9e6a_a1b9_65f4);
        assert_eq!(mix(gamma.wrapping_mul(2)), 0x06c4_5d18_8009_454f);
    }

    #[test]
    fn children_of_one_parent_never_collide() {
        // `child` is a bijection in `n` for a fixed parent (mix is, and so is
        // xor with a constant): no two picks of one moment share a seed.
        for parent in [0, 1, u64::MAX] {
            let seeds: BTreeSet<u64> = (0..200_000).map(|n| child(parent, n)).collect();
            assert_eq!(seeds.len(), 200_000, "parent {parent}");
        }
    }

    #[test]
    fn chance_is_true_with_probability_p() {
        // 4000 draws at p = 1/4: 1000 expected, standard deviation about
        // 27, so 880..=1120 unless the draw is skewed or inverted.
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let hits = (0..4000).filter(|_| chance(&mut rng, 0.25)).count();
        assert!((880..=1120).contains(&hits), "{hits} of 4000");
        assert!((0..100).all(|_| !chance(&mut rng, 0.0)));
        assert!((0..100).all(|_| !chance(&mut rng, f64::NAN)));
        assert!((0..100).all(|_| chance(&mut rng, 1.0)));
    }

    #[test]
    fn garbage_differs_from_old_and_new_at_every_byte() {
        // Old and new cover every byte value pair that could trap the
        // adjustment (equal, adjacent, wrapping at 255).
        let old: Vec<u8> = (0..=255).collect();
        let new: Vec<u8> = (0..=255u8).map(|b| b.wrapping_add(1)).collect();
        for (o, n) in [(&old, &new), (&new, &old), (&old, &old)] {
            for seq in 0..64 {
                let g = garbage(9, seq, 0, o, n);
                assert_eq!(g.len(), n.len());
                for i in 0..g.len() {
                    assert!(g[i] != o[i] && g[i] != n[i], "byte {i}: {}", g[i]);
                }
            }
        }
        // Past the old end the old byte reads as zero.
        let g = garbage(9, 0, 0, &[], &[5; 64]);
        assert!(g.iter().all(|b| *b != 0 && *b != 5));
    }
}
