//! Fault rules (`eio:fsync:*.wal`): injected by operation kind and path
//! glob, counted per run, deterministic; the fault-rules pass of the
//! explorer catches a program that believes a failed fsync, passes one that
//! stops on it, and refuses a rule that failed nothing.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::io::{self, ErrorKind};

use common::{content, durable_dir, durable_file, p};
use crashproof_core::fs::{Fs, OpenMode};
use crashproof_fault::{FaultRule, KillSchedule};
use crashproof_sim::explore::{
    ExploreOptions, Explorer, Found, HarnessError, Mode, Oracle, Plan, ProgramWorkload,
};
use crashproof_sim::{CrashModel, FaultConfig, SimConfig, SimFs, SimView};

fn rules(texts: &[&str]) -> Vec<FaultRule> {
    texts.iter().map(|t| t.parse().unwrap()).collect()
}

fn sim_with_rules(texts: &[&str]) -> SimFs {
    SimFs::new(SimConfig {
        faults: FaultConfig {
            rules: rules(texts),
            ..FaultConfig::default()
        },
        ..SimConfig::with_seed(3)
    })
}

#[test]
fn a_rule_fails_only_the_calls_it_matches_and_counts_them() {
    let fs = sim_with_rules(&["eio:fsync:*.wal", "eio:fsync*2:other"]);
    durable_dir(&fs, "/db").unwrap();
    let wal = fs.open(p("/db/1.wal"), OpenMode::Create).unwrap();
    let other = fs.open(p("/db/other"), OpenMode::Create).unwrap();
    fs.write_all_at(&wal, 0, b"entry").unwrap();
    fs.write_all_at(&other, 0, b"x").unwrap();
    let err = fs.sync(&wal).unwrap_err();
    assert!(
        err.to_string().contains("fault rule `eio:fsync:*.wal`"),
        "{err}"
    );
    assert_eq!(err.kind(), ErrorKind::Other);
    fs.sync(&other).unwrap(); // the first match of `*2`: not failed
    let err = fs.sync_data(&other).unwrap_err(); // fdatasync is an fsync
    assert!(err.to_string().contains("eio:fsync*2:other"), "{err}");
    fs.sync(&other).unwrap(); // the third: not failed either
    assert!(fs.sync(&wal).is_err(), "every match of a rule without *N");
    let counts = fs.fault_rule_counts();
    let shown: Vec<String> = counts.iter().map(ToString::to_string).collect();
    assert_eq!(
        shown,
        [
            "`eio:fsync:*.wal` failed 2 of 2 matching calls (first at step 6)",
            "`eio:fsync*2:other` failed 1 of 3 matching calls (first at step 8)",
        ]
    );
    let trace = fs.trace().to_string();
    assert!(
        trace.contains("EIO by fault rule `eio:fsync:*.wal` (match 1): 1 unsynced op(s) dropped"),
        "{trace}"
    );
}

#[test]
fn a_failed_fsync_by_rule_loses_its_data_on_a_crash_as_linux_does() {
    let fs = sim_with_rules(&["eio:fsync*1:*.wal"]);
    durable_dir(&fs, "/db").unwrap();
    durable_file(&fs, "/db/x.wal", b"old").unwrap_err(); // the rule's match
    // The file's entry was made durable by a later sync_dir? No: durable_file
    // stopped at the failed fsync. Make the entry durable and retry.
    fs.sync_dir(p("/db")).unwrap();
    let h = fs.open(p("/db/x.wal"), OpenMode::Existing).unwrap();
    assert_eq!(
        fs.read(p("/db/x.wal")).unwrap(),
        b"old",
        "readers still see it"
    );
    fs.sync(&h).unwrap(); // a retried fsync succeeds...
    for model in CrashModel::ALL {
        for image in fs.crash_images(model, 16).unwrap() {
            // ...and the data is gone all the same.
            assert_eq!(content(&image.fs, "/db/x.wal").unwrap(), b"", "{model}");
        }
    }
}

#[test]
fn enospc_and_eio_on_other_calls_change_nothing() {
    let fs = sim_with_rules(&[
        "enospc:write:data/*",
        "eio:rename:*.json",
        "eio:mkdir:/data/sub",
    ]);
    durable_dir(&fs, "/data").unwrap();
    let h = fs.open(p("/data/f"), OpenMode::Create).unwrap();
    let err = fs.write_all_at(&h, 0, b"bytes").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::StorageFull);
    assert_eq!(fs.read(p("/data/f")).unwrap(), b"");
    let nested = fs.open(p("/data/f.tmp"), OpenMode::Create).unwrap();
    fs.close(nested).unwrap();
    // A rename matches by either of its paths.
    let err = fs.rename(p("/data/f.tmp"), p("/state.json")).unwrap_err();
    assert!(err.to_string().contains("eio:rename:*.json"), "{err}");
    assert!(fs.exists(p("/data/f.tmp")).unwrap(), "nothing renamed");
    assert!(fs.create_dir(p("/data/sub")).is_err());
    assert!(!fs.exists(p("/data/sub")).unwrap());
    fs.create_dir(p("/data/other")).unwrap();
    let injected: Vec<u64> = fs.fault_rule_counts().iter().map(|c| c.injected).collect();
    assert_eq!(injected, [1, 1, 1]);
}

#[test]
fn a_run_under_rules_is_a_pure_function_of_its_calls() {
    let run = || {
        let fs = sim_with_rules(&["eio:write*2:*", "eio:any*5:*"]);
        for i in 0..4 {
            let h = fs.open(p(&format!("/f{i}")), OpenMode::Create);
            if let Ok(h) = h {
                let _ = fs.write_all_at(&h, 0, b"x");
            }
        }
        (fs.trace().to_string(), fs.fault_rule_counts())
    };
    assert_eq!(run(), run());
}

// A program that appends one line per item to `/log.wal` and fsyncs it.
// Recovery counts the whole lines; a torn tail is cut off.

const ITEMS: u64 = 4;

fn read_log(fs: &dyn Fs) -> io::Result<(u64, u64)> {
    if !fs.exists(p("/log.wal"))? {
        return Ok((0, 0));
    }
    let bytes = fs.read(p("/log.wal"))?;
    let mut done = 0;
    let mut keep = 0;
    for line in bytes.split_inclusive(|&b| b == b'\n') {
        if line != format!("{done}\n").as_bytes() {
            break;
        }
        done += 1;
        keep += line.len() as u64;
    }
    Ok((done, keep))
}

fn log_job(believes_failed_fsync: bool) -> ProgramWorkload {
    ProgramWorkload::new(
        format!("log-believes-failed-fsync-{believes_failed_fsync}"),
        move |fs: &dyn Fs, reporter| -> io::Result<String> {
            let (mut done, keep) = read_log(fs)?;
            let log = fs.open(p("/log.wal"), OpenMode::Create)?;
            fs.set_len(&log, keep)?;
            fs.sync(&log)?;
            fs.sync_dir(p("/"))?;
            while done < ITEMS {
                fs.append(&log, format!("{done}\n").as_bytes())?;
                match fs.sync(&log) {
                    Ok(()) => {}
                    // The bug: go on as if the data were durable.
                    Err(_) if believes_failed_fsync => {}
                    Err(e) => return Err(e),
                }
                done += 1;
                reporter.committed(done);
            }
            fs.close(log)?;
            Ok(format!("items={done}"))
        },
    )
    .recover(|fs| -> io::Result<Found> {
        Ok(match read_log(fs)?.0 {
            0 => Found::Nothing,
            n => Found::Progress(n),
        })
    })
}

fn fault_plan(texts: &[&str]) -> Plan {
    Plan {
        models: vec![CrashModel::DropUnsynced, CrashModel::Subset],
        modes: vec![Mode::FaultRules(rules(texts))],
    }
}

#[test]
fn a_program_that_believes_a_failed_fsync_is_caught_and_the_replay_reproduces_it() {
    let buggy = log_job(true);
    let ex = Explorer::new(&buggy, ExploreOptions::default());
    let report = ex.explore(&fault_plan(&["eio:fsync*2:*.wal"])).unwrap();
    assert!(!report.is_clean(), "{report}");
    let v = report.violations().next().unwrap();
    assert_eq!(v.oracle, Oracle::State, "{report}");
    assert_eq!(
        v.schedule
            .rules()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        ["eio:fsync*2:*.wal"]
    );
    assert!(v.trace.contains("EIO by fault rule"), "{}", v.trace);
    let text = report.to_string();
    assert!(
        text.contains("fault-rules drop-unsynced (eio:fsync*2:*.wal)"),
        "{text}"
    );
    assert!(text.contains("failed 1 of 5 matching calls"), "{text}");
    // The printed schedule replays to the same violation.
    let schedule: KillSchedule = v.schedule.to_string().parse().unwrap();
    let (_, replayed) = ex.replay(&schedule).unwrap();
    let again = replayed.violation.expect("the replay fails too");
    assert_eq!((again.oracle, &again.message), (v.oracle, &v.message));
}

#[test]
fn a_program_that_stops_on_a_failed_fsync_is_clean_under_every_rule() {
    let correct = log_job(false);
    let ex = Explorer::new(&correct, ExploreOptions::default());
    for rule in [
        "eio:fsync*2:*.wal",
        "eio:fsync:*.wal",
        "enospc:write*3:log.wal",
    ] {
        let report = ex.explore(&fault_plan(&[rule])).unwrap();
        assert!(report.is_clean(), "{rule}: {report}");
        assert!(report.states_checked() > 0, "{report}");
    }
}

#[test]
fn a_rule_that_fails_no_call_is_refused_not_passed() {
    let correct = log_job(false);
    let ex = Explorer::new(&correct, ExploreOptions::default());
    // A glob no path matches, and a `*N` past the run's matches.
    for (rule, matched) in [("eio:fsync:*.log", 0), ("eio:fsync*9:*.wal", 5)] {
        let err = ex.explore(&fault_plan(&[rule])).unwrap_err();
        match &err {
            HarnessError::FaultRuleNeverInjected {
                rule: r,
                matched: m,
                ..
            } => {
                assert_eq!((r.as_str(), *m), (rule, matched));
            }
            other => panic!("{rule}: {other}"),
        }
        let text = err.to_string();
        assert!(text.contains("checked nothing"), "{text}");
        assert!(
            text.contains("sync /log.wal"),
            "the run's calls are named: {text}"
        );
    }
    let err = ex.explore(&fault_plan(&[])).unwrap_err();
    assert!(matches!(err, HarnessError::EmptyPlan { .. }), "{err}");
    // A replayed schedule whose rule fails nothing replayed nothing.
    let schedule: KillSchedule = "step:3@drop-unsynced#idx=0;eio:rename:*".parse().unwrap();
    let err = ex.replay(&schedule).unwrap_err();
    assert!(
        matches!(err, HarnessError::FaultRuleNeverInjected { .. }),
        "{err}"
    );
}

#[test]
fn a_crash_test_takes_fault_rules() {
    use crashproof_sim::check::CrashTest;
    let buggy = log_job(true);
    let failure = CrashTest::new(&buggy)
        .models(&[CrashModel::DropUnsynced])
        .modes(Vec::new())
        .fault_rules(rules(&["eio:fsync*2:*.wal"]))
        .check()
        .unwrap_err();
    assert!(
        failure.to_string().contains("EIO by fault rule"),
        "{failure}"
    );
    let correct = log_job(false);
    CrashTest::new(&correct)
        .models(&[CrashModel::DropUnsynced])
        .modes(Vec::new())
        .fault_rules(rules(&["eio:fsync*2:*.wal"]))
        .run();
}
