//! Runs a job that commits after every item, so the system calls of one
//! runner commit can be counted with strace:
//!
//! ```sh
//! cargo build --release -p crashproof-core --example commit_syscalls
//! strace -f -c -e trace=fsync,fdatasync,rename,renameat,renameat2,unlink,unlinkat,openat,newfstatat,statx \
//!     target/release/examples/commit_syscalls 1000 [sentinel] [codec] [job dir]
//! ```
//!
//! `sentinel`: `every-commit` (default: the runner's default, one `statx`
//! of `<job>.yield` per commit), `interval` (`sentinel_check_interval` of
//! one hour: looked at once) or `disabled`. `codec`: `json` (default) or
//! `postcard`. `job dir`: where to run (default: a fresh temp directory),
//! e.g. on a read-only mount to see `Runner::open` refuse it.
//!
//! With N items and K = 1 the run makes N commits (the last one is the
//! final checkpoint), so each count divided by N is the cost of one commit
//! plus 1/N of the runner's open (lock, probe, startup GC) and the final
//! sync. Run it with N = 1000 and N = 2000: the difference is exactly the
//! cost of 1000 steady-state commits.

use std::error::Error;

use std::time::Duration;

use crashproof_core::fs::StdFs;
use crashproof_core::{
    Codec, Job, JobError, Outcome, Runner, RunnerConfig, YieldSentinel, stable_digest,
};
use serde::{Deserialize, Serialize};

/// Counts items; every item is one commit.
struct CountJob {
    items: u64,
}

#[derive(Serialize, Deserialize)]
struct CountState {
    count: u64,
}

impl Job for CountJob {
    type State = CountState;
    type Output = u64;

    fn name(&self) -> &str {
        "commit-syscalls"
    }

    fn fingerprint(&self) -> u64 {
        stable_digest(format!("commit-syscalls/v1/{}", self.items).as_bytes())
    }

    fn item_count(&self) -> u64 {
        self.items
    }

    fn initial_state(&self) -> CountState {
        CountState { count: 0 }
    }

    fn process(&mut self, _index: u64, state: &mut CountState) -> Result<(), JobError> {
        state.count += 1;
        Ok(())
    }

    fn finalize(&mut self, state: &CountState) -> Result<u64, JobError> {
        Ok(state.count)
    }
}

fn main() -> Result<(), Box<dyn Error>> {
    let items: u64 = match std::env::args().nth(1) {
        Some(arg) => arg.parse()?,
        None => 1000,
    };
    let mut config = RunnerConfig::every(1);
    match std::env::args().nth(2).as_deref() {
        None | Some("every-commit") => {}
        Some("interval") => config.sentinel_check_interval = Duration::from_secs(3600),
        Some("disabled") => config.yield_sentinel = YieldSentinel::Disabled,
        Some(other) => return Err(format!("unknown sentinel mode {other:?}").into()),
    }
    match std::env::args().nth(3).as_deref() {
        None | Some("json") => {}
        Some("postcard") => config.codec = Codec::Postcard,
        Some(other) => return Err(format!("unknown codec {other:?}").into()),
    }
    let tmp = tempfile::tempdir()?;
    let dir = match std::env::args().nth(4) {
        Some(dir) => dir.into(),
        None => tmp.path().join("job"),
    };
    let fs = StdFs::new();
    let mut job = CountJob { items };
    match Runner::open(&fs, dir, &mut job, config)?.run()? {
        Outcome::Completed { output, .. } if output == items => {
            println!("{items} items, {items} commits");
            Ok(())
        }
        other => Err(format!("unexpected outcome {other:?}").into()),
    }
}
