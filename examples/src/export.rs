//! A batch export written without any progress hook, on the `Fs` trait:
//! it folds `records` records into a checksum, keeps its progress in a JSON
//! file (write a temp file, fsync it, rename it over the old one, fsync the
//! directory) every `every` records, tells its caller each record count it
//! made durable, and at the end publishes its output the same way and
//! removes the progress file. In production it runs on `StdFs`; its crash
//! test runs it on the simulator unchanged.

use std::io;
use std::path::{Path, PathBuf};

use crashproof_core::fs::{Fs, parent_dir};
use crashproof_core::stable_digest;
use serde::{Deserialize, Serialize};

/// The progress file's name in the export directory.
pub const PROGRESS_FILE: &str = "progress.json";
/// The published output's name in the export directory.
pub const OUTPUT_FILE: &str = "export.out";

/// An export's knobs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Export {
    /// The directory holding the progress file and the output.
    pub dir: PathBuf,
    /// Records to export.
    pub records: u64,
    /// Save progress after at most this many records (at least 1).
    pub every: u64,
}

impl Default for Export {
    /// 20 records, progress every 4, in `/export`.
    fn default() -> Self {
        Self {
            dir: PathBuf::from("/export"),
            records: 20,
            every: 4,
        }
    }
}

/// What the progress file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Saved {
    /// Records exported: resume at this one.
    pub next: u64,
    /// The checksum of records `0..next`.
    pub checksum: u64,
}

/// Where a run starts, as its start-up finds the directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Start {
    /// No progress, no output: from record 0.
    Fresh,
    /// From saved progress.
    Resume(Saved),
    /// The export is done: its published output.
    Done(String),
}

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// A filesystem call failed.
    #[error("could not {op} {path}: {source}")]
    Io {
        /// What it was doing.
        op: &'static str,
        /// On which path.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
    /// A file of the export is not what the export writes.
    #[error("{path} is damaged ({reason}): remove it to start the export over")]
    Damaged {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// `every` is 0: no progress would ever be saved.
    #[error("`every` must be at least 1")]
    ZeroEvery,
}

/// How durably the export writes (the planted bug turns one step off).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Durability {
    /// Fsync a temp file before renaming it over the real one.
    pub(crate) sync_before_rename: bool,
}

const DURABLE: Durability = Durability {
    sync_before_rename: true,
};

fn io_err<'p>(op: &'static str, path: &'p Path) -> impl FnOnce(io::Error) -> ExportError + 'p {
    move |source| ExportError::Io {
        op,
        path: path.to_path_buf(),
        source,
    }
}

/// Record `index`'s value (a stand-in for a row read from a database).
fn record(index: u64) -> u64 {
    stable_digest(&index.to_le_bytes())
}

/// The checksum after folding in record `index`: order-sensitive, so a
/// skipped or repeated record changes it.
fn fold(checksum: u64, index: u64) -> u64 {
    checksum.rotate_left(5) ^ record(index)
}

/// The file `name` in the export directory.
fn path(export: &Export, name: &str) -> PathBuf {
    export.dir.join(name)
}

/// `bytes` to `name` atomically: temp file, fsync, rename, directory fsync.
fn replace(
    fs: &dyn Fs,
    export: &Export,
    name: &str,
    bytes: &[u8],
    durability: Durability,
) -> Result<(), ExportError> {
    let target = path(export, name);
    let temp = path(export, &format!("{name}.tmp"));
    let file = fs.open_truncate(&temp).map_err(io_err("create", &temp))?;
    let written = fs.write_all_at(&file, 0, bytes).and_then(|()| {
        if durability.sync_before_rename {
            fs.sync(&file)
        } else {
            Ok(())
        }
    });
    let closed = fs.close(file);
    written.and(closed).map_err(io_err("write", &temp))?;
    fs.rename(&temp, &target).map_err(io_err("rename", &temp))?;
    fs.sync_dir(&export.dir)
        .map_err(io_err("fsync", &export.dir))
}

/// Where a run starts: the published output if there is one, else the
/// saved progress, else record 0. Reads only.
pub fn start(fs: &dyn Fs, export: &Export) -> Result<Start, ExportError> {
    let output = path(export, OUTPUT_FILE);
    if fs.exists(&output).map_err(io_err("look for", &output))? {
        let bytes = fs.read(&output).map_err(io_err("read", &output))?;
        let text = String::from_utf8(bytes).map_err(|e| ExportError::Damaged {
            path: output.clone(),
            reason: e.to_string(),
        })?;
        return Ok(Start::Done(text));
    }
    let progress = path(export, PROGRESS_FILE);
    if !fs
        .exists(&progress)
        .map_err(io_err("look for", &progress))?
    {
        return Ok(Start::Fresh);
    }
    let bytes = fs.read(&progress).map_err(io_err("read", &progress))?;
    let saved = serde_json::from_slice(&bytes).map_err(|e| ExportError::Damaged {
        path: progress.clone(),
        reason: e.to_string(),
    })?;
    Ok(Start::Resume(saved))
}

/// Runs the export from wherever it stands to the end and returns its
/// output; calls `on_commit(n)` once `n` records are durably saved (print
/// it, log it, or ignore it).
pub fn run(
    fs: &dyn Fs,
    export: &Export,
    on_commit: &mut dyn FnMut(u64),
) -> Result<String, ExportError> {
    run_with(fs, export, on_commit, DURABLE)
}

pub(crate) fn run_with(
    fs: &dyn Fs,
    export: &Export,
    on_commit: &mut dyn FnMut(u64),
    durability: Durability,
) -> Result<String, ExportError> {
    if export.every == 0 {
        return Err(ExportError::ZeroEvery);
    }
    fs.create_dir_all(&export.dir)
        .map_err(io_err("create", &export.dir))?;
    let parent = parent_dir(&export.dir);
    fs.sync_dir(parent).map_err(io_err("fsync", parent))?;
    let mut saved = match start(fs, export)? {
        Start::Done(output) => {
            remove_progress(fs, export)?;
            return Ok(output);
        }
        Start::Resume(saved) => saved,
        Start::Fresh => Saved {
            next: 0,
            checksum: 0,
        },
    };
    while saved.next < export.records {
        let end = saved.next.saturating_add(export.every).min(export.records);
        for index in saved.next..end {
            saved.checksum = fold(saved.checksum, index);
        }
        saved.next = end;
        let json = serde_json::to_vec(&saved).map_err(|e| ExportError::Damaged {
            path: path(export, PROGRESS_FILE),
            reason: format!("cannot encode progress: {e}"),
        })?;
        replace(fs, export, PROGRESS_FILE, &json, durability)?;
        on_commit(saved.next);
    }
    let output = format!("records={} checksum={:016x}", saved.next, saved.checksum);
    replace(fs, export, OUTPUT_FILE, output.as_bytes(), durability)?;
    remove_progress(fs, export)?;
    Ok(output)
}

/// Removes the progress file, if any, durably: the output is published.
fn remove_progress(fs: &dyn Fs, export: &Export) -> Result<(), ExportError> {
    let progress = path(export, PROGRESS_FILE);
    if fs
        .exists(&progress)
        .map_err(io_err("look for", &progress))?
    {
        fs.remove_file(&progress)
            .map_err(io_err("remove", &progress))?;
        fs.sync_dir(&export.dir)
            .map_err(io_err("fsync", &export.dir))?;
    }
    Ok(())
}

/// Names in the export directory other than the output: what a finished
/// export should not leave.
pub fn leftovers(fs: &dyn Fs, export: &Export) -> Result<Vec<String>, ExportError> {
    let names = match fs.read_dir(&export.dir) {
        Ok(entries) => entries.into_iter().map(|e| e.name),
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_err("list", &export.dir)(e)),
    };
    Ok(names.filter(|name| name != OUTPUT_FILE).collect())
}
