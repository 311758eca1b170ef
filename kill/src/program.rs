//! The program under test: its command line (with a `{dir}` placeholder)
//! and the environment contract between the harness and the program.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::Path;

/// Environment variable: the case's directory, where the program keeps its
/// state (the same path a `{dir}` argument becomes).
pub const DIR_ENV: &str = "CRASHPROOF_DIR";
/// Environment variable: the file descriptor (always [`PROGRESS_FD`]) on
/// which the program may write one line per progress point. Optional: a
/// program that writes nothing there is killed at random times only.
pub const PROGRESS_FD_ENV: &str = "CRASHPROOF_PROGRESS_FD";
/// The descriptor number of the progress pipe in the program.
pub const PROGRESS_FD: i32 = 3;
/// The argument placeholder replaced by the case's directory.
pub const DIR_PLACEHOLDER: &str = "{dir}";

/// A command line to run once per attempt, `{dir}` standing for the case
/// directory in any argument (also inside a longer one: `--out={dir}/x`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Program {
    argv: Vec<String>,
}

/// The command line was empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("no program given: pass the command to kill after `--`")]
pub struct EmptyProgram;

impl Program {
    /// The program `argv[0]` with arguments `argv[1..]`.
    pub fn new(argv: Vec<String>) -> Result<Self, EmptyProgram> {
        if argv.is_empty() {
            return Err(EmptyProgram);
        }
        Ok(Self { argv })
    }

    /// The command line as given (placeholders not substituted).
    pub fn argv(&self) -> &[String] {
        &self.argv
    }

    /// The command line for a case in `dir`.
    pub fn argv_for(&self, dir: &Path) -> Vec<String> {
        let dir = dir.to_string_lossy();
        self.argv
            .iter()
            .map(|a| a.replace(DIR_PLACEHOLDER, &dir))
            .collect()
    }
}

/// For the program's side: the progress pipe the harness passed, if any
/// (`CRASHPROOF_PROGRESS_FD` is set). Write one line per progress point;
/// unbuffered writes are best, so the harness sees each point at once.
///
/// Opens `/dev/fd/<n>` rather than adopting the raw descriptor, which would
/// need `unsafe`; on Linux and macOS that is the same pipe.
pub fn progress_pipe_from_env() -> io::Result<Option<File>> {
    let Ok(fd) = std::env::var(PROGRESS_FD_ENV) else {
        return Ok(None);
    };
    let fd: u32 = fd.parse().map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{PROGRESS_FD_ENV}={fd:?} is not a descriptor number"),
        )
    })?;
    OpenOptions::new()
        .write(true)
        .open(format!("/dev/fd/{fd}"))
        .map(Some)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn dir_placeholders_are_substituted_everywhere() {
        let p = Program::new(vec!["job".into(), "{dir}".into(), "--out={dir}/x".into()]).unwrap();
        assert_eq!(
            p.argv_for(Path::new("/t/c1")),
            ["job", "/t/c1", "--out=/t/c1/x"]
        );
        assert_eq!(Program::new(vec![]), Err(EmptyProgram));
    }
}
