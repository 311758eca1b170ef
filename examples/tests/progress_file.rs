//! The progress-file job, written with `std::fs` and made testable by its
//! `use` lines alone, under every crash model through the `std::fs`
//! facade; its planted bug caught with a readable report; and the two
//! versions shown to differ only in `use` lines.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crashproof_examples::planted;
use crashproof_examples::progress_file::{self, Config, Start};
use crashproof_sim::check::CrashTest;
use crashproof_sim::explore::{Found, ProgramWorkload};

type Run = fn(&Config, &mut dyn FnMut(u64)) -> std::io::Result<String>;

/// The job as a workload: its own code runs on the simulated disk through
/// the facade; start-up says what it found; a finished job leaves only
/// its result.
fn workload(run: Run) -> ProgramWorkload {
    ProgramWorkload::std_fs("progress-file", move |report| {
        run(&Config::default(), &mut |n| report.committed(n))
    })
    .recover(|_fs| {
        Ok::<_, std::io::Error>(match progress_file::start(&Config::default())? {
            Start::Fresh => Found::Nothing,
            Start::Resume(progress) => Found::Progress(progress.next),
            Start::Done(result) => Found::Done(result),
        })
    })
    .leftovers(|_fs| progress_file::leftovers(&Config::default()))
}

#[test]
fn progress_file_survives_every_crash() {
    CrashTest::new(&workload(progress_file::run)).run();
}

/// The same test on the job that renames without fsyncing the directory:
/// progress it reported committed is lost by a crash.
#[test]
fn a_rename_without_a_directory_fsync_is_caught() {
    let workload = workload(planted::progress_file_without_dir_sync);
    let Err(failure) = CrashTest::new(&workload).check() else {
        panic!("the planted bug was not caught");
    };
    let report = failure.to_string();
    println!("{report}"); // shown with --nocapture
    for part in [
        "VIOLATION (state oracle) in workload `progress-file`",
        "acknowledged progress lost",
        "==> CRASH before step",
        "rename",
        "CRASHPROOF_REPLAY='",
        "-- --exact a_rename_without_a_directory_fsync_is_caught --nocapture",
    ] {
        assert!(report.contains(part), "missing `{part}` in\n{report}");
    }
}

/// The testable version is the `std::fs` version with other `use` lines:
/// every other line is the same.
#[test]
fn the_testable_version_differs_from_the_std_version_in_use_lines_only() {
    let std_version = include_str!("../src/progress_file_std.rs");
    let testable = include_str!("../src/progress_file.rs");
    let non_use = |text: &'static str| -> Vec<&'static str> {
        text.lines().filter(|l| !l.starts_with("use ")).collect()
    };
    assert_eq!(non_use(std_version), non_use(testable));
    let differing: Vec<(&str, &str)> = std_version
        .lines()
        .zip(testable.lines())
        .filter(|(a, b)| a != b)
        .collect();
    assert_eq!(
        differing,
        vec![(
            "use std::fs::{self, File, OpenOptions};",
            "use crashproof_core::stdfs::{self as fs, File, OpenOptions};"
        )],
        "exactly the one import line differs"
    );
}

/// On the real disk both versions do the same: the facade outside any
/// scope is `std::fs`.
#[test]
fn both_versions_give_the_same_result_on_the_real_disk() {
    use crashproof_examples::progress_file_std;
    let tmp = tempfile::TempDir::new().unwrap();
    let config = |sub: &str| Config {
        dir: tmp.path().join(sub),
        ..Config::default()
    };
    let std_config = progress_file_std::Config {
        dir: tmp.path().join("std"),
        ..progress_file_std::Config::default()
    };
    let (mut std_commits, mut facade_commits) = (Vec::new(), Vec::new());
    let plain = progress_file_std::run(&std_config, &mut |n| std_commits.push(n)).unwrap();
    let facade = progress_file::run(&config("facade"), &mut |n| facade_commits.push(n)).unwrap();
    assert_eq!(plain, facade);
    assert_eq!(std_commits, facade_commits);
    // A commit after every `every` items, and one at the end of the items.
    let (items, every) = (std_config.items, std_config.every);
    let mut expected: Vec<u64> = (1..=items / every).map(|i| i * every).collect();
    if items % every != 0 {
        expected.push(items);
    }
    assert!(!expected.is_empty());
    assert_eq!(std_commits, expected);
    assert_eq!(
        progress_file::leftovers(&config("facade")).unwrap(),
        Vec::<String>::new()
    );
}
