//! The command's integration tests: it is run as a process (`CARGO_BIN_EXE_crashproof`).
//! Each file of this folder is a module of this one test binary (one
//! link of the crate graph instead of one per file). Run one file's tests
//! with `cargo test -p crashproof --test cli FILE::`.

mod docs;
mod exit_codes;
mod fuse_commands;
mod interrupt;
mod json_and_shards;
mod kill;
mod tune_k;
