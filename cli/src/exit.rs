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
