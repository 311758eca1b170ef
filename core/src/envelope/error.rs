//! Why an envelope could not be encoded or decoded.

use super::codec::{Codec, CodecError};

/// Why [`super::decode_raw`] or [`super::decode`] rejected a byte string.
/// Every variant except `UnsupportedVersion`, `UnsupportedCodec` and
/// `Payload` means the bytes are damaged (torn, truncated, flipped) and must
/// not be trusted ([`DecodeError::is_corruption`]).
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// The input ends before the envelope does: a torn or truncated write.
    #[error(
        "checkpoint envelope is truncated: {actual} bytes, the header says {needed}; \
         it was not completely written and cannot be used"
    )]
    Truncated {
        /// Bytes the header (or the minimal frame) requires.
        needed: u64,
        /// Bytes present.
        actual: u64,
    },
    /// The input does not start with [`super::MAGIC`]: not a checkpoint.
    #[error("not a crashproof checkpoint envelope (bad magic bytes)")]
    BadMagic,
    /// An intact envelope of a format version this build cannot read.
    #[error(
        "checkpoint envelope has format version {found}, this build reads versions 1 to \
         {supported}; use the crashproof version that wrote it, or discard it"
    )]
    UnsupportedVersion {
        /// The version in the envelope.
        found: u32,
        /// The newest version this build reads (it reads 1 to this).
        supported: u32,
    },
    /// An intact envelope whose payload is written in a codec this build
    /// does not know (a newer build wrote it).
    #[error(
        "checkpoint envelope payload is written with codec id {found}, which this build does \
         not know (it knows 0 = json, 1 = postcard); use the crashproof version that wrote it, \
         or discard it"
    )]
    UnsupportedCodec {
        /// The codec id in the header.
        found: u32,
    },
    /// The input has bytes after the end the header declares.
    #[error(
        "checkpoint envelope declares a {declared}-byte payload but carries {actual} bytes; \
         the file is damaged"
    )]
    LengthMismatch {
        /// The payload length in the header.
        declared: u64,
        /// The payload bytes actually present.
        actual: u64,
    },
    /// The CRC32C does not match: some bit of the envelope changed.
    #[error(
        "checkpoint envelope checksum mismatch (stored {stored:#010x}, computed \
         {computed:#010x}); the file is corrupt"
    )]
    ChecksumMismatch {
        /// The CRC stored in the trailer.
        stored: u32,
        /// The CRC computed over the header and payload.
        computed: u32,
    },
    /// The frame is intact but the payload does not deserialize as the
    /// requested type (it was written by a program with another schema).
    #[error("checkpoint payload ({codec}) does not match the expected schema: {source}")]
    Payload {
        /// The codec the header names.
        codec: Codec,
        /// The codec's error.
        #[source]
        source: CodecError,
    },
}

/// The variant of a [`DecodeError`] without its data, for matching and
/// asserting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[allow(missing_docs)] // each variant is the DecodeError variant of the same name
pub enum DecodeErrorKind {
    Truncated,
    BadMagic,
    UnsupportedVersion,
    UnsupportedCodec,
    LengthMismatch,
    ChecksumMismatch,
    Payload,
}

impl DecodeError {
    /// Which variant this is.
    pub fn kind(&self) -> DecodeErrorKind {
        match self {
            DecodeError::Truncated { .. } => DecodeErrorKind::Truncated,
            DecodeError::BadMagic => DecodeErrorKind::BadMagic,
            DecodeError::UnsupportedVersion { .. } => DecodeErrorKind::UnsupportedVersion,
            DecodeError::UnsupportedCodec { .. } => DecodeErrorKind::UnsupportedCodec,
            DecodeError::LengthMismatch { .. } => DecodeErrorKind::LengthMismatch,
            DecodeError::ChecksumMismatch { .. } => DecodeErrorKind::ChecksumMismatch,
            DecodeError::Payload { .. } => DecodeErrorKind::Payload,
        }
    }

    /// Whether the bytes are damaged (as opposed to intact but written by
    /// another format version or schema).
    pub fn is_corruption(&self) -> bool {
        !matches!(
            self,
            DecodeError::UnsupportedVersion { .. }
                | DecodeError::UnsupportedCodec { .. }
                | DecodeError::Payload { .. }
        )
    }
}

/// The value could not be serialized (JSON: a map with non-string keys; any
/// codec: a failing `Serialize` impl, ...).
#[derive(Debug, thiserror::Error)]
#[error("could not serialize the checkpoint payload: {0}")]
pub struct EncodeError(#[source] pub CodecError);
