//! The same code in production: on the real filesystem (`StdFs`).

#![allow(clippy::unwrap_used)]

use crashproof_core::fs::StdFs;
use crashproof_core::{Outcome, Runner, RunnerConfig};
use crashproof_examples::export::{self, Export, Start};
use crashproof_examples::word_count::{self, Counts, WordCount};

#[test]
fn word_count_runs_on_the_real_disk() {
    let dir = tempfile::tempdir().unwrap();
    let mut job = WordCount::new();
    let outcome = Runner::open(&StdFs::new(), dir.path(), &mut job, RunnerConfig::every(3))
        .unwrap()
        .run()
        .unwrap();
    let mut counts = Counts::new();
    for index in 0..word_count::CORPUS.len() as u64 {
        word_count::count_line(index, &mut counts).unwrap();
    }
    assert!(
        matches!(outcome, Outcome::Completed { output, .. } if output == word_count::summary(&counts))
    );
}

#[test]
fn export_runs_on_the_real_disk_and_a_rerun_finds_it_done() {
    let dir = tempfile::tempdir().unwrap();
    let export = Export {
        dir: dir.path().join("export"),
        ..Export::default()
    };
    let mut committed = Vec::new();
    let output = export::run(&StdFs::new(), &export, &mut |n| committed.push(n)).unwrap();
    assert_eq!(committed, [4, 8, 12, 16, 20]);
    assert_eq!(
        export::start(&StdFs::new(), &export).unwrap(),
        Start::Done(output.clone())
    );
    assert_eq!(
        export::run(&StdFs::new(), &export, &mut |_| {}).unwrap(),
        output
    );
    assert_eq!(
        export::leftovers(&StdFs::new(), &export).unwrap(),
        Vec::<String>::new()
    );
}
