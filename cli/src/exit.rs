//! The process exit codes, one meaning each (documented in `--help`).

/// What the command concluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Explored (or replayed) with no violation.
    Clean = 0,
    /// At least one oracle failed.
    Violation = 1,
    /// The harness could not do its job (usage, unknown workload, clean
    /// run failed); the same code clap uses for usage errors.
    Harness = 2,
    /// Interrupted by Ctrl-C or SIGTERM before the end: what was done so
    /// far is reported, nothing is concluded (128 + SIGINT, as a shell
    /// reports a process that SIGINT ended).
    Interrupted = 130,
}

/// Prints a harness error the same way everywhere and returns its code.
pub fn harness_error(e: impl std::fmt::Display) -> Exit {
    eprintln!("crashproof: harness error: {e}");
    Exit::Harness
}

/// Prints a usage error (arguments that cannot work together) and returns
/// the harness code, as clap does for the usage errors it detects.
pub fn usage_error(e: impl std::fmt::Display) -> Exit {
    eprintln!("crashproof: usage error: {e}");
    Exit::Harness
}

/// Prints that the command was interrupted and what that leaves, and
/// returns the interrupted code.
pub fn interrupted(what: impl std::fmt::Display) -> Exit {
    eprintln!("crashproof: INTERRUPTED: {what}");
    Exit::Interrupted
}
