//! A program without progress hooks under the explorer: the checks that
//! apply to it run on every post-crash state, each is shown catching the
//! bug it is for, and recovery may find the job already done.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::counter;

use counter::Bug;
use crashproof_sim::CrashModel;
use crashproof_sim::explore::{ExploreOptions, Explorer, Oracle, Plan, Report, Workload};

fn explore(workload: &dyn Workload) -> Report {
    Explorer::new(workload, ExploreOptions::default())
        .explore(&Plan::default())
        .unwrap()
}

/// The first violation's oracle and message, after checking there is one.
fn first_finding(report: &Report) -> (Oracle, String) {
    assert!(!report.is_clean(), "expected a violation:\n{report}");
    let g = &report.groups[0];
    (g.oracle, g.message.clone())
}

#[test]
fn the_correct_program_passes_every_model_with_every_check() {
    let report = explore(&counter::checked(Bug::None));
    assert!(report.is_clean(), "{report}");
    assert!(report.states_checked() > 50, "{report}");
    assert_eq!(report.models(), CrashModel::ALL.to_vec());
    let text = report.to_string();
    for check in [
        "state oracle checks: recovery does not panic; recovery never fails; never resumes before \
         the last acknowledged checkpoint or value; the progress file parses and holds the \
         committed value",
        "result oracle checks: the run resumed from every post-crash state completes with the \
         clean run's output; no leftovers",
    ] {
        assert!(text.contains(check), "missing `{check}` in\n{text}");
    }
    assert!(
        !text.contains("items redone"),
        "no redo bound without items: {text}"
    );
}

#[test]
fn a_program_that_reports_nothing_is_still_checked_on_every_state() {
    let report = explore(&counter::hookless(Bug::None));
    assert!(report.is_clean(), "{report}");
    let checked = explore(&counter::checked(Bug::None));
    assert_eq!(
        report.states_checked(),
        checked.states_checked(),
        "the same states, fewer checks on each"
    );
    let text = report.to_string();
    assert!(
        text.contains("state oracle checks: recovery does not panic\n"),
        "{text}"
    );
    assert!(
        text.contains(
            "result oracle checks: the run resumed from every post-crash state completes with \
             the clean run's output\n"
        ),
        "{text}"
    );
}

#[test]
fn an_unsynced_rename_is_caught_with_and_without_hooks() {
    let (oracle, message) = first_finding(&explore(&counter::checked(Bug::NoFsyncBeforeRename)));
    assert_eq!(oracle, Oracle::State);
    assert!(
        message.starts_with("recovery fails on this post-crash state: "),
        "{message}"
    );
    // Without a recovery function, the run resumed from the state fails.
    let (oracle, message) = first_finding(&explore(&counter::hookless(Bug::NoFsyncBeforeRename)));
    assert_eq!(oracle, Oracle::Result);
    assert!(message.starts_with("did not complete: "), "{message}");
}

#[test]
fn a_commit_reported_before_it_is_durable_is_caught() {
    let (oracle, message) = first_finding(&explore(&counter::checked(Bug::CommitsBeforeDurable)));
    assert_eq!(oracle, Oracle::State);
    assert!(
        message.starts_with("acknowledged progress lost: recovery would "),
        "{message}"
    );
    // The predicate alone (no recovery function) sees it too.
    let predicate_only = counter::ProgramWorkloadParts::predicate_only(Bug::CommitsBeforeDurable);
    let (oracle, message) = first_finding(&explore(&predicate_only));
    assert_eq!(oracle, Oracle::State);
    assert!(message.starts_with("state predicate failed: "), "{message}");
}

/// Item 6: a program that removes its progress after publishing its result
/// is not a false positive at its last crash points, as long as its
/// recovery says "done"; a recovery that does not is rightly told it lost
/// acknowledged progress.
#[test]
fn recovery_may_find_the_job_done_with_the_clean_output() {
    let report = explore(&counter::checked(Bug::None));
    assert!(report.is_clean(), "{report}");
    let unaware = counter::ProgramWorkloadParts::recovery_ignoring_result(Bug::None);
    let (oracle, message) = first_finding(&explore(&unaware));
    assert_eq!(oracle, Oracle::State);
    assert!(
        message.starts_with("acknowledged progress lost: recovery would start over but cursor 6"),
        "{message}"
    );
}

#[test]
fn a_done_claim_without_the_clean_output_is_a_state_violation() {
    let (oracle, message) = first_finding(&explore(&counter::checked(Bug::ResultInPlace)));
    assert_eq!(oracle, Oracle::State);
    assert!(
        message.starts_with("recovery would find the job completed with output \"\""),
        "{message}"
    );
    assert!(
        message.contains("the clean run's output is \"sum="),
        "{message}"
    );
}

/// A program whose recovery quotes what it read from a torn write: the
/// garbage bytes reach the report escaped (`\xNN`, or `\u{fffd}` for a
/// byte a lossy decoding replaced), never raw, in every line (group
/// messages, the violation's `what:` line, its trace).
#[test]
fn garbage_bytes_of_torn_writes_are_escaped_in_every_report_line() {
    use crashproof_core::fs::{Fs, OpenMode};
    use crashproof_sim::explore::{Found, ProgramWorkload};
    use std::path::Path;

    let file = Path::new("/progress");
    let workload = ProgramWorkload::new("torn-progress", move |fs: &dyn Fs, _| {
        if !fs.exists(file)? {
            let f = fs.create_new(file)?;
            fs.write_all_at(&f, 0, b"count=00000001")?;
            fs.sync(&f)?;
            fs.close(f)?;
            fs.sync_dir(Path::new("/"))?;
        }
        // Overwritten in place: a crash before the sync may tear it.
        let f = fs.open(file, OpenMode::Existing)?;
        fs.write_all_at(&f, 0, b"count=99999999")?;
        fs.sync(&f)?;
        fs.close(f)?;
        Ok::<_, std::io::Error>("done".to_string())
    })
    .recover(move |fs| {
        let bytes = fs.read(file).unwrap_or_default();
        let text = String::from_utf8_lossy(&bytes);
        match text.strip_prefix("count=").map(str::parse::<u64>) {
            Some(Ok(n)) => Ok(Found::Progress(n)),
            // The bug under test: the message quotes the bytes as they are.
            _ if bytes.is_empty() => Ok(Found::Nothing),
            _ => Err(format!("unreadable progress `{text}`")),
        }
    });
    let options = ExploreOptions {
        sector_size_bytes: 4,
        ..ExploreOptions::default()
    };
    let report = Explorer::new(&workload, options)
        .explore_exhaustive(CrashModel::Subset)
        .unwrap();
    assert!(report.caught_under(CrashModel::Subset), "{report}");
    let text = report.to_string();
    let raw: Vec<char> = text
        .chars()
        .filter(|c| (c.is_control() && *c != '\n') || *c == char::REPLACEMENT_CHARACTER)
        .collect();
    assert!(raw.is_empty(), "raw bytes {raw:?} in\n{text}");
    assert!(
        text.contains("unreadable progress `")
            && text.contains("\\x00")
            && text.contains("\\u{fffd}"),
        "no escaped garbage in\n{text}"
    );
    for group in &report.groups {
        assert!(
            !group.message.chars().any(char::is_control),
            "{}",
            group.message
        );
    }
}
