//! The `crashproof` command.
//!
//! One file per subcommand (`explore_cmd.rs`, `replay_cmd.rs`, ...), so new
//! subcommands are added without touching the others.

mod allocator;
mod case_args;
mod exit;
mod explore_bar;
mod explore_cmd;
mod explore_program_cmd;
mod interrupt;
mod kill_cmd;
mod materialize_cmd;
mod merge_cmd;
mod mount_cmd;
mod mutants_cmd;
mod peak_memory;
mod program_arg;
mod replay_cmd;
mod report_json;
mod scenarios_cmd;
mod sector_size_arg;
mod self_invocation;
mod signals;
mod tune_k_cmd;
mod workload_arg;

use std::process::ExitCode;

/// The allocator of this binary (`allocator.rs`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{Parser, Subcommand};

/// Deterministic crash-consistency testing for checkpoint/resume code.
///
/// Exit codes: 0 = explored, no violation; 1 = at least one violation
/// (the report prints each with a replay command); 2 = harness or usage
/// error (bad arguments, a flag with no effect in the chosen mode, unknown
/// workload, a workload that fails its clean run, an exploration that
/// checked zero post-crash states, a replayed crash point the run never
/// reaches, a run that wrote nothing through the simulator or bypassed it):
/// nothing trustworthy was checked; 130 = interrupted by Ctrl-C or SIGTERM
/// (`explore`, `kill`, `tune-k`): the summary so far is marked INTERRUPTED
/// and nothing is concluded.
#[derive(Debug, Parser)]
#[command(
    name = "crashproof",
    version,
    about,
    long_about,
    arg_required_else_help = true
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Crash a workload at every step (after every failed sync, or at
    /// random schedules) and check both oracles on every post-crash state.
    Explore(explore_cmd::ExploreArgs),
    /// Explore any program (any language) on a FUSE mount of the simulated
    /// disk: crash it at every filesystem step, serve every post-crash state
    /// the model allows, run --check on it and the program again on it.
    /// Needs root and /dev/fuse.
    ExploreCmd(Box<explore_program_cmd::ExploreCmdArgs>),
    /// Write the post-crash state a schedule of `explore-cmd` names to a
    /// real directory, to look at with ordinary tools.
    Materialize(Box<materialize_cmd::MaterializeArgs>),
    /// Serve a fresh simulated disk as a real mount until told to stop;
    /// crash it, list unsynced changes and count steps over a control
    /// socket (for other test harnesses).
    Mount(mount_cmd::MountArgs),
    /// Replay one case: print its trace with the crash points marked and
    /// the oracles' verdict.
    Replay(replay_cmd::ReplayArgs),
    /// Combine the `--json` reports of `explore --shard 1/N ... N/N` into
    /// the verdict of the whole exploration (exit codes as explore).
    Merge(merge_cmd::MergeArgs),
    /// Run every bug-zoo mutant and the correct controls through the
    /// explorer and print the mutation table.
    Mutants(mutants_cmd::MutantsArgs),
    /// Run the five seed-system scenarios through every exploration and
    /// check that each review bug, as a mutant, is caught.
    Scenarios(scenarios_cmd::ScenariosArgs),
    /// Run a real program on a real directory, SIGKILL it again and again
    /// (at random times, progress lines, failpoint hits), restart it until
    /// it exits 0, and check the result. Without a program: the reference
    /// job.
    Kill(Box<kill_cmd::KillArgs>),
    /// The core-runner job (the explorer's core-runner job) as a real
    /// program, for `kill`: runs once in --dir, resuming from its
    /// checkpoint, and prints its output; --verify checks a case directory.
    CoreRunnerJob(crashproof_kill::core_runner_job::CoreRunnerJobArgs),
    /// Measure the commit cost on a disk and recommend K (and T) for a job.
    TuneK(tune_k_cmd::TuneKArgs),
}

fn main() -> ExitCode {
    allocator::return_freed_memory_promptly();
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Explore(args) => explore_cmd::run(&args),
        Command::ExploreCmd(args) => explore_program_cmd::run(&args),
        Command::Materialize(args) => materialize_cmd::run(&args),
        Command::Mount(args) => mount_cmd::run(&args),
        Command::Replay(args) => replay_cmd::run(&args),
        Command::Merge(args) => merge_cmd::run(&args),
        Command::Mutants(args) => mutants_cmd::run(&args),
        Command::Scenarios(args) => scenarios_cmd::run(&args),
        Command::Kill(args) => kill_cmd::run(&args),
        Command::CoreRunnerJob(args) => return crashproof_kill::core_runner_job::main(&args),
        Command::TuneK(args) => tune_k_cmd::run(&args),
    };
    signals::before_exit();
    ExitCode::from(code as u8)
}
