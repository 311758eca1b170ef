//! The catalogue's explorations (the heavy equivalence sweeps are `scale.rs`, a binary of its own that CI runs in release).
//! Each file of this folder is a module of this one test binary (one
//! link of the crate graph instead of one per file). Run one file's tests
//! with `cargo test -p crashproof-catalog --test catalog FILE::`.

mod adaptive;
mod explorer;
mod nothing_vacuous;
mod report;
