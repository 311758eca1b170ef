//! Cross-crate integration tests for crashproof.
//!
//! The library part holds what several test binaries share:
//! - [`core_suite`]: the core's test suites as plain functions over any
//!   `&dyn Fs` and root directory, listed in [`core_suite::CORE_SUITE`] and
//!   instantiated as one `#[test]` each by [`core_suite_tests!`] (on `StdFs`
//!   in `tests/core_on_std_fs.rs`, on `SimFs` in `tests/core_on_sim_fs.rs`).
//! - [`fs_wrappers`]: a recording and a failing `Fs` wrapper.
//! - [`jobs`]: a small deterministic [`crashproof_core::Job`] for tests.
//! - [`fuzz_bodies`]: the cargo-fuzz target bodies (`fuzz/`), as plain
//!   functions so they also run as ordinary tests on stable.
//! - [`envelope_reference`]: the envelope's CRC and version 1 frame
//!   re-derived from the specification, for tests that forge envelopes.
//! - [`check`]: `Result`-returning assertion helpers (the suites are library
//!   code, so they report failures as `Err(String)` instead of panicking).

pub mod check;
pub mod core_suite;
pub mod envelope_reference;
pub mod fs_wrappers;
pub mod fuzz_bodies;
pub mod jobs;
