//! A small program without progress hooks, written on the `Fs` trait: it
//! sums `ITEMS` values, keeps its progress in `/progress` (temp, fsync,
//! rename, directory fsync after every item), tells its caller each value
//! it made durable, publishes `/result` the same way and then removes its
//! progress file. Each [`Bug`] breaks one of those steps.
#![allow(dead_code)]

use std::io;
use std::path::Path;

use crashproof_core::fs::Fs;
use crashproof_sim::explore::{Found, ProgramWorkload};

/// Items the program sums.
pub const ITEMS: u64 = 6;

const ROOT: &str = "/";
const PROGRESS: &str = "/progress";
const PROGRESS_TEMP: &str = "/progress.tmp";
const RESULT: &str = "/result";
const RESULT_TEMP: &str = "/result.tmp";

/// The one mistake a variant of the program makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bug {
    /// The correct program.
    None,
    /// The progress temp file is renamed without an fsync first: a crash
    /// can leave an empty or torn progress file.
    NoFsyncBeforeRename,
    /// The result is written in place: a crash can leave an empty one,
    /// which recovery takes for the published result.
    ResultInPlace,
    /// Tells its caller a value is committed before it is durable.
    CommitsBeforeDurable,
}

fn p(path: &str) -> &Path {
    Path::new(path)
}

fn value(index: u64) -> u64 {
    index * index + 1
}

fn write_file(fs: &dyn Fs, path: &str, bytes: &[u8], sync: bool) -> io::Result<()> {
    let file = fs.open_truncate(p(path))?;
    let written = fs
        .write_all_at(&file, 0, bytes)
        .and_then(|()| if sync { fs.sync(&file) } else { Ok(()) });
    fs.close(file)?;
    written
}

fn write_atomically(
    fs: &dyn Fs,
    temp: &str,
    path: &str,
    bytes: &[u8],
    sync: bool,
) -> io::Result<()> {
    write_file(fs, temp, bytes, sync)?;
    fs.rename(p(temp), p(path))?;
    fs.sync_dir(p(ROOT))
}

fn invalid(what: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what)
}

/// The published result, if any.
pub fn read_result(fs: &dyn Fs) -> io::Result<Option<String>> {
    if !fs.exists(p(RESULT))? {
        return Ok(None);
    }
    let bytes = fs.read(p(RESULT))?;
    String::from_utf8(bytes)
        .map(Some)
        .map_err(|e| invalid(format!("{RESULT} is not UTF-8: {e}")))
}

/// `(next item, sum so far)` from the progress file, if any.
pub fn read_progress(fs: &dyn Fs) -> io::Result<Option<(u64, u64)>> {
    if !fs.exists(p(PROGRESS))? {
        return Ok(None);
    }
    let text = String::from_utf8(fs.read(p(PROGRESS))?)
        .map_err(|e| invalid(format!("{PROGRESS} is not UTF-8: {e}")))?;
    let parsed = text
        .split_once(' ')
        .and_then(|(next, sum)| Some((next.parse().ok()?, sum.parse().ok()?)));
    parsed
        .map(Some)
        .ok_or_else(|| invalid(format!("{PROGRESS} holds {text:?}, not `<next> <sum>`")))
}

/// The program: resumes from its progress (or returns the published
/// result), calls `on_commit(next)` once `next` is durable.
pub fn run(fs: &dyn Fs, bug: Bug, on_commit: &mut dyn FnMut(u64)) -> io::Result<String> {
    if let Some(result) = read_result(fs)? {
        // A crash after publishing may have left the progress file.
        if fs.exists(p(PROGRESS))? {
            fs.remove_file(p(PROGRESS))?;
            fs.sync_dir(p(ROOT))?;
        }
        return Ok(result);
    }
    let (mut next, mut sum) = read_progress(fs)?.unwrap_or((0, 0));
    while next < ITEMS {
        sum += value(next);
        next += 1;
        if bug == Bug::CommitsBeforeDurable {
            on_commit(next);
        }
        let text = format!("{next} {sum}");
        write_atomically(
            fs,
            PROGRESS_TEMP,
            PROGRESS,
            text.as_bytes(),
            bug != Bug::NoFsyncBeforeRename,
        )?;
        if bug != Bug::CommitsBeforeDurable {
            on_commit(next);
        }
    }
    let output = format!("sum={sum}");
    if bug == Bug::ResultInPlace {
        write_file(fs, RESULT, output.as_bytes(), true)?;
        fs.sync_dir(p(ROOT))?;
    } else {
        write_atomically(fs, RESULT_TEMP, RESULT, output.as_bytes(), true)?;
    }
    fs.remove_file(p(PROGRESS))?;
    fs.sync_dir(p(ROOT))?;
    Ok(output)
}

/// The program's start-up read path: the published result, else its
/// progress.
pub fn recover(fs: &dyn Fs) -> io::Result<Found> {
    if let Some(result) = read_result(fs)? {
        return Ok(Found::Done(result));
    }
    recover_ignoring_result(fs)
}

/// A recovery that does not know about the published result.
pub fn recover_ignoring_result(fs: &dyn Fs) -> io::Result<Found> {
    Ok(match read_progress(fs)? {
        Some((next, _)) => Found::Progress(next),
        None => Found::Nothing,
    })
}

/// "The progress file parses and holds at least the committed value", or
/// the result is published.
pub fn progress_holds(fs: &dyn Fs, committed: Option<u64>) -> Result<(), String> {
    if read_result(fs).map_err(|e| e.to_string())?.is_some() {
        return Ok(());
    }
    let next = read_progress(fs)
        .map_err(|e| e.to_string())?
        .map(|(next, _)| next);
    match (next, committed) {
        (Some(next), Some(c)) if next < c => Err(format!("progress {next} < committed {c}")),
        (None, Some(c)) => Err(format!("no progress file, but {c} was committed")),
        _ => Ok(()),
    }
}

/// Names left in `/` besides the result.
pub fn leftovers(fs: &dyn Fs) -> io::Result<Vec<String>> {
    Ok(fs
        .read_dir(p(ROOT))?
        .into_iter()
        .map(|e| e.name)
        .filter(|n| n != "result")
        .collect())
}

/// The program as a workload that reports nothing and provides nothing:
/// only the result oracle and "recovery does not panic" apply.
pub fn hookless(bug: Bug) -> ProgramWorkload {
    ProgramWorkload::new(format!("counter-{bug:?}"), move |fs, _| {
        run(fs, bug, &mut |_| {})
    })
}

/// The program with every check it can have: commits reported, recovery,
/// the predicate, leftovers.
pub fn checked(bug: Bug) -> ProgramWorkload {
    ProgramWorkload::new(format!("counter-{bug:?}"), move |fs, reporter| {
        run(fs, bug, &mut |n| reporter.committed(n))
    })
    .recover(recover)
    .check_state(
        "the progress file parses and holds the committed value",
        progress_holds,
    )
    .leftovers(leftovers)
}

/// Workloads with one part each, to show each check on its own.
pub struct ProgramWorkloadParts;

impl ProgramWorkloadParts {
    /// Commits reported and the predicate, no recovery function.
    pub fn predicate_only(bug: Bug) -> ProgramWorkload {
        ProgramWorkload::new(format!("counter-{bug:?}"), move |fs, reporter| {
            run(fs, bug, &mut |n| reporter.committed(n))
        })
        .check_state(
            "the progress file parses and holds the committed value",
            progress_holds,
        )
    }

    /// Commits reported, a recovery that ignores the published result.
    pub fn recovery_ignoring_result(bug: Bug) -> ProgramWorkload {
        ProgramWorkload::new(format!("counter-{bug:?}"), move |fs, reporter| {
            run(fs, bug, &mut |n| reporter.committed(n))
        })
        .recover(recover_ignoring_result)
    }
}
