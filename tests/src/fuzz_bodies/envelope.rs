//! Envelope decoding on arbitrary bytes, in every codec.

use crashproof_core::envelope::{
    Codec, DecodeError, FORMAT_VERSION_1, RawEnvelope, decode, decode_raw, encode_raw_with,
};
use serde::{Deserialize, Serialize};

use crate::envelope_reference::envelope_v1;

/// A frame decoder with [`decode_raw`]'s signature (a broken one shows the
/// checks can fail).
pub type RawDecoder = for<'a> fn(&'a [u8]) -> Result<RawEnvelope<'a>, DecodeError>;

/// A value with most serde shapes, for postcard payloads (postcard is not
/// self-describing, so it needs a concrete type where JSON takes a
/// `serde_json::Value`).
#[derive(Debug, Serialize, Deserialize)]
pub struct PostcardProbe {
    cursor: u64,
    delta: i32,
    name: String,
    bytes: Vec<u8>,
    maybe: Option<u16>,
    flag: bool,
    pairs: Vec<(u8, f32)>,
    kind: ProbeKind,
}

#[derive(Debug, Serialize, Deserialize)]
enum ProbeKind {
    Empty,
    Number(u128),
    Named { tag: char },
}

/// Decodes `data` with [`decode_raw`] and [`decode`] (as
/// `serde_json::Value` and as [`PostcardProbe`]).
///
/// Invariants: nothing panics (a panic propagates to the fuzzer); the frame
/// decoder and the typed decoders agree on the frame (both fail on it or
/// neither does); an `Ok` payload re-encoded with its codec (and its format
/// version) is exactly `data` again and decodes to the same payload (the
/// frame has one encoding). A postcard value decoded is re-encoded and
/// decoded again to the same bytes. (A JSON round trip of the value is not
/// checked: without serde_json's `float_roundtrip` feature a float may
/// legitimately move by one ULP.)
///
/// A fuzzer almost never forges a matching CRC, so the same checks also run
/// on `data` framed by [`encode_raw_with`] in every codec (an intact
/// envelope around the arbitrary bytes), which must decode to exactly
/// `data` with that codec: that reaches the JSON and postcard decoders.
pub fn check_envelope_decode(data: &[u8]) -> Result<(), String> {
    check_envelope_decode_with(decode_raw, data)
}

/// [`check_envelope_decode`] with `decode_raw` standing in for the core's
/// frame decoder (the typed `decode`s are always the core's).
pub fn check_envelope_decode_with(decode_raw: RawDecoder, data: &[u8]) -> Result<(), String> {
    check_bytes(decode_raw, data)?;
    for codec in Codec::ALL {
        let framed = encode_raw_with(codec, data);
        match decode_raw(&framed) {
            Ok(raw) if raw.payload == data && raw.codec == codec => {}
            Ok(raw) => {
                return Err(format!(
                    "a {codec} payload decodes to other bytes or codec ({})",
                    raw.codec
                ));
            }
            Err(e) => return Err(format!("an encoded {codec} payload does not decode: {e}")),
        }
        check_bytes(decode_raw, &framed)?;
    }
    Ok(())
}

fn check_bytes(decode_raw: RawDecoder, data: &[u8]) -> Result<(), String> {
    let raw = decode_raw(data);
    let value = decode::<serde_json::Value>(data);
    let probe = decode::<PostcardProbe>(data);
    for (what, typed) in [
        ("decode::<Value>", value.as_ref().err()),
        ("decode::<PostcardProbe>", probe.as_ref().err()),
    ] {
        match (&raw, typed) {
            (Err(_), None) => {
                return Err(format!("{what} accepted bytes decode_raw rejects"));
            }
            (Ok(_), Some(DecodeError::Payload { .. })) | (Ok(_), None) | (Err(_), Some(_)) => {}
            (Ok(_), Some(e)) => {
                return Err(format!(
                    "decode_raw accepted the frame but {what} rejected it with a frame error: {e}"
                ));
            }
        }
    }
    if let Ok(raw) = raw {
        let again = if raw.version == FORMAT_VERSION_1 {
            envelope_v1(raw.payload)
        } else {
            encode_raw_with(raw.codec, raw.payload)
        };
        if again != data {
            return Err(format!(
                "re-encoding an accepted {} payload of {} bytes gives different bytes \
                 ({} vs {} bytes)",
                raw.codec,
                raw.payload.len(),
                again.len(),
                data.len()
            ));
        }
        match decode_raw(&again) {
            Ok(back) if back.payload == raw.payload && back.codec == raw.codec => {}
            Ok(_) => return Err("re-encoded payload decodes to other bytes".to_string()),
            Err(e) => return Err(format!("re-encoded payload does not decode: {e}")),
        }
        if raw.codec == Codec::Postcard
            && let Ok(value) = probe
        {
            check_postcard_round_trip(&value)?;
        }
    }
    Ok(())
}

/// A decoded postcard value re-encodes to bytes that decode and re-encode
/// to the same bytes.
fn check_postcard_round_trip(value: &PostcardProbe) -> Result<(), String> {
    let first = Codec::Postcard
        .to_vec(value)
        .map_err(|e| format!("a decoded postcard value does not re-encode: {e}"))?;
    let back: PostcardProbe = Codec::Postcard
        .from_slice(&first)
        .map_err(|e| format!("a re-encoded postcard value does not decode: {e}"))?;
    let second = Codec::Postcard
        .to_vec(&back)
        .map_err(|e| format!("a twice-decoded postcard value does not re-encode: {e}"))?;
    if first != second {
        return Err(format!(
            "postcard round trip is not stable: {value:?} -> {back:?}"
        ));
    }
    Ok(())
}
