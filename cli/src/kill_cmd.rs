//! `crashproof kill`: run a real program on a real directory, SIGKILL it
//! again and again, restart it until it exits 0, and check the result.
//! Without a program, the program is the core-runner job
//! (`crashproof core-runner-job`, the explorer's `core-runner` job).

mod compare;
mod progress_bar;
mod replay_line;

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use crashproof_kill::core_runner_job::{Variant, VerifyCheck};
use crashproof_kill::{
    CampaignError, CampaignOptions, Check, KillPoint, Plan, Program, ShellCheck, StdoutEquals,
    Summary, Verdict, run_campaign,
};

use crate::exit::{Exit, harness_error, interrupted};
use crate::interrupt::Interrupt;

/// Arguments of `crashproof kill`.
#[derive(Debug, Args)]
pub struct KillArgs {
    /// Random cases: each kills the program 1..=--kills-per-case-max times,
    /// at random times, progress lines and hits of counted failpoints.
    #[arg(long, default_value_t = 20)]
    pub cases: u32,
    /// Seed of every random choice. Without one, drawn from the OS and
    /// printed first.
    #[arg(long, env = "CRASHPROOF_SEED")]
    pub seed: Option<u64>,
    /// Where case directories are created (inside a `crashproof-kill-*`
    /// directory, removed unless a case fails); nothing outside it is
    /// touched. Default: the system temp directory.
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// A shell command that exits 0 when a finished case is right; `{dir}`
    /// in it and CRASHPROOF_DIR name the case directory. Runs after the
    /// stdout comparison.
    #[arg(long)]
    pub check: Option<String>,
    /// Do not compare the last run's stdout with the clean run's (then
    /// --check must say what is right).
    #[arg(long, requires = "check")]
    pub ignore_stdout: bool,
    /// Most kills in one random case.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..))]
    pub kills_per_case_max: u32,
    /// Kill every hit of every failpoint of the core's catalogue, one case
    /// per hit (the program must be built with crashproof-core's
    /// `failpoints` feature and call fail::FailScenario::setup()).
    #[arg(long)]
    pub failpoints: bool,
    /// Kill every hit of this failpoint (repeatable; instead of the
    /// catalogue).
    #[arg(long = "failpoint", value_name = "NAME")]
    pub failpoint: Vec<String>,
    /// Count this failpoint's hits (a few cases), so random cases also kill
    /// at random hits of it (repeatable): for frequent failpoints, such as
    /// the core-runner job's `core-runner-job.after_item`.
    #[arg(long = "count-failpoint", value_name = "NAME")]
    pub count_failpoint: Vec<String>,
    /// Replay exactly one case: its kill points, `;`-separated, as a
    /// failing case prints them (`fp:NAME*HIT`, `progress:N`, `time:Nus`).
    #[arg(long)]
    pub plan: Option<String>,
    /// With --plan: run the plan up to this many times, stopping at the
    /// first failing try, and say which try it was. `time:` and
    /// `progress:` kills land near, not exactly at, the recorded instants,
    /// so one replay of them may not reproduce a failure; `fp:` kills are
    /// exact.
    #[arg(long, requires = "plan", value_parser = clap::value_parser!(u32).range(1..))]
    pub repeat: Option<u32>,
    /// Most time one run may take, in milliseconds (default: 20x the clean
    /// run, at least 10 s).
    #[arg(long)]
    pub run_timeout_ms: Option<u64>,
    /// Stop after this many failing cases (0: run every case).
    #[arg(long, default_value_t = 3)]
    pub failures_max: usize,
    /// Print the summary as JSON on stdout (progress and messages stay on
    /// stderr).
    #[arg(long)]
    pub json: bool,
    /// Instead of one campaign: time `crashproof explore` on the same job
    /// (the core-runner job, N=1000, K=50, drop-unsynced) and this campaign
    /// with one kill per case, both as processes, alternating, and print
    /// states/s next to cases/s and killed cases/s.
    #[arg(long)]
    pub compare_explore: bool,
    /// With --compare-explore: rounds, each running both commands once
    /// (default 3).
    #[arg(long, requires = "compare_explore", value_parser = clap::value_parser!(u32).range(1..=100))]
    pub compare_rounds: Option<u32>,
    /// Core-runner job only: the correct job or a deliberately broken one.
    #[arg(long, value_enum)]
    pub variant: Option<Variant>,
    /// Core-runner job only: N, items in the job (default 1000).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub items: Option<u64>,
    /// Core-runner job only: K, commit every this many items (default 50).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub checkpoint_every: Option<u64>,
    /// Core-runner job only: also keep a per-item side file, `items.log`.
    #[arg(long)]
    pub items_log: bool,
    /// The program and its arguments, after `--`; `{dir}` in them and
    /// CRASHPROOF_DIR name the case directory. Without one: the core-runner
    /// job, also checked for loads older than an acknowledged checkpoint
    /// and for leftovers.
    #[arg(last = true, value_name = "PROGRAM")]
    pub program: Vec<String>,
}

/// The core-runner job's retention (its `--keep` default).
const REFERENCE_KEEP: usize = 2;

impl KillArgs {
    fn is_core_runner_job(&self) -> bool {
        self.program.is_empty()
    }

    /// Flags that only make sense for some runs: one given where it would
    /// be ignored is a usage error, never silently dropped.
    fn validate(&self) -> Result<(), String> {
        if !self.is_core_runner_job()
            && (self.variant.is_some()
                || self.items.is_some()
                || self.checkpoint_every.is_some()
                || self.items_log)
        {
            return Err(
                "--variant, --items, --checkpoint-every and --items-log are for the core-runner job; drop them or the program after --".into(),
            );
        }
        if self.plan.is_some()
            && (self.failpoints || !self.failpoint.is_empty() || !self.count_failpoint.is_empty())
        {
            return Err("--plan replays exactly one case; drop --failpoints, --failpoint and --count-failpoint".into());
        }
        if self.compare_explore {
            if !self.is_core_runner_job() || self.items.is_some() || self.checkpoint_every.is_some()
            {
                return Err("--compare-explore runs the core-runner job with the explorer's N and K; drop the program, --items and --checkpoint-every".into());
            }
            if self.plan.is_some() || self.failpoints || !self.failpoint.is_empty() {
                return Err("--compare-explore runs random single-kill cases; drop --plan and the failpoint flags".into());
            }
        }
        for name in self.failpoint.iter().chain(&self.count_failpoint) {
            format!("fp:{name}")
                .parse::<KillPoint>()
                .map_err(|e| format!("--failpoint {name}: {e}"))?;
        }
        Ok(())
    }

    /// The program: the one given, or the core-runner job in this binary.
    fn program(&self, items: u64, checkpoint_every: u64) -> Result<Program, String> {
        if !self.is_core_runner_job() {
            return Program::new(self.program.clone()).map_err(|e| e.to_string());
        }
        let exe = std::env::current_exe()
            .map_err(|e| format!("cannot find this executable to run the core-runner job: {e}"))?;
        let variant = self.variant.unwrap_or(Variant::Correct);
        let mut argv = vec![
            exe.to_string_lossy().into_owned(),
            "core-runner-job".into(),
            "--dir".into(),
            "{dir}".into(),
            "--items".into(),
            items.to_string(),
            "--checkpoint-every".into(),
            checkpoint_every.to_string(),
            "--keep".into(),
            REFERENCE_KEEP.to_string(),
            "--variant".into(),
            clap::ValueEnum::to_possible_value(&variant)
                .map(|v| v.get_name().to_string())
                .unwrap_or_default(),
        ];
        if self.items_log {
            argv.push("--items-log".into());
        }
        Program::new(argv).map_err(|e| e.to_string())
    }

    fn options(&self, seed: u64, interrupt: &Interrupt) -> Result<CampaignOptions, String> {
        let tries = self.repeat.map_or(1, |n| n as usize);
        let plans = match &self.plan {
            Some(plan) => vec![plan.parse::<Plan>().map_err(|e| e.to_string())?; tries],
            None => Vec::new(),
        };
        let failpoints = if self.failpoints {
            crashproof_core::failpoint::CATALOGUE
                .iter()
                .map(|d| d.name.to_string())
                .collect()
        } else {
            self.failpoint.clone()
        };
        Ok(CampaignOptions {
            seed,
            cases: self.cases,
            kills_per_case_max: self.kills_per_case_max,
            failpoints,
            counted_failpoints: self.count_failpoint.clone(),
            plans,
            root: self.dir.clone().unwrap_or_else(std::env::temp_dir),
            run_timeout: self.run_timeout_ms.map(Duration::from_millis),
            // --repeat runs until the failure reappears.
            failures_max: if self.repeat.is_some() {
                1
            } else {
                self.failures_max
            },
            interrupt: interrupt.flag().clone(),
            ..CampaignOptions::default()
        })
    }
}

/// What `run` needs besides the arguments: the checks it built.
struct Checks {
    stdout: Option<StdoutEquals>,
    verify: Option<VerifyCheck>,
    shell: Option<ShellCheck>,
}

impl Checks {
    fn new(args: &KillArgs) -> Self {
        Self {
            stdout: (!args.ignore_stdout).then_some(StdoutEquals),
            verify: args
                .is_core_runner_job()
                .then(|| VerifyCheck::new(REFERENCE_KEEP)),
            shell: args.check.clone().map(|command| ShellCheck { command }),
        }
    }

    fn list(&self) -> Vec<&dyn Check> {
        let mut list: Vec<&dyn Check> = Vec::new();
        if let Some(c) = &self.stdout {
            list.push(c);
        }
        if let Some(c) = &self.verify {
            list.push(c);
        }
        if let Some(c) = &self.shell {
            list.push(c);
        }
        list
    }
}

/// Runs the campaign (or the side-by-side comparison) and prints the
/// summary on stdout.
pub fn run(args: &KillArgs) -> Exit {
    if let Err(e) = args.validate() {
        return harness_error(e);
    }
    let seed = match (args.seed, &args.plan) {
        (Some(seed), _) => seed,
        (None, Some(_)) => 0,
        (None, None) => {
            let seed = os_random_seed();
            let line = format!(
                "seed: {seed} (drawn from the OS; pass --seed {seed} or CRASHPROOF_SEED={seed} to repeat)"
            );
            if args.json {
                eprintln!("{line}");
            } else {
                println!("{line}");
            }
            seed
        }
    };
    let interrupt = match Interrupt::install() {
        Ok(i) => i,
        Err(e) => return harness_error(format!("cannot install the Ctrl-C handler: {e}")),
    };
    if args.compare_explore {
        return compare::run(args, seed, &interrupt);
    }
    let items = args.items.unwrap_or(1000);
    let checkpoint_every = args.checkpoint_every.unwrap_or(50);
    let (program, options) = match (
        args.program(items, checkpoint_every),
        args.options(seed, &interrupt),
    ) {
        (Ok(p), Ok(o)) => (p, o),
        (Err(e), _) | (_, Err(e)) => return harness_error(e),
    };
    let checks = Checks::new(args);
    let mut summary = match campaign(&program, &checks.list(), &options) {
        Ok(s) => s,
        Err(e) => return campaign_error(e),
    };
    if let Some(tries) = args.repeat {
        summary.notes.push(repeat_note(&summary, tries));
    }
    report(args, &summary)
}

/// A campaign that did not run: interrupted (130) or refused (2).
fn campaign_error(e: CampaignError) -> Exit {
    match e {
        CampaignError::Interrupted => interrupted(e),
        e => harness_error(e),
    }
}

/// What `--repeat` found: on which try the failure reappeared, or that it
/// did not.
fn repeat_note(summary: &Summary, tries: u32) -> String {
    match summary.verdict() {
        Verdict::Violation => format!(
            "--repeat: the failure reappeared on try {} of {tries}",
            summary.cases
        ),
        Verdict::Interrupted => format!(
            "--repeat: interrupted after {} of {tries} tries, none failing",
            summary.cases
        ),
        _ => format!(
            "--repeat: no failure in {tries} tries of the plan; time and progress kills land near, not exactly at, the recorded instants: raise --repeat"
        ),
    }
}

/// Runs a campaign with a progress bar (when stderr is a terminal, not CI).
fn campaign(
    program: &Program,
    checks: &[&dyn Check],
    options: &CampaignOptions,
) -> Result<Summary, crashproof_kill::CampaignError> {
    let bar = progress_bar::CaseBar::start();
    let summary = run_campaign(program, checks, options, &mut |tally| bar.update(tally));
    bar.finish();
    summary
}

/// Prints the summary (text or JSON) and maps its verdict to the exit code.
fn report(args: &KillArgs, summary: &Summary) -> Exit {
    if args.json {
        println!("{:#}", summary.to_json());
    } else {
        print!(
            "{}",
            summary.render(&|plan| replay_line::replay_command(args, plan))
        );
    }
    exit_of(summary)
}

/// The exit code of a campaign's verdict, with the message of every code
/// but 0 and 1 on stderr.
fn exit_of(summary: &Summary) -> Exit {
    match summary.verdict() {
        Verdict::Clean => Exit::Clean,
        Verdict::Violation => Exit::Violation,
        Verdict::Interrupted if summary.failures.is_empty() => interrupted(
            "the summary covers the cases finished before the signal; the program's processes were killed and the campaign's directories removed",
        ),
        Verdict::Interrupted => interrupted(
            "the summary covers the cases finished before the signal; the program's processes were killed and the campaign's directories removed, but for the failing cases' (noted above)",
        ),
        Verdict::NothingKilled => harness_error(
            "no kill landed before the program finished, so nothing was tested; run more cases, a slower job, or kill at failpoints",
        ),
        Verdict::FailpointsNeverHit => harness_error(
            "no failpoint was ever hit; build the program with crashproof-core's `failpoints` feature and call fail::FailScenario::setup() in main",
        ),
    }
}

/// A seed from the OS's randomness (std's hash keys are seeded from it).
fn os_random_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(0x6b69_6c6c_2d39);
    h.finish()
}
