//! The five seed systems as scenarios: small, faithful models of the
//! checkpoint code in `../shared/seeds/`, built on `crashproof-core`, each
//! with the bug its reviewers found as a mutant the explorer must catch.

pub mod common;
pub mod rooch_resume;
pub mod tzel;
