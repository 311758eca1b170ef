//! The cargo-fuzz target bodies, as plain library functions.
//!
//! Each target in `fuzz/fuzz_targets/` is one line calling a function here,
//! so the same bodies also run as ordinary tests on stable
//! (`tests/tests/fuzz_bodies.rs`: a seed corpus plus proptest byte vectors).
//!
//! Every body comes in two forms:
//! - `check_<name>(data) -> Result<(), String>`: `Ok` on any input unless it
//!   finds a real bug (an invariant violated), then `Err` saying which;
//! - `<name>(data)`: the fuzz entry point; returns normally on any input and
//!   panics with the `Err` message when the check fails. Panicking is how a
//!   libFuzzer target reports a finding, so that function alone allows
//!   `clippy::panic`.
//!
//! Bodies bound everything they allocate or enumerate by constants (not by
//! the input), so a fuzzer finding an OOM or a hang has found a real one.

mod envelope;
mod kill_schedule;
mod simfs_ops;
mod store_latest;

pub use envelope::{PostcardProbe, RawDecoder, check_envelope_decode, check_envelope_decode_with};
pub use kill_schedule::{check_kill_schedule, check_kill_schedule_on, fuzz_workload};
pub use simfs_ops::{check_crash_image, check_simfs_ops};
pub use store_latest::{check_returned_checkpoint, check_store_latest};

/// Panics with `result`'s message if it is an `Err`: the fuzzing contract.
// A panic is how a libFuzzer target reports a finding; an Err here is an
// invariant of core/sim violated, never bad input.
#[allow(clippy::panic)]
fn report(body: &str, result: Result<(), String>) {
    if let Err(finding) = result {
        panic!("fuzz body `{body}` found a bug: {finding}");
    }
}

/// Fuzz body: [`check_envelope_decode`]; panics only on a real bug.
pub fn envelope_decode(data: &[u8]) {
    report("envelope_decode", check_envelope_decode(data));
}

/// Fuzz body: [`check_store_latest`]; panics only on a real bug.
pub fn store_latest(data: &[u8]) {
    report("store_latest", check_store_latest(data));
}

/// Fuzz body: [`check_simfs_ops`]; panics only on a real bug.
pub fn simfs_ops(data: &[u8]) {
    report("simfs_ops", check_simfs_ops(data));
}

/// Fuzz body: [`check_kill_schedule`]; panics only on a real bug (a
/// violation of the explorer's oracles, printed with its replay command).
pub fn kill_schedule(data: &[u8]) {
    report("kill_schedule", check_kill_schedule(data));
}
