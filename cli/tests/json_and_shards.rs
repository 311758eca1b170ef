//! `explore --json`, `--shard`, `merge`, `--items/--every`: the JSON report
//! has the numbers a growth measurement needs, shards merged by the command
//! give the whole run's verdict, and every misuse is a usage error (exit 2).

// This file is a test crate: its helpers are test code too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn crashproof(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_crashproof"))
        .args(args)
        .env_remove("CRASHPROOF_SEED")
        .env_remove("CRASHPROOF_CHECK_DETERMINISM")
        .output()
        .unwrap()
}

fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    })
}

/// A report's verdict: the simulator's report without wall time and work.
fn verdict(doc: &Value) -> Value {
    fn strip(v: &mut Value) {
        match v {
            Value::Object(fields) => {
                fields.remove("work");
                fields.remove("elapsed");
                // The process's peak, not a result: each run has its own.
                fields.remove("peak_memory_bytes");
                fields.values_mut().for_each(strip);
            }
            Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let mut report = doc["report"].clone();
    strip(&mut report);
    report
}

#[test]
fn json_report_has_the_growth_numbers() {
    let o = crashproof(&[
        "explore",
        "--items",
        "300",
        "--every",
        "25",
        "--model",
        "drop-unsynced",
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(0));
    let doc = json(&o);
    let summary = &doc["summary"];
    for field in [
        "crash_points",
        "states_checked",
        "states_distinct",
        "wall_time_seconds",
        "states_per_second",
    ] {
        assert!(
            summary[field].as_f64().is_some_and(|n| n > 0.0),
            "{field}: {summary}"
        );
    }
    assert_eq!(summary["verdict"], "clean");
    assert_eq!(doc["invocation"]["items"], 300);
    assert_eq!(doc["invocation"]["every"], 25);
    // The text report went to stderr, and no progress bar (not a terminal).
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("result: OK, zero violations"), "{stderr}");
    assert!(!stderr.contains("ETA"), "{stderr}");
    // A larger run has more crash points: --items sized the workload.
    let bigger = json(&crashproof(&[
        "explore",
        "--items",
        "600",
        "--every",
        "25",
        "--model",
        "drop-unsynced",
        "--json",
    ]));
    assert!(
        bigger["summary"]["crash_points"].as_u64() > summary["crash_points"].as_u64(),
        "{bigger}"
    );
}

fn write(dir: &Path, name: &str, o: &Output) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, &o.stdout).unwrap();
    path
}

#[test]
fn merged_shards_give_the_whole_runs_verdict_and_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "explore",
        "--workload",
        "no-dir-fsync",
        "--model",
        "drop-unsynced,prefix",
        "--mode",
        "exhaustive,sync-eio",
        "--json",
    ];
    let whole = crashproof(&args);
    assert_eq!(whole.status.code(), Some(1));
    let mut paths = Vec::new();
    for i in 1..=3 {
        let shard = format!("{i}/3");
        let mut a = args.to_vec();
        a.extend(["--shard", &shard]);
        let o = crashproof(&a);
        assert!(matches!(o.status.code(), Some(0 | 1)), "shard {shard}");
        paths.push(write(dir.path(), &format!("shard-{i}.json"), &o));
    }
    // Any order.
    paths.reverse();
    let mut merge: Vec<&str> = vec!["merge", "--json"];
    merge.extend(paths.iter().map(|p| p.to_str().unwrap()));
    let merged = crashproof(&merge);
    assert_eq!(merged.status.code(), Some(1));
    assert_eq!(verdict(&json(&merged)), verdict(&json(&whole)));
    assert_eq!(json(&merged)["shard"], "1/1");

    // A missing shard, a shard given twice, another exploration: exit 2.
    let p = |i: usize| paths[i].to_str().unwrap();
    for bad in [vec![p(0), p(1)], vec![p(0), p(0), p(1)]] {
        let mut a = vec!["merge"];
        a.extend(bad);
        assert_eq!(crashproof(&a).status.code(), Some(2));
    }
    let other = crashproof(&[
        "explore",
        "--workload",
        "two-files",
        "--model",
        "drop-unsynced,prefix",
        "--mode",
        "exhaustive,sync-eio",
        "--json",
        "--shard",
        "1/3",
    ]);
    let other = write(dir.path(), "other.json", &other);
    let o = crashproof(&["merge", other.to_str().unwrap(), p(1), p(0)]);
    assert_eq!(o.status.code(), Some(2));
    // The message names the field that differs, with both values, not a
    // dump of the whole invocation.
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("another exploration"), "{stderr}");
    assert!(
        stderr.contains(r#"workload: "two-files" vs "no-dir-fsync""#),
        "{stderr}"
    );
    assert!(!stderr.contains("Invocation"), "{stderr}");
    assert!(!stderr.contains("seed"), "only differing fields: {stderr}");
    let not_json = dir.path().join("not.json");
    std::fs::write(&not_json, "{}").unwrap();
    let o = crashproof(&["merge", not_json.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));

    // A shard whose run was interrupted covers only part of its shard.
    let mut cut: Value = serde_json::from_str(&std::fs::read_to_string(p(1)).unwrap()).unwrap();
    cut["report"]["interrupted"] = Value::Bool(true);
    let cut_path = dir.path().join("interrupted.json");
    std::fs::write(&cut_path, cut.to_string()).unwrap();
    let o = crashproof(&["merge", p(0), cut_path.to_str().unwrap(), p(2)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("was interrupted (Ctrl-C or SIGTERM)"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn misuse_is_a_usage_error() {
    for args in [
        // Random schedules cannot be split.
        &[
            "explore", "--mode", "random", "--shard", "1/2", "--cases", "1",
        ][..],
        // A shard outside its count.
        &["explore", "--shard", "3/2"],
        &["explore", "--shard", "0/2"],
        // Sizes of a workload that has none.
        &["explore", "--workload", "no-dir-fsync", "--items", "10"],
        &[
            "replay",
            "--workload",
            "no-dir-fsync",
            "--every",
            "5",
            "step:1@drop-unsynced#idx=0",
        ],
        // No threads.
        &["explore", "--jobs", "0"],
    ] {
        let o = crashproof(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
    }
}

#[test]
fn replay_sizes_the_core_runner_too() {
    // Step 150 exists at N=200, K=10 (about 50 steps per 1000 items at
    // K=50 means far more at K=10) but not in a 20-item job.
    let args = |items: &'static str| {
        [
            "replay",
            "--workload",
            "core-runner",
            "--items",
            items,
            "--every",
            "10",
            "step:150@drop-unsynced#idx=0",
        ]
    };
    assert_eq!(crashproof(&args("200")).status.code(), Some(0));
    assert_eq!(crashproof(&args("20")).status.code(), Some(2));
}
