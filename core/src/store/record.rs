//! What one generation file holds, and its byte encoding.
//!
//! The file is one envelope (see [`crate::envelope`]) whose payload is
//! `meta length (u32 LE) | meta | state bytes`, with the meta encoded in the
//! codec the envelope header names (the state bytes are the runner's,
//! encoded by it in the same codec). The state bytes are kept verbatim (not
//! re-encoded inside the meta) so their digest on disk is the digest the
//! writer reported.

use serde::{Deserialize, Serialize};

use crate::envelope::{self, Codec, CodecError, DecodeError};

/// Who wrote a checkpoint: the job's name (for messages) and fingerprint (the
/// identity that decides whether a checkpoint may be resumed).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct JobIdentity {
    /// The job's name, as [`crate::Job::name`] returns it.
    pub name: String,
    /// The job's fingerprint, as [`crate::Job::fingerprint`] returns it.
    pub fingerprint: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Meta {
    pub job: JobIdentity,
    pub generation: u64,
    pub cursor: u64,
}

/// A record decoded from a generation file, borrowing its state bytes.
#[derive(Debug)]
pub(crate) struct Record<'a> {
    pub codec: Codec,
    pub meta: Meta,
    pub state: &'a [u8],
}

/// Why a generation file's bytes are not a record.
#[derive(Debug)]
pub(crate) enum RecordError {
    /// The envelope is damaged or of another version.
    Envelope(DecodeError),
    /// The envelope is intact but its payload is not a store record.
    Malformed(String),
}

pub(crate) fn encode(codec: Codec, meta: &Meta, state: &[u8]) -> Result<Vec<u8>, CodecError> {
    let meta_bytes = codec.to_vec(meta)?;
    let mut payload = Vec::with_capacity(4 + meta_bytes.len() + state.len());
    // Meta is a few small fields, far below u32::MAX bytes.
    payload.extend_from_slice(&(meta_bytes.len() as u32).to_le_bytes());
    payload.extend_from_slice(&meta_bytes);
    payload.extend_from_slice(state);
    Ok(envelope::encode_raw_with(codec, &payload))
}

pub(crate) fn decode(bytes: &[u8]) -> Result<Record<'_>, RecordError> {
    let raw = envelope::decode_raw(bytes).map_err(RecordError::Envelope)?;
    let payload = raw.payload;
    let malformed = |what: &str| RecordError::Malformed(what.to_owned());
    let len_bytes: [u8; 4] = payload
        .get(..4)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| malformed("payload shorter than its meta length field"))?;
    let meta_len = u32::from_le_bytes(len_bytes) as usize;
    let meta_end = meta_len
        .checked_add(4)
        .filter(|&end| end <= payload.len())
        .ok_or_else(|| malformed("meta length runs past the payload"))?;
    let (Some(meta_bytes), Some(state)) = (payload.get(4..meta_end), payload.get(meta_end..))
    else {
        return Err(malformed("meta length runs past the payload"));
    };
    let meta: Meta = raw
        .codec
        .from_slice(meta_bytes)
        .map_err(|e| RecordError::Malformed(format!("meta is not a store record: {e}")))?;
    Ok(Record {
        codec: raw.codec,
        meta,
        state,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta() -> Meta {
        Meta {
            job: JobIdentity {
                name: "j".into(),
                fingerprint: 7,
            },
            generation: 3,
            cursor: 99,
        }
    }

    #[test]
    fn round_trip_in_every_codec() {
        for codec in Codec::ALL {
            let bytes = encode(codec, &meta(), b"{\"sum\":1}").unwrap();
            let record = decode(&bytes).unwrap();
            assert_eq!(record.codec, codec);
            assert_eq!(record.meta, meta());
            assert_eq!(record.state, b"{\"sum\":1}");
        }
    }

    #[test]
    fn a_format_version_1_record_still_decodes() {
        // Bytes as the version-1 writer produced them: 20-byte header, JSON
        // meta. Built by hand so a change of the writer cannot hide a break.
        let meta_json = br#"{"job":{"name":"j","fingerprint":7},"generation":3,"cursor":99}"#;
        let mut payload = (meta_json.len() as u32).to_le_bytes().to_vec();
        payload.extend_from_slice(meta_json);
        payload.extend_from_slice(b"state");
        let mut bytes = envelope::MAGIC.to_vec();
        bytes.extend_from_slice(&1u32.to_le_bytes());
        bytes.extend_from_slice(&(payload.len() as u64).to_le_bytes());
        bytes.extend_from_slice(&payload);
        let crc = crc32c::crc32c(&bytes);
        bytes.extend_from_slice(&crc.to_le_bytes());
        let record = decode(&bytes).unwrap();
        assert_eq!(record.codec, Codec::Json);
        assert_eq!(record.meta, meta());
        assert_eq!(record.state, b"state");
    }

    #[test]
    fn intact_envelope_that_is_not_a_record_is_malformed() {
        for payload in [
            &b""[..],
            b"\x05\0\0\0ab",
            b"\x02\0\0\0{}",
            b"\xff\xff\xff\xffx",
        ] {
            let bytes = envelope::encode_raw(payload);
            assert!(
                matches!(decode(&bytes), Err(RecordError::Malformed(_))),
                "{payload:?}"
            );
        }
    }
}
