//! A stable 64-bit digest for identities and state fingerprints.

/// FNV-1a 64 over `bytes`: the same value on every platform, build and run
/// (no per-process seed, unlike `std`'s `DefaultHasher`), so it can be
/// stored on disk and compared across processes and simulator runs.
///
/// Not cryptographic: it identifies content, it does not authenticate it.
/// Use it for [`crate::Job::fingerprint`] and state digests, never to detect
/// corruption (the envelope's CRC32C does that).
pub fn stable_digest(bytes: &[u8]) -> u64 {
    const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    bytes.iter().fold(OFFSET_BASIS, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(PRIME)
    })
}

#[cfg(test)]
mod tests {
    use super::stable_digest;

    #[test]
    fn matches_published_fnv1a_vectors() {
        // Reference values from the FNV specification's test suite.
        assert_eq!(stable_digest(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(stable_digest(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(stable_digest(b"foobar"), 0x8594_4171_f739_67e8);
    }
}
