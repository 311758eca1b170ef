//! A madsim world for the core runner: a long synchronous job (driven one
//! batch at a time with `Runner::step`, each item costing virtual time), a
//! second process issuing short operations that need the job's lock and ask
//! it to yield through the sentinel file, a time-based checkpoint policy
//! read from madsim's clock, and power losses at seeded virtual times whose
//! restarts see a `crashproof_sim::SimFs` crash image (madsim's own
//! filesystem keeps unsynced data on a kill, so it cannot stand in for a
//! disk). See `docs/concurrency.md`, section "madsim".
//!
//! **The world exists only under `--cfg madsim`**, in its own target dir:
//!
//! ```text
//! RUSTFLAGS="--cfg madsim" cargo test -p crashproof-madsim --target-dir target/madsim
//! ```
//!
//! Without the cfg this crate is empty and its tests compile to nothing
//! (`madsim` is not even a dependency), so `cargo test --workspace` neither
//! builds madsim nor reports a check it did not make. Replay a seed with
//! `MADSIM_TEST_SEED=<seed>` (every run prints its seed); turn on madsim's
//! determinism check for every test with `MADSIM_TEST_CHECK_DETERMINISM=1`
//! (one test always runs it).

/// The command that runs the madsim world.
pub const RUN_COMMAND: &str =
    "RUSTFLAGS=\"--cfg madsim\" cargo test -p crashproof-madsim --target-dir target/madsim";

#[cfg(madsim)]
mod check;
#[cfg(madsim)]
mod clock;
#[cfg(madsim)]
mod job;
#[cfg(madsim)]
mod world;

#[cfg(madsim)]
pub use check::{
    Violation, check_all, loss_within_interval, no_acknowledged_progress_lost, output_equals_clean,
    wait_within_one_batch,
};
#[cfg(madsim)]
pub use clock::WorldClock;
#[cfg(madsim)]
pub use job::{HashJob, clean_output};
#[cfg(madsim)]
pub use world::{KillRecord, Kills, Open, Ops, Report, Variant, WorldConfig, run_world};
