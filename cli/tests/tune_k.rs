//! `crashproof tune-k` on a real temp directory: the table, a
//! recommendation that the printed overhead column backs, the SVG, JSON,
//! and exit 2 for every input it must refuse.

// This file is a test crate: its helpers are test code too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::{Command, Output};

/// Few measuring commits, little work between them: these tests check the
/// tool, not the disk.
const QUICK: [&str; 6] = [
    "--rounds",
    "2",
    "--commits-per-round",
    "3",
    "--spacing-max",
    "2ms",
];

fn tune_k(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_crashproof"))
        .arg("tune-k")
        .args(args)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The table's rows: (K, overhead at the p90 round in percent as printed,
/// recommended?).
fn table_rows(stdout: &str) -> Vec<(u64, f64, bool)> {
    stdout
        .lines()
        .filter_map(|l| {
            let words: Vec<&str> = l.split_whitespace().collect();
            // K, T value, T unit, commit value, commit unit, overhead p50,
            // "%", overhead p90, "%", ...
            let k = words.first()?.parse().ok()?;
            assert_eq!(words[6], "%", "overhead p50 column of {l:?}");
            assert_eq!(words[8], "%", "overhead p90 column of {l:?}");
            let p50: f64 = words[5].parse().unwrap();
            let p90: f64 = words[7].parse().unwrap();
            assert!(p50 <= p90, "{l:?}");
            Some((k, p90, l.ends_with("<- recommended")))
        })
        .collect()
}

fn recommended_k(stdout: &str) -> u64 {
    let line = stdout
        .lines()
        .find(|l| l.starts_with("recommended: K = "))
        .unwrap_or_else(|| panic!("no recommendation in:\n{stdout}"));
    line["recommended: K = ".len()..]
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

/// What the scratch directory left in `dir` (it must leave nothing).
fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn the_recommendation_is_the_first_row_whose_printed_overhead_meets_the_target() {
    let disk = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let plot = out.path().join("tune.svg");
    let dir = disk.path().to_str().unwrap();
    let plot_arg = plot.to_str().unwrap();
    for max_overhead in ["1%", "25%"] {
        let mut args = vec!["--dir", dir, "--item-cost", "20us"];
        args.extend(["--max-overhead", max_overhead, "--plot", plot_arg]);
        args.extend(QUICK);
        let o = tune_k(&args);
        let stdout = text(&o.stdout);
        assert_eq!(o.status.code(), Some(0), "{stdout}{}", text(&o.stderr));
        let target: f64 = max_overhead.trim_end_matches('%').parse().unwrap();

        assert!(stdout.contains("p50 round"), "{stdout}");
        assert!(
            stdout.contains("2 rounds x 3 commits at each spacing"),
            "{stdout}"
        );
        let rows = table_rows(&stdout);
        assert!(rows.len() >= 7, "{stdout}");
        assert!(rows.windows(2).all(|w| w[0].0 < w[1].0), "K ascending");
        assert!(
            rows.windows(2).all(|w| w[0].1 >= w[1].1),
            "overhead falls as K grows"
        );
        let k = recommended_k(&stdout);
        let marked: Vec<_> = rows.iter().filter(|r| r.2).collect();
        assert_eq!(marked.len(), 1, "{stdout}");
        assert_eq!(marked[0].0, k);
        for &(row_k, overhead, _) in &rows {
            if row_k < k {
                assert!(
                    overhead > target,
                    "K={row_k} at {overhead}% already meets {target}%"
                );
            } else {
                assert!(
                    overhead <= target,
                    "K={row_k} at {overhead}% misses {target}%"
                );
            }
        }
        // Nothing left in the measured directory.
        assert_eq!(leftovers(disk.path()), Vec::<String>::new());

        let svg = std::fs::read_to_string(&plot).unwrap();
        let doc = roxmltree::Document::parse(&svg).unwrap();
        assert_eq!(doc.root_element().tag_name().name(), "svg");
        let texts: String = doc
            .descendants()
            .filter_map(|n| n.text())
            .collect::<Vec<_>>()
            .join("\n");
        assert!(texts.contains(&format!("recommended K = {k}")), "{texts}");
        assert!(texts.contains("overhead"), "{texts}");
    }
}

#[test]
fn json_carries_the_measurement_and_a_recommendation_derivable_from_it() {
    let disk = tempfile::tempdir().unwrap();
    let plot = disk.path().join("plot-outside-scratch.svg");
    let mut args = vec![
        "--dir",
        disk.path().to_str().unwrap(),
        "--item-cost",
        "200us",
        "--state-size",
        "64KiB",
        "--max-overhead",
        "5%",
        "--plot",
        plot.to_str().unwrap(),
        "--json",
    ];
    args.extend(QUICK);
    let o = tune_k(&args);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let spacing_count = v["commit"]["spacings"].as_array().unwrap().len() as u64;
    assert_eq!(v["commit"]["samples"], 6 * spacing_count);
    assert_eq!(v["state_size_bytes"], 65536);
    assert!(v["commit"]["state_bytes_encoded"].as_u64().unwrap() >= 65536);
    let spacings = v["commit"]["spacings"].as_array().unwrap();
    assert!(!spacings.is_empty());
    for spacing in spacings {
        let rounds: Vec<f64> = spacing["round_means_seconds"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_f64().unwrap())
            .collect();
        assert_eq!(rounds.len(), 2);
        // Two rounds: the quantiles interpolate between their means.
        let (low, high) = (rounds[0].min(rounds[1]), rounds[0].max(rounds[1]));
        let p50 = spacing["round_p50_seconds"].as_f64().unwrap();
        let p90 = spacing["round_p90_seconds"].as_f64().unwrap();
        assert!((p50 - (low + high) / 2.0).abs() < 1e-12);
        assert!((p90 - (low + 0.9 * (high - low))).abs() < 1e-12);
    }
    let item = v["item_cost_seconds"].as_f64().unwrap();
    assert!((item - 200e-6).abs() < 1e-12);
    assert_eq!(v["max_overhead_fraction"], 0.05);
    // The recommendation's own commit cost (the curve's at its spacing)
    // gives its overhead: within 5 %.
    let k = v["recommended"]["checkpoint_every"].as_u64().unwrap();
    let c90 = v["recommended"]["commit_p90_seconds"].as_f64().unwrap();
    let c50 = v["recommended"]["commit_seconds"].as_f64().unwrap();
    assert!(c50 > 0.0 && c50 <= c90);
    assert!(c90 / (k as f64 * item) <= 0.05);
    let p90 = v["recommended"]["overhead_fraction_p90"].as_f64().unwrap();
    assert!((p90 - c90 / (k as f64 * item)).abs() < 1e-12);
    // The prediction is the median round's.
    let predicted = v["recommended"]["overhead_fraction"].as_f64().unwrap();
    assert!((predicted - c50 / (k as f64 * item)).abs() < 1e-12);
    let t = v["recommended"]["checkpoint_interval_seconds"]
        .as_f64()
        .unwrap();
    assert!((t - k as f64 * item).abs() < 1e-9);
    assert_eq!(v["recommended"]["items_at_risk_max"], k);
    assert!(
        v["rows"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["checkpoint_every"] == k)
    );
    // Only the plot is left: the scratch directory is gone.
    assert_eq!(
        leftovers(disk.path()),
        vec!["plot-outside-scratch.svg".to_string()]
    );
    // stderr is a pipe here: no progress bar, no control codes.
    assert!(!text(&o.stderr).contains('\x1b'), "{}", text(&o.stderr));
}

#[test]
fn the_item_cost_can_be_timed_from_a_sample_command() {
    let disk = tempfile::tempdir().unwrap();
    let plot = disk.path().join("p.svg");
    let mut args = vec![
        "--dir",
        disk.path().to_str().unwrap(),
        "--item-cost-from",
        "true",
        "--items-in-sample",
        "10",
        "--plot",
        plot.to_str().unwrap(),
    ];
    args.extend(QUICK);
    let o = tune_k(&args);
    let stdout = text(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{stdout}{}", text(&o.stderr));
    assert!(
        stdout.contains("(measured: `true` over 10 items)"),
        "{stdout}"
    );
    assert!(recommended_k(&stdout) >= 1);
}

#[test]
fn bad_inputs_exit_2_with_a_message_that_names_the_problem() {
    let disk = tempfile::tempdir().unwrap();
    let dir = disk.path().to_str().unwrap().to_string();
    let file = disk.path().join("a-file");
    std::fs::write(&file, b"x").unwrap();
    let missing = disk.path().join("missing");
    let plot = disk.path().join("p.svg");
    let no_plot_dir = disk.path().join("no-such-dir").join("p.svg");
    let (file, missing) = (file.to_str().unwrap(), missing.to_str().unwrap());
    let (plot, no_plot_dir) = (plot.to_str().unwrap(), no_plot_dir.to_str().unwrap());
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["--dir", missing, "--item-cost", "20us"],
            "does not exist",
        ),
        (
            vec!["--dir", file, "--item-cost", "20us"],
            "is not a directory",
        ),
        (
            vec!["--dir", &dir, "--item-cost", "20us", "--max-overhead", "0%"],
            "outside (0%, 100%)",
        ),
        (
            vec![
                "--dir",
                &dir,
                "--item-cost",
                "20us",
                "--max-overhead",
                "100%",
            ],
            "outside (0%, 100%)",
        ),
        (
            vec![
                "--dir",
                &dir,
                "--item-cost",
                "20us",
                "--max-overhead",
                "150",
            ],
            "outside (0%, 100%)",
        ),
        (
            vec![
                "--dir",
                &dir,
                "--item-cost",
                "20us",
                "--max-overhead",
                "lots",
            ],
            "not a percentage",
        ),
        (vec!["--dir", &dir, "--item-cost", "0us"], "is zero"),
        (vec!["--dir", &dir, "--item-cost", "20"], "not a duration"),
        (vec!["--dir", &dir], "--item-cost"),
        (
            vec![
                "--dir",
                &dir,
                "--item-cost",
                "1us",
                "--item-cost-from",
                "true",
                "--items-in-sample",
                "1",
            ],
            "cannot be used with",
        ),
        (
            vec!["--dir", &dir, "--item-cost-from", "true"],
            "--items-in-sample",
        ),
        (
            vec![
                "--dir",
                &dir,
                "--item-cost-from",
                "true",
                "--items-in-sample",
                "0",
            ],
            "0",
        ),
        (
            vec![
                "--dir",
                &dir,
                "--item-cost-from",
                "exit 3",
                "--items-in-sample",
                "5",
                "--plot",
                plot,
            ],
            "failed",
        ),
        (
            vec!["--dir", &dir, "--item-cost", "20us", "--state-size", "2GiB"],
            "bytes",
        ),
        (
            vec!["--dir", &dir, "--item-cost", "20us", "--rounds", "0"],
            "0",
        ),
        (
            vec!["--dir", &dir, "--item-cost", "20us", "--spacing-max", "0ms"],
            "back to back",
        ),
        (
            vec![
                "--dir",
                &dir,
                "--item-cost",
                "20us",
                "--rounds",
                "1",
                "--commits-per-round",
                "1",
                "--spacing-max",
                "1ms",
                "--plot",
                no_plot_dir,
            ],
            "cannot write the plot",
        ),
    ];
    for (args, message) in cases {
        let o = tune_k(&args);
        let stderr = text(&o.stderr);
        assert_eq!(
            o.status.code(),
            Some(2),
            "{args:?}: {stderr}{}",
            text(&o.stdout)
        );
        assert!(
            stderr.contains(message),
            "{args:?}: {stderr:?} lacks {message:?}"
        );
        assert!(
            o.stdout.is_empty(),
            "{args:?} printed a result: {}",
            text(&o.stdout)
        );
    }
    // Failed runs leave nothing behind but the test's own file.
    assert_eq!(leftovers(disk.path()), vec!["a-file".to_string()]);
}

/// Without --plot the SVG goes to --dir, never to the working directory.
#[test]
fn the_default_plot_lands_in_dir_not_in_the_working_directory() {
    let disk = tempfile::tempdir().unwrap();
    let cwd = tempfile::tempdir().unwrap();
    let mut args = vec![
        "--dir",
        disk.path().to_str().unwrap(),
        "--item-cost",
        "50us",
    ];
    args.extend(QUICK);
    let o = Command::new(env!("CARGO_BIN_EXE_crashproof"))
        .current_dir(cwd.path())
        .arg("tune-k")
        .args(&args)
        .output()
        .unwrap();
    let stdout = text(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{stdout}{}", text(&o.stderr));
    assert_eq!(leftovers(cwd.path()), Vec::<String>::new());
    assert_eq!(
        leftovers(disk.path()),
        vec!["crashproof-tune-k.svg".to_string()]
    );
    let plot = disk.path().join("crashproof-tune-k.svg");
    assert!(
        stdout.contains(&format!("plot: {}", plot.display())),
        "{stdout}"
    );
}
