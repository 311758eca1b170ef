//! Fuzz target: `crashproof_tests::fuzz_bodies::envelope_decode` (see docs/fuzzing.md).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    crashproof_tests::fuzz_bodies::envelope_decode(data);
});
