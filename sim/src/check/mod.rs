//! One call puts a workload under the explorer in a test: [`CrashTest`].
//!
//! ```no_run
//! # use crashproof_sim::explore::Workload;
//! # fn my_workload() -> Box<dyn Workload> { unimplemented!() }
//! use crashproof_sim::check::CrashTest;
//!
//! let workload = my_workload();
//! CrashTest::new(workload.as_ref()).run(); // every crash model, every single crash
//! ```
//!
//! On a violation the test panics with the readable report: the oracles
//! that ran, the violations grouped by bug, the first ones with their
//! marked trace and a replay line for this very test,
//! `CRASHPROOF_REPLAY='<schedule>' CRASHPROOF_SEED=<seed> cargo test
//! [--release] -p <package> --test <target> -- --exact <test> --nocapture`
//! (the profile, package and target the test ran in), which makes the same
//! test replay just that case and print its trace. A run that checks nothing
//! panics too, with what to change.
//!
//! Environment ([`TestEnv`]): `CRASHPROOF_SEED` (the seed),
//! `CRASHPROOF_REPLAY` (replay one schedule instead of exploring),
//! `PROPTEST_CASES` (random schedules, with [`CrashTest::random`]).

mod env;
mod failure;

use crashproof_fault::{CrashModel, KillSchedule};

use crate::explore::{
    ExploreOptions, Explorer, Mode, Plan, REPLAY_VAR, RandomConfig, ReplayLine, Workload,
};

pub use env::{CASES_VAR, EnvError, TestEnv};
pub use failure::{Checked, CrashTestFailure};

/// A crash test of one workload: which explorations to run (by default
/// exhaustive single crashes under every crash model), with which options,
/// in which environment. Build it, then [`CrashTest::run`] it (panics on a
/// finding, for `#[test]` functions) or [`CrashTest::check`] it (returns
/// the finding).
pub struct CrashTest<'w> {
    workload: &'w dyn Workload,
    models: Vec<CrashModel>,
    modes: Vec<Mode>,
    /// Whether the random mode's case count comes from `PROPTEST_CASES`
    /// when that is set ([`CrashTest::random`]).
    cases_from_env: bool,
    options: ExploreOptions,
    env: TestEnv,
}

impl<'w> CrashTest<'w> {
    /// A crash test of `workload`: exhaustive single crashes under every
    /// crash model, default options, this process's environment.
    pub fn new(workload: &'w dyn Workload) -> Self {
        Self {
            workload,
            models: CrashModel::ALL.to_vec(),
            modes: vec![Mode::Exhaustive],
            cases_from_env: false,
            options: ExploreOptions::default(),
            env: TestEnv::from_process(),
        }
    }

    /// Explores under `models` only (default: every crash model).
    pub fn models(mut self, models: &[CrashModel]) -> Self {
        self.models = models.to_vec();
        self
    }

    /// Runs exactly `modes`, in order (default: exhaustive single crashes).
    pub fn modes(mut self, modes: Vec<Mode>) -> Self {
        self.modes = modes;
        self
    }

    /// Adds every crash of each recovery run ([`Mode::TwoCrashes`]):
    /// quadratic in the run's length.
    pub fn two_crashes(self) -> Self {
        self.with_mode(Mode::TwoCrashes)
    }

    /// Adds the sync-EIO sweep ([`Mode::SyncEio`]): every file sync fails
    /// in turn, then a crash at every later step.
    pub fn sync_eio(self) -> Self {
        self.with_mode(Mode::SyncEio)
    }

    /// Adds random multi-crash schedules ([`Mode::Random`]), as many as
    /// `PROPTEST_CASES` says, else [`RandomConfig::default`]'s.
    pub fn random(mut self) -> Self {
        self.cases_from_env = true;
        self.with_mode(Mode::Random(RandomConfig::default()))
    }

    /// Adds random schedules drawn as `config` says (`PROPTEST_CASES` does
    /// not change it).
    pub fn random_with(self, config: RandomConfig) -> Self {
        self.with_mode(Mode::Random(config))
    }

    fn with_mode(mut self, mode: Mode) -> Self {
        self.modes.push(mode);
        self
    }

    /// Explores with `options` (their seed gives way to `CRASHPROOF_SEED`
    /// when that is set; their replay line to this test's).
    ///
    /// Every run happens on a thread that cannot write the real disk (see
    /// [`crate::explore::Sandbox`]): a test whose code writes a real file
    /// instead of going through the simulator fails with the path.
    pub fn options(mut self, options: ExploreOptions) -> Self {
        self.options = options;
        self
    }

    /// The package the replay line names (default: `CARGO_PKG_NAME`, which
    /// `cargo test` sets; pass `env!("CARGO_PKG_NAME")` to be sure).
    pub fn package(mut self, package: impl Into<String>) -> Self {
        self.env.package = Some(package.into());
        self
    }

    /// The test the replay line names (default: the name the test harness
    /// gave this thread, which is the test's).
    pub fn test_name(mut self, test: impl Into<String>) -> Self {
        self.env.test = Some(test.into());
        self
    }

    /// Reads `env` instead of this process's environment (for tests of a
    /// crash test itself: no process-global variable is set).
    pub fn env(mut self, env: TestEnv) -> Self {
        self.env = env;
        self
    }

    /// Runs the test: with `CRASHPROOF_REPLAY` set, replays that schedule
    /// and prints its marked trace and verdict; otherwise explores every
    /// mode under every model and returns the merged report. Any violation,
    /// an exploration that checked nothing, or an unusable environment is
    /// the `Err`, whose `Display` is the readable report.
    pub fn check(self) -> Result<Checked, CrashTestFailure> {
        let test = self.env.test.clone();
        let fail = |failure| CrashTestFailure::new(failure, test.clone());
        let mut options = self.options.clone();
        if let Some(seed) = self.env.seed().map_err(|e| fail(e.into()))? {
            options.seed = seed;
        }
        options.replay = match &self.env.test {
            Some(test) => ReplayLine::Env {
                package: self.env.package.clone(),
                target: self.env.target.clone(),
                release: self.env.release,
                test: test.clone(),
            },
            // Without the test's name no command replays it: say how in
            // code rather than print a command that runs something else.
            None => ReplayLine::Library,
        };
        let explorer = Explorer::new(self.workload, options);
        if let Some(text) = &self.env.replay {
            return self.replay(&explorer, text).map_err(fail);
        }
        let plan = self.plan().map_err(|e| fail(e.into()))?;
        let report = explorer.explore(&plan).map_err(|e| fail(e.into()))?;
        if report.is_clean() {
            Ok(Checked::Explored(report))
        } else {
            Err(fail(failure::Failure::Violations(Box::new(report))))
        }
    }

    /// [`CrashTest::check`], panicking with the readable report on any
    /// finding (what a `#[test]` wants); prints the report (shown with
    /// `--nocapture`) and returns what was checked otherwise.
    #[allow(clippy::panic)] // A test helper fails its test by panicking, as `assert!` does.
    #[track_caller]
    pub fn run(self) -> Checked {
        match self.check() {
            Ok(checked) => {
                println!("{checked}");
                checked
            }
            Err(failure) => panic!("{failure}"),
        }
    }

    /// The plan: the modes under the models, the random case count from
    /// the environment where asked.
    fn plan(&self) -> Result<Plan, EnvError> {
        let cases = if self.cases_from_env {
            self.env.cases()?
        } else {
            None
        };
        let modes = self
            .modes
            .iter()
            .map(|mode| match (mode, cases) {
                (Mode::Random(config), Some(cases)) => Mode::Random(RandomConfig {
                    cases,
                    ..config.clone()
                }),
                _ => mode.clone(),
            })
            .collect();
        Ok(Plan {
            models: self.models.clone(),
            modes,
        })
    }

    /// Replays the schedule `text` and prints its trace and verdict.
    fn replay(&self, explorer: &Explorer<'_>, text: &str) -> Result<Checked, failure::Failure> {
        let schedule: KillSchedule = text.parse().map_err(|e| EnvError {
            var: REPLAY_VAR,
            value: text.to_string(),
            reason: format!("is not a kill schedule ({e})"),
        })?;
        let (clean, outcome) = explorer.replay(&schedule)?;
        if let Some(violation) = &outcome.violation {
            let report = explorer.replay_report(&clean, &schedule, &outcome)?;
            return Err(failure::Failure::Replayed {
                violation: Box::new(violation.clone()),
                report: Box::new(report),
            });
        }
        Ok(Checked::Replayed {
            workload: self.workload.name(),
            schedule,
            outcome: Box::new(outcome),
        })
    }
}
