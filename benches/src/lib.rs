//! Shared pieces of crashproof's criterion benches (`benches/*.rs`).
//!
//! - [`scratch`]: where benches write real files (`$CRASHPROOF_BENCH_DIR`,
//!   or the target directory: `/tmp` may be a tmpfs, whose fsync costs
//!   nothing and would flatter every number).
//! - [`spin`]: a calibrated CPU spin, so an "item" costs a known amount of
//!   CPU without sleeping (a sleep would hand the core to the commit's I/O).
//! - [`spin_job`]: a core [`crashproof_core::Job`] whose items spin, which
//!   can stop at a chosen item as if killed, and which records the items it
//!   processed; [`spin_job::CommitTimer`] times each commit.
//! - [`tally`]: totals of `iter_custom` calls, for the summary tables the
//!   benches print after criterion's own output.

pub mod scratch;
pub mod spin;
pub mod spin_job;
pub mod tally;
