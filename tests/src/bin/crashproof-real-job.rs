//! The core-runner job as a real program, for `tests/real_process.rs` (which
//! finds it as `CARGO_BIN_EXE_crashproof-real-job`, so `cargo test` builds
//! it): `crashproof-real-job --dir <case dir> [--variant ...]`. The same
//! job is `crashproof core-runner-job` in the CLI.

use std::process::ExitCode;

use clap::Parser;
use crashproof_kill::core_runner_job::{self, CoreRunnerJobArgs};

/// The explorer's `core-runner` job on the real filesystem.
#[derive(Debug, Parser)]
#[command(name = "crashproof-real-job")]
struct Cli {
    #[command(flatten)]
    args: CoreRunnerJobArgs,
}

fn main() -> ExitCode {
    core_runner_job::main(&Cli::parse().args)
}
