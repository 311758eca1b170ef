//! The `--workload` argument: the registry's names as clap's possible
//! values, so `--help` lists them and a typo is a usage error (exit 2).

use clap::builder::PossibleValuesParser;
use crashproof_catalog::core_runner::{CoreRunnerConfig, CoreRunnerWorkload};
use crashproof_catalog::{workload, workload_names};
use crashproof_sim::explore::{ReplayLine, Workload};

use crate::self_invocation::self_command;

/// A parser accepting exactly the registered workload names.
pub fn workload_parser() -> PossibleValuesParser {
    // clap needs `'static` names; the registry builds them once per process
    // start, so leaking this handful of short strings is bounded.
    let names: Vec<&'static str> = workload_names()
        .into_iter()
        .map(|n| &*Box::leak(n.into_boxed_str()))
        .collect();
    PossibleValuesParser::new(names)
}

/// `--items` and `--every`: the size of the core-runner workload.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sizes {
    /// N, items in the job.
    pub items: Option<u64>,
    /// K, items per commit.
    pub every: Option<u64>,
}

/// The workload called `name`, sized by `sizes` (core-runner only: a size
/// given for another workload is a usage error, never ignored).
pub fn load(name: &str, sizes: Sizes) -> Result<Box<dyn Workload>, String> {
    let sized = sizes.items.is_some() || sizes.every.is_some();
    if name == "core-runner" && sized {
        let default = CoreRunnerConfig::default();
        return Ok(Box::new(CoreRunnerWorkload::new(CoreRunnerConfig {
            items: sizes.items.unwrap_or(default.items),
            checkpoint_every: sizes.every.unwrap_or(default.checkpoint_every),
            ..default
        })));
    }
    if sized {
        return Err(format!(
            "--items and --every size the core-runner workload only and have no effect on \
             `{name}`: drop them, or use --workload core-runner"
        ));
    }
    workload(name).map_err(|e| e.to_string())
}

/// The replay line of a run of a catalogue workload: this binary's
/// `replay` (its path, `self_invocation`, so the line works without
/// `crashproof` on PATH and replays with the same build) with the size
/// flags (`--items`, `--every`) repeated, so a violation found in a sized
/// run replays that same run.
pub fn sizes_replay_line(items: Option<u64>, every: Option<u64>) -> ReplayLine {
    let mut workload_args = Vec::new();
    if let Some(n) = items {
        workload_args.extend(["--items".to_string(), n.to_string()]);
    }
    if let Some(k) = every {
        workload_args.extend(["--every".to_string(), k.to_string()]);
    }
    ReplayLine::Command {
        command: self_command(),
        workload_args,
    }
}

#[cfg(test)]
mod replay_line_tests {
    use super::*;

    #[test]
    #[allow(clippy::panic)] // a test fails by panicking
    fn sizes_are_repeated_in_the_replay_line_after_this_binary() {
        let line = |items, every| match sizes_replay_line(items, every) {
            ReplayLine::Command {
                command,
                workload_args,
            } => (command, workload_args),
            other => panic!("{other:?}"),
        };
        let (command, args) = line(None, None);
        assert_eq!(command, self_command());
        assert!(args.is_empty());
        assert_eq!(
            line(Some(16000), Some(50)).1,
            ["--items", "16000", "--every", "50"]
        );
        assert_eq!(line(None, Some(7)).1, ["--every", "7"]);
    }
}
