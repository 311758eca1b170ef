//! The zoo's checkpoint file format: a one-line header carrying a CRC-32C
//! and the payload length, then the payload as fixed-width JSON.
//!
//! Every checkpoint encodes to the same length (numbers are right-aligned in
//! fixed-width fields; JSON allows the leading spaces), so a program that
//! overwrites a file in place never leaves a tail of an older, longer record,
//! and a torn write mixes whole sectors of two valid-looking records. The
//! encoded length is more than one 512-byte sector by construction, with the
//! cursor in the first sector and the sum in the last.

use std::fmt::Write as _;

use super::job::{BUCKETS, Checkpoint};

const MAGIC: &str = "zoo-ckpt v1";

/// Why bytes are not a valid checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    /// The header line is missing or malformed (empty or torn file).
    #[error("checkpoint header missing or malformed; the file is empty or torn")]
    BadHeader,
    /// The payload is not as long as the header says (truncated file).
    #[error("checkpoint payload is {actual} bytes, header says {expected}; the file is truncated")]
    Length {
        /// Length from the header.
        expected: usize,
        /// Length actually present.
        actual: usize,
    },
    /// The payload does not match its checksum (torn or corrupted file).
    #[error(
        "checkpoint checksum mismatch (crc32c {expected:08x} != {actual:08x}); the file is torn or corrupted"
    )]
    Checksum {
        /// CRC from the header.
        expected: u32,
        /// CRC of the payload read.
        actual: u32,
    },
    /// The payload is not a checkpoint.
    #[error("checkpoint payload does not parse: {0}")]
    Payload(String),
}

/// Encodes `ckpt` with its header and checksum. Always the same length.
pub fn encode(ckpt: &Checkpoint) -> Vec<u8> {
    let payload = encode_payload(ckpt);
    let crc = crc32c::crc32c(payload.as_bytes());
    let mut out = format!("{MAGIC} crc32c={crc:08x} len={:06}\n", payload.len());
    out.push_str(&payload);
    out.into_bytes()
}

/// Decodes and verifies header, length and checksum: the only loader a
/// correct program uses.
pub fn decode_checked(bytes: &[u8]) -> Result<Checkpoint, EnvelopeError> {
    let (header, payload) = split(bytes)?;
    let (crc, len) = parse_header(header)?;
    if payload.len() != len {
        return Err(EnvelopeError::Length {
            expected: len,
            actual: payload.len(),
        });
    }
    let actual = crc32c::crc32c(payload);
    if actual != crc {
        return Err(EnvelopeError::Checksum {
            expected: crc,
            actual,
        });
    }
    decode_payload(payload)
}

/// Decodes the payload and ignores the header's checksum and length: what a
/// program that "has a checksum but never checks it" does. Bytes that parse
/// are accepted, whatever sectors they came from.
pub fn decode_unchecked(bytes: &[u8]) -> Result<Checkpoint, EnvelopeError> {
    let (_, payload) = split(bytes)?;
    decode_payload(payload)
}

fn encode_payload(ckpt: &Checkpoint) -> String {
    // The cursor opens the record and the sum closes it, more than a sector
    // apart, so a torn write that mixes sectors of two records pairs one
    // record's cursor with the other's sum: a state nobody computed.
    let mut s = format!("{{\"cursor\":{:>20},\"buckets\":[", ckpt.cursor);
    for (i, b) in ckpt.state.buckets.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        let _ = write!(s, "{b:>12}");
    }
    let _ = writeln!(s, "],\"sum\":{:>20}}}", ckpt.state.sum);
    s
}

fn split(bytes: &[u8]) -> Result<(&[u8], &[u8]), EnvelopeError> {
    let newline = bytes
        .iter()
        .position(|&b| b == b'\n')
        .ok_or(EnvelopeError::BadHeader)?;
    Ok((&bytes[..newline], &bytes[newline + 1..]))
}

fn parse_header(header: &[u8]) -> Result<(u32, usize), EnvelopeError> {
    let text = std::str::from_utf8(header).map_err(|_| EnvelopeError::BadHeader)?;
    let rest = text
        .strip_prefix(MAGIC)
        .and_then(|r| r.strip_prefix(" crc32c="))
        .ok_or(EnvelopeError::BadHeader)?;
    let (crc, len) = rest.split_once(" len=").ok_or(EnvelopeError::BadHeader)?;
    let crc = u32::from_str_radix(crc, 16).map_err(|_| EnvelopeError::BadHeader)?;
    let len = len.parse::<usize>().map_err(|_| EnvelopeError::BadHeader)?;
    Ok((crc, len))
}

fn decode_payload(payload: &[u8]) -> Result<Checkpoint, EnvelopeError> {
    #[derive(serde::Deserialize)]
    struct Flat {
        cursor: u64,
        sum: u64,
        buckets: Vec<u64>,
    }
    let flat: Flat =
        serde_json::from_slice(payload).map_err(|e| EnvelopeError::Payload(e.to_string()))?;
    if flat.buckets.len() != BUCKETS {
        return Err(EnvelopeError::Payload(format!(
            "{} buckets, expected {BUCKETS}",
            flat.buckets.len()
        )));
    }
    Ok(Checkpoint {
        cursor: flat.cursor,
        state: super::job::JobState {
            sum: flat.sum,
            buckets: flat.buckets,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zoo::job::CountingJob;

    fn ckpt(cursor: u64) -> Checkpoint {
        Checkpoint {
            cursor,
            state: CountingJob::state_at(cursor),
        }
    }

    #[test]
    fn round_trips_and_has_a_fixed_multi_sector_length() {
        let a = encode(&ckpt(5));
        let b = encode(&ckpt(40));
        assert_eq!(a.len(), b.len());
        assert!(a.len() > 512 && a.len() <= 1024, "len {}", a.len());
        let text = String::from_utf8(a.clone()).unwrap();
        assert!(text.find("\"cursor\"").unwrap() < 512);
        assert!(text.find("\"sum\"").unwrap() > 512);
        assert_eq!(decode_checked(&a), Ok(ckpt(5)));
        assert_eq!(decode_unchecked(&b), Ok(ckpt(40)));
    }

    #[test]
    fn a_sector_mix_parses_unchecked_but_fails_the_checksum() {
        let old = encode(&ckpt(5));
        let new = encode(&ckpt(10));
        let mut torn = new[..512].to_vec();
        torn.extend_from_slice(&old[512..]);
        let loaded = decode_unchecked(&torn).expect("a sector mix still parses");
        assert_eq!(loaded.cursor, 10);
        assert_ne!(loaded.state, ckpt(10).state);
        assert!(matches!(
            decode_checked(&torn),
            Err(EnvelopeError::Checksum { .. })
        ));
    }

    #[test]
    fn empty_and_truncated_files_are_rejected() {
        assert_eq!(decode_checked(b""), Err(EnvelopeError::BadHeader));
        let full = encode(&ckpt(5));
        assert!(matches!(
            decode_checked(&full[..full.len() - 3]),
            Err(EnvelopeError::Length { .. })
        ));
    }
}
