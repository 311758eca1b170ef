//! Criterion benches for crashproof.
