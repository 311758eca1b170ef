//! The five seed systems: each scenario passes every exploration (every
//! crash model exhaustively, random multi-crash schedules, and the sync-EIO
//! sweep), and the bug its reviewers found, as a mutant of the scenario, is
//! caught — the Feldera one by the panic oracle.

// This file is a test crate: its helper functions are test code too, and a
// failed unwrap there is a failed test with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crashproof_core::ResumeMode;
use crashproof_sim::SimFs;
use crashproof_sim::explore::{ExploreOptions, Oracle, Progress, Recovered, Workload};
use crashproof_sim::scenarios::{self, feldera, rooch_resume, rooch_tail};
use crashproof_sim::zoo::hunt::{Exploration, hunt};

fn every_exploration() -> impl Iterator<Item = Exploration> {
    Exploration::TABLE.into_iter().chain([Exploration::Random])
}

#[test]
fn every_scenario_passes_every_exploration() {
    for s in scenarios::catalogue() {
        assert_eq!(s.workload.name(), s.name);
        for exploration in every_exploration() {
            let h = hunt(
                s.workload.as_ref(),
                exploration,
                &ExploreOptions::default(),
                false,
            )
            .unwrap();
            assert!(h.cases > 0, "{} {exploration}: nothing explored", s.name);
            assert_eq!(
                h.violations,
                0,
                "{} failed {exploration}: {:?}",
                s.name,
                h.first.map(|d| d.violation.summary())
            );
        }
    }
}

/// The oracle that first catches `mutant` in the explorations it needs.
fn caught_by(mutant: &dyn Workload, needs: crashproof_sim::zoo::Needs) -> Option<Oracle> {
    every_exploration()
        .filter(|e| e.serves(needs))
        .find_map(|e| {
            hunt(mutant, e, &ExploreOptions::default(), true)
                .unwrap()
                .first
                .map(|d| d.oracle())
        })
}

#[test]
fn every_review_bug_is_caught() {
    let caught: Vec<(&str, Option<Oracle>)> = scenarios::catalogue()
        .iter()
        .map(|s| (s.name, caught_by(s.mutant.as_ref(), s.mutant_needs)))
        .collect();
    assert_eq!(
        caught,
        vec![
            // The daemon is told the batch is synced; a crash takes it away.
            ("tzel-sync", Some(Oracle::State)),
            // The stale backup is restored behind acknowledged progress.
            ("rooch-snapshot-resume", Some(Oracle::State)),
            // The resumed replay starts from the recorded (wrong) order.
            ("rooch-tail-replay", Some(Oracle::Result)),
            // `expect()` on a listed checkpoint's unreadable batches.
            ("feldera-checkpointer", Some(Oracle::Panic)),
            // The leftover O_EXCL file blocks the run forever.
            ("ccf-snapshot-writer", Some(Oracle::Result)),
        ]
    );
}

#[test]
fn the_tail_replay_never_holds_the_whole_tail_in_memory() {
    let chunk = rooch_tail::CHUNK;
    let peak = rooch_tail::peak_resident_orders(chunk).unwrap();
    assert!(peak >= 1 && peak <= chunk, "peak {peak}");
    assert!(rooch_tail::check_bounded_memory(peak, chunk).is_ok());
    // The review's other finding: loading the whole tail at once. The same
    // check flags it.
    let tail = rooch_tail::SOURCE_ORDERS - rooch_tail::EXISTING_LAST_ORDER - 1;
    let whole = rooch_tail::peak_resident_orders(tail).unwrap();
    assert_eq!(whole, tail);
    assert!(rooch_tail::check_bounded_memory(whole, chunk).is_err());
}

fn run(workload: &dyn Workload, fs: &SimFs) -> (String, Option<u64>) {
    let done = workload.run(fs, &mut Progress::new()).unwrap();
    (done.output, done.resumed_from)
}

#[test]
fn rooch_resume_modes_resume_restart_or_ignore() {
    let fs = SimFs::default();
    let (output, resumed) = run(&rooch_resume::RoochSnapshot::new("/snapshot"), &fs);
    assert_eq!(resumed, None);
    let nodes = rooch_resume::NODES;
    assert!(output.starts_with(&format!("nodes={nodes} ")), "{output}");
    // Resume: straight to the end.
    assert_eq!(
        run(&rooch_resume::RoochSnapshot::new("/snapshot"), &fs),
        (output.clone(), Some(nodes))
    );
    // --no-resume: starts fresh, old progress left to retention.
    let no_resume = rooch_resume::RoochSnapshot::with_mode("/snapshot", ResumeMode::NoResume);
    assert_eq!(run(&no_resume, &fs), (output.clone(), None));
    // --force-restart: discards and starts fresh.
    let force = rooch_resume::RoochSnapshot::with_mode("/snapshot", ResumeMode::ForceRestart);
    assert_eq!(run(&force, &fs), (output, None));
}

#[test]
fn feldera_refuses_a_list_written_by_another_pipeline() {
    use crashproof_core::envelope;
    use crashproof_core::fs::Fs;

    let fs = SimFs::default();
    let workload = feldera::FelderaCheckpointer::new("/feldera");
    run(&workload, &fs);
    assert_eq!(
        workload.inspect(&fs).unwrap().checkpoint.map(|c| c.cursor),
        Some(feldera::RECORDS)
    );
    let path = std::path::Path::new("/feldera/checkpoints.json");
    let mut list: feldera::CheckpointList = envelope::decode(&fs.read(path).unwrap()).unwrap();
    let newest = list.entries.last_mut().unwrap();
    newest.fingerprint ^= 1;
    crashproof_core::replace(&fs, path, &envelope::encode(&list).unwrap()).unwrap();
    let refused = workload.inspect(&fs).unwrap_err().to_string();
    assert!(refused.contains("another pipeline"), "{refused}");
    assert!(workload.run(&fs, &mut Progress::new()).is_err());
}

#[test]
fn scenarios_inspect_an_empty_disk_as_a_fresh_start() {
    let fs = SimFs::default();
    for s in scenarios::catalogue() {
        for w in [&s.workload, &s.mutant] {
            assert_eq!(
                w.inspect(&fs).unwrap(),
                Recovered { checkpoint: None },
                "{}",
                w.name()
            );
        }
    }
}
