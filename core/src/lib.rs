//! crashproof-core: the reference checkpoint/resume library.
//!
//! Everything here is written against the [`fs::Fs`] trait, so it runs on
//! the real filesystem ([`fs::StdFs`]) and, unchanged, on the crash
//! simulator (`crashproof_sim::SimFs`).
//!
//! **Invariant:** this crate never touches the wall clock, the OS RNG or
//! `std::fs` outside [`fs::StdFs`] (and the `Clock` implementation that is
//! explicitly the real clock).

pub mod failpoint;
pub mod fs;
