//! The checkpoint envelope: a self-describing, checksummed, versioned frame
//! around one payload.
//!
//! # Layout (all integers little-endian)
//!
//! ```text
//! offset  size  field
//! 0       8     MAGIC  = 89 'C' 'K' 'P' 'T' '\r' '\n' 1a
//! 8       4     format version (FORMAT_VERSION)
//! 12      8     payload length N
//! 20      N     payload (JSON by default)
//! 20+N    4     CRC32C over bytes [0, 20+N)
//! ```
//!
//! The frame (magic, version field, length field, trailing CRC) is the same
//! for every format version; a version only changes what the payload means.
//! That lets [`decode_raw`] check the checksum before it trusts the version,
//! so a flipped bit anywhere except the magic and the length field is
//! reported as [`DecodeError::ChecksumMismatch`], and
//! [`DecodeError::UnsupportedVersion`] means a whole, intact envelope from
//! another format version.
//!
//! # Decoding is total
//!
//! Decoding any byte string returns `Ok` or a typed [`DecodeError`]; it never
//! panics, and it never allocates on the strength of the length field: the
//! declared length is checked against the input before anything is sliced,
//! and [`decode_raw`] borrows the payload from the input.

mod error;

#[cfg(test)]
mod tests;

use serde::Serialize;
use serde::de::DeserializeOwned;

pub use error::{DecodeError, DecodeErrorKind, EncodeError};

/// The first eight bytes of every envelope. The high first byte and the
/// CR LF / ^Z sequence catch 7-bit and newline-translating transports, as
/// PNG's signature does.
pub const MAGIC: [u8; 8] = [0x89, b'C', b'K', b'P', b'T', b'\r', b'\n', 0x1a];

/// The format version this build writes and the only one it reads.
pub const FORMAT_VERSION: u32 = 1;

/// Bytes before the payload: magic, version, payload length.
pub const HEADER_LEN: usize = 8 + 4 + 8;

/// Bytes after the payload: the CRC32C.
pub const TRAILER_LEN: usize = 4;

/// A decoded envelope, borrowing its payload from the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawEnvelope<'a> {
    /// The format version the envelope declares (always [`FORMAT_VERSION`]
    /// when returned by [`decode_raw`]).
    pub version: u32,
    /// The payload bytes, checksum-verified.
    pub payload: &'a [u8],
}

/// Frames `payload` in an envelope of the current [`FORMAT_VERSION`].
/// Pure: nothing is written anywhere.
pub fn encode_raw(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + payload.len() + TRAILER_LEN);
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    // usize -> u64 never truncates on the platforms Rust supports (<= 64-bit).
    out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    out.extend_from_slice(payload);
    let crc = crc32c::crc32c(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// Serializes `value` as JSON and frames it with [`encode_raw`].
pub fn encode<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, EncodeError> {
    let payload = serde_json::to_vec(value).map_err(EncodeError)?;
    Ok(encode_raw(&payload))
}

/// Verifies the frame of `bytes` and returns its payload.
///
/// Checks, in order: magic ([`DecodeError::BadMagic`], or
/// [`DecodeError::Truncated`] for a prefix of the magic), the declared length
/// against the input ([`DecodeError::Truncated`] if the input is shorter,
/// [`DecodeError::LengthMismatch`] if longer), the CRC32C
/// ([`DecodeError::ChecksumMismatch`]), then the version
/// ([`DecodeError::UnsupportedVersion`]).
pub fn decode_raw(bytes: &[u8]) -> Result<RawEnvelope<'_>, DecodeError> {
    let magic_seen = bytes.len().min(MAGIC.len());
    if bytes.get(..magic_seen) != MAGIC.get(..magic_seen) {
        return Err(DecodeError::BadMagic);
    }
    let (Some(version), Some(declared)) = (read_u32(bytes, 8), read_u64(bytes, 12)) else {
        return Err(DecodeError::Truncated {
            needed: HEADER_LEN as u64 + TRAILER_LEN as u64,
            actual: bytes.len() as u64,
        });
    };
    let frame = (HEADER_LEN + TRAILER_LEN) as u64;
    let actual = bytes.len() as u64;
    // A length field near u64::MAX must not overflow into a small total.
    let needed = declared.saturating_add(frame);
    if actual < needed {
        return Err(DecodeError::Truncated { needed, actual });
    }
    if actual > needed {
        return Err(DecodeError::LengthMismatch {
            declared,
            actual: actual - frame,
        });
    }
    // `needed == actual` fits in usize, so these cannot fail; the `get`s keep
    // the decoder total anyway.
    let crc_at = bytes.len() - TRAILER_LEN;
    let (Some(covered), Some(stored)) = (bytes.get(..crc_at), read_u32(bytes, crc_at)) else {
        return Err(DecodeError::Truncated { needed, actual });
    };
    let computed = crc32c::crc32c(covered);
    if computed != stored {
        return Err(DecodeError::ChecksumMismatch { stored, computed });
    }
    if version != FORMAT_VERSION {
        return Err(DecodeError::UnsupportedVersion {
            found: version,
            supported: FORMAT_VERSION,
        });
    }
    let payload = covered.get(HEADER_LEN..).unwrap_or_default();
    Ok(RawEnvelope { version, payload })
}

/// Verifies the frame with [`decode_raw`] and deserializes the JSON payload
/// ([`DecodeError::Payload`] if it does not match `T`).
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, DecodeError> {
    let raw = decode_raw(bytes)?;
    serde_json::from_slice(raw.payload).map_err(DecodeError::Payload)
}

fn read_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let raw: [u8; 4] = bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_le_bytes(raw))
}

fn read_u64(bytes: &[u8], at: usize) -> Option<u64> {
    let raw: [u8; 8] = bytes.get(at..at.checked_add(8)?)?.try_into().ok()?;
    Some(u64::from_le_bytes(raw))
}
