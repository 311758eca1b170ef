//! The control protocol of a standalone mount (`crashproof mount
//! --control SOCKET`): one command per line, answered by zero or more data
//! lines and one last line that starts with `ok` or `error`.
//!
//! | command | answer |
//! |---|---|
//! | `steps` | `ok steps N generation G` (steps of the disk served now; G crashes so far) |
//! | `unsynced` | one line per operation not yet durable (`step 12: data /f bytes 0..4096`, `step 3: entry /d + f`, `step 9: entry /d a -> /d b`, `step 5: length /f to 0 bytes`), then `ok N unsynced operations` |
//! | `crash [SEED]` | `ok crashed after N steps; serving ...`: every handle and inode the kernel got before answers `EIO` from now on, and the mount serves the post-crash state of the model picked with SEED |
//! | `help` | the commands, then `ok` |
//! | `quit` | `ok quitting`; the mount is removed and the server exits |
//!
//! A line longer than [`LINE_MAX_BYTES`], not UTF-8 or not a command gets
//! `error ...` (an oversized line also closes the connection); the mount
//! keeps serving.

/// The longest command line accepted, in bytes (newline excluded).
pub const LINE_MAX_BYTES: usize = 1024;

/// One command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// Steps so far.
    Steps,
    /// The unsynced operations.
    Unsynced,
    /// Crash now; serve the post-crash state picked with this seed (the
    /// mount's seed plus the crash's number when `None`).
    Crash(Option<u64>),
    /// The commands.
    Help,
    /// Stop serving.
    Quit,
}

/// The help text (without the final `ok`).
pub const HELP: &str = "steps            steps of the disk served now, and crashes so far
unsynced         every operation not yet durable: file and byte range, or directory entry
crash [SEED]     power loss now: handles and inodes from before answer EIO; then serve the
                 post-crash state of the mount's model picked with SEED
help             this text
quit             remove the mount and exit";

/// Parses one line (surrounding spaces ignored).
pub fn parse(line: &str) -> Result<Command, String> {
    let mut words = line.split_whitespace();
    let command = words.next().unwrap_or("");
    let arg = words.next();
    if let Some(extra) = words.next() {
        return Err(format!(
            "unexpected argument `{extra}` (send `help` for the commands)"
        ));
    }
    let no_arg = |c: Command| match arg {
        None => Ok(c),
        Some(a) => Err(format!("`{command}` takes no argument, got `{a}`")),
    };
    match command {
        "steps" => no_arg(Command::Steps),
        "unsynced" => no_arg(Command::Unsynced),
        "help" => no_arg(Command::Help),
        "quit" => no_arg(Command::Quit),
        "crash" => match arg {
            None => Ok(Command::Crash(None)),
            Some(a) => a.parse().map(|s| Command::Crash(Some(s))).map_err(|_| {
                format!(
                    "`crash` takes a seed, a number from 0 to {}; got `{a}`",
                    u64::MAX
                )
            }),
        },
        "" => Err("empty line (send `help` for the commands)".to_string()),
        other => Err(format!(
            "unknown command `{}` (commands: steps, unsynced, crash [SEED], help, quit)",
            other.chars().take(64).collect::<String>()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_parse_and_anything_else_is_an_error_line() {
        assert_eq!(parse("steps"), Ok(Command::Steps));
        assert_eq!(parse("  unsynced \r"), Ok(Command::Unsynced));
        assert_eq!(parse("crash"), Ok(Command::Crash(None)));
        assert_eq!(parse("crash 42"), Ok(Command::Crash(Some(42))));
        assert!(parse("crash -1").is_err());
        assert!(parse("crash 1 2").is_err());
        assert!(parse("steps now").is_err());
        assert!(parse("").is_err());
        assert!(parse("rm -rf /").is_err());
        assert_eq!(parse("quit"), Ok(Command::Quit));
    }
}
