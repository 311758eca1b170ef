//! Cross-crate integration tests for crashproof.
