//! The checkpoint envelope: a self-describing, checksummed, versioned frame
//! around one payload.
//!
//! # Layout (all integers little-endian)
//!
//! Format version 2 (what this build writes):
//!
//! ```text
//! offset  size  field
//! 0       8     MAGIC  = 89 'C' 'K' 'P' 'T' '\r' '\n' 1a
//! 8       4     format version (FORMAT_VERSION = 2)
//! 12      8     payload length N
//! 20      4     codec id (Codec::id: 0 JSON, 1 postcard)
//! 24      N     payload
//! 24+N    4     CRC32C over bytes [0, 24+N)
//! ```
//!
//! Format version 1 (still read) has no codec field: its header is the
//! first 20 bytes above, the payload starts at offset 20 and is JSON.
//!
//! The magic, version and length fields sit at the same offsets in every
//! version, and the header length depends only on whether the version is 1
//! (20 bytes) or anything else (24 bytes; every later version keeps the
//! version-2 frame). That lets [`decode_raw`] check the checksum before it
//! trusts the version: in a version-2 envelope a flipped bit anywhere
//! except the magic and the length field is reported as
//! [`DecodeError::ChecksumMismatch`] (no single flip turns 2 into 1), and
//! [`DecodeError::UnsupportedVersion`] / [`DecodeError::UnsupportedCodec`]
//! mean a whole, intact envelope this build cannot read.
//!
//! # Decoding is total
//!
//! Decoding any byte string returns `Ok` or a typed [`DecodeError`]; it never
//! panics, and it never allocates on the strength of the length field: the
//! declared length is checked against the input before anything is sliced,
//! and [`decode_raw`] borrows the payload from the input.

mod codec;
mod error;

#[cfg(test)]
mod tests;

use serde::Serialize;
use serde::de::DeserializeOwned;

pub use codec::{Codec, CodecError};
pub use error::{DecodeError, DecodeErrorKind, EncodeError};

/// The first eight bytes of every envelope. The high first byte and the
/// CR LF / ^Z sequence catch 7-bit and newline-translating transports, as
/// PNG's signature does.
pub const MAGIC: [u8; 8] = [0x89, b'C', b'K', b'P', b'T', b'\r', b'\n', 0x1a];

/// The format version this build writes. It reads this one and every
/// older one (1: JSON only, no codec field).
pub const FORMAT_VERSION: u32 = 2;

/// The first format version, still read: no codec field, JSON payload.
pub const FORMAT_VERSION_1: u32 = 1;

/// Bytes before the payload in the current format version: magic, version,
/// payload length, codec id.
pub const HEADER_LEN: usize = 8 + 4 + 8 + 4;

/// Bytes before the payload in format version 1 (no codec id).
pub const HEADER_LEN_V1: usize = 8 + 4 + 8;

/// Bytes after the payload: the CRC32C.
pub const TRAILER_LEN: usize = 4;

/// A decoded envelope, borrowing its payload from the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawEnvelope<'a> {
    /// The format version the envelope declares (1 or [`FORMAT_VERSION`]
    /// when returned by [`decode_raw`]).
    pub version: u32,
    /// The codec the payload's values are written in ([`Codec::Json`] for
    /// format version 1).
    pub codec: Codec,
    /// The payload bytes, checksum-verified.
    pub payload: &'a [u8],
}

/// Frames `payload`, declared as JSON, in an envelope of the current
/// [`FORMAT_VERSION`]: [`encode_raw_with`] with [`Codec::Json`].
pub fn encode_raw(payload: &[u8]) -> Vec<u8> {
    encode_raw_with(Codec::Json, payload)
}

/// Frames `payload` in an envelope of the current [`FORMAT_VERSION`] whose
/// header says its values are written with `codec`. Pure: nothing is
/// written anywhere.
pub fn encode_raw_with(codec: Codec, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + payload.len() + TRAILER_LEN);
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    // usize -> u64 never truncates on the platforms Rust supports (<= 64-bit).
    out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    out.extend_from_slice(&codec.id().to_le_bytes());
    out.extend_from_slice(payload);
    let crc = crc32c::crc32c(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// Serializes `value` as JSON and frames it: [`encode_with`] with
/// [`Codec::Json`].
pub fn encode<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, EncodeError> {
    encode_with(Codec::Json, value)
}

/// Serializes `value` with `codec` and frames it with [`encode_raw_with`].
pub fn encode_with<T: Serialize + ?Sized>(codec: Codec, value: &T) -> Result<Vec<u8>, EncodeError> {
    let payload = codec.to_vec(value).map_err(EncodeError)?;
    Ok(encode_raw_with(codec, &payload))
}

/// The header length of an envelope declaring format version `version`.
fn header_len(version: u32) -> usize {
    if version == FORMAT_VERSION_1 {
        HEADER_LEN_V1
    } else {
        HEADER_LEN
    }
}

/// Verifies the frame of `bytes` and returns its payload and codec.
///
/// Checks, in order: magic ([`DecodeError::BadMagic`], or
/// [`DecodeError::Truncated`] for a prefix of the magic), the declared length
/// against the input ([`DecodeError::Truncated`] if the input is shorter,
/// [`DecodeError::LengthMismatch`] if longer), the CRC32C
/// ([`DecodeError::ChecksumMismatch`]), then the version
/// ([`DecodeError::UnsupportedVersion`]) and the codec id
/// ([`DecodeError::UnsupportedCodec`]).
pub fn decode_raw(bytes: &[u8]) -> Result<RawEnvelope<'_>, DecodeError> {
    let magic_seen = bytes.len().min(MAGIC.len());
    if bytes.get(..magic_seen) != MAGIC.get(..magic_seen) {
        return Err(DecodeError::BadMagic);
    }
    let (Some(version), Some(declared)) = (read_u32(bytes, 8), read_u64(bytes, 12)) else {
        let version = read_u32(bytes, 8).unwrap_or(FORMAT_VERSION);
        return Err(DecodeError::Truncated {
            needed: (header_len(version) + TRAILER_LEN) as u64,
            actual: bytes.len() as u64,
        });
    };
    let header_len = header_len(version);
    let frame = (header_len + TRAILER_LEN) as u64;
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
    let codec = match version {
        FORMAT_VERSION_1 => Codec::Json,
        FORMAT_VERSION => {
            let id = read_u32(bytes, HEADER_LEN_V1).unwrap_or(u32::MAX);
            Codec::from_id(id).ok_or(DecodeError::UnsupportedCodec { found: id })?
        }
        found => {
            return Err(DecodeError::UnsupportedVersion {
                found,
                supported: FORMAT_VERSION,
            });
        }
    };
    let payload = covered.get(header_len..).unwrap_or_default();
    Ok(RawEnvelope {
        version,
        codec,
        payload,
    })
}

/// Verifies the frame with [`decode_raw`] and deserializes the payload with
/// the codec its header names ([`DecodeError::Payload`] if it does not
/// match `T`).
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, DecodeError> {
    let raw = decode_raw(bytes)?;
    raw.codec
        .from_slice(raw.payload)
        .map_err(|source| DecodeError::Payload {
            codec: raw.codec,
            source,
        })
}

fn read_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let raw: [u8; 4] = bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_le_bytes(raw))
}

fn read_u64(bytes: &[u8], at: usize) -> Option<u64> {
    let raw: [u8; 8] = bytes.get(at..at.checked_add(8)?)?.try_into().ok()?;
    Some(u64::from_le_bytes(raw))
}
