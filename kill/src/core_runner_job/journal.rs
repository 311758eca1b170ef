//! The job's journal: a side file, appended and fsynced, that survives
//! kills and records what each run loaded and what each commit
//! acknowledged, so a check after the case can prove recovery never went
//! back past an acknowledged checkpoint.
//!
//! Lines: `load cursor=<c> generation=<g|none>` when a run has chosen its
//! resume point, `ack cursor=<c> generation=<g>` after a commit returned
//! (it is durable). An ack written late (after a kill between commit and
//! ack) only makes the check weaker, never wrong.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

/// The journal's file name in the case directory.
pub const JOURNAL_FILE_NAME: &str = "journal";

/// An open journal.
#[derive(Debug)]
pub struct Journal {
    file: File,
}

impl Journal {
    /// Opens (creating) the journal in `dir`.
    pub fn open(dir: &Path) -> io::Result<Self> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join(JOURNAL_FILE_NAME))?;
        Ok(Self { file })
    }

    /// Appends `load ...` and fsyncs.
    pub fn load(&mut self, cursor: u64, generation: Option<u64>) -> io::Result<()> {
        let generation = generation.map_or("none".to_string(), |g| g.to_string());
        self.append(&format!("load cursor={cursor} generation={generation}\n"))
    }

    /// Appends `ack ...` and fsyncs.
    pub fn ack(&mut self, cursor: u64, generation: u64) -> io::Result<()> {
        self.append(&format!("ack cursor={cursor} generation={generation}\n"))
    }

    fn append(&mut self, line: &str) -> io::Result<()> {
        // One write(2) per line, so a kill leaves whole lines or a torn
        // last one, which the reader ignores.
        self.file.write_all(line.as_bytes())?;
        self.file.sync_data()
    }
}

/// One journal record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Record {
    /// A run started from this cursor (0 with no checkpoint).
    Load {
        /// The cursor resumed from.
        cursor: u64,
    },
    /// A commit with this cursor returned.
    Ack {
        /// The acknowledged cursor.
        cursor: u64,
    },
}

/// The records of a journal's text; a last line without its newline (torn
/// by a kill) is ignored, any other malformed line is an error.
pub fn parse(text: &str) -> Result<Vec<Record>, String> {
    let complete = match text.rfind('\n') {
        Some(end) => &text[..end],
        None => "",
    };
    complete
        .lines()
        .enumerate()
        .map(|(i, line)| {
            parse_line(line).ok_or_else(|| format!("journal line {}: {line:?}", i + 1))
        })
        .collect()
}

fn parse_line(line: &str) -> Option<Record> {
    let mut words = line.split(' ');
    let kind = words.next()?;
    let cursor = words.next()?.strip_prefix("cursor=")?.parse().ok()?;
    match kind {
        "load" => Some(Record::Load { cursor }),
        "ack" => Some(Record::Ack { cursor }),
        _ => None,
    }
}

/// What the load-versus-ack check found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AckCheck {
    /// Runs that loaded (started).
    pub loads: u64,
    /// Loads that had an acknowledged checkpoint before them (the ones the
    /// check could fail on).
    pub loads_after_ack: u64,
    /// Every load older than the last ack before it.
    pub problems: Vec<String>,
}

/// Checks that every load resumed from at least the last acknowledged
/// cursor before it.
pub fn check_loads(records: &[Record]) -> AckCheck {
    let mut check = AckCheck::default();
    let mut acked: Option<u64> = None;
    for (i, record) in records.iter().enumerate() {
        match *record {
            Record::Ack { cursor } => acked = Some(acked.map_or(cursor, |a| a.max(cursor))),
            Record::Load { cursor } => {
                check.loads += 1;
                if let Some(acked) = acked {
                    check.loads_after_ack += 1;
                    if cursor < acked {
                        check.problems.push(format!(
                            "run {} loaded cursor {cursor}, older than the acknowledged cursor {acked} (journal record {})",
                            check.loads,
                            i + 1
                        ));
                    }
                }
            }
        }
    }
    check
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_load_older_than_an_ack_is_caught_and_a_torn_line_ignored() {
        let good = "load cursor=0 generation=none\nack cursor=50 generation=1\nload cursor=50 generation=1\nack cursor=10";
        let records = parse(good).unwrap();
        assert_eq!(records.len(), 3, "the torn last line is ignored");
        let check = check_loads(&records);
        assert_eq!((check.loads, check.loads_after_ack), (2, 1));
        assert!(check.problems.is_empty());

        let bad = "load cursor=0 generation=none\nack cursor=50 generation=1\nload cursor=0 generation=none\n";
        let check = check_loads(&parse(bad).unwrap());
        assert_eq!(check.problems.len(), 1, "{check:?}");
        assert!(parse("load cursor=x\n").is_err());
    }
}
