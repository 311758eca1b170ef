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

fn sample_bytes(codec: Codec) -> Vec<u8> {
    encode_with(codec, &sample()).unwrap()
}

/// `sample()` as the format-version-1 writer framed it: 20-byte header, no
/// codec field, JSON. Built by hand, so a change of the writer cannot hide
/// a break of compatibility.
fn version_1_bytes() -> Vec<u8> {
    let payload = serde_json::to_vec(&sample()).unwrap();
    let mut bytes = MAGIC.to_vec();
    bytes.extend_from_slice(&1u32.to_le_bytes());
    bytes.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    bytes.extend_from_slice(&payload);
    let crc = crc32c::crc32c(&bytes);
    bytes.extend_from_slice(&crc.to_le_bytes());
    bytes
}

/// Every framing this build must decode: each codec it writes, and v1.
fn all_framings() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("json", sample_bytes(Codec::Json)),
        ("postcard", sample_bytes(Codec::Postcard)),
        ("version 1", version_1_bytes()),
    ]
}

/// Recomputes the CRC after a deliberate edit, so the envelope is intact.
fn reseal(bytes: &mut [u8]) {
    let crc_at = bytes.len() - TRAILER_LEN;
    let crc = crc32c::crc32c(&bytes[..crc_at]);
    bytes[crc_at..].copy_from_slice(&crc.to_le_bytes());
}

#[test]
fn round_trip_typed_and_raw_in_every_codec() {
    for codec in Codec::ALL {
        let bytes = sample_bytes(codec);
        assert_eq!(decode::<Sample>(&bytes).unwrap(), sample(), "{codec}");
        let raw = decode_raw(&bytes).unwrap();
        assert_eq!(raw.version, FORMAT_VERSION);
        assert_eq!(raw.codec, codec);
        assert_eq!(raw.payload, codec.to_vec(&sample()).unwrap());
        assert_eq!(
            decode_raw(&encode_raw_with(codec, b"")).unwrap().payload,
            b""
        );
    }
    assert_eq!(encode(&sample()).unwrap(), sample_bytes(Codec::Json));
    assert_eq!(decode_raw(&encode_raw(b"x")).unwrap().codec, Codec::Json);
}

#[test]
fn a_version_1_envelope_still_decodes_as_json() {
    let bytes = version_1_bytes();
    let raw = decode_raw(&bytes).unwrap();
    assert_eq!((raw.version, raw.codec), (1, Codec::Json));
    assert_eq!(decode::<Sample>(&bytes).unwrap(), sample());
}

#[test]
fn layout_is_as_documented() {
    let bytes = encode_raw_with(Codec::Postcard, b"xyz");
    assert_eq!(bytes.len(), HEADER_LEN + 3 + TRAILER_LEN);
    assert_eq!(HEADER_LEN, 24);
    assert_eq!(&bytes[..8], &MAGIC);
    assert_eq!(&bytes[8..12], &2u32.to_le_bytes());
    assert_eq!(&bytes[12..20], &3u64.to_le_bytes());
    assert_eq!(&bytes[20..24], &1u32.to_le_bytes());
    assert_eq!(&bytes[24..27], b"xyz");
    assert_eq!(&bytes[27..], &crc32c::crc32c(&bytes[..27]).to_le_bytes());
}

#[test]
fn every_truncation_is_rejected_as_truncated() {
    for (name, bytes) in all_framings() {
        for len in 0..bytes.len() {
            let err = decode_raw(&bytes[..len]).unwrap_err();
            assert_eq!(
                err.kind(),
                DecodeErrorKind::Truncated,
                "{name}: prefix of {len} bytes"
            );
            let err = decode::<Sample>(&bytes[..len]).unwrap_err();
            assert_eq!(
                err.kind(),
                DecodeErrorKind::Truncated,
                "{name}: prefix of {len} bytes"
            );
        }
    }
}

/// The variant a flip of bit `bit` of byte `at` must produce.
fn expected_for_flip(original: &[u8], at: usize, bit: u8) -> DecodeErrorKind {
    let version_1 = original[8..12] == 1u32.to_le_bytes();
    match at {
        0..8 => DecodeErrorKind::BadMagic,
        // In a v1 envelope a flipped version is not 1, so the decoder reads
        // a 24-byte header the input is 4 bytes short of.
        8..12 if version_1 => DecodeErrorKind::Truncated,
        // A larger declared length runs past the input, a smaller one leaves
        // bytes over.
        12..20 if original[at] & (1 << bit) == 0 => DecodeErrorKind::Truncated,
        12..20 => DecodeErrorKind::LengthMismatch,
        // Version (never flipped from 2 to 1 by one bit), codec, payload and
        // the CRC itself: CRC32C catches every single-bit error, and the
        // version and codec are only trusted after the CRC.
        _ => DecodeErrorKind::ChecksumMismatch,
    }
}

#[test]
fn every_single_bit_flip_is_rejected_with_the_right_variant() {
    for (name, bytes) in all_framings() {
        for at in 0..bytes.len() {
            for bit in 0..8u8 {
                let mut flipped = bytes.clone();
                flipped[at] ^= 1 << bit;
                let err = decode::<Sample>(&flipped).unwrap_err();
                assert_eq!(
                    err.kind(),
                    expected_for_flip(&bytes, at, bit),
                    "{name}: flip of bit {bit} in byte {at}: {err}"
                );
                assert!(err.is_corruption(), "{name}: {err}");
            }
        }
    }
}

#[test]
fn intact_envelope_of_an_unknown_codec_is_unsupported_codec_not_corruption() {
    let mut bytes = encode_raw_with(Codec::Json, b"{}");
    bytes[20..24].copy_from_slice(&7u32.to_le_bytes());
    reseal(&mut bytes);
    let err = decode_raw(&bytes).unwrap_err();
    assert!(
        matches!(err, DecodeError::UnsupportedCodec { found: 7 }),
        "{err:?}"
    );
    assert!(!err.is_corruption());
    assert_eq!(err.kind(), DecodeErrorKind::UnsupportedCodec);
    assert!(err.to_string().contains("codec id 7"), "{err}");
    assert_eq!(
        decode::<serde_json::Value>(&bytes).unwrap_err().kind(),
        DecodeErrorKind::UnsupportedCodec
    );
}

#[test]
fn a_payload_is_decoded_with_the_codec_its_header_names() {
    // The same payload bytes read as JSON and as postcard: the header
    // decides, not the caller.
    let json = encode_raw_with(Codec::Json, b"7");
    let postcard = encode_raw_with(Codec::Postcard, b"\x07");
    assert_eq!(decode::<u64>(&json).unwrap(), 7);
    assert_eq!(decode::<u64>(&postcard).unwrap(), 7);
    let mislabelled = encode_raw_with(Codec::Postcard, b"7");
    assert_eq!(decode::<u64>(&mislabelled).unwrap(), u64::from(b'7'));
    let err = decode::<u64>(&encode_raw_with(Codec::Postcard, b"\x07\x00")).unwrap_err();
    assert!(
        matches!(
            err,
            DecodeError::Payload {
                codec: Codec::Postcard,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(!err.is_corruption());
}

#[test]
fn postcard_checkpoint_of_bytes_is_about_their_size() {
    #[derive(Serialize, Deserialize, PartialEq, Debug)]
    struct Blob {
        data: Vec<u8>,
    }
    // 15,770 bytes of varied values, as the issue measured (~64 KB in JSON).
    let blob = Blob {
        data: (0..15_770u32).map(|i| (i * 7919 % 251) as u8).collect(),
    };
    let json = encode_with(Codec::Json, &blob).unwrap();
    let postcard = encode_with(Codec::Postcard, &blob).unwrap();
    assert_eq!(decode::<Blob>(&postcard).unwrap(), blob);
    // Frame (28 bytes) plus a 2-byte varint length: nothing else.
    assert_eq!(postcard.len(), 15_770 + 2 + HEADER_LEN + TRAILER_LEN);
    assert!(json.len() > 3 * 15_770, "json is {} bytes", json.len());
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
    for version in [0u32, 3, u32::MAX] {
        let mut bytes = encode_raw(b"{}");
        bytes[8..12].copy_from_slice(&version.to_le_bytes());
        reseal(&mut bytes);
        match decode_raw(&bytes) {
            Err(
                e @ DecodeError::UnsupportedVersion {
                    found,
                    supported: 2,
                },
            ) if found == version => {
                assert!(!e.is_corruption());
                assert!(e.to_string().contains(&format!("version {version}")), "{e}");
                assert_eq!(e.kind(), DecodeErrorKind::UnsupportedVersion);
            }
            other => panic!("expected UnsupportedVersion, got {other:?}"),
        }
    }
}

#[test]
fn intact_envelope_with_another_schema_is_payload_error() {
    for codec in Codec::ALL {
        let bytes = encode_with(codec, &vec!["not", "a", "sample"]).unwrap();
        let err = decode::<Sample>(&bytes).unwrap_err();
        assert_eq!(err.kind(), DecodeErrorKind::Payload, "{codec}");
        assert!(!err.is_corruption());
    }
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
            Err(e) => prop_assert!(e.is_corruption() || ![1, FORMAT_VERSION].contains(&version)),
        }
    }

    #[test]
    fn round_trip_of_arbitrary_payloads(payload in proptest::collection::vec(any::<u8>(), 0..512)) {
        for codec in Codec::ALL {
            let bytes = encode_raw_with(codec, &payload);
            let raw = decode_raw(&bytes).unwrap();
            prop_assert_eq!(raw.payload, &payload[..]);
            prop_assert_eq!(raw.codec, codec);
        }
    }

    #[test]
    fn postcard_decode_of_arbitrary_payloads_never_panics(payload in proptest::collection::vec(any::<u8>(), 0..256)) {
        let bytes = encode_raw_with(Codec::Postcard, &payload);
        let _ = decode::<Sample>(&bytes);
        let _ = decode::<Vec<u8>>(&bytes);
        let _ = decode::<(u64, String, Option<u32>)>(&bytes);
    }
}

#[test]
fn errors_carry_the_exact_lengths() {
    let v2 = sample_bytes(Codec::Json);
    let payload_len = (v2.len() - HEADER_LEN - TRAILER_LEN) as u64;
    // Too short to read the length field: the smallest frame of the version
    // (v2 if the version field is unreadable).
    for (bytes, needed) in [
        (&v2[..10], 28u64),
        (&v2[..14], 28),
        (&version_1_bytes()[..14], 24),
    ] {
        match decode_raw(bytes) {
            Err(DecodeError::Truncated {
                needed: n,
                actual: a,
            }) => assert_eq!((n, a), (needed, bytes.len() as u64)),
            other => panic!("expected Truncated, got {other:?}"),
        }
    }
    // The length field read: the whole envelope it declares.
    match decode_raw(&v2[..v2.len() - 1]) {
        Err(DecodeError::Truncated { needed, actual }) => {
            assert_eq!((needed, actual), (v2.len() as u64, v2.len() as u64 - 1));
        }
        other => panic!("expected Truncated, got {other:?}"),
    }
    let mut longer = v2.clone();
    longer.extend_from_slice(b"xy");
    match decode_raw(&longer) {
        Err(DecodeError::LengthMismatch { declared, actual }) => {
            assert_eq!((declared, actual), (payload_len, payload_len + 2));
        }
        other => panic!("expected LengthMismatch, got {other:?}"),
    }
    let mut flipped = v2.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 1;
    match decode_raw(&flipped) {
        Err(DecodeError::ChecksumMismatch { stored, computed }) => {
            assert_eq!(computed, crc32c::crc32c(&v2[..v2.len() - TRAILER_LEN]));
            assert_eq!(stored, computed ^ (1 << 24));
        }
        other => panic!("expected ChecksumMismatch, got {other:?}"),
    }
}

#[test]
fn encoding_allocates_exactly_the_envelope() {
    for len in [0usize, 3, 1000] {
        let bytes = encode_raw_with(Codec::Postcard, &vec![7u8; len]);
        assert_eq!(bytes.len(), HEADER_LEN + len + TRAILER_LEN);
        assert_eq!(bytes.capacity(), bytes.len(), "{len}-byte payload");
    }
}
