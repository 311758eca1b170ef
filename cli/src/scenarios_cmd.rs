//! `crashproof scenarios`: run the five seed-system scenarios through every
//! exploration, and their review-bug mutants through the exploration they
//! need, and print one table.

use std::time::Instant;

use clap::Args;
use crashproof_catalog::scenarios;
use crashproof_catalog::zoo::hunt::{Exploration, Hunt, hunt};
use crashproof_fault::CrashModel;
use crashproof_sim::explore::{ExploreOptions, ReplayLine};

use crate::exit::{Exit, harness_error};

/// Arguments of `crashproof scenarios`.
#[derive(Debug, Args)]
pub struct ScenariosArgs {
    /// Seed of every simulated filesystem and seeded pick.
    #[arg(long, env = "CRASHPROOF_SEED", default_value_t = 0)]
    seed: u64,
    /// Most post-crash states enumerated per crash point; past it, seeded
    /// picks are checked instead.
    #[arg(long, default_value_t = ExploreOptions::default().states_per_point_max)]
    cap: usize,
}

/// Every exploration a scenario must pass, in table order: the mutation
/// table's, except the double-crash sweep (quadratic in the run's length;
/// the random mode gives the scenarios their multi-crash schedules).
fn explorations() -> Vec<Exploration> {
    Exploration::TABLE
        .into_iter()
        .filter(|e| !matches!(e, Exploration::TwoCrashes(_)))
        .chain([Exploration::Random])
        .collect()
}

fn short(e: Exploration) -> String {
    match e {
        Exploration::Exhaustive(m) => m.name().to_string(),
        Exploration::SyncEio(CrashModel::DropUnsynced) => "eio+drop".into(),
        Exploration::SyncEio(CrashModel::EagerDirs) => "eio+eager".into(),
        Exploration::SyncEio(m) => format!("eio+{m}"),
        Exploration::TwoCrashes(m) => format!("2crash+{m}"),
        Exploration::Random => "random".into(),
    }
}

/// Runs the table; exit 0 when every scenario is clean and every review bug
/// is caught, 1 otherwise, 2 on a harness error.
pub fn run(args: &ScenariosArgs) -> Exit {
    let options = ExploreOptions {
        seed: args.seed,
        states_per_point_max: args.cap,
        replay: ReplayLine::Command {
            command: crate::self_invocation::self_command(),
            workload_args: Vec::new(),
        },
        ..ExploreOptions::default()
    };
    let started = Instant::now();
    let mut ok = true;
    let columns = explorations();
    println!("crashproof scenarios (seed {})", args.seed);
    println!();
    println!(
        "post-crash states checked per exploration: exhaustive single crash under each model, \
         the sync-EIO"
    );
    println!(
        "sweep under two; random multi-crash (cases); then the violations over all of them, and whether the"
    );
    println!("review bug (the scenario's mutant) is caught, by which oracle, in how many steps.");
    println!();
    print!("{:<24}", "scenario");
    for e in &columns {
        print!(" {:>13}", short(*e));
    }
    println!(" {:>10}  {:<26}", "violations", "review bug caught");

    let mut failures = Vec::new();
    for s in scenarios::catalogue() {
        eprintln!("exploring scenario {}...", s.name);
        let mut hunts: Vec<Hunt> = Vec::new();
        for &e in &columns {
            match hunt(s.workload.as_ref(), e, &options) {
                Ok(h) => hunts.push(h),
                Err(err) => return harness_error(err),
            }
        }
        let violations: u64 = hunts.iter().map(|h| h.violations).sum();
        ok &= violations == 0;
        for h in hunts.iter().filter(|h| !h.checked()) {
            ok = false;
            failures.push(format!(
                "{} {}: checked nothing: {}",
                s.name,
                h.exploration,
                h.notes.join("; ")
            ));
        }
        for h in &hunts {
            if let Some(d) = &h.first {
                failures.push(format!(
                    "{} {}: {}",
                    s.name,
                    h.exploration,
                    d.violation.summary()
                ));
            }
        }
        eprintln!("hunting its review bug ({})...", s.mutant.name());
        // A mutant that panics is the point (the panic oracle catches it);
        // keep the default hook from printing each caught panic.
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let mut detection = None;
        for &e in columns.iter().filter(|e| e.serves(s.mutant_needs)) {
            match hunt(s.mutant.as_ref(), e, &options) {
                Ok(h) => {
                    if let Some(d) = h.first {
                        detection = Some((e, d));
                        break;
                    }
                }
                Err(err) => {
                    std::panic::set_hook(previous);
                    return harness_error(err);
                }
            }
        }
        std::panic::set_hook(previous);
        print!("{:<24}", s.name);
        for h in &hunts {
            print!(" {:>13}", h.cases);
        }
        let caught = match &detection {
            Some((e, d)) => format!("yes: {} ({}, {} steps)", d.oracle(), short(*e), d.steps),
            None => {
                ok = false;
                "NO".to_string()
            }
        };
        println!(" {violations:>10}  {caught}");
    }
    println!();
    println!("review bugs:");
    for s in scenarios::catalogue() {
        println!("  {:<24} {} [{}]", s.name, s.review_bug, s.mutant.name());
    }
    if !failures.is_empty() {
        println!();
        println!(
            "FAILURES of correct scenarios (violations, or explorations that checked nothing):"
        );
        for f in failures {
            println!("  {f}");
        }
    }
    println!();
    println!("total wall time: {:.2} s", started.elapsed().as_secs_f64());
    if ok { Exit::Clean } else { Exit::Violation }
}
