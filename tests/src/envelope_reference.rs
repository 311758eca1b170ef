//! The envelope's framing re-derived from its specification, so tests that
//! forge or reseal envelopes do not trust the core's own framing code.

use crashproof_core::envelope::{FORMAT_VERSION_1, MAGIC};

/// CRC32C (Castagnoli, reflected), bitwise: the envelope's checksum.
pub fn crc32c(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0x82f6_3b78
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A format-version-1 envelope around `payload`, as the version 1 writer
/// made it (20-byte header: magic, version, length; no codec field).
pub fn envelope_v1(payload: &[u8]) -> Vec<u8> {
    let mut out = MAGIC.to_vec();
    out.extend_from_slice(&FORMAT_VERSION_1.to_le_bytes());
    out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    out.extend_from_slice(payload);
    let crc = crc32c(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The check value of the CRC-32C catalogue entry, and the core's own
    /// framing agreeing with this one on a version 1 frame.
    #[test]
    fn the_reference_matches_the_standard_and_the_core() {
        assert_eq!(crc32c(b"123456789"), 0xe306_9283);
        let frame = envelope_v1(b"{}");
        let raw = crashproof_core::envelope::decode_raw(&frame);
        assert!(matches!(raw, Ok(r) if r.payload == b"{}" && r.version == FORMAT_VERSION_1));
    }
}
