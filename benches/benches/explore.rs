//! `explore`: post-crash states checked per second by the explorer on the
//! `core-runner` workload (the core's Runner on a hash job, K = 50),
//! exhaustive single crash, drop-unsynced, at N = 1000 and N = 4000 items,
//! so scaling work has a number to move. Criterion's elem/s is states/s;
//! the summary printed after it adds the wall-time exponent between the two
//! sizes (1.0 = linear in N).

// A bench has no caller to hand errors to: a failing exploration means the
// bench is broken, and stopping loudly is the contract.
#![allow(clippy::expect_used)]
#![allow(missing_docs)]

use std::time::Instant;

use crashproof_benches::tally::{TEST_MODE_NOTE, Tally, format_seconds, is_test_mode};
use crashproof_catalog::core_runner::{CoreRunnerConfig, CoreRunnerWorkload};
use crashproof_sim::CrashModel;
use crashproof_sim::explore::{ExploreOptions, Explorer, Report};
use criterion::{BenchmarkId, Criterion, SamplingMode, Throughput};

const ITEMS: [u64; 2] = [1000, 4000];

/// The one call into the explorer (its API is being reworked; adapt here).
fn explore_core_runner(items: u64) -> Report {
    let workload = CoreRunnerWorkload::new(CoreRunnerConfig {
        items,
        checkpoint_every: 50,
        ..CoreRunnerConfig::default()
    });
    Explorer::new(&workload, ExploreOptions::default())
        .explore_exhaustive(CrashModel::DropUnsynced)
        .expect("the core-runner workload explores without a harness error")
}

fn bench(c: &mut Criterion) -> Vec<(u64, u64, Tally)> {
    let mut group = c.benchmark_group("explore core-runner drop-unsynced");
    group.sample_size(10);
    group.sampling_mode(SamplingMode::Flat);
    let mut rows = Vec::new();
    for items in ITEMS {
        // One run first: the state count sets the throughput, and a run that
        // checked nothing or found a violation is no benchmark.
        let first = explore_core_runner(items);
        let states = first.states_checked();
        assert!(states > 0, "the exploration checked no state");
        assert!(
            first.is_clean(),
            "the core-runner workload must be clean:\n{first}"
        );
        group.throughput(Throughput::Elements(states));
        let mut tally = Tally::default();
        group.bench_function(BenchmarkId::new("N", items), |b| {
            b.iter_custom(|iters| {
                let start = Instant::now();
                for _ in 0..iters {
                    let report = explore_core_runner(items);
                    assert_eq!(report.states_checked(), states, "deterministic");
                }
                let elapsed = start.elapsed();
                tally.add(elapsed, iters);
                elapsed
            })
        });
        rows.push((items, states, tally));
    }
    group.finish();
    rows
}

fn print_summary(rows: &[(u64, u64, Tally)]) {
    println!();
    println!("explore: core-runner, K = 50, exhaustive, drop-unsynced");
    if is_test_mode() {
        println!("{TEST_MODE_NOTE}");
    }
    println!(
        "  {:>6} {:>8} {:>12} {:>12}",
        "N", "states", "time", "states/s"
    );
    for (items, states, tally) in rows {
        match tally.mean_seconds() {
            Some(s) => println!(
                "  {items:>6} {states:>8} {:>12} {:>12.0}",
                format_seconds(s),
                *states as f64 / s
            ),
            None => println!("  {items:>6} {states:>8} not measured"),
        }
    }
    if let [(n1, _, t1), (n2, _, t2)] = rows
        && let (Some(s1), Some(s2)) = (t1.mean_seconds(), t2.mean_seconds())
    {
        let exponent = (s2 / s1).ln() / (*n2 as f64 / *n1 as f64).ln();
        println!("  wall-time exponent from N = {n1} to N = {n2}: {exponent:.2} (1.0 = linear)");
    }
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    let rows = bench(&mut criterion);
    criterion.final_summary();
    print_summary(&rows);
}
