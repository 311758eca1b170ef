//! The simulator's integration tests, one binary: each file of this folder
//! is a module (one binary links the crate graph once instead of twenty
//! times, which was a fifth of CI's test build). Run one file's tests
//! with `cargo test -p crashproof-sim --test sim FILE::`.

mod common;
mod counter;

mod cancel;
mod content_digest;
mod crash_invariants;
mod crash_models;
mod crash_test;
mod differential;
mod durability_rules;
mod fault_rules;
mod faults;
mod job_workload;
mod layers;
mod model_fidelity;
mod new_op_rules;
mod picks;
mod program_workload;
mod real_disk;
mod rename_rules;
mod steps_and_trace;
mod twin_run;
