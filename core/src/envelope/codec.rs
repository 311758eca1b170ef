//! The serde formats an envelope's payload can be written in.

use std::fmt;

use serde::Serialize;
use serde::de::DeserializeOwned;

/// How the serde values in an envelope's payload are encoded. Recorded in
/// the envelope header (format version 2), so a reader decodes a file with
/// the codec it was written with, whatever its own configuration says.
///
/// # Choosing
///
/// - [`Codec::Json`] (the default): self-describing and readable with any
///   JSON tool, but a byte costs up to 4 bytes (`[255,0,...]`), so a
///   15,770-byte `Vec<u8>` makes a ~64 KB checkpoint.
/// - [`Codec::Postcard`]: [postcard](https://docs.rs/postcard) 1.x, a
///   compact binary format with a documented, stable wire format (varint
///   integers and lengths, bytes verbatim): the same state is about its own
///   size. It is not self-describing, so a `State` using
///   `#[serde(flatten)]`, `#[serde(untagged)]`, `#[serde(tag = ...)]` or
///   `serde_json::Value` fields (anything that needs `deserialize_any`) must
///   stay on JSON. Chosen over bincode: postcard's wire format is specified
///   and frozen for 1.x, its dependency tree is small, and it is maintained;
///   bincode's development has stopped.
///
/// Either way a change of the state's schema must change
/// [`crate::Job::fingerprint`]: postcard in particular cannot tell a
/// reordered or retyped field from data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[non_exhaustive]
pub enum Codec {
    /// `serde_json` (id 0). The only codec of format version 1.
    #[default]
    Json,
    /// `postcard` 1.x (id 1).
    Postcard,
}

impl Codec {
    /// Every codec, by id.
    pub const ALL: [Codec; 2] = [Codec::Json, Codec::Postcard];

    /// The id stored in the envelope header.
    pub fn id(self) -> u32 {
        match self {
            Codec::Json => 0,
            Codec::Postcard => 1,
        }
    }

    /// The codec stored as `id`, if this build knows it.
    pub fn from_id(id: u32) -> Option<Codec> {
        Codec::ALL.into_iter().find(|c| c.id() == id)
    }

    /// A short lowercase name (`"json"`, `"postcard"`).
    pub fn name(self) -> &'static str {
        match self {
            Codec::Json => "json",
            Codec::Postcard => "postcard",
        }
    }

    /// Serializes `value` with this codec.
    pub fn to_vec<T: Serialize + ?Sized>(self, value: &T) -> Result<Vec<u8>, CodecError> {
        match self {
            Codec::Json => serde_json::to_vec(value).map_err(CodecError::Json),
            Codec::Postcard => postcard::to_stdvec(value).map_err(CodecError::Postcard),
        }
    }

    /// Deserializes a `T` from exactly `bytes` (bytes left over after the
    /// value are an error for both codecs).
    pub fn from_slice<T: DeserializeOwned>(self, bytes: &[u8]) -> Result<T, CodecError> {
        match self {
            Codec::Json => serde_json::from_slice(bytes).map_err(CodecError::Json),
            Codec::Postcard => {
                // `postcard::from_bytes` ignores trailing bytes; a payload
                // with bytes after its value is not what was written.
                let (value, rest) =
                    postcard::take_from_bytes(bytes).map_err(CodecError::Postcard)?;
                if rest.is_empty() {
                    Ok(value)
                } else {
                    Err(CodecError::TrailingBytes {
                        count: rest.len() as u64,
                    })
                }
            }
        }
    }
}

impl fmt::Display for Codec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a [`Codec`] could not serialize or deserialize a value.
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    /// `serde_json` failed.
    #[error("json: {0}")]
    Json(#[source] serde_json::Error),
    /// `postcard` failed.
    #[error("postcard: {0}")]
    Postcard(#[source] postcard::Error),
    /// The value ended before the bytes did.
    #[error("postcard: {count} bytes left over after the value")]
    TrailingBytes {
        /// How many bytes were left.
        count: u64,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_are_stable() {
        // The ids are on disk: they must never change.
        assert_eq!(Codec::Json.id(), 0);
        assert_eq!(Codec::Postcard.id(), 1);
        for codec in Codec::ALL {
            assert_eq!(Codec::from_id(codec.id()), Some(codec));
        }
        assert_eq!(Codec::from_id(2), None);
        assert_eq!(Codec::from_id(u32::MAX), None);
        assert_eq!(Codec::default(), Codec::Json);
        assert_eq!(
            Codec::ALL.map(|c| c.to_string()),
            ["json".to_owned(), "postcard".to_owned()]
        );
    }

    #[test]
    fn both_codecs_round_trip_and_refuse_trailing_bytes() {
        let value = (7u64, "name".to_owned(), vec![1u8, 2, 255]);
        for codec in Codec::ALL {
            let bytes = codec.to_vec(&value).unwrap();
            let back: (u64, String, Vec<u8>) = codec.from_slice(&bytes).unwrap();
            assert_eq!(back, value, "{codec}");
            let mut longer = bytes.clone();
            longer.push(0);
            assert!(
                codec.from_slice::<(u64, String, Vec<u8>)>(&longer).is_err(),
                "{codec} accepted a trailing byte"
            );
        }
        let err = Codec::Postcard
            .from_slice::<u8>(&[1, 2, 3])
            .unwrap_err()
            .to_string();
        assert_eq!(err, "postcard: 2 bytes left over after the value");
    }

    #[test]
    fn postcard_keeps_bytes_compact() {
        let state = vec![0xabu8; 15_770];
        let json = Codec::Json.to_vec(&state).unwrap().len();
        let postcard = Codec::Postcard.to_vec(&state).unwrap().len();
        // A 2-byte varint length, then the bytes verbatim.
        assert_eq!(postcard, 15_772);
        assert!(json > 4 * 15_770, "json {json}");
    }
}
