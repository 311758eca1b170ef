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
pub use replace::replace;
pub use runner::{
    AdaptiveK, CheckpointInfo, Clock, CommitInterleaving, CommitMode, ConfigError, Job, JobError,
    ManualClock, NoObserver, Outcome, ResumeMode, ResumePoint, RunError, RunObserver, Runner,
    RunnerConfig, Step, SystemClock, YieldSentinel, YieldSignal,
};
pub use store::{
    CheckpointStore, JobIdentity, SkipReason, SkippedGeneration, StoreError, StoredCheckpoint,
};
