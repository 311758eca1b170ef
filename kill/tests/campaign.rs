//! A campaign against small shell programs: what it checks after every case
//! (the runs' isolation, state in the case directory) and how an interrupt
//! ends it. The refusals decided by the clean runs are tested through the
//! command, in `cli/tests/kill.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::sync::atomic::Ordering;

use crashproof_kill::{
    CampaignError, CampaignOptions, Check, Plan, Program, StdoutEquals, Verdict, run_campaign,
};

/// `sh -c <script> job {dir}`: the case directory is `$1`.
fn sh(script: &str) -> Program {
    Program::new(vec![
        "sh".into(),
        "-c".into(),
        script.into(),
        "job".into(),
        "{dir}".into(),
    ])
    .unwrap()
}

/// A script that counts its runs in `counter` (outside the case
/// directories: test bookkeeping, not the program's state) and, from run
/// `from` on, runs `late` instead of `early`.
fn from_run(counter: &Path, from: u32, early: &str, late: &str) -> String {
    format!(
        r#"echo run >> {c}; if [ "$(wc -l < {c})" -ge {from} ]; then {late}; else {early}; fi"#,
        c = counter.display()
    )
}

/// Options replaying `plans` under `root`.
fn replaying(root: &Path, plans: &[&str]) -> CampaignOptions {
    CampaignOptions {
        plans: plans.iter().map(|p| p.parse::<Plan>().unwrap()).collect(),
        root: root.to_path_buf(),
        ..CampaignOptions::default()
    }
}

const WRITES_STATE: &str = r#"echo s > "$1/state"; echo ok"#;

#[test]
fn a_case_that_writes_into_a_clean_runs_directory_is_refused() {
    let root = tempfile::tempdir().unwrap();
    let counter = root.path().join("counter");
    let work = root.path().join("work");
    std::fs::create_dir(&work).unwrap();
    // The first case's run (run 3) also writes into clean-1.
    let program = sh(&from_run(
        &counter,
        3,
        WRITES_STATE,
        r#"echo s > "$1/state"; echo x >> "$1/../clean-1/state"; echo ok"#,
    ));
    let checks: [&dyn Check; 1] = [&StdoutEquals];
    let e = run_campaign(
        &program,
        &checks,
        &replaying(&work, &["progress:1"]),
        &mut |_| {},
    )
    .unwrap_err();
    assert!(matches!(e, CampaignError::NotIsolated { .. }), "{e}");
    let e = e.to_string();
    assert!(
        e.contains("during replayed case 1, `state` was written in"),
        "{e}"
    );
    assert!(
        std::fs::read_dir(&work).unwrap().next().is_none(),
        "a refused campaign leaves nothing"
    );
}

#[test]
fn a_case_whose_last_run_leaves_no_state_fails() {
    let root = tempfile::tempdir().unwrap();
    let counter = root.path().join("counter");
    let work = root.path().join("work");
    std::fs::create_dir(&work).unwrap();
    // From the first case on, the program keeps its state elsewhere.
    let program = sh(&from_run(&counter, 3, WRITES_STATE, "echo ok"));
    let checks: [&dyn Check; 1] = [&StdoutEquals];
    let summary = run_campaign(
        &program,
        &checks,
        &replaying(&work, &["progress:1"]),
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(summary.verdict(), Verdict::Violation);
    let reason = &summary.failures[0].reason;
    assert!(
        reason.contains("exited 0 but left no file in its directory"),
        "{reason}"
    );
    // The failing case's directory is kept, the clean runs' are not.
    let campaign = std::fs::read_dir(&work).unwrap().next().unwrap().unwrap();
    let kept: Vec<String> = std::fs::read_dir(campaign.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert!(kept[0].starts_with("case-"), "{kept:?}");
}

#[test]
fn an_interrupt_between_cases_ends_the_campaign_with_the_cases_so_far() {
    let root = tempfile::tempdir().unwrap();
    let checks: [&dyn Check; 1] = [&StdoutEquals];
    let options = replaying(root.path(), &["progress:1", "progress:1", "progress:1"]);
    let interrupt = options.interrupt.clone();
    // The caller's handler would set the flag on a signal; here the first
    // case's callback does.
    let summary = run_campaign(&sh(WRITES_STATE), &checks, &options, &mut |_| {
        interrupt.store(true, Ordering::SeqCst)
    })
    .unwrap();
    assert!(summary.interrupted);
    assert_eq!(summary.verdict(), Verdict::Interrupted);
    assert_eq!(summary.cases, 1, "the cases finished before the interrupt");
    let text = summary.render(&|plan| plan.to_string());
    assert!(text.contains("result: INTERRUPTED"), "{text}");
    assert_eq!(summary.to_json()["verdict"], "interrupted");
    assert!(
        std::fs::read_dir(root.path()).unwrap().next().is_none(),
        "the campaign's directory is removed"
    );
}
