//! The bug zoo's mutation score: every mutant is caught by the exploration
//! its catalogue entry says it needs, with a small counterexample that
//! replays to the same verdict; the correct controls pass every exploration
//! the table runs; and the kinder `EagerDirs` model misses exactly the bugs
//! it should.

// This file is a test crate: its helper functions are test code too, and a
// failed unwrap there is a failed test with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use crashproof_catalog::zoo::hunt::{Detection, Exploration, hunt};
use crashproof_catalog::zoo::{self, Mutant, Needs};
use crashproof_fault::CrashModel;
use crashproof_sim::explore::{ExploreOptions, Explorer, Workload};

/// Most items a counterexample's schedule may have (crash points plus
/// faults).
const MAX_SCHEDULE_LEN: usize = 10;

/// Most filesystem steps the first run of a mutant's smallest
/// counterexample may execute before its first crash: "shrunk to a
/// counterexample of at most 10 steps". It holds for every mutant: those
/// whose bug needs two commits start from an initial disk holding the first
/// (see `Workload::initial_disk`).
const MAX_STEPS: u64 = 10;

/// The explorations of the kind `mutant` needs, strict models first.
fn needed(mutant: &Mutant) -> Vec<Exploration> {
    Exploration::TABLE
        .into_iter()
        .chain([Exploration::Random])
        .filter(|e| e.serves(mutant.needs))
        .collect()
}

/// The smallest counterexample of `mutant` among the explorations it
/// needs (fewest steps, then shortest schedule), as the mutation table
/// reports it.
fn detect(mutant: &Mutant) -> Option<(Exploration, Detection)> {
    let mut smallest: Option<(Exploration, Detection)> = None;
    for exploration in needed(mutant) {
        let h = hunt(
            mutant.workload.as_ref(),
            exploration,
            &ExploreOptions::default(),
        )
        .unwrap();
        assert_eq!(h.caught(), h.first.is_some());
        if let Some(d) = h.first {
            let size = |d: &Detection| (d.steps, d.schedule_len);
            if smallest.as_ref().is_none_or(|(_, s)| size(&d) < size(s)) {
                smallest = Some((exploration, d));
            }
        }
    }
    smallest
}

/// Replays `d`'s schedule on `workload` and returns the oracle and message.
fn replay(workload: &dyn Workload, d: &Detection) -> Option<(String, String)> {
    let explorer = Explorer::new(workload, ExploreOptions::default());
    let (_, outcome) = explorer.replay(&d.violation.schedule).unwrap();
    outcome.violation.map(|v| (v.oracle.to_string(), v.message))
}

#[test]
fn every_mutant_is_caught_with_a_small_replayable_counterexample() {
    let mutants = zoo::catalogue();
    assert_eq!(mutants.len(), 13);
    let mut survivors = Vec::new();
    for m in &mutants {
        let Some((exploration, d)) = detect(m) else {
            survivors.push(m.name);
            continue;
        };
        assert!(
            d.schedule_len <= MAX_SCHEDULE_LEN,
            "{}: schedule {} is too long",
            m.name,
            d.violation.schedule
        );
        assert!(
            d.steps > 0,
            "{}: a crash before any step shows nothing",
            m.name
        );
        assert!(
            d.steps <= MAX_STEPS,
            "{} ({exploration}): smallest counterexample {} runs {} steps before \
             its crash, more than {MAX_STEPS}",
            m.name,
            d.violation.schedule,
            d.steps
        );
        assert_eq!(d.violation.workload, m.name);
        // The printed case is the whole story: replaying it alone fails the
        // same oracle with the same message.
        assert_eq!(
            replay(m.workload.as_ref(), &d),
            Some((d.violation.oracle.to_string(), d.violation.message.clone())),
            "{} ({exploration}): replay of {} differs",
            m.name,
            d.violation.schedule
        );
    }
    // Mutation score 100%.
    assert_eq!(survivors, Vec::<&str>::new(), "mutants that survived");
}

#[test]
fn the_controls_pass_every_exploration_the_table_runs() {
    for control in zoo::controls_in(Path::new(zoo::SIM_DIR)) {
        for exploration in Exploration::TABLE.into_iter().chain([Exploration::Random]) {
            let h = hunt(control.as_ref(), exploration, &ExploreOptions::default()).unwrap();
            assert!(
                h.cases > 0,
                "{} {exploration}: nothing explored",
                control.name()
            );
            assert_eq!(
                h.violations,
                0,
                "{} failed {exploration}: {:?}",
                control.name(),
                h.first.map(|d| d.violation.summary())
            );
        }
    }
}

#[test]
fn the_kind_eager_dirs_model_misses_exactly_the_strict_only_bugs() {
    let mut missed = Vec::new();
    for m in zoo::catalogue() {
        let eager = needed(&m)
            .into_iter()
            .filter(|e| e.model() == Some(CrashModel::EagerDirs))
            .any(|e| {
                hunt(m.workload.as_ref(), e, &ExploreOptions::default())
                    .unwrap()
                    .caught()
            });
        if !eager {
            missed.push(m.name);
        }
    }
    // A missing directory fsync is invisible when directory operations are
    // durable at once; a torn slot needs the subset model's torn writes; an
    // unsynced truncate is simply dropped by the kind model.
    assert_eq!(
        missed,
        vec![
            "no-dir-fsync",
            "checksum-unverified",
            "recovery-rewrite-in-place"
        ]
    );
}

#[test]
fn only_the_fault_and_multi_crash_mutants_escape_a_single_crash() {
    for m in zoo::catalogue() {
        let single_crash = CrashModel::ALL.into_iter().any(|model| {
            hunt(
                m.workload.as_ref(),
                Exploration::Exhaustive(model),
                &ExploreOptions::default(),
            )
            .unwrap()
            .caught()
        });
        assert_eq!(
            single_crash,
            m.needs == Needs::SingleCrash,
            "{}: caught by a single crash alone = {single_crash}",
            m.name
        );
    }
}

#[test]
fn every_zoo_program_is_deterministic() {
    let options = ExploreOptions {
        check_determinism: true,
        ..ExploreOptions::default()
    };
    let mut programs = zoo::controls_in(Path::new(zoo::SIM_DIR));
    programs.extend(zoo::catalogue().into_iter().map(|m| m.workload));
    for w in &programs {
        let report = Explorer::new(w.as_ref(), options.clone())
            .explore_exhaustive(CrashModel::DropUnsynced)
            .unwrap();
        assert!(
            report
                .violations()
                .all(|v| v.oracle != crashproof_sim::explore::Oracle::NonDeterminism),
            "{} is not deterministic",
            w.name()
        );
    }
}
