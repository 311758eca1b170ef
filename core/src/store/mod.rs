//! A directory of numbered checkpoint generations for one job.
//!
//! # Layout
//!
//! Each generation `g` is one self-validating file
//! `ckpt-<g, 20 digits>.bin` (see [`generation_file_name`]): an envelope
//! holding the writing job's [`JobIdentity`], `g`, the cursor and the state
//! bytes. The directory listing of generation files *is* the list of live
//! generations; there is no separate manifest, so no crash (mid-commit or
//! mid-GC) can leave a listed generation with missing parts.
//!
//! # Commit and retention
//!
//! Committing generation `g` is one [`crate::replace()`] of its file, so it is
//! durable (file fsync, rename, directory fsync) before anything older is
//! touched. Then GC deletes every generation that has at least `keep`
//! *valid* generations newer than it, and fsyncs the directory. Valid means
//! the file decodes and carries this job's fingerprint; generations this
//! store wrote or already verified are remembered, so a steady-state commit
//! reads nothing back.
//!
//! # Startup GC
//!
//! [`CheckpointStore::open`] removes what the store itself names and no
//! longer needs: temp files of its generation files (left by a crash inside
//! `replace`) and generation files GC would delete. Nothing else in the
//! directory is touched (the job's `LOCK`, a yield sentinel, a user's
//! `notes.txt`).
//!
//! # Choosing the checkpoint to resume
//!
//! [`CheckpointStore::latest`] walks generations newest first:
//! - a damaged file (torn, truncated, flipped bits) is skipped with a
//!   `tracing::warn!`, falling back to the previous generation;
//! - the first intact file decides: this job's → resumed; another job's →
//!   [`StoreError::FingerprintMismatch`]; another format version or not a
//!   store record → [`StoreError::Incompatible`]. So if the newest is corrupt
//!   and the one before belongs to another job, the result is
//!   `FingerprintMismatch`: the directory is treated as the other job's, and
//!   nothing is resumed or deleted until the user decides;
//! - only damaged files → [`StoreError::AllCorrupt`] (committed progress
//!   existed and is lost: say so, never silently start over);
//! - no generation files → `Ok(None)`.
//!
//! # Single writer
//!
//! The store assumes it is the only writer of its directory; the runner
//! guarantees it with the job lock (`<dir>/LOCK`). Readers that must not
//! change anything use [`CheckpointStore::peek_latest`].

mod error;
mod job_dir;
mod names;
mod record;

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use crate::digest::stable_digest;
use crate::envelope::DecodeError;
use crate::failpoint;
use crate::fs::Fs;
use crate::replace::replace;

pub use error::StoreError;
pub use job_dir::{Leftover, leftovers};
pub use names::{generation_file_name, is_store_temp_name, parse_generation_file_name};
pub use record::JobIdentity;

use record::{Meta, RecordError};

/// The default number of valid generations retained (as Feldera's
/// `MIN_CHECKPOINT_THRESHOLD`): one to resume from, one to fall back to.
pub const DEFAULT_KEEP: usize = 2;

/// A checkpoint read back from the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCheckpoint {
    /// Its generation number.
    pub generation: u64,
    /// Items fully processed: resume at this index.
    pub cursor: u64,
    /// The state bytes exactly as committed.
    pub state: Vec<u8>,
    /// [`stable_digest`] of `state`.
    pub state_digest: u64,
    /// The file it was read from.
    pub path: PathBuf,
    /// How many newer generation files were damaged and skipped to reach it.
    pub skipped_corrupt: u64,
}

/// What this process knows about one listed generation file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Validity {
    /// Listed but not read yet (or a commit of it failed midway).
    Unknown,
    /// Written by this store, or read back intact with this fingerprint.
    Valid,
    /// Damaged, another job's, or unreadable by this build.
    Invalid,
}

/// The checkpoint generations of one job in one directory. See the
/// [module documentation](self) for the layout and guarantees.
pub struct CheckpointStore<'a, F: Fs + ?Sized> {
    fs: &'a F,
    dir: PathBuf,
    job: JobIdentity,
    keep: usize,
    generations: BTreeMap<u64, Validity>,
    next_generation: u64,
}

impl<F: Fs + ?Sized> std::fmt::Debug for CheckpointStore<'_, F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CheckpointStore")
            .field("dir", &self.dir)
            .field("job", &self.job)
            .field("keep", &self.keep)
            .field("generations", &self.generations)
            .field("next_generation", &self.next_generation)
            .finish_non_exhaustive()
    }
}

impl<'a, F: Fs + ?Sized> CheckpointStore<'a, F> {
    /// Opens (creating durably if missing) the store in `dir` for `job`,
    /// retaining at least `keep` valid generations, and runs startup GC.
    ///
    /// The caller must hold the job lock (the runner does). Fails with
    /// [`StoreError::InvalidKeep`] for `keep == 0`, and with
    /// [`StoreError::Io`] if the directory cannot be created or listed (an
    /// unreadable directory is never taken for an empty one). Startup GC
    /// reads at most the generation files it needs to find `keep` valid ones.
    pub fn open(
        fs: &'a F,
        dir: impl Into<PathBuf>,
        job: JobIdentity,
        keep: usize,
    ) -> Result<Self, StoreError> {
        if keep == 0 {
            return Err(StoreError::InvalidKeep);
        }
        let dir = dir.into();
        ensure_dir_durable(fs, &dir)?;
        Self::open_in_durable_dir(fs, dir, job, keep)
    }

    /// [`CheckpointStore::open`] for a directory the caller has just made
    /// durable with [`ensure_dir_durable`] (the runner, which needs the
    /// directory for its lock first), without syncing its parent again.
    pub(crate) fn open_in_durable_dir(
        fs: &'a F,
        dir: PathBuf,
        job: JobIdentity,
        keep: usize,
    ) -> Result<Self, StoreError> {
        if keep == 0 {
            return Err(StoreError::InvalidKeep);
        }
        let listing = list(fs, &dir)?.unwrap_or_default();
        let next_generation = next_after(&listing.generations);
        let mut store = Self {
            fs,
            dir,
            job,
            keep,
            generations: listing
                .generations
                .iter()
                .map(|&g| (g, Validity::Unknown))
                .collect(),
            next_generation,
        };
        let mut doomed: Vec<PathBuf> = listing.temps.iter().map(|t| store.dir.join(t)).collect();
        let old = store.doomed_generations()?;
        doomed.extend(old.iter().map(|&g| store.generation_path(g)));
        store.remove_files(&doomed, "startup GC")?;
        for g in old {
            store.generations.remove(&g);
        }
        Ok(store)
    }

    /// The checkpoint recovery resumes from, chosen as the
    /// [module documentation](self) describes, without changing anything on
    /// disk. Remembers what it verified so later GC need not re-read it.
    pub fn latest(&mut self) -> Result<Option<StoredCheckpoint>, StoreError> {
        let newest_first: Vec<u64> = self.generations.keys().rev().copied().collect();
        let mut seen = Vec::new();
        let result = select_latest(self.fs, &self.dir, &self.job, newest_first, |g, v| {
            seen.push((g, v));
        });
        for (g, v) in seen {
            self.generations.insert(g, v);
        }
        result
    }

    /// What [`CheckpointStore::latest`] would return for `job` in `dir`, for
    /// a reader that must change nothing: no lock, no directory creation, no
    /// GC. A missing directory means no checkpoints (`Ok(None)`); any other
    /// error listing it is an error.
    pub fn peek_latest(
        fs: &F,
        dir: &Path,
        job: &JobIdentity,
    ) -> Result<Option<StoredCheckpoint>, StoreError> {
        let Some(listing) = list(fs, dir)? else {
            return Ok(None);
        };
        let newest_first = listing.generations.into_iter().rev().collect();
        select_latest(fs, dir, job, newest_first, |_, _| {})
    }

    /// The generation number the next commit will use: one more than any
    /// generation file ever listed or written by this store, so numbers only
    /// grow (also across [`CheckpointStore::discard_all`]).
    pub fn next_generation(&self) -> u64 {
        self.next_generation
    }

    /// Durably writes the next generation (`cursor`, `state`) and returns its
    /// number, without GC. When it returns `Ok` the generation is durable and
    /// [`CheckpointStore::latest`] would choose it. On an error the older
    /// generations are intact; the number is used up either way.
    pub fn write_generation(&mut self, cursor: u64, state: &[u8]) -> Result<u64, StoreError> {
        let generation = self.next_generation;
        self.next_generation = generation.saturating_add(1);
        let meta = Meta {
            job: self.job.clone(),
            generation,
            cursor,
        };
        let bytes = record::encode(&meta, state).map_err(StoreError::Encode)?;
        let path = self.generation_path(generation);
        // Until replace returns Ok the file may or may not exist whole.
        self.generations.insert(generation, Validity::Unknown);
        replace(self.fs, &path, &bytes)
            .map_err(StoreError::io("commit checkpoint generation", &path))?;
        self.generations.insert(generation, Validity::Valid);
        Ok(generation)
    }

    /// Deletes every generation that has at least `keep` valid generations
    /// newer than it, then fsyncs the directory. Returns how many files were
    /// removed. Reads back only generations whose validity it does not know.
    /// Starts with the failpoint [`failpoint::STORE_AFTER_WRITE_BEFORE_GC`].
    pub fn collect_garbage(&mut self) -> Result<usize, StoreError> {
        self.fs
            .failpoint(failpoint::STORE_AFTER_WRITE_BEFORE_GC)
            .map_err(StoreError::io("reach the GC failpoint", &self.dir))?;
        let doomed = self.doomed_generations()?;
        let paths: Vec<PathBuf> = doomed.iter().map(|&g| self.generation_path(g)).collect();
        let removed = self.remove_files(&paths, "GC")?;
        for g in doomed {
            self.generations.remove(&g);
        }
        Ok(removed)
    }

    /// [`CheckpointStore::write_generation`] then
    /// [`CheckpointStore::collect_garbage`]. The generation is durable before
    /// GC touches anything, so a GC error never loses it.
    pub fn commit(&mut self, cursor: u64, state: &[u8]) -> Result<u64, StoreError> {
        let generation = self.write_generation(cursor, state)?;
        self.collect_garbage()?;
        Ok(generation)
    }

    /// Removes every generation file and store temp file in the directory
    /// (for a forced restart), then fsyncs the directory. When it returns
    /// `Ok`, no checkpoint of any job remains to be resumed. Returns how many
    /// files were removed.
    pub fn discard_all(&mut self) -> Result<usize, StoreError> {
        let listing = list(self.fs, &self.dir)?.unwrap_or_default();
        let mut paths: Vec<PathBuf> = listing
            .generations
            .iter()
            .map(|&g| self.generation_path(g))
            .collect();
        paths.extend(listing.temps.iter().map(|t| self.dir.join(t)));
        self.next_generation = self.next_generation.max(next_after(&listing.generations));
        let removed = self.remove_files(&paths, "discard")?;
        self.generations.clear();
        Ok(removed)
    }

    /// The generation numbers currently listed, oldest first.
    pub fn generations(&self) -> Vec<u64> {
        self.generations.keys().copied().collect()
    }

    /// The store directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The job this store reads and writes checkpoints for.
    pub fn job(&self) -> &JobIdentity {
        &self.job
    }

    /// The number of valid generations retained.
    pub fn keep(&self) -> usize {
        self.keep
    }

    /// The path of generation `generation`'s file.
    pub fn generation_path(&self, generation: u64) -> PathBuf {
        self.dir.join(generation_file_name(generation))
    }

    /// Generations older than the `keep` newest valid ones, oldest first.
    fn doomed_generations(&mut self) -> Result<Vec<u64>, StoreError> {
        let newest_first: Vec<u64> = self.generations.keys().rev().copied().collect();
        let mut valid = 0;
        for (i, &g) in newest_first.iter().enumerate() {
            if valid >= self.keep {
                let mut doomed = newest_first.get(i..).unwrap_or_default().to_vec();
                doomed.reverse();
                return Ok(doomed);
            }
            let validity = match self.generations.get(&g) {
                Some(Validity::Unknown) | None => {
                    let v = match examine(self.fs, &self.dir, &self.job, g)? {
                        Verdict::Ours(_) => Validity::Valid,
                        _ => Validity::Invalid,
                    };
                    self.generations.insert(g, v);
                    v
                }
                Some(&v) => v,
            };
            if validity == Validity::Valid {
                valid += 1;
            }
        }
        Ok(Vec::new())
    }

    /// Removes `paths` (a missing one counts as removed already), then
    /// fsyncs the directory if anything was removed.
    fn remove_files(&self, paths: &[PathBuf], why: &'static str) -> Result<usize, StoreError> {
        let mut removed = 0;
        for path in paths {
            match self.fs.remove_file(path) {
                Ok(()) => removed += 1,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(StoreError::io("remove an old checkpoint file", path)(e)),
            }
        }
        if removed > 0 {
            self.fs.sync_dir(&self.dir).map_err(StoreError::io(
                "sync the checkpoint directory after GC",
                &self.dir,
            ))?;
            // Steady-state GC removes one file per commit: debug, not info.
            if why == "GC" {
                tracing::debug!(dir = ?self.dir, removed, why, "GC removed {removed} files");
            } else {
                tracing::info!(dir = ?self.dir, removed, why, "GC removed {removed} files");
            }
        }
        Ok(removed)
    }
}

/// The store's own entries in a directory listing.
#[derive(Debug, Default)]
struct Listing {
    generations: Vec<u64>,
    temps: Vec<String>,
}

/// Lists the store's entries in `dir`; `Ok(None)` if `dir` does not exist.
fn list<F: Fs + ?Sized>(fs: &F, dir: &Path) -> Result<Option<Listing>, StoreError> {
    let entries = match fs.read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(StoreError::io("list the checkpoint directory", dir)(e)),
    };
    let mut listing = Listing::default();
    for entry in entries.into_iter().filter(|e| !e.is_dir) {
        if let Some(g) = parse_generation_file_name(&entry.name) {
            listing.generations.push(g);
        } else if is_store_temp_name(&entry.name) {
            listing.temps.push(entry.name);
        }
    }
    listing.generations.sort_unstable();
    Ok(Some(listing))
}

fn next_after(generations: &[u64]) -> u64 {
    generations.iter().max().map_or(1, |&g| g.saturating_add(1))
}

/// What one generation file turned out to be.
enum Verdict {
    Ours(StoredCheckpoint),
    Corrupt(DecodeError),
    Refused(StoreError),
}

/// Reads and classifies generation `generation`. An I/O error reading it is
/// an error, never a verdict.
fn examine<F: Fs + ?Sized>(
    fs: &F,
    dir: &Path,
    job: &JobIdentity,
    generation: u64,
) -> Result<Verdict, StoreError> {
    let path = dir.join(generation_file_name(generation));
    let bytes = fs
        .read(&path)
        .map_err(StoreError::io("read checkpoint generation", &path))?;
    let record = match record::decode(&bytes) {
        Ok(record) => record,
        Err(RecordError::Envelope(e)) if e.is_corruption() => return Ok(Verdict::Corrupt(e)),
        Err(RecordError::Envelope(e)) => {
            return Ok(Verdict::Refused(StoreError::Incompatible {
                path,
                reason: e.to_string(),
            }));
        }
        Err(RecordError::Malformed(reason)) => {
            return Ok(Verdict::Refused(StoreError::Incompatible { path, reason }));
        }
    };
    if record.meta.job.fingerprint != job.fingerprint {
        return Ok(Verdict::Refused(StoreError::FingerprintMismatch {
            path,
            dir: dir.to_path_buf(),
            found_name: record.meta.job.name,
            found_fingerprint: record.meta.job.fingerprint,
            expected_name: job.name.clone(),
            expected_fingerprint: job.fingerprint,
        }));
    }
    if record.meta.generation != generation {
        return Ok(Verdict::Refused(StoreError::Incompatible {
            path,
            reason: format!(
                "the file name says generation {generation} but it holds generation {} \
                 (was it copied or renamed by hand?)",
                record.meta.generation
            ),
        }));
    }
    Ok(Verdict::Ours(StoredCheckpoint {
        generation,
        cursor: record.meta.cursor,
        state_digest: stable_digest(record.state),
        state: record.state.to_vec(),
        path,
        skipped_corrupt: 0,
    }))
}

/// The selection rule of [`CheckpointStore::latest`] over `newest_first`,
/// reporting each verdict's validity through `mark`.
fn select_latest<F: Fs + ?Sized>(
    fs: &F,
    dir: &Path,
    job: &JobIdentity,
    newest_first: Vec<u64>,
    mut mark: impl FnMut(u64, Validity),
) -> Result<Option<StoredCheckpoint>, StoreError> {
    let count = newest_first.len();
    let mut newest_error = None;
    let mut skipped = 0u64;
    for generation in newest_first {
        match examine(fs, dir, job, generation)? {
            Verdict::Ours(mut checkpoint) => {
                mark(generation, Validity::Valid);
                checkpoint.skipped_corrupt = skipped;
                return Ok(Some(checkpoint));
            }
            Verdict::Corrupt(e) => {
                tracing::warn!(
                    dir = ?dir,
                    generation,
                    error = %e,
                    "checkpoint generation {generation} is corrupt; falling back to the previous generation"
                );
                mark(generation, Validity::Invalid);
                skipped += 1;
                newest_error.get_or_insert(e);
            }
            Verdict::Refused(e) => {
                mark(generation, Validity::Invalid);
                return Err(e);
            }
        }
    }
    match newest_error {
        Some(newest_error) => Err(StoreError::AllCorrupt {
            dir: dir.to_path_buf(),
            count,
            newest_error,
        }),
        None => Ok(None),
    }
}

/// Creates `dir` if needed and makes its entry durable: fsyncs the parent of
/// `dir` and of every ancestor this call created, so committed checkpoints
/// cannot vanish with a directory whose own name was never durable.
pub(crate) fn ensure_dir_durable<F: Fs + ?Sized>(fs: &F, dir: &Path) -> Result<(), StoreError> {
    let mut created = Vec::new();
    let mut cursor = Some(dir);
    while let Some(d) = cursor.filter(|d| !d.as_os_str().is_empty()) {
        if fs
            .exists(d)
            .map_err(StoreError::io("check the checkpoint directory", d))?
        {
            break;
        }
        created.push(d);
        cursor = d.parent();
    }
    fs.create_dir_all(dir)
        .map_err(StoreError::io("create the checkpoint directory", dir))?;
    // The parents of created ancestors, top-down, then dir's own parent
    // (always: an earlier process may have created dir and died before
    // making it durable).
    let mut to_sync: Vec<&Path> = created.iter().rev().filter_map(|d| d.parent()).collect();
    to_sync.extend(dir.parent());
    to_sync.dedup();
    for parent in to_sync {
        let parent = if parent.as_os_str().is_empty() {
            Path::new(".")
        } else {
            parent
        };
        fs.sync_dir(parent).map_err(StoreError::io(
            "sync the parent of the checkpoint directory",
            parent,
        ))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
