//! Deterministic crash-consistency simulator: SimFs, crash models and the
//! crash explorer.

pub mod explore;
pub mod zoo;
