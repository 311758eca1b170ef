//! `crashproof mutants`: run every bug-zoo mutant and the correct controls
//! through the explorer and print the mutation table.
//!
//! For each program it runs, in order, exhaustive single-crash exploration
//! under each crash model (the three strict ones, then the kinder
//! `EagerDirs`), the sync-EIO fault sweep, and (for mutants that need it)
//! random multi-crash schedules. Wall time is measured here, around the
//! simulator's calls; "first detection" is the time from the start of a
//! mutant's explorations to the end of the first one that caught it.

use std::time::{Duration, Instant};

use clap::Args;
use crashproof_catalog::zoo::hunt::{Exploration, Hunt, hunt};
use crashproof_catalog::zoo::{self, Needs};
use crashproof_fault::CrashModel;
use crashproof_sim::explore::{ExploreOptions, ReplayLine};

use crate::exit::{Exit, harness_error};

/// Arguments of `crashproof mutants`.
#[derive(Debug, Args)]
pub struct MutantsArgs {
    /// Seed of every simulated filesystem and seeded pick.
    #[arg(long, env = "CRASHPROOF_SEED", default_value_t = 0)]
    seed: u64,
    /// Most post-crash states enumerated per crash point; past it, seeded
    /// picks are checked instead.
    #[arg(long, default_value_t = ExploreOptions::default().states_per_point_max)]
    cap: usize,
    /// Also print the first counterexample of every mutant in full.
    #[arg(long)]
    verbose: bool,
}

/// One program's explorations, each with its wall time.
struct Row {
    hunts: Vec<(Hunt, Duration)>,
}

impl Row {
    fn first_detection(&self) -> Option<(&Hunt, Duration)> {
        let mut elapsed = Duration::ZERO;
        for (h, d) in &self.hunts {
            elapsed += *d;
            if h.caught() {
                return Some((h, elapsed));
            }
        }
        None
    }

    /// Among the explorations of the kind the mutant needs, the catching
    /// one with the smallest counterexample (fewest steps, then shortest
    /// schedule, then table order).
    fn smallest(&self, needs: Needs) -> Option<&Hunt> {
        self.hunts
            .iter()
            .map(|(h, _)| h)
            .filter(|h| h.exploration.serves(needs) && h.first.is_some())
            .min_by_key(|h| h.first.as_ref().map(|d| (d.steps, d.schedule_len)))
    }

    fn caught_where(&self, pick: impl Fn(Exploration) -> bool) -> bool {
        self.hunts
            .iter()
            .any(|(h, _)| pick(h.exploration) && h.caught())
    }

    fn cases(&self) -> u64 {
        self.hunts.iter().map(|(h, _)| h.cases).sum()
    }

    fn violations(&self) -> u64 {
        self.hunts.iter().map(|(h, _)| h.violations).sum()
    }
}

fn explorations(needs: Option<Needs>) -> Vec<Exploration> {
    let mut all = Exploration::TABLE.to_vec();
    if needs == Some(Needs::MultiCrash) || needs.is_none() {
        all.push(Exploration::Random);
    }
    all
}

fn run_row(
    workload: &dyn crashproof_sim::explore::Workload,
    needs: Option<Needs>,
    options: &ExploreOptions,
) -> Result<Row, crashproof_sim::explore::HarnessError> {
    let mut hunts = Vec::new();
    for exploration in explorations(needs) {
        let started = Instant::now();
        let h = hunt(workload, exploration, options)?;
        hunts.push((h, started.elapsed()));
    }
    Ok(Row { hunts })
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

/// Runs the table; exit 0 when every mutant is caught and every control is
/// clean, 1 otherwise, 2 on a harness error.
pub fn run(args: &MutantsArgs) -> Exit {
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

    println!("crashproof mutants (seed {})", args.seed);
    println!();
    println!("smallest counterexample = among the explorations of the kind the mutant needs, the");
    println!("             one whose first failing schedule is smallest;");
    println!("steps = filesystem steps run before the (first) crash in that schedule;");
    println!("sched = crash points + injected faults in that schedule;");
    println!("first det. = wall time from a mutant's first exploration to the end of the first");
    println!("             one that caught it (explorations run in the order of the list below);");
    println!("strict / eager-dirs = whether the kind of exploration the mutant needs catches it");
    println!("             under the strict models (drop-unsynced, prefix, subset) / under the");
    println!(
        "             kinder eager-dirs model, where directory operations are durable at once."
    );
    println!(
        "explorations: {}",
        Exploration::TABLE.map(|e| e.to_string()).join(", ")
    );
    println!();
    println!(
        "{:>2}  {:<25} {:<17} {:<26} {:<14} {:>5} {:>5} {:>11}  {:<6} {:<10}",
        "#",
        "mutant",
        "needs",
        "smallest counterexample",
        "oracle",
        "steps",
        "sched",
        "first det.",
        "strict",
        "eager-dirs"
    );
    let mut strict_only = Vec::new();
    let mut missed = Vec::new();
    let mut caught = 0;
    let mutants = zoo::catalogue();
    let total = mutants.len();
    let mut details = Vec::new();
    for m in &mutants {
        eprintln!("hunting mutant {} {}...", m.number, m.name);
        let row = match run_row(m.workload.as_ref(), Some(m.needs), &options) {
            Ok(r) => r,
            Err(e) => return harness_error(e),
        };
        // The same kind of exploration that is expected to catch it, under
        // the strict models and under the kind one.
        let strict = row.caught_where(|e| e.serves(m.needs) && e.is_strict());
        let eager =
            row.caught_where(|e| e.serves(m.needs) && e.model() == Some(CrashModel::EagerDirs));
        match (row.smallest(m.needs), row.first_detection()) {
            (Some(h), Some((_, at))) => {
                caught += 1;
                let d = h.first.as_ref();
                println!(
                    "{:>2}  {:<25} {:<17} {:<26} {:<14} {:>5} {:>5} {:>8.2} ms  {:<6} {:<10}",
                    m.number,
                    m.name,
                    m.needs.to_string(),
                    h.exploration.to_string(),
                    d.map_or("-".into(), |d| d.oracle().to_string()),
                    d.map_or(0, |d| d.steps),
                    d.map_or(0, |d| d.schedule_len),
                    at.as_secs_f64() * 1e3,
                    yes_no(strict),
                    if eager { "caught" } else { "MISSED" },
                );
                if let Some(d) = d {
                    details.push((m.number, m.name, d.violation.clone()));
                }
            }
            _ => {
                ok = false;
                missed.push(m.name);
                println!(
                    "{:>2}  {:<25} {:<17} {:<26}",
                    m.number,
                    m.name,
                    m.needs.to_string(),
                    "NOT CAUGHT"
                );
            }
        }
        if strict && !eager {
            strict_only.push(m.name);
        }
    }
    println!();
    println!(
        "mutation score: {caught}/{total} caught ({:.0}%)",
        100.0 * caught as f64 / total.max(1) as f64
    );
    println!(
        "caught only by the strict models (the kinder eager-dirs model misses them): {}",
        if strict_only.is_empty() {
            "none".to_string()
        } else {
            strict_only.join(", ")
        }
    );
    if !missed.is_empty() {
        println!("NOT CAUGHT: {}", missed.join(", "));
    }

    println!();
    println!("controls (must pass every exploration):");
    for control in zoo::controls_in(std::path::Path::new(zoo::SIM_DIR)) {
        eprintln!("exploring control {}...", control.name());
        let row = match run_row(control.as_ref(), None, &options) {
            Ok(r) => r,
            Err(e) => return harness_error(e),
        };
        let violations = row.violations();
        let unchecked: Vec<&Hunt> = row
            .hunts
            .iter()
            .map(|(h, _)| h)
            .filter(|h| !h.checked())
            .collect();
        ok &= violations == 0 && unchecked.is_empty();
        println!(
            "  {:<22} {:>7} cases over {} explorations, {} violations{}",
            control.name(),
            row.cases(),
            row.hunts.len(),
            violations,
            if violations == 0 && unchecked.is_empty() {
                "  (passes)"
            } else {
                "  FAILS"
            }
        );
        for (h, _) in &row.hunts {
            if let Some(d) = &h.first {
                println!("    {}: {}", h.exploration, d.violation.summary());
            }
        }
        for h in unchecked {
            println!(
                "    {}: checked nothing: {}",
                h.exploration,
                h.notes.join("; ")
            );
        }
    }
    if args.verbose {
        for (number, name, v) in details {
            println!();
            println!("=== mutant {number} {name}: first counterexample ===");
            print!("{v}");
        }
    }
    println!();
    println!("total wall time: {:.2} s", started.elapsed().as_secs_f64());
    if ok { Exit::Clean } else { Exit::Violation }
}
