//! [`Fs`](crashproof_core::fs::Fs) wrappers for tests: one records every
//! call, one fails a chosen call. Both wrap any `Fs` (`StdFs`, `SimFs`,
//! `&dyn Fs`) and keep their state per instance (no globals), so tests run
//! in parallel.

mod failing;
mod handles;
mod recording;

pub use failing::{FailRule, FailingFs};
pub use recording::{RecordedOp, RecordingFs};
