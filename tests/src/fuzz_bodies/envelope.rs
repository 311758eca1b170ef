//! Envelope decoding on arbitrary bytes.

use crashproof_core::envelope::{DecodeError, RawEnvelope, decode, decode_raw, encode_raw};

/// A frame decoder with [`decode_raw`]'s signature (a broken one shows the
/// checks can fail).
pub type RawDecoder = for<'a> fn(&'a [u8]) -> Result<RawEnvelope<'a>, DecodeError>;

/// Decodes `data` with [`decode_raw`] and `decode::<serde_json::Value>`.
///
/// Invariants: neither panics (a panic propagates to the fuzzer); the two
/// agree on the frame (both fail on it or neither does); an `Ok` payload
/// re-encoded with [`encode_raw`] is exactly `data` again and decodes to the
/// same payload (the frame has one encoding). (A JSON round trip of the
/// value is not checked: without serde_json's `float_roundtrip` feature a
/// float may legitimately move by one ULP.)
///
/// A fuzzer almost never forges a matching CRC, so the same checks also run
/// on `encode_raw(data)` (an intact envelope around the arbitrary bytes),
/// which must decode to exactly `data`: that reaches the JSON decoder.
pub fn check_envelope_decode(data: &[u8]) -> Result<(), String> {
    check_envelope_decode_with(decode_raw, data)
}

/// [`check_envelope_decode`] with `decode_raw` standing in for the core's
/// frame decoder (`decode::<Value>` is always the core's).
pub fn check_envelope_decode_with(decode_raw: RawDecoder, data: &[u8]) -> Result<(), String> {
    check_bytes(decode_raw, data)?;
    let framed = encode_raw(data);
    match decode_raw(&framed) {
        Ok(raw) if raw.payload == data => {}
        Ok(_) => return Err("an encoded payload decodes to other bytes".to_string()),
        Err(e) => return Err(format!("an encoded payload does not decode: {e}")),
    }
    check_bytes(decode_raw, &framed)
}

fn check_bytes(decode_raw: RawDecoder, data: &[u8]) -> Result<(), String> {
    let raw = decode_raw(data);
    let value = decode::<serde_json::Value>(data);
    match (&raw, &value) {
        (Err(_), Ok(_)) => {
            return Err("decode accepted bytes decode_raw rejects".to_string());
        }
        (Ok(_), Err(DecodeError::Payload(_))) | (Ok(_), Ok(_)) | (Err(_), Err(_)) => {}
        (Ok(_), Err(e)) => {
            return Err(format!(
                "decode_raw accepted the frame but decode rejected it with a frame error: {e}"
            ));
        }
    }
    if let Ok(raw) = raw {
        let again = encode_raw(raw.payload);
        if again != data {
            return Err(format!(
                "re-encoding an accepted payload of {} bytes gives different bytes \
                 ({} vs {} bytes)",
                raw.payload.len(),
                again.len(),
                data.len()
            ));
        }
        match decode_raw(&again) {
            Ok(back) if back.payload == raw.payload => {}
            Ok(_) => return Err("re-encoded payload decodes to other bytes".to_string()),
            Err(e) => return Err(format!("re-encoded payload does not decode: {e}")),
        }
    }
    Ok(())
}
