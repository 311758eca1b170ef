//! A worklist job that keeps its progress in a JSON file, written with
//! `std::fs` the way such code is usually written (as in the Rooch
//! snapshot-resume seed): every `every` items it writes `progress.json.tmp`,
//! fsyncs it, renames it over `progress.json` and fsyncs the directory;
//! it resumes from `progress.json`; at the end it publishes `result.txt`
//! the same way and removes `progress.json`.
//!
//! This program exists twice: `progress_file_std.rs` with `std::fs`, as
//! first written, and `progress_file.rs` with `crashproof_core::stdfs`,
//! the version its crash test runs on the simulator. The two files differ
//! only in their `use` lines (`tests/progress_file.rs` checks it).

use crashproof_core::stdfs::{self as fs, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The progress file's name in the job directory.
pub const PROGRESS_FILE: &str = "progress.json";
/// The published result's name in the job directory.
pub const RESULT_FILE: &str = "result.txt";

/// A job's knobs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The directory holding the progress file and the result.
    pub dir: PathBuf,
    /// Items to process.
    pub items: u64,
    /// Save progress after every this many items (at least 1).
    pub every: u64,
}

impl Default for Config {
    /// 12 items, progress every 3, in `/job`.
    fn default() -> Self {
        Self {
            dir: PathBuf::from("/job"),
            items: 12,
            every: 3,
        }
    }
}

/// What the progress file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    /// Items done: resume at this one.
    pub next: u64,
    /// The running sum of the items done so far.
    pub sum: u64,
}

/// Where a run starts, as start-up finds the directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Start {
    /// Nothing saved: from item 0.
    Fresh,
    /// From saved progress.
    Resume(Progress),
    /// The job is done: its published result.
    Done(String),
}

/// Which durability steps a run takes (the planted bug turns one off).
#[derive(Debug, Clone, Copy)]
pub struct Durability {
    /// Fsync the directory after renaming a file into it.
    pub sync_dir_after_rename: bool,
}

/// Every step on.
pub const DURABLE: Durability = Durability {
    sync_dir_after_rename: true,
};

/// Item `index`'s value (a stand-in for real work).
fn item(index: u64) -> u64 {
    index.wrapping_mul(0x9e37_79b9_7f4a_7c15).rotate_left(17)
}

/// `bytes` to `dir/name` atomically: temp file, fsync, rename, directory
/// fsync (std's idiom: open the directory, `sync_all`).
fn replace(dir: &Path, name: &str, bytes: &[u8], durability: Durability) -> io::Result<()> {
    let temp = dir.join(format!("{name}.tmp"));
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&temp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    fs::rename(&temp, dir.join(name))?;
    if durability.sync_dir_after_rename {
        File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// Where a run starts: the result if published, else the saved progress,
/// else item 0. Reads only.
pub fn start(config: &Config) -> io::Result<Start> {
    let result = config.dir.join(RESULT_FILE);
    if fs::exists(&result)? {
        return Ok(Start::Done(fs::read_to_string(&result)?));
    }
    let progress = config.dir.join(PROGRESS_FILE);
    match fs::read(&progress) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Start::Resume)
            .map_err(|e| {
                let what = format!(
                    "{} is damaged ({e}): remove it to start over",
                    progress.display()
                );
                io::Error::new(io::ErrorKind::InvalidData, what)
            }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Start::Fresh),
        Err(e) => Err(e),
    }
}

/// Runs the job from wherever it stands to the end and returns its result;
/// calls `on_commit(n)` once `n` items are durably saved.
pub fn run(config: &Config, on_commit: &mut dyn FnMut(u64)) -> io::Result<String> {
    run_with(config, on_commit, DURABLE)
}

/// [`run`] with the durability steps chosen.
pub fn run_with(
    config: &Config,
    on_commit: &mut dyn FnMut(u64),
    durability: Durability,
) -> io::Result<String> {
    let every = config.every.max(1);
    fs::create_dir_all(&config.dir)?;
    if let Some(parent) = config.dir.parent() {
        File::open(parent)?.sync_all()?;
    }
    let mut progress = match start(config)? {
        Start::Done(result) => {
            remove_progress(config)?;
            return Ok(result);
        }
        Start::Resume(progress) => progress,
        Start::Fresh => Progress { next: 0, sum: 0 },
    };
    while progress.next < config.items {
        let end = progress.next.saturating_add(every).min(config.items);
        for index in progress.next..end {
            progress.sum = progress.sum.wrapping_add(item(index));
        }
        progress.next = end;
        let json = serde_json::to_vec(&progress).map_err(io::Error::other)?;
        replace(&config.dir, PROGRESS_FILE, &json, durability)?;
        on_commit(progress.next);
    }
    let result = format!("items={} sum={:016x}\n", progress.next, progress.sum);
    replace(&config.dir, RESULT_FILE, result.as_bytes(), durability)?;
    remove_progress(config)?;
    Ok(result)
}

/// Removes the progress file, if any, durably: the result is published.
fn remove_progress(config: &Config) -> io::Result<()> {
    match fs::remove_file(config.dir.join(PROGRESS_FILE)) {
        Ok(()) => File::open(&config.dir)?.sync_all(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// Names in the job directory other than the result: what a finished job
/// should not leave.
pub fn leftovers(config: &Config) -> io::Result<Vec<String>> {
    let mut names = Vec::new();
    for entry in fs::read_dir(&config.dir)? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if name != RESULT_FILE {
            names.push(name);
        }
    }
    names.sort();
    Ok(names)
}
