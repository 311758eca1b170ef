//! Programs in other languages (`examples/programs/`), each with a correct
//! and a buggy version, explored through the mount: a C program with an
//! append-only log (buggy: no fsync of the directory after creating the
//! log), a shell script that publishes with `mv` (buggy: no `sync`), and a
//! SQLite job in rollback-journal mode (clean with `synchronous=FULL`,
//! caught with `OFF`). Each correct one is clean, each buggy one caught with
//! the expected oracle and message, and the schedule its report prints
//! replays to the same violation.
//!
//! The default tier explores a subset of the crash models (seconds); the
//! heavy tier (`--ignored`, run by `.ci/run`) explores every program under
//! every model. They need root and /dev/fuse (and `cc`, `sh`, Python 3 with
//! its `sqlite3` module), and fail with a message saying so where those are
//! missing.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;
use std::process::Command;

use crashproof_fuse::{CommandWorkload, preflight};
use crashproof_sim::CrashModel;
use crashproof_sim::explore::{
    ExploreOptions, Explorer, HarnessError, Mode, Oracle, Plan, Report, Violation,
};

use common::{assert_no_mounts_under, example_program, pool, python3};

/// A program and its check, as `explore-cmd` takes them.
struct Program {
    argv: Vec<String>,
    check: String,
}

impl Program {
    fn workload(&self) -> CommandWorkload {
        CommandWorkload::new(self.argv.clone(), pool())
            .unwrap()
            .with_check(self.check.clone())
    }
}

/// Compiles `examples/programs/<source>` with `cc` into `out`.
fn compile_c(source: &str, out: &Path) -> String {
    let binary = out.join(source.trim_end_matches(".c"));
    let compiled = Command::new("cc")
        .args(["-O1", "-Wall", "-Werror", "-o"])
        .arg(&binary)
        .arg(example_program(source))
        .output()
        .unwrap_or_else(|e| {
            panic!("this test needs a C compiler (`cc`) and could not run one: {e}")
        });
    assert!(
        compiled.status.success(),
        "cc {source}: {}",
        String::from_utf8_lossy(&compiled.stderr)
    );
    binary.display().to_string()
}

fn c_log(source: &str, bin: &Path, items: u32) -> Program {
    let correct = compile_c("append_log.c", bin);
    let program = compile_c(source, bin);
    Program {
        argv: vec![program, "{dir}".into(), "--items".into(), items.to_string()],
        check: format!("{correct} --check {{dir}}"),
    }
}

fn shell(script: &str, items: u32) -> Program {
    Program {
        argv: vec![
            "sh".into(),
            example_program(script),
            "{dir}".into(),
            items.to_string(),
        ],
        check: format!("sh {} --check {{dir}}", example_program("publish.sh")),
    }
}

fn sqlite(script: &str, items: u32, extra: &[&str]) -> Program {
    let mut argv = vec![
        python3(),
        example_program(script),
        "{dir}".into(),
        "--items".into(),
        items.to_string(),
    ];
    argv.extend(extra.iter().map(ToString::to_string));
    Program {
        argv,
        check: format!(
            "{} {} --check {{dir}}",
            python3(),
            example_program("sqlite_job.py")
        ),
    }
}

fn explore(program: &Program, models: &[CrashModel]) -> Report {
    let w = program.workload();
    let base = w.mount_base();
    let ex = Explorer::new(
        &w,
        ExploreOptions {
            jobs: 2,
            ..ExploreOptions::default()
        },
    );
    let plan = Plan {
        models: models.to_vec(),
        modes: vec![Mode::Exhaustive],
    };
    let report = ex.explore(&plan).unwrap();
    assert!(w.harness_failure().is_none(), "{:?}", w.harness_failure());
    drop(ex);
    drop(w);
    assert_no_mounts_under(&base);
    report
}

fn assert_clean(program: &Program, models: &[CrashModel]) {
    let report = explore(program, models);
    assert!(report.is_clean(), "{report}");
    assert_eq!(report.passes.len(), models.len());
    assert!(
        report.passes.iter().all(|p| p.states_checked > 0),
        "{report}"
    );
}

/// The first violation of a report that must have one, its oracle and
/// message checked, and its schedule replayed (from its printed text) to
/// the same violation.
fn assert_caught(program: &Program, models: &[CrashModel], oracle: Oracle, message: &str) {
    let report = explore(program, models);
    let v: Violation = report
        .violations()
        .next()
        .unwrap_or_else(|| panic!("not caught:\n{report}"))
        .clone();
    assert_eq!(v.oracle, oracle, "{report}");
    assert!(v.message.contains(message), "{}", v.message);
    assert!(v.trace.contains("==> CRASH before step"), "{}", v.trace);
    let text = report.to_string();
    assert!(text.contains("replay:"), "{text}");
    let w = program.workload();
    let base = w.mount_base();
    let ex = Explorer::new(&w, ExploreOptions::default());
    let schedule = v.schedule.to_string().parse().unwrap();
    let (_, replayed) = ex.replay(&schedule).unwrap();
    let again = replayed.violation.expect("the replay fails too");
    assert_eq!((again.oracle, &again.message), (v.oracle, &v.message));
    drop(ex);
    drop(w);
    assert_no_mounts_under(&base);
}

const STRICT_AND_TORN: [CrashModel; 2] = [CrashModel::DropUnsynced, CrashModel::Subset];

#[test]
fn the_c_log_is_clean_and_without_its_directory_fsync_is_caught() {
    let bin = tempfile::tempdir().unwrap();
    assert_clean(&c_log("append_log.c", bin.path(), 3), &STRICT_AND_TORN);
    assert_caught(
        &c_log("append_log_buggy.c", bin.path(), 3),
        &[CrashModel::DropUnsynced],
        Oracle::State,
        "the log holds 0 whole records, but 1 were acknowledged",
    );
}

#[test]
fn the_shell_publisher_is_clean_and_without_sync_is_caught() {
    let models = [CrashModel::DropUnsynced, CrashModel::EagerDirs];
    assert_clean(&shell("publish.sh", 2), &models);
    assert_caught(
        &shell("publish_buggy.sh", 2),
        &[CrashModel::DropUnsynced],
        Oracle::State,
        "item 1 was acknowledged but is not published",
    );
    // The kinder model keeps the rename and loses the data: an empty
    // published file, whose path is written as {dir} (whichever mount ran).
    assert_caught(
        &shell("publish_buggy.sh", 2),
        &[CrashModel::EagerDirs],
        Oracle::State,
        "{dir}/out/item-1 does not hold its whole result",
    );
}

#[test]
fn sqlite_with_synchronous_full_is_clean_and_with_off_is_caught() {
    assert_clean(
        &sqlite("sqlite_job.py", 1, &[]),
        &[CrashModel::DropUnsynced],
    );
    assert_caught(
        &sqlite("sqlite_job_buggy.py", 1, &[]),
        &[CrashModel::DropUnsynced],
        Oracle::State,
        "0 items committed (no database), but 1 were acknowledged",
    );
}

#[test]
fn a_harness_failure_mid_exploration_is_an_error_not_a_violation() {
    // The program removes itself on its `last`-th run: from then on it
    // cannot be started, which is the harness's failure, not a finding
    // about the program. Its runs: the audit's traced clean run, two
    // preflight runs, the clean run, the twin run that streams its crash
    // points (removed there: the twin cannot start, 5), then the recoveries
    // (removed by the twin: a recovery cannot start, 4). It counts its runs
    // in a real file, beside itself: declared writable, or the sandbox
    // would deny the count (and the program would never remove itself).
    for last in [4, 5] {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("job");
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\ncount=\"$(dirname \"$0\")/runs\"\nn=$(cat \"$count\" 2>/dev/null || \
                 echo 0)\necho $((n + 1)) > \"$count\"\nif [ \"$n\" -ge {} ]; then rm -f \"$0\"; \
                 fi\nexec sh {} \"$@\"\n",
                last - 1,
                example_program("publish.sh")
            ),
        )
        .unwrap();
        std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
        let program = Program {
            argv: vec![script.display().to_string(), "{dir}".into(), "2".into()],
            check: format!("sh {} --check {{dir}}", example_program("publish.sh")),
        };
        let w = program
            .workload()
            .writable_beneath(vec![dir.path().to_path_buf()]);
        let base = w.mount_base();
        let ex = Explorer::new(
            &w,
            ExploreOptions {
                jobs: 1,
                ..ExploreOptions::default()
            },
        );
        preflight(&ex, &w).unwrap();
        let err = ex
            .explore(&Plan {
                models: vec![CrashModel::DropUnsynced],
                modes: vec![Mode::Exhaustive],
            })
            .unwrap_err();
        assert!(
            matches!(err, HarnessError::WorkloadHarness { .. }),
            "last run {last}: {err}"
        );
        let text = err.to_string();
        assert!(text.contains("nothing it found can be trusted"), "{text}");
        assert!(text.contains("cannot start"), "{text}");
        assert!(w.harness_failure().is_some());
        drop(ex);
        drop(w);
        assert_no_mounts_under(&base);
    }
}

// The heavy tier: every program under every crash model (`cargo test -p
// crashproof-fuse --test other_languages -- --ignored`; `.ci/run` runs it).
// Each buggy program is caught under exactly the models whose rules expose
// its bug, and that set is asserted.

/// Which of the four models catch `program` (in `CrashModel::ALL` order).
fn caught_under(program: &Program) -> Vec<CrashModel> {
    CrashModel::ALL
        .into_iter()
        .filter(|&model| !explore(program, &[model]).is_clean())
        .collect()
}

const ALL: [CrashModel; 4] = CrashModel::ALL;

#[test]
#[ignore = "heavy: the C log under every crash model; .ci/run runs it"]
fn heavy_the_c_log_under_every_model() {
    let bin = tempfile::tempdir().unwrap();
    assert_clean(&c_log("append_log.c", bin.path(), 4), &ALL);
    // eager-dirs makes the log's name durable at once: the missing
    // directory fsync only shows under the models that need it.
    assert_eq!(
        caught_under(&c_log("append_log_buggy.c", bin.path(), 4)),
        [
            CrashModel::DropUnsynced,
            CrashModel::Prefix,
            CrashModel::Subset
        ]
    );
}

#[test]
#[ignore = "heavy: the shell publisher under every crash model; .ci/run runs it"]
fn heavy_the_shell_publisher_under_every_model() {
    assert_clean(&shell("publish.sh", 3), &ALL);
    assert_eq!(caught_under(&shell("publish_buggy.sh", 3)), ALL);
}

#[test]
#[ignore = "heavy: SQLite under every crash model; .ci/run runs it"]
fn heavy_sqlite_under_every_model() {
    // synchronous=FULL with the truncated journal, and EXTRA with the
    // deleted one: clean.
    assert_clean(&sqlite("sqlite_job.py", 1, &[]), &ALL);
    let extra = ["--synchronous", "EXTRA", "--journal-mode", "DELETE"];
    assert_clean(&sqlite("sqlite_job.py", 1, &extra), &ALL);
    // OFF never fsyncs: caught under every model.
    assert_eq!(caught_under(&sqlite("sqlite_job_buggy.py", 1, &[])), ALL);
    // FULL with the deleted journal (SQLite's default journal mode): the
    // commit is the journal's unlink, which FULL does not make durable
    // (SQLite's docs: EXTRA syncs the directory for it). A power loss can
    // bring the journal back and roll an acknowledged transaction back;
    // only eager-dirs, which makes every unlink durable at once, hides it.
    let full_delete = ["--synchronous", "FULL", "--journal-mode", "DELETE"];
    assert_eq!(
        caught_under(&sqlite("sqlite_job.py", 1, &full_delete)),
        [
            CrashModel::DropUnsynced,
            CrashModel::Prefix,
            CrashModel::Subset
        ]
    );
}
