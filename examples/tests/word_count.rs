//! The word count (a core `Job`) under every crash model, and its planted
//! bug caught with a readable report.

use crashproof_core::RunnerConfig;
use crashproof_examples::planted::LeakyWordCount;
use crashproof_examples::word_count::WordCount;
use crashproof_sim::{CrashTest, JobWorkload};

#[test]
fn word_count_survives_every_crash() {
    let workload = JobWorkload::new(WordCount::new, RunnerConfig::every(3));
    CrashTest::new(&workload).run();
}

/// The same test on the job with a line counter outside its checkpointed
/// state: a resumed run reports the wrong words per line.
#[test]
fn a_counter_outside_the_checkpoint_is_caught() {
    let workload = JobWorkload::new(LeakyWordCount::new, RunnerConfig::every(3));
    let Err(failure) = CrashTest::new(&workload).check() else {
        panic!("the planted bug was not caught");
    };
    let report = failure.to_string();
    println!("{report}"); // shown with --nocapture
    for part in [
        "VIOLATION (result oracle) in workload `leaky-word-count`",
        "output differs from the clean run",
        "==> CRASH before step",
        "CRASHPROOF_REPLAY='",
        "-- --exact a_counter_outside_the_checkpoint_is_caught --nocapture",
    ] {
        assert!(report.contains(part), "missing `{part}` in\n{report}");
    }
}
