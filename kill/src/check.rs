//! What a case's result is checked against once its last run exited 0.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::clip::clip;
use crate::program::{DIR_ENV, DIR_PLACEHOLDER};

/// What one check sees.
#[derive(Debug, Clone, Copy)]
pub struct CheckInput<'a> {
    /// The case directory, after the last run.
    pub dir: &'a Path,
    /// The last run's stdout (the run that exited 0).
    pub stdout: &'a [u8],
    /// The clean (unkilled) run's stdout.
    pub clean_stdout: &'a [u8],
}

/// One check of a finished case. Every check also runs once on the clean
/// run, which it must pass (else the harness cannot tell kills apart).
pub trait Check {
    /// A short description for the summary ("stdout equals the clean run's").
    fn describe(&self) -> String;

    /// `Ok`, or what is wrong, in a sentence or a few lines.
    fn check(&self, input: &CheckInput<'_>) -> Result<(), String>;

    /// Whether this check judges the last run's stdout (the program's own
    /// account of its state after the kills). When no check does, the
    /// checks must fail on a damaged copy of a clean run's directory, or the
    /// campaign is refused.
    fn judges_stdout(&self) -> bool {
        false
    }

    /// Whether, given the clean run's stdout, this check could never fail
    /// (so it must not count as checking anything).
    fn is_vacuous(&self, clean_stdout: &[u8]) -> bool {
        let _ = clean_stdout;
        false
    }
}

/// The last run's stdout must equal the clean run's, byte for byte: print
/// the result on stdout and diagnostics on stderr.
#[derive(Debug, Clone, Copy, Default)]
pub struct StdoutEquals;

impl Check for StdoutEquals {
    fn describe(&self) -> String {
        "stdout equals the clean run's".to_string()
    }

    fn check(&self, input: &CheckInput<'_>) -> Result<(), String> {
        if input.stdout == input.clean_stdout {
            return Ok(());
        }
        Err(format!(
            "stdout differs from the clean run's\n  clean:  {}\n  killed: {}",
            clip(input.clean_stdout).trim_end(),
            clip(input.stdout).trim_end()
        ))
    }

    fn judges_stdout(&self) -> bool {
        true
    }

    fn is_vacuous(&self, clean_stdout: &[u8]) -> bool {
        clean_stdout.is_empty()
    }
}

/// A shell command (`sh -c`) that exits 0 when the case directory is right;
/// `{dir}` in it and `CRASHPROOF_DIR` in its environment name the case
/// directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShellCheck {
    /// The command, as given.
    pub command: String,
}

impl Check for ShellCheck {
    fn describe(&self) -> String {
        format!("check command `{}` exits 0", self.command)
    }

    fn check(&self, input: &CheckInput<'_>) -> Result<(), String> {
        let command = self
            .command
            .replace(DIR_PLACEHOLDER, &input.dir.to_string_lossy());
        let out = Command::new("sh")
            .arg("-c")
            .arg(&command)
            .env(DIR_ENV, input.dir)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run the check command with sh: {e}"))?;
        if out.status.success() {
            return Ok(());
        }
        Err(format!(
            "check command failed ({}): {command}\n  stdout: {}\n  stderr: {}",
            out.status,
            clip(&out.stdout).trim_end(),
            clip(&out.stderr).trim_end()
        ))
    }
}
