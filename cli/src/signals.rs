//! Ctrl-C, SIGTERM and SIGHUP while mounts exist: kill the programs the
//! command runs and remove its mounts before exiting, since no drop guard
//! runs when a signal ends the process.

use std::sync::{Mutex, PoisonError};

use crashproof_fuse::Cleanup;
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

/// Held by the signal thread from the signal to its `exit`: the main thread
/// takes it before the process ends, so a program the cleanup killed cannot
/// make the command exit with that run's verdict instead of the signal's.
/// Process-global because the process's exit is.
static EXITING: Mutex<()> = Mutex::new(());

/// Waits, before the process exits normally, for a signal being handled
/// (which then exits with its own status and never returns here).
pub fn before_exit() {
    drop(EXITING.lock().unwrap_or_else(PoisonError::into_inner));
}

/// Starts a thread that, on the first SIGINT, SIGTERM or SIGHUP, runs
/// `cleanup` and exits with 128 + the signal's number.
pub fn clean_up_on_termination(cleanup: Cleanup) -> std::io::Result<()> {
    let mut signals = Signals::new([SIGINT, SIGTERM, SIGHUP])?;
    std::thread::Builder::new()
        .name("crashproof-signals".to_string())
        .spawn(move || {
            if let Some(signal) = signals.forever().next() {
                let _exiting = EXITING.lock().unwrap_or_else(PoisonError::into_inner);
                cleanup.now();
                eprintln!(
                    "crashproof: stopped by signal {signal}; its programs were killed and its \
                     mounts removed"
                );
                std::process::exit(128 + signal);
            }
        })?;
    Ok(())
}
