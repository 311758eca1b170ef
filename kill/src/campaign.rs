//! A campaign: one clean run, then the failpoint enumeration and the random
//! cases (or exactly the given plans, to replay), then a [`Summary`].

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};

use crate::attempt::AttemptError;
use crate::case::{CaseSetup, run_case};
use crate::check::Check;
use crate::clean_run::{CleanRun, Isolation, clean_runs};
use crate::error::CampaignError;
use crate::plan::{KillPoint, Plan};
use crate::program::Program;
use crate::summary::Summary;

/// What a campaign runs.
#[derive(Debug, Clone)]
pub struct CampaignOptions {
    /// Seed of every random choice (kill kinds, times, progress points).
    pub seed: u64,
    /// Random cases to run.
    pub cases: u32,
    /// Most kills in one random case (at least 1; each case draws 1..=this).
    pub kills_per_case_max: u32,
    /// Failpoints whose every hit is killed, one case per hit (empty: none).
    pub failpoints: Vec<String>,
    /// Failpoints whose hits are only counted (a few probe cases each), so
    /// random cases can kill at a random hit of them: for frequent ones,
    /// such as a per-item failpoint, whose every hit would be too many.
    pub counted_failpoints: Vec<String>,
    /// Safety bound on the hits enumerated per failpoint.
    pub hits_per_failpoint_max: u64,
    /// Replay: run exactly these plans, nothing random, no enumeration.
    pub plans: Vec<Plan>,
    /// The directory the campaign's own directory is created in; nothing
    /// outside it is touched.
    pub root: PathBuf,
    /// Most time one run may take (default: 20x the clean run, at least
    /// 10 s; the clean run itself gets 10 minutes).
    pub run_timeout: Option<Duration>,
    /// Stop after this many failing cases (0: never stop early).
    pub failures_max: usize,
    /// Set it (from a Ctrl-C or SIGTERM handler) to stop the campaign: the
    /// running program's group is killed at once, no further case starts,
    /// and the summary of the cases finished so far is marked interrupted.
    pub interrupt: Arc<AtomicBool>,
}

impl Default for CampaignOptions {
    fn default() -> Self {
        Self {
            seed: 0,
            cases: 20,
            kills_per_case_max: 3,
            failpoints: Vec::new(),
            counted_failpoints: Vec::new(),
            hits_per_failpoint_max: 100_000,
            plans: Vec::new(),
            root: std::env::temp_dir(),
            run_timeout: None,
            failures_max: 0,
            interrupt: Arc::new(AtomicBool::new(false)),
        }
    }
}

/// What the caller sees while a campaign runs.
#[derive(Debug, Clone, Copy, Default)]
pub struct Tally {
    /// Cases finished.
    pub cases: u64,
    /// Kills landed.
    pub kills: u64,
    /// Failing cases.
    pub failures: u64,
    /// Random cases planned (failpoint cases are open-ended).
    pub random_cases: u64,
}

/// Runs a campaign of `program` under `options`, calling `on_case` after
/// every case. The campaign's directory (`crashproof-kill-*` under
/// `options.root`) is removed at the end, also when the campaign is refused
/// or interrupted; when a case failed, only the failing cases' directories
/// are kept in it (the summary's notes name it).
///
/// Refused before any case (see `clean_run`): a clean run that fails, that
/// leaves no file in its directory, that touches another run's directory,
/// checks that cannot fail or that pass on damaged state. After every case
/// the clean runs' directories and the campaign directory are checked
/// untouched ([`CampaignError::NotIsolated`]).
///
/// Order: the clean run; every hit of each `failpoints` name (one case per
/// hit, until a run finishes before the hit); the hit count of each
/// `counted_failpoints` name (by killing at hits 1, 2, 4, ... and then
/// bisecting; every probe is a checked case too); the random cases, whose
/// kill points are drawn among times, progress lines and hits of every
/// failpoint whose count is now known. With `plans`, exactly those cases.
pub fn run_campaign(
    program: &Program,
    checks: &[&dyn Check],
    options: &CampaignOptions,
    on_case: &mut dyn FnMut(&Tally),
) -> Result<Summary, CampaignError> {
    let started = Instant::now();
    let root = tempfile::Builder::new()
        .prefix("crashproof-kill-")
        .tempdir_in(&options.root)
        .map_err(AttemptError::from)?;
    let interrupt = options.interrupt.as_ref();
    let (clean, isolation) =
        clean_runs(program, checks, root.path(), options.run_timeout, interrupt)?;
    let run_timeout = options
        .run_timeout
        .unwrap_or_else(|| (clean.elapsed * 20).max(Duration::from_secs(10)));
    let mut cases = Cases {
        setup: CaseSetup {
            program,
            root: root.path(),
            run_timeout,
            checks,
            clean_stdout: &clean.stdout,
            interrupt,
        },
        isolation: &isolation,
        summary: Summary::new(options.seed, program, checks, &clean),
        tally: Tally {
            random_cases: u64::from(options.cases),
            ..Tally::default()
        },
        on_case,
        failures_max: options.failures_max,
    };
    // `Stop` ends the campaign early (enough failures, interrupted); errors
    // propagate.
    let ran = if options.plans.is_empty() {
        all_cases(&mut cases, &clean, options)
    } else {
        options.plans.iter().enumerate().try_for_each(|(i, plan)| {
            cases.run(format!("replayed case {}", i + 1), plan)?;
            cases.enough()
        })
    };
    let mut summary = cases.summary;
    match ran {
        Ok(()) | Err(Stop::Enough) => {}
        Err(Stop::Interrupted) => summary.interrupted = true,
        Err(Stop::Error(e)) => return Err(e),
    }
    summary.elapsed = started.elapsed();
    if !summary.failures.is_empty() {
        // Keep only the failing cases' directories (they live under the
        // root); the clean runs' are of no use to the reader.
        for dir in isolation.clean_dirs() {
            std::fs::remove_dir_all(dir).map_err(AttemptError::from)?;
        }
        let kept = root.keep();
        summary.notes.push(format!(
            "failing case directories are kept under {}",
            kept.display()
        ));
    }
    Ok(summary)
}

/// How a random case's label starts.
const RANDOM_LABEL: &str = "random case";

/// Why the case loop stopped early.
enum Stop {
    /// `failures_max` failing cases were found.
    Enough,
    /// The caller's interrupt flag was set.
    Interrupted,
    /// The harness failed.
    Error(CampaignError),
}

impl From<AttemptError> for Stop {
    fn from(e: AttemptError) -> Self {
        Stop::Error(e.into())
    }
}

/// Runs cases and counts them in.
struct Cases<'a, 'b> {
    setup: CaseSetup<'a>,
    isolation: &'a Isolation,
    summary: Summary,
    tally: Tally,
    on_case: &'b mut dyn FnMut(&Tally),
    failures_max: usize,
}

impl Cases<'_, '_> {
    /// Runs one case; `Ok(true)` when a kill landed in it.
    fn run(&mut self, label: String, plan: &Plan) -> Result<bool, Stop> {
        if self.setup.interrupt.load(Ordering::SeqCst) {
            return Err(Stop::Interrupted);
        }
        let random = label.starts_with(RANDOM_LABEL);
        let report = run_case(&self.setup, plan)?;
        if report.interrupted {
            return Err(Stop::Interrupted);
        }
        self.isolation.check(&label).map_err(Stop::Error)?;
        let landed = report.kills > 0;
        self.tally.cases += 1;
        self.tally.kills += report.kills;
        self.tally.failures += u64::from(report.failure.is_some());
        self.summary.add(label, random, report);
        (self.on_case)(&self.tally);
        Ok(landed)
    }

    /// `Err(Stop::Enough)` once `failures_max` cases have failed.
    fn enough(&self) -> Result<(), Stop> {
        if self.failures_max > 0 && self.summary.failures.len() >= self.failures_max {
            return Err(Stop::Enough);
        }
        Ok(())
    }

    /// Kills the first run at hit `hit` of `name`; `Ok(true)` when it landed
    /// (the clean run has at least `hit` hits).
    fn at_hit(&mut self, name: &str, hit: u64, why: &str) -> Result<bool, Stop> {
        let plan = Plan(vec![KillPoint::Failpoint {
            name: name.to_string(),
            hit,
        }]);
        self.run(format!("failpoint {name} hit {hit} ({why})"), &plan)
    }
}

fn all_cases(
    cases: &mut Cases<'_, '_>,
    clean: &CleanRun,
    options: &CampaignOptions,
) -> Result<(), Stop> {
    let max = options.hits_per_failpoint_max;
    for name in &options.failpoints {
        let mut hits = 0;
        // Record the count so far even when the loop stops early.
        let mut enumerate = || -> Result<(), Stop> {
            while hits < max {
                let landed = cases.at_hit(name, hits + 1, "every hit")?;
                hits += u64::from(landed);
                cases.enough()?;
                if !landed {
                    break;
                }
            }
            Ok(())
        };
        let done = enumerate();
        cases.summary.failpoint_hits.insert(name.clone(), hits);
        done?;
    }
    for name in &options.counted_failpoints {
        let mut hits = 0;
        let done = count_hits(cases, name, max, &mut hits);
        cases
            .summary
            .failpoint_hits_counted
            .insert(name.clone(), hits);
        done?;
    }
    let known: Vec<(String, u64)> = cases
        .summary
        .failpoint_hits
        .iter()
        .chain(&cases.summary.failpoint_hits_counted)
        .filter(|&(_, &hits)| hits > 0)
        .map(|(name, &hits)| (name.clone(), hits))
        .collect();
    for case in 0..u64::from(options.cases) {
        let case_seed = child_seed(options.seed, case);
        let plan = random_plan(case_seed, clean, &known, options.kills_per_case_max);
        cases.run(
            format!("{RANDOM_LABEL} {case} (case seed {case_seed})"),
            &plan,
        )?;
        cases.enough()?;
    }
    Ok(())
}

/// Finds the hits of `name` in a clean run (at most `max`) by killing at
/// hits 1, 2, 4, ... until a kill is outrun, then bisecting between the
/// last landed and the first outrun hit. `hits` holds the best lower bound
/// so far.
fn count_hits(cases: &mut Cases<'_, '_>, name: &str, max: u64, hits: &mut u64) -> Result<(), Stop> {
    let why = "counting";
    let mut outrun = None;
    let mut probe = 1;
    while probe <= max {
        let landed = cases.at_hit(name, probe, why)?;
        if landed {
            *hits = probe;
        }
        cases.enough()?;
        if !landed {
            outrun = Some(probe);
            break;
        }
        probe = probe.saturating_mul(2);
    }
    // Past `max` counts as outrun: the count is capped there.
    let mut high = outrun.unwrap_or(max.saturating_add(1));
    // Invariant: hit `*hits` lands (or is 0), hit `high` is outrun.
    while high - *hits > 1 {
        let mid = *hits + (high - *hits) / 2;
        if cases.at_hit(name, mid, why)? {
            *hits = mid;
        } else {
            high = mid;
        }
        cases.enough()?;
    }
    Ok(())
}

/// 1..=`kills_max` kill points, each of a kind drawn uniformly among those
/// available: a time uniform in the clean run's duration; a progress line
/// (when the clean run wrote any); a hit of a failpoint with a known count
/// (exact, so it always lands in a run that gets as far as the clean run).
fn random_plan(
    case_seed: u64,
    clean: &CleanRun,
    failpoints: &[(String, u64)],
    kills_max: u32,
) -> Plan {
    let mut rng = ChaCha8Rng::seed_from_u64(case_seed);
    let kills = 1 + below(&mut rng, u64::from(kills_max.max(1)));
    let micros = u64::try_from(clean.elapsed.as_micros()).unwrap_or(u64::MAX);
    let kinds = 1 + u64::from(clean.progress_lines > 0) + u64::from(!failpoints.is_empty());
    let mut plan = Plan::default();
    for _ in 0..kills {
        let mut kind = below(&mut rng, kinds);
        if clean.progress_lines == 0 {
            // Skip the progress kind when there is none.
            kind += u64::from(kind >= 1);
        }
        plan.0.push(match kind {
            0 => KillPoint::Time(Duration::from_micros(below(
                &mut rng,
                micros.saturating_add(1),
            ))),
            1 => KillPoint::Progress(1 + below(&mut rng, clean.progress_lines)),
            _ => {
                let i = usize::try_from(below(&mut rng, failpoints.len() as u64)).unwrap_or(0);
                let (name, hits) = &failpoints[i];
                KillPoint::Failpoint {
                    name: name.clone(),
                    hit: 1 + below(&mut rng, *hits),
                }
            }
        });
    }
    plan
}

/// A number in `0..n` (0 when `n == 0`); modulo bias is irrelevant here.
fn below(rng: &mut ChaCha8Rng, n: u64) -> u64 {
    if n == 0 { 0 } else { rng.next_u64() % n }
}

/// The `n`th case's seed: SplitMix64 of the campaign seed and `n`, so a
/// case's plan does not depend on the cases before it.
fn child_seed(seed: u64, n: u64) -> u64 {
    let mut x = seed ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn random_plans_are_a_function_of_the_seed_and_stay_in_range() {
        let clean = CleanRun {
            stdout: b"x\n".to_vec(),
            elapsed: Duration::from_millis(40),
            progress_lines: 100,
        };
        let failpoints = [("a".to_string(), 3), ("b".to_string(), 7)];
        let mut kinds = [0; 3];
        for case in 0..300 {
            let seed = child_seed(7, case);
            let plan = random_plan(seed, &clean, &failpoints, 3);
            assert_eq!(plan, random_plan(seed, &clean, &failpoints, 3));
            assert!((1..=3).contains(&plan.0.len()), "{plan}");
            for point in &plan.0 {
                match point {
                    KillPoint::Time(t) => {
                        assert!(*t <= clean.elapsed, "{plan}");
                        kinds[0] += 1;
                    }
                    KillPoint::Progress(n) => {
                        assert!((1..=100).contains(n), "{plan}");
                        kinds[1] += 1;
                    }
                    KillPoint::Failpoint { name, hit } => {
                        let hits = failpoints.iter().find(|(n, _)| n == name).unwrap().1;
                        assert!((1..=hits).contains(hit), "{plan}");
                        kinds[2] += 1;
                    }
                }
            }
        }
        assert!(kinds.iter().all(|&k| k > 0), "every kind drawn: {kinds:?}");
        let quiet = CleanRun {
            progress_lines: 0,
            ..clean
        };
        for case in 0..50 {
            let plan = random_plan(case, &quiet, &failpoints, 5);
            assert!(
                plan.0.iter().all(|p| !matches!(p, KillPoint::Progress(_))),
                "no progress points without progress lines: {plan}"
            );
        }
        assert!(
            random_plan(3, &quiet, &[], 5)
                .0
                .iter()
                .all(|p| matches!(p, KillPoint::Time(_))),
            "only times without progress lines or failpoints"
        );
    }
}
