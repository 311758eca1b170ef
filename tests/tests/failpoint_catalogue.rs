//! The core's failpoint catalogue is complete: every failpoint a run of the
//! core passes is documented in `crashproof_core::failpoint::CATALOGUE`, and
//! every catalogued name is passed by some run (no stale entry).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;

use crashproof_catalog::core_runner::CoreRunnerWorkload;
use crashproof_core::failpoint::CATALOGUE;
use crashproof_sim::explore::{ExploreOptions, Explorer};

/// The failpoint names a clean run of the core runner passes.
fn passed_by_core_runner() -> BTreeSet<String> {
    let workload = CoreRunnerWorkload::default();
    let clean = Explorer::new(&workload, ExploreOptions::default())
        .clean_run()
        .unwrap();
    clean.failpoints.into_iter().collect()
}

#[test]
fn every_failpoint_the_core_passes_is_catalogued_and_every_entry_is_passed() {
    let passed = passed_by_core_runner();
    let catalogued: BTreeSet<String> = CATALOGUE.iter().map(|d| d.name.to_string()).collect();
    assert!(!passed.is_empty(), "the core runner passed no failpoint");
    assert_eq!(
        passed, catalogued,
        "the failpoints the core passes and crashproof_core::failpoint::CATALOGUE differ"
    );
}
