//! Built-in workloads the explorer can run by name.
//!
//! - `reference`: the reference core's resumable `Runner` on a built-in
//!   deterministic job ([`mod@reference`]), the default of `crashproof explore`;
//! - `zoo-control`: the bug zoo's correct control program (the zoo names it
//!   `reference`; renamed here because `reference` is the core runner);
//! - `yield-after-commit`: the zoo's control for the yield mutant;
//! - the bug zoo's mutants (`crate::zoo`), under their catalogue names;
//! - the seed scenarios (`crate::scenarios`) and their review-bug mutants.

pub mod reference;

use crashproof_core::fs::Fs;

pub use reference::{ReferenceConfig, ReferenceWorkload};

use crate::explore::{Completion, Progress, Recovered, Workload, WorkloadError};

/// Every built-in workload: the reference first, then the zoo's controls and
/// mutants, then each seed scenario followed by its mutant.
pub fn catalogue() -> Vec<Box<dyn Workload>> {
    let mut all: Vec<Box<dyn Workload>> = vec![
        Box::new(ReferenceWorkload::default()),
        Box::new(Renamed {
            name: "zoo-control",
            inner: crate::zoo::reference(),
        }),
        crate::zoo::yield_control(),
    ];
    all.extend(crate::zoo::catalogue().into_iter().map(|m| m.workload));
    for scenario in crate::scenarios::catalogue() {
        all.push(scenario.workload);
        all.push(scenario.mutant);
    }
    all
}

/// A workload under another name (the zoo calls its control `reference`,
/// which is the core runner's name here).
struct Renamed {
    name: &'static str,
    inner: Box<dyn Workload>,
}

impl Workload for Renamed {
    fn name(&self) -> String {
        self.name.to_string()
    }
    fn run(&self, fs: &dyn Fs, progress: &mut Progress) -> Result<Completion, WorkloadError> {
        self.inner.run(fs, progress)
    }
    fn inspect(&self, fs: &dyn Fs) -> Result<Recovered, WorkloadError> {
        self.inner.inspect(fs)
    }
    fn redo_bound(&self) -> u64 {
        self.inner.redo_bound()
    }
    fn leftovers(&self, fs: &dyn Fs) -> Result<Vec<String>, WorkloadError> {
        self.inner.leftovers(fs)
    }
}
