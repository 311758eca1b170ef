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
    /// case: `CRASHPROOF_REPLAY='SCHEDULE' CRASHPROOF_SEED=S cargo test
    /// [--release] -p PACKAGE --test TARGET -- --exact TEST --nocapture`.
    /// For a test that runs `crashproof_sim::check::CrashTest`, which reads
    /// them; the test sets every other option itself, so only the seed is
    /// repeated.
    Env {
        /// The package whose tests hold the test (`-p`); `None` leaves it
        /// out, and `cargo test` looks in every package of the workspace.
        package: Option<String>,
        /// The test target that holds the test (`--lib`, `--test NAME`);
        /// `None` leaves it out, and `cargo test` builds every target.
        target: Option<TestTarget>,
        /// Whether the test ran in the release profile (`--release`): the
        /// same code, the same speed, no rebuild in another profile.
        release: bool,
        /// The test's full name as the test harness lists it
        /// (`module::test_fn`).
        test: String,
    },
    /// [`ReplayLine::Cli`] started by `command` instead of `cargo run
    /// --release -p crashproof --`: the words that run the very binary that
    /// explored (its path), so the line works as it is pasted, without
    /// `crashproof` on `PATH` and in the same build; `workload_args`
    /// (`--items 16000`) follow `--workload NAME`.
    Command {
        /// The words that start the binary (its path, or `cargo run ... --`).
        command: Vec<String>,
        /// Arguments that size the workload, repeated after its name.
        workload_args: Vec<String>,
    },
}

/// The cargo target a crash test is in ([`ReplayLine::Env`]), so its replay
/// line builds and runs only that one.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TestTarget {
    /// The package's library unit tests (`--lib`).
    Lib,
    /// A binary's unit tests (`--bin NAME`).
    Bin(String),
    /// An integration test file (`--test NAME`, `tests/NAME.rs`).
    Test(String),
}

impl TestTarget {
    /// The `cargo test` arguments that select it.
    pub fn cargo_args(&self) -> Vec<String> {
        match self {
            TestTarget::Lib => vec!["--lib".to_string()],
            TestTarget::Bin(name) => vec!["--bin".to_string(), name.clone()],
            TestTarget::Test(name) => vec!["--test".to_string(), name.clone()],
        }
    }
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
            ReplayLine::Env {
                package,
                target,
                release,
                test,
            } => {
                let mut cargo = vec!["cargo".to_string(), "test".to_string()];
                if *release {
                    cargo.push("--release".to_string());
                }
                if let Some(package) = package {
                    cargo.extend(["-p".to_string(), package.clone()]);
                }
                if let Some(target) = target {
                    cargo.extend(target.cargo_args());
                }
                format!(
                    "{REPLAY_VAR}='{schedule}' {SEED_VAR}={} {} -- --exact {} --nocapture",
                    options.seed,
                    shell_words(&cargo),
                    shell_word(test)
                )
            }
            ReplayLine::Command {
                command,
                workload_args,
            } => command_line(
                command,
                workload,
                workload_args,
                schedule,
                options.seed,
                &changed,
            ),
        }
    }
}

/// `words` quoted for a POSIX shell and joined by spaces.
fn shell_words(words: &[String]) -> String {
    words
        .iter()
        .map(|w| shell_word(w))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `word` as a shell reads it back: as is when it holds only characters no
/// shell treats specially, else in single quotes.
fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// `COMMAND replay --workload NAME ARGS 'SCHEDULE' --seed S` plus every
/// changed option.
fn command_line(
    command: &[String],
    workload: &str,
    workload_args: &[String],
    schedule: &KillSchedule,
    seed: u64,
    changed: &[Changed],
) -> String {
    let mut words: Vec<String> = command.to_vec();
    words.extend([
        "replay".to_string(),
        "--workload".to_string(),
        workload.to_string(),
    ]);
    words.extend(workload_args.iter().cloned());
    words.push(schedule.to_string());
    words.extend(["--seed".to_string(), seed.to_string()]);
    for c in changed {
        words.extend([c.flag.to_string(), c.value.to_string()]);
    }
    shell_words(&words)
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
                target: Some(TestTarget::Test("crash_tests".into())),
                release: false,
                test: "tests::survives_crashes".into(),
            },
            options.clone(),
            "CRASHPROOF_REPLAY='step:7@drop-unsynced#idx=0' CRASHPROOF_SEED=9 cargo test -p my-app \
             --test crash_tests -- --exact tests::survives_crashes --nocapture",
        );
        check(
            ReplayLine::Env {
                package: Some("my-app".into()),
                target: Some(TestTarget::Lib),
                release: true,
                test: "tests::survives_crashes".into(),
            },
            options.clone(),
            "CRASHPROOF_REPLAY='step:7@drop-unsynced#idx=0' CRASHPROOF_SEED=9 cargo test --release \
             -p my-app --lib -- --exact tests::survives_crashes --nocapture",
        );
        check(
            ReplayLine::Env {
                package: None,
                target: None,
                release: false,
                test: "survives_crashes".into(),
            },
            options,
            "CRASHPROOF_REPLAY='step:7@drop-unsynced#idx=0' CRASHPROOF_SEED=9 cargo test -- --exact \
             survives_crashes --nocapture",
        );
    }

    #[test]
    fn a_command_line_runs_the_binary_that_explored() {
        let options = ExploreOptions {
            seed: 3,
            states_per_point_max: 4,
            ..ExploreOptions::default()
        };
        check(
            ReplayLine::Command {
                command: vec!["/opt/my builds/crashproof".into()],
                workload_args: vec!["--items".into(), "60".into()],
            },
            options,
            "'/opt/my builds/crashproof' replay --workload no-dir-fsync --items 60 \
             'step:7@drop-unsynced#idx=0' --seed 3 --cap 4",
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
