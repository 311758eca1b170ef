use proptest::prelude::*;
use serde::{Deserialize, Serialize};

use super::*;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Sample {
    cursor: u64,
    name: String,
    sums: Vec<u32>,
}

fn sample() -> Sample {
    Sample {
        cursor: 4242,
        name: "wallet-sync".to_owned(),
        sums: vec![1, 2, 3, 0xdead_beef],
    }
}

fn sample_bytes() -> Vec<u8> {
    encode(&sample()).unwrap()
}

#[test]
fn round_trip_typed_and_raw() {
    let bytes = sample_bytes();
    assert_eq!(decode::<Sample>(&bytes).unwrap(), sample());
    let raw = decode_raw(&bytes).unwrap();
    assert_eq!(raw.version, FORMAT_VERSION);
    assert_eq!(raw.payload, serde_json::to_vec(&sample()).unwrap());
    assert_eq!(decode_raw(&encode_raw(b"")).unwrap().payload, b"");
}

#[test]
fn layout_is_as_documented() {
    let bytes = encode_raw(b"xyz");
    assert_eq!(bytes.len(), HEADER_LEN + 3 + TRAILER_LEN);
    assert_eq!(&bytes[..8], &MAGIC);
    assert_eq!(&bytes[8..12], &FORMAT_VERSION.to_le_bytes());
    assert_eq!(&bytes[12..20], &3u64.to_le_bytes());
    assert_eq!(&bytes[20..23], b"xyz");
    assert_eq!(&bytes[23..], &crc32c::crc32c(&bytes[..23]).to_le_bytes());
}

#[test]
fn every_truncation_is_rejected_as_truncated() {
    let bytes = sample_bytes();
    for len in 0..bytes.len() {
        let err = decode_raw(&bytes[..len]).unwrap_err();
        assert_eq!(
            err.kind(),
            DecodeErrorKind::Truncated,
            "prefix of {len} bytes"
        );
        let err = decode::<Sample>(&bytes[..len]).unwrap_err();
        assert_eq!(
            err.kind(),
            DecodeErrorKind::Truncated,
            "prefix of {len} bytes"
        );
    }
}

/// The variant a flip of bit `bit` of byte `at` must produce.
fn expected_for_flip(original: &[u8], at: usize, bit: u8) -> DecodeErrorKind {
    match at {
        0..8 => DecodeErrorKind::BadMagic,
        // A larger declared length runs past the input, a smaller one leaves
        // bytes over.
        12..20 if original[at] & (1 << bit) == 0 => DecodeErrorKind::Truncated,
        12..20 => DecodeErrorKind::LengthMismatch,
        // Version, payload and the CRC itself: CRC32C catches every single-bit
        // error, and the version is only trusted after the CRC.
        _ => DecodeErrorKind::ChecksumMismatch,
    }
}

#[test]
fn every_single_bit_flip_is_rejected_with_the_right_variant() {
    let bytes = sample_bytes();
    for at in 0..bytes.len() {
        for bit in 0..8u8 {
            let mut flipped = bytes.clone();
            flipped[at] ^= 1 << bit;
            let err = decode::<Sample>(&flipped).unwrap_err();
            assert_eq!(
                err.kind(),
                expected_for_flip(&bytes, at, bit),
                "flip of bit {bit} in byte {at}: {err}"
            );
            assert!(err.is_corruption());
        }
    }
}

#[test]
fn huge_length_field_on_tiny_input_is_truncated_without_allocating() {
    let mut bytes = Vec::new();
    bytes.extend_from_slice(&MAGIC);
    bytes.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    bytes.extend_from_slice(&u64::MAX.to_le_bytes());
    bytes.extend_from_slice(b"tiny");
    match decode_raw(&bytes) {
        Err(DecodeError::Truncated { needed, actual }) => {
            assert_eq!(needed, u64::MAX);
            assert_eq!(actual, bytes.len() as u64);
        }
        other => panic!("expected Truncated, got {other:?}"),
    }
    // Just below overflow: still truncated, not wrapped to a small total.
    bytes[12..20].copy_from_slice(&(u64::MAX - 10).to_le_bytes());
    assert_eq!(
        decode_raw(&bytes).unwrap_err().kind(),
        DecodeErrorKind::Truncated
    );
}

#[test]
fn intact_envelope_of_another_version_is_unsupported_version() {
    let mut bytes = encode_raw(b"{}");
    bytes[8..12].copy_from_slice(&2u32.to_le_bytes());
    let crc_at = bytes.len() - TRAILER_LEN;
    let crc = crc32c::crc32c(&bytes[..crc_at]);
    bytes[crc_at..].copy_from_slice(&crc.to_le_bytes());
    match decode_raw(&bytes) {
        Err(
            e @ DecodeError::UnsupportedVersion {
                found: 2,
                supported: 1,
            },
        ) => {
            assert!(!e.is_corruption());
            assert!(e.to_string().contains("version 2"), "{e}");
        }
        other => panic!("expected UnsupportedVersion, got {other:?}"),
    }
}

#[test]
fn intact_envelope_with_another_schema_is_payload_error() {
    let bytes = encode(&vec!["not", "a", "sample"]).unwrap();
    let err = decode::<Sample>(&bytes).unwrap_err();
    assert_eq!(err.kind(), DecodeErrorKind::Payload);
    assert!(!err.is_corruption());
}

#[test]
fn foreign_bytes_are_bad_magic() {
    assert_eq!(
        decode_raw(b"{\"cursor\": 10}").unwrap_err().kind(),
        DecodeErrorKind::BadMagic
    );
    assert_eq!(
        decode_raw(b"\x89C").unwrap_err().kind(),
        DecodeErrorKind::Truncated
    );
    assert_eq!(
        decode_raw(b"").unwrap_err().kind(),
        DecodeErrorKind::Truncated
    );
    assert_eq!(
        decode_raw(b"x").unwrap_err().kind(),
        DecodeErrorKind::BadMagic
    );
}

/// 64 cases by default; CI raises it with `PROPTEST_CASES`.
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn decode_of_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = decode::<Sample>(&bytes);
        let _ = decode_raw(&bytes);
    }

    #[test]
    fn decode_of_magic_prefixed_bytes_never_panics(
        version in any::<u32>(),
        len in any::<u64>(),
        rest in proptest::collection::vec(any::<u8>(), 0..128),
    ) {
        let mut bytes = MAGIC.to_vec();
        bytes.extend_from_slice(&version.to_le_bytes());
        bytes.extend_from_slice(&len.to_le_bytes());
        bytes.extend_from_slice(&rest);
        match decode_raw(&bytes) {
            Ok(raw) => prop_assert_eq!(raw.payload.len() as u64, len),
            Err(e) => prop_assert!(e.is_corruption() || version != FORMAT_VERSION),
        }
    }

    #[test]
    fn round_trip_of_arbitrary_payloads(payload in proptest::collection::vec(any::<u8>(), 0..512)) {
        let bytes = encode_raw(&payload);
        prop_assert_eq!(decode_raw(&bytes).unwrap().payload, &payload[..]);
    }
}
