//! The core's failpoints in CI: the core-runner job (the explorer's
//! `core-runner` job as a real program, `crashproof-real-job`, built by
//! `cargo test` as a binary of this package) is killed with SIGKILL at
//! every failpoint hit of a clean run and at seeded random item counts,
//! restarted until it exits 0, and checked: its output equals the clean
//! run's, no run loaded a checkpoint older than the last acknowledged one
//! (the job's journal), and `job/` holds no temp file, stray file or extra
//! generation (`crashproof_core::store::leftovers`). The same harness, with
//! the same checks, catches each deliberately broken variant of the job.
//!
//! This is the one test that uses the `fail` crate's process-global
//! registry, and it does so only inside the job processes it spawns (one
//! registry per run, configured from `FAILPOINTS`); the test process never
//! touches it, so the tests here run in parallel safely.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use crashproof_catalog::core_runner::{CoreRunnerConfig, CoreRunnerWorkload};
use crashproof_core::failpoint::CATALOGUE;
use crashproof_core::fs::{FsOp, StdFs};
use crashproof_kill::core_runner_job::{ITEM_FAILPOINT, Variant, VerifyCheck};
use crashproof_kill::{
    CampaignOptions, Check, Program, StdoutEquals, Summary, Verdict, run_campaign,
};
use crashproof_sim::explore::{Progress, Workload};
use crashproof_tests::fs_wrappers::RecordingFs;

/// Small enough for CI (each run is a few commits), big enough that every
/// failpoint is hit more than once: N = 200 items, K = 40 (5 commits).
const ITEMS: u64 = 200;
const CHECKPOINT_EVERY: u64 = 40;
const KEEP: usize = 2;

/// Case directories live on tmpfs when there is one: a process kill keeps
/// the page cache, so fsync's cost buys nothing here and only slows CI.
fn root() -> PathBuf {
    let shm = PathBuf::from("/dev/shm");
    if shm.is_dir() && tempfile::tempdir_in(&shm).is_ok() {
        shm
    } else {
        std::env::temp_dir()
    }
}

fn job(variant: Variant) -> Program {
    let argv = [
        env!("CARGO_BIN_EXE_crashproof-real-job"),
        "--dir",
        "{dir}",
        "--items",
        &ITEMS.to_string(),
        "--checkpoint-every",
        &CHECKPOINT_EVERY.to_string(),
        "--keep",
        &KEEP.to_string(),
        "--items-log",
        "--variant",
        match variant {
            Variant::Correct => "correct",
            Variant::AppendOutput => "append-output",
            Variant::RestartFromScratch => "restart-from-scratch",
            Variant::OrphanScratch => "orphan-scratch",
        },
    ];
    Program::new(argv.iter().map(|a| a.to_string()).collect()).unwrap()
}

/// Every catalogued failpoint, every hit, plus seeded random cases (kills
/// at random progress lines, i.e. item counts, and random times).
fn options(failures_max: usize) -> CampaignOptions {
    CampaignOptions {
        seed: 11,
        cases: 8,
        kills_per_case_max: 3,
        failpoints: CATALOGUE.iter().map(|d| d.name.to_string()).collect(),
        // Random cases kill at exact item counts through the job's own
        // per-item failpoint (besides random progress lines and times).
        counted_failpoints: vec![ITEM_FAILPOINT.to_string()],
        root: root(),
        failures_max,
        ..CampaignOptions::default()
    }
}

fn campaign(variant: Variant, failures_max: usize) -> (Summary, VerifyCheck) {
    let verify = VerifyCheck::new(KEEP);
    let checks: [&dyn Check; 2] = [&StdoutEquals, &verify];
    let summary = run_campaign(&job(variant), &checks, &options(failures_max), &mut |_| {})
        .unwrap_or_else(|e| panic!("{variant:?}: harness error: {e}"));
    (summary, verify)
}

/// The failpoint hits of a clean run of the explorer's own `core-runner`
/// workload with the same N and K, counted through a recording `Fs` on the
/// real filesystem: what the real job's enumeration must find.
fn core_runner_failpoint_hits() -> (BTreeMap<String, u64>, String) {
    let tmp = tempfile::tempdir().unwrap();
    let workload = CoreRunnerWorkload::new(CoreRunnerConfig {
        items: ITEMS,
        checkpoint_every: CHECKPOINT_EVERY,
        keep: KEEP,
        dir: tmp.path().join("job"),
        ..CoreRunnerConfig::default()
    });
    let fs = RecordingFs::new(StdFs::new());
    let completion = workload.run(&fs, &mut Progress::new()).unwrap();
    let mut hits = BTreeMap::new();
    for op in fs.ops().iter().filter(|op| op.op == FsOp::Failpoint) {
        *hits
            .entry(op.path.to_string_lossy().into_owned())
            .or_insert(0) += 1;
    }
    (hits, completion.output)
}

#[test]
fn the_real_job_is_the_explorer_core_runner_job() {
    let (_, expected) = core_runner_failpoint_hits();
    let tmp = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_crashproof-real-job"))
        .args(["--items", &ITEMS.to_string()])
        .args(["--checkpoint-every", &CHECKPOINT_EVERY.to_string()])
        .arg("--dir")
        .arg(tmp.path())
        .env_remove("FAILPOINTS")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8(out.stdout).unwrap().trim_end(), expected);
}

#[test]
fn the_job_survives_a_kill_at_every_failpoint_hit_and_at_random_items() {
    let (expected_hits, _) = core_runner_failpoint_hits();
    assert_eq!(
        expected_hits.keys().collect::<Vec<_>>().len(),
        CATALOGUE.len(),
        "a clean run passes every catalogued failpoint: {expected_hits:?}"
    );
    let (summary, verify) = campaign(Variant::Correct, 0);
    let report = summary.render(&|plan| format!("--plan '{plan}'"));
    assert_eq!(summary.verdict(), Verdict::Clean, "{report}");
    assert_eq!(
        summary.failpoint_hits, expected_hits,
        "the enumeration killed every hit the explorer's job passes\n{report}"
    );
    assert_eq!(
        summary.failpoint_hits_counted.get(ITEM_FAILPOINT),
        Some(&ITEMS),
        "the job passes its item failpoint once per item\n{report}"
    );
    assert!(
        summary.kills_random > 0,
        "random cases killed at random items\n{report}"
    );
    assert!(
        verify.loads_after_ack() > 0,
        "runs resumed after an acknowledged commit, so the journal check could fail\n{report}"
    );
}

/// Each broken variant and the check that must catch it: the same harness,
/// checks and kill points as the correct job's test above.
const BROKEN: &[(Variant, &str)] = &[
    (Variant::AppendOutput, "stdout differs from the clean run's"),
    (
        Variant::RestartFromScratch,
        "older than the acknowledged cursor",
    ),
    (Variant::OrphanScratch, "left behind in job/"),
];

#[test]
fn the_same_harness_catches_every_broken_variant() {
    for &(variant, caught_by) in BROKEN {
        let (summary, _) = campaign(variant, 1);
        let report = summary.render(&|plan| format!("--plan '{plan}'"));
        assert_eq!(
            summary.verdict(),
            Verdict::Violation,
            "{variant:?}\n{report}"
        );
        let failure = &summary.failures[0];
        assert!(
            failure.reason.contains(caught_by),
            "{variant:?} must be caught by `{caught_by}`\n{report}"
        );
        assert!(failure.kills > 0, "caught after a kill\n{report}");
        std::fs::remove_dir_all(failure.dir.parent().unwrap()).unwrap();
    }
}

/// Runs the real job once with `FAILPOINTS` set to `spec`.
fn run_with_failpoints(spec: &str) -> std::process::Output {
    let tmp = tempfile::tempdir().unwrap();
    std::process::Command::new(env!("CARGO_BIN_EXE_crashproof-real-job"))
        .args(["--items", &ITEMS.to_string()])
        .args(["--checkpoint-every", &CHECKPOINT_EVERY.to_string()])
        .arg("--dir")
        .arg(tmp.path())
        .env("FAILPOINTS", spec)
        .output()
        .unwrap()
}

/// A failpoint set to `return(<anything but sigkill>)` is an I/O error the
/// job reports and exits on; only `return(sigkill)` kills the process (as
/// `kill -9`: by signal, no exit code).
#[test]
fn a_failpoint_returns_an_error_unless_told_to_kill() {
    use std::os::unix::process::ExitStatusExt;
    let name = crashproof_core::failpoint::STORE_AFTER_WRITE_BEFORE_GC;
    let failed = run_with_failpoints(&format!("{name}=return(boom)"));
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert!(
        failed.status.code().is_some_and(|code| code != 0),
        "an error return exits with a non-zero code, not a signal: {failed:?}"
    );
    assert!(
        stderr.contains(&format!("failpoint {name} returned an error (boom)")),
        "the error names the failpoint and its argument: {stderr}"
    );
    let killed = run_with_failpoints(&format!(
        "{name}=return({})",
        crashproof_core::failpoint::KILL_ACTION_ARG
    ));
    assert_eq!(killed.status.signal(), Some(9), "{killed:?}");
}
