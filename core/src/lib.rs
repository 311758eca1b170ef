//! crashproof-core: the reference checkpoint/resume library.
//!
//! Everything here is written against the [`fs::Fs`] trait, so it runs on
//! the real filesystem ([`fs::StdFs`]) and, unchanged, on the crash
//! simulator (`crashproof_sim::SimFs`).
//!
//! Layers, bottom up:
//! - [`replace()`]: durable atomic replacement of one file.
//! - [`envelope`]: a checksummed, versioned frame around a payload in a
//!   named [`Codec`] (JSON, or compact postcard); decoding any bytes is total
//!   (never panics).
//! - [`store`]: a directory of numbered checkpoint generations with
//!   retention, GC and fallback past damaged files.
//! - [`Runner`]: runs a [`Job`] resumably: lock, resume, checkpoint every K
//!   items and/or T, cooperative yield, final checkpoint before finalize;
//!   optionally with commits that overlap the work
//!   ([`runner::background`], whose primitives go through [`seam`]).
//!
//! Beside them, [`stdfs`]: `std::fs`'s shape on any [`fs::Fs`], so code
//! written with `std::fs` runs on the simulator by changing its imports.
//!
//! # A job that survives `kill -9`
//!
//! Implement [`Job`] (a serde state, a fingerprint, how to process item
//! `i`, how to finalize) and run it with a [`Runner`] on [`StdFs`]. A run
//! that was killed, or that yielded, resumes from the newest durable
//! checkpoint when it is run again.
//!
//! ```
//! use crashproof_core::{Job, JobError, Outcome, Runner, RunnerConfig, StdFs};
//!
//! /// Sums the squares of 0..1000.
//! struct SumOfSquares;
//!
//! impl Job for SumOfSquares {
//!     type State = u64; // what is checkpointed
//!     type Output = u64;
//!     fn name(&self) -> &str { "sum-of-squares" }
//!     fn fingerprint(&self) -> u64 { 1 } // change it when the job changes
//!     fn item_count(&self) -> u64 { 1000 }
//!     fn initial_state(&self) -> u64 { 0 }
//!     fn process(&mut self, i: u64, sum: &mut u64) -> Result<(), JobError> {
//!         *sum += i * i;
//!         Ok(())
//!     }
//!     fn finalize(&mut self, sum: &u64) -> Result<u64, JobError> { Ok(*sum) }
//! }
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?; // the job's directory on the real disk
//! let mut job = SumOfSquares;
//! // A commit (two fsyncs) every 50 items.
//! let outcome = Runner::open(&StdFs::new(), dir.path(), &mut job, RunnerConfig::every(50))?.run()?;
//! let Outcome::Completed { output, resumed_from, .. } = outcome else {
//!     return Err("the job yielded".into());
//! };
//! assert_eq!(output, 332_833_500);
//! assert!(resumed_from.is_none()); // a fresh start
//! # Ok(())
//! # }
//! ```
//!
//! The same code runs on the crash simulator (`crashproof_sim::SimFs`),
//! which crashes it before every filesystem step and checks that recovery
//! resumes correctly from every disk a crash may leave
//! (`crashproof_sim::JobWorkload`, `crashproof_sim::CrashTest`).
//!
//! **Invariant:** this crate never touches the wall clock, the OS RNG or
//! `std::fs` outside [`fs::StdFs`] and [`stdfs`] outside a scope (and
//! [`SystemClock`], which is explicitly the real clock). Temp names and generation numbers are
//! deterministic, so a simulator trace is a pure function of its inputs.

pub mod digest;
pub mod envelope;
pub mod failpoint;
pub mod fs;
pub mod replace;
pub mod runner;
pub mod seam;
pub mod stdfs;
pub mod store;

pub use digest::stable_digest;
pub use envelope::{Codec, CodecError, DecodeError, DecodeErrorKind, EncodeError};
pub use fs::{FileHandle, Fs, OpenMode, StdFs};
pub use replace::replace;
pub use runner::{
    AdaptiveK, CheckpointInfo, Clock, CommitInterleaving, CommitMode, ConfigError, Job, JobError,
    ManualClock, NoObserver, Outcome, ResumeMode, ResumePoint, RunError, RunObserver, Runner,
    RunnerConfig, Step, SystemClock, YieldSentinel, YieldSignal,
};
pub use store::{
    CheckpointStore, JobIdentity, SkipReason, SkippedGeneration, StoreError, StoredCheckpoint,
};
