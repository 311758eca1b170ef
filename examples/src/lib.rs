//! crashproof-examples: a user's code under the crash explorer, as a user
//! writes it. Nothing here depends on the simulator: the crash tests in
//! `tests/` put this code under it.
//!
//! - [`word_count`]: a core [`crashproof_core::Job`], run in production
//!   with the core's `Runner`; its crash test is a few lines
//!   (`tests/word_count.rs`);
//! - [`export`]: a program without progress hooks that keeps a JSON
//!   progress file (temp, fsync, rename, directory fsync), written on the
//!   `Fs` trait; its crash test states what must hold instead
//!   (`tests/export.rs`);
//! - [`progress_file`]: the same idea written first with plain `std::fs`
//!   ([`progress_file_std`]) and made testable by changing its `use` lines
//!   to `crashproof_core::stdfs`; its crash test is
//!   `tests/progress_file.rs`;
//! - [`planted`]: each of them with one bug planted, which the same
//!   crash test files show the explorer catching with a readable report.
//!
//! See `docs/your-code.md`.

pub mod export;
pub mod planted;
pub mod progress_file;
pub mod progress_file_std;
pub mod word_count;
