//! What `explore-cmd` and `materialize` share: the program after `--`, its
//! check, the run timeout, building its workload on a pool of mounts, and
//! the command lines a violation prints to replay or materialize its case.

use std::time::{Duration, Instant};

use clap::Args;
use crashproof_fault::KillSchedule;
use crashproof_fuse::{Cleanup, CommandWorkload, MountPool};
use crashproof_sim::explore::{ExploreOptions, Explorer};

use crate::signals::clean_up_on_termination;

/// A run is killed past this many times the faster clean run...
const RUN_TIMEOUT_FACTOR: u32 = 20;
/// ...and never before this.
const RUN_TIMEOUT_MIN: Duration = Duration::from_secs(10);

/// The program under test and how its runs are judged.
#[derive(Debug, Args)]
pub struct ProgramArgs {
    /// A shell command (`sh -c`) that exits 0 when the data directory is
    /// right. Runs on every post-crash state (the state oracle; `{dir}` and
    /// CRASHPROOF_DIR name it, CRASHPROOF_ACKED holds the last progress line
    /// the program wrote before the crash) and on the state every completed
    /// run leaves.
    #[arg(long, value_name = "COMMAND")]
    pub check: Option<String>,
    /// Do not compare each completed run's stdout with the clean run's.
    #[arg(long)]
    pub ignore_stdout: bool,
    /// A real directory the program (and the check) may also write, for
    /// scratch space it needs outside its data directory (repeatable). Its
    /// writes there are neither crashed nor checked; any other write
    /// outside the mount is refused (EACCES) and reported as a bypass of
    /// the simulator.
    #[arg(long, value_name = "DIR")]
    pub writable: Vec<std::path::PathBuf>,
    #[command(flatten)]
    pub command: CommandArgs,
}

/// The program (after `--`) and its run timeout.
#[derive(Debug, Args)]
pub struct CommandArgs {
    /// Kill a run (of the program or the check) that takes longer than
    /// this many milliseconds (default: 20x the faster clean run, at least
    /// 10 s).
    #[arg(long, value_name = "MS", value_parser = clap::value_parser!(u64).range(1..))]
    pub run_timeout_ms: Option<u64>,
    /// The program and its arguments, after `--`. `{dir}` in any argument
    /// and CRASHPROOF_DIR name its data directory, on the mount; descriptor
    /// 3 (CRASHPROOF_PROGRESS_FD) takes one line per acknowledged commit.
    #[arg(last = true, required = true, value_name = "PROGRAM")]
    pub argv: Vec<String>,
}

impl ProgramArgs {
    /// The program as a workload on a new pool of mounts, judged by these
    /// flags, with Ctrl-C and SIGTERM removing the mounts.
    pub fn workload(&self) -> Result<CommandWorkload, String> {
        let mut workload = self.command.workload()?;
        if let Some(check) = &self.check {
            workload = workload.with_check(check.clone());
        }
        if self.ignore_stdout {
            workload = workload.ignoring_stdout();
        }
        if !self.writable.is_empty() {
            workload = workload.writable_beneath(self.writable.clone());
        }
        Ok(workload)
    }

    /// The command that replays `schedule` of this program.
    pub fn replay_line(&self, schedule: &KillSchedule, options: &ExploreOptions) -> String {
        let mut judged = String::new();
        if let Some(check) = &self.check {
            judged.push_str(&format!(" --check {}", quote(check)));
        }
        if self.ignore_stdout {
            judged.push_str(" --ignore-stdout");
        }
        for dir in &self.writable {
            judged.push_str(&format!(
                " --writable {}",
                quote(&dir.display().to_string())
            ));
        }
        format!(
            "cargo run --release -p crashproof -- explore-cmd --replay '{schedule}'{}{judged}{}",
            state_flags(options),
            self.command.tail()
        )
    }
}

impl CommandArgs {
    /// The program as a workload on a new pool of mounts (no check,
    /// stdout compared), with Ctrl-C and SIGTERM removing the mounts.
    pub fn workload(&self) -> Result<CommandWorkload, String> {
        let cleanup = Cleanup::new();
        clean_up_on_termination(cleanup.clone())
            .map_err(|e| format!("cannot install the signal handler: {e}"))?;
        let pool = MountPool::new(cleanup).map_err(|e| e.to_string())?;
        let workload = CommandWorkload::new(self.argv.clone(), pool).map_err(|e| e.to_string())?;
        if let Some(ms) = self.run_timeout_ms {
            workload.set_run_timeout(Duration::from_millis(ms));
        }
        Ok(workload)
    }

    /// Sets the run timeout from the faster clean run, unless given.
    pub fn time_runs(&self, workload: &CommandWorkload, fastest: Duration) -> Duration {
        let timeout = match self.run_timeout_ms {
            Some(ms) => Duration::from_millis(ms),
            None => (fastest * RUN_TIMEOUT_FACTOR).max(RUN_TIMEOUT_MIN),
        };
        workload.set_run_timeout(timeout);
        timeout
    }

    /// One clean run, timed, then the run timeout set from it: for the
    /// commands that replay a case without a preflight.
    pub fn time_one_clean_run(
        &self,
        explorer: &Explorer<'_>,
        workload: &CommandWorkload,
    ) -> Result<Duration, String> {
        let started = Instant::now();
        explorer.clean_run().map_err(|e| e.to_string())?;
        Ok(self.time_runs(workload, started.elapsed()))
    }

    /// `--run-timeout-ms ... -- PROGRAM`, quoted for a shell.
    fn tail(&self) -> String {
        let mut out = String::new();
        if let Some(ms) = self.run_timeout_ms {
            out.push_str(&format!(" --run-timeout-ms {ms}"));
        }
        out.push_str(" --");
        for arg in &self.argv {
            out.push(' ');
            out.push_str(&quote(arg));
        }
        out
    }

    /// The command that writes the post-crash state of `schedule` to a
    /// directory.
    pub fn materialize_line(&self, schedule: &KillSchedule, options: &ExploreOptions) -> String {
        format!(
            "cargo run --release -p crashproof -- materialize '{schedule}' ./crashproof-state{}{}",
            state_flags(options),
            self.tail()
        )
    }
}

/// `--seed S` and every option that changes which state a schedule names.
fn state_flags(options: &ExploreOptions) -> String {
    let defaults = ExploreOptions::default();
    let mut out = format!(" --seed {}", options.seed);
    if options.states_per_point_max != defaults.states_per_point_max {
        out.push_str(&format!(" --cap {}", options.states_per_point_max));
    }
    if options.picks_per_capped_point != defaults.picks_per_capped_point {
        out.push_str(&format!(" --picks {}", options.picks_per_capped_point));
    }
    if options.sector_size_bytes != defaults.sector_size_bytes {
        out.push_str(&format!(" --sector-size {}", options.sector_size_bytes));
    }
    out
}

/// `arg` quoted for a POSIX shell when it needs it.
fn quote(arg: &str) -> String {
    shlex::try_quote(arg).map_or_else(|_| arg.to_string(), |q| q.into_owned())
}
