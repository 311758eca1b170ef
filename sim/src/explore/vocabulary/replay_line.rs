//! The line a violation prints to say how to replay it.
//!
//! A user explores their own workload through the library, and the
//! `crashproof` command cannot load it, so the default line says how to
//! replay in code; a crash test (`crashproof_sim::check::CrashTest`) asks
//! for the environment variables that make the same test replay the case;
//! the CLI and the catalogue, whose workloads the command loads by name,
//! ask for the command.

use crashproof_fault::KillSchedule;

use super::options::ExploreOptions;

/// The environment variable that makes a crash test replay one schedule
/// instead of exploring (read by `crashproof_sim::check::CrashTest`).
pub const REPLAY_VAR: &str = "CRASHPROOF_REPLAY";

/// The environment variable that sets the seed of a crash test (and of
/// `crashproof explore`).
pub const SEED_VAR: &str = "CRASHPROOF_SEED";

/// Which form a violation's replay line takes ([`ExploreOptions::replay`]).
///
/// Further forms are added as variants and rendered by
/// [`ReplayLine::render`], nothing else changes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReplayLine {
    /// How to replay in code: the schedule, seed and non-default options to
    /// pass to `Explorer::replay`. For any workload.
    #[default]
    Library,
    /// The `crashproof replay` command, for a workload the command loads by
    /// name (the catalogue's): `cargo run --release -p crashproof -- replay
    /// --workload NAME 'SCHEDULE' --seed S` plus every non-default option.
    Cli,
    /// [`ReplayLine::Cli`] with arguments that size the named workload
    /// repeated after `--workload NAME` (e.g. `--items 16000 --every 50`),
    /// for a workload the command builds from flags: without them the
    /// command would replay a different run.
    CliWithWorkloadArgs(Vec<String>),
    /// The environment variables that make the same test replay just this
    /// case: `CRASHPROOF_REPLAY='SCHEDULE' CRASHPROOF_SEED=S cargo test -p
    /// PACKAGE -- --exact TEST --nocapture`. For a test that runs
    /// `crashproof_sim::check::CrashTest`, which reads them; the test sets
    /// every other option itself, so only the seed is repeated.
    Env {
        /// The package whose tests hold the test (`-p`); `None` leaves it
        /// out, and `cargo test` looks in every package of the workspace.
        package: Option<String>,
        /// The test's full name as the test harness lists it
        /// (`module::test_fn`).
        test: String,
    },
}

/// One option that changes what a schedule replays to, when it differs
/// from its default: its field name, its CLI flag and its value.
struct Changed {
    field: &'static str,
    flag: &'static str,
    value: usize,
}

/// The options besides the seed that a replay must repeat: the enumeration
/// limits (an `idx=` selector indexes the enumeration they allow) and the
/// sector size (it decides how writes tear).
fn changed(options: &ExploreOptions) -> Vec<Changed> {
    let defaults = ExploreOptions::default();
    [
        (
            "states_per_point_max",
            "--cap",
            options.states_per_point_max,
            defaults.states_per_point_max,
        ),
        (
            "picks_per_capped_point",
            "--picks",
            options.picks_per_capped_point,
            defaults.picks_per_capped_point,
        ),
        (
            "sector_size_bytes",
            "--sector-size",
            options.sector_size_bytes,
            defaults.sector_size_bytes,
        ),
    ]
    .into_iter()
    .filter(|(_, _, value, default)| value != default)
    .map(|(field, flag, value, _)| Changed { field, flag, value })
    .collect()
}

impl ReplayLine {
    /// The line that replays `schedule` of workload `workload` under
    /// `options` (seed and every option that changes the case included).
    pub fn render(
        &self,
        workload: &str,
        schedule: &KillSchedule,
        options: &ExploreOptions,
    ) -> String {
        let changed = changed(options);
        match self {
            ReplayLine::Library => {
                let fields: String = changed
                    .iter()
                    .map(|c| format!(" {}: {},", c.field, c.value))
                    .collect();
                format!(
                    "in code, with workload `{workload}`: Explorer::new(&workload, ExploreOptions {{ \
                     seed: {},{fields} ..ExploreOptions::default() }}).replay(&\"{schedule}\".parse()?)",
                    options.seed
                )
            }
            ReplayLine::Cli => cli_line(workload, &[], schedule, options.seed, &changed),
            ReplayLine::CliWithWorkloadArgs(args) => {
                cli_line(workload, args, schedule, options.seed, &changed)
            }
            ReplayLine::Env { package, test } => {
                let package = package
                    .as_ref()
                    .map_or(String::new(), |p| format!(" -p {p}"));
                format!(
                    "{REPLAY_VAR}='{schedule}' {SEED_VAR}={} cargo test{package} -- --exact {test} \
                     --nocapture",
                    options.seed
                )
            }
        }
    }
}

/// `crashproof replay` of `schedule` on `workload` (sized by
/// `workload_args`) with the seed and every changed option.
fn cli_line(
    workload: &str,
    workload_args: &[String],
    schedule: &KillSchedule,
    seed: u64,
    changed: &[Changed],
) -> String {
    let args: String = workload_args.iter().map(|a| format!(" {a}")).collect();
    let flags: String = changed
        .iter()
        .map(|c| format!(" {} {}", c.flag, c.value))
        .collect();
    format!(
        "cargo run --release -p crashproof -- replay --workload {workload}{args} '{schedule}' \
         --seed {seed}{flags}"
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn check(line: ReplayLine, options: ExploreOptions, expect: &str) {
        let schedule: KillSchedule = "step:7@drop-unsynced#idx=0".parse().unwrap();
        assert_eq!(line.render("no-dir-fsync", &schedule, &options), expect);
    }

    #[test]
    fn default_options_print_only_the_seed() {
        check(
            ReplayLine::Cli,
            ExploreOptions::default(),
            "cargo run --release -p crashproof -- replay --workload no-dir-fsync \
             'step:7@drop-unsynced#idx=0' --seed 0",
        );
        check(
            ReplayLine::Library,
            ExploreOptions::default(),
            "in code, with workload `no-dir-fsync`: Explorer::new(&workload, ExploreOptions { \
             seed: 0, ..ExploreOptions::default() }).replay(&\"step:7@drop-unsynced#idx=0\".parse()?)",
        );
    }

    #[test]
    fn a_crash_test_replays_through_the_environment() {
        let options = ExploreOptions {
            seed: 9,
            sector_size_bytes: 4096,
            ..ExploreOptions::default()
        };
        check(
            ReplayLine::Env {
                package: Some("my-app".into()),
                test: "tests::survives_crashes".into(),
            },
            options.clone(),
            "CRASHPROOF_REPLAY='step:7@drop-unsynced#idx=0' CRASHPROOF_SEED=9 cargo test -p my-app \
             -- --exact tests::survives_crashes --nocapture",
        );
        check(
            ReplayLine::Env {
                package: None,
                test: "survives_crashes".into(),
            },
            options,
            "CRASHPROOF_REPLAY='step:7@drop-unsynced#idx=0' CRASHPROOF_SEED=9 cargo test -- --exact \
             survives_crashes --nocapture",
        );
    }

    #[test]
    fn a_sized_workload_repeats_its_size() {
        check(
            ReplayLine::CliWithWorkloadArgs(vec!["--items".into(), "60".into()]),
            ExploreOptions::default(),
            "cargo run --release -p crashproof -- replay --workload no-dir-fsync --items 60 \
             'step:7@drop-unsynced#idx=0' --seed 0",
        );
    }

    #[test]
    fn every_option_that_changes_the_case_is_repeated() {
        let options = ExploreOptions {
            seed: 9,
            states_per_point_max: 4,
            picks_per_capped_point: 2,
            sector_size_bytes: 4096,
            check_determinism: true,
            violations_in_full_max: 1,
            replay: ReplayLine::Cli,
            ..ExploreOptions::default()
        };
        check(
            ReplayLine::Cli,
            options.clone(),
            "cargo run --release -p crashproof -- replay --workload no-dir-fsync \
             'step:7@drop-unsynced#idx=0' --seed 9 --cap 4 --picks 2 --sector-size 4096",
        );
        check(
            ReplayLine::Library,
            options,
            "in code, with workload `no-dir-fsync`: Explorer::new(&workload, ExploreOptions { \
             seed: 9, states_per_point_max: 4, picks_per_capped_point: 2, sector_size_bytes: 4096, \
             ..ExploreOptions::default() }).replay(&\"step:7@drop-unsynced#idx=0\".parse()?)",
        );
    }
}
