//! What one generation file holds, and its byte encoding.
//!
//! The file is one envelope (see [`crate::envelope`]) whose payload is
//! `meta length (u32 LE) | meta (JSON) | state bytes`. The state bytes are
//! kept verbatim (not re-encoded inside the JSON) so their digest on disk is
//! the digest the writer reported.

use serde::{Deserialize, Serialize};

use crate::envelope::{self, DecodeError};

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

pub(crate) fn encode(meta: &Meta, state: &[u8]) -> Result<Vec<u8>, serde_json::Error> {
    let meta_json = serde_json::to_vec(meta)?;
    let mut payload = Vec::with_capacity(4 + meta_json.len() + state.len());
    // Meta is a few small fields, far below u32::MAX bytes.
    payload.extend_from_slice(&(meta_json.len() as u32).to_le_bytes());
    payload.extend_from_slice(&meta_json);
    payload.extend_from_slice(state);
    Ok(envelope::encode_raw(&payload))
}

pub(crate) fn decode(bytes: &[u8]) -> Result<Record<'_>, RecordError> {
    let payload = envelope::decode_raw(bytes)
        .map_err(RecordError::Envelope)?
        .payload;
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
    let (Some(meta_json), Some(state)) = (payload.get(4..meta_end), payload.get(meta_end..)) else {
        return Err(malformed("meta length runs past the payload"));
    };
    let meta: Meta = serde_json::from_slice(meta_json)
        .map_err(|e| RecordError::Malformed(format!("meta is not a store record: {e}")))?;
    Ok(Record { meta, state })
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
    fn round_trip() {
        let bytes = encode(&meta(), b"{\"sum\":1}").unwrap();
        let record = decode(&bytes).unwrap();
        assert_eq!(record.meta, meta());
        assert_eq!(record.state, b"{\"sum\":1}");
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
