//! Ctrl-C, SIGTERM and SIGHUP while mounts exist: kill the programs the
//! command runs and remove its mounts before exiting, since no drop guard
//! runs when a signal ends the process.

use crashproof_fuse::Cleanup;
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

/// Starts a thread that, on the first SIGINT, SIGTERM or SIGHUP, runs
/// `cleanup` and exits with 128 + the signal's number.
pub fn clean_up_on_termination(cleanup: Cleanup) -> std::io::Result<()> {
    let mut signals = Signals::new([SIGINT, SIGTERM, SIGHUP])?;
    std::thread::Builder::new()
        .name("crashproof-signals".to_string())
        .spawn(move || {
            if let Some(signal) = signals.forever().next() {
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
