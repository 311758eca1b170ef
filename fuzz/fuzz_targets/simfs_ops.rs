//! Fuzz target: `crashproof_tests::fuzz_bodies::simfs_ops` (see docs/fuzzing.md).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    crashproof_tests::fuzz_bodies::simfs_ops(data);
});
