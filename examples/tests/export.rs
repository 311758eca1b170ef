//! The export (a program without progress hooks, on the `Fs` trait) under
//! every crash model, and its planted bug caught with a readable report.

use crashproof_core::fs::Fs;
use crashproof_examples::export::{self, Export, ExportError, Start};
use crashproof_examples::planted;
use crashproof_sim::check::CrashTest;
use crashproof_sim::explore::{Found, ProgramWorkload};

type Run = fn(&dyn Fs, &Export, &mut dyn FnMut(u64)) -> Result<String, ExportError>;

/// The export as a workload: `run` it, reporting each durable record count;
/// its start-up says what it found; a finished export leaves only its output.
fn workload(run: Run) -> ProgramWorkload {
    let (for_run, for_start, for_leftovers) =
        (Export::default(), Export::default(), Export::default());
    ProgramWorkload::new("export", move |fs, report| {
        run(fs, &for_run, &mut |n| report.committed(n))
    })
    .recover(move |fs| {
        Ok::<_, ExportError>(match export::start(fs, &for_start)? {
            Start::Fresh => Found::Nothing,
            Start::Resume(saved) => Found::Progress(saved.next),
            Start::Done(output) => Found::Done(output),
        })
    })
    .leftovers(move |fs| export::leftovers(fs, &for_leftovers))
}

#[test]
fn export_survives_every_crash() {
    CrashTest::new(&workload(export::run)).run();
}

/// The same test on the export that renames its temp file without an
/// fsync first: a crash leaves an empty progress file it cannot read.
#[test]
fn a_rename_before_fsync_is_caught() {
    let Err(failure) = CrashTest::new(&workload(planted::export_without_fsync)).check() else {
        panic!("the planted bug was not caught");
    };
    let report = failure.to_string();
    println!("{report}"); // shown with --nocapture
    for part in [
        "VIOLATION (state oracle) in workload `export`",
        "recovery fails on this post-crash state: /export/progress.json is damaged",
        "==> CRASH before step",
        "CRASHPROOF_REPLAY='",
        "-- --exact a_rename_before_fsync_is_caught --nocapture",
    ] {
        assert!(report.contains(part), "missing `{part}` in\n{report}");
    }
}
