//! A directory of numbered checkpoint generations for one job.
//!
//! # Layout
//!
//! Each generation `g` is one self-validating file
//! `ckpt-<g, 20 digits>.bin` (see [`generation_file_name`]): an envelope
//! holding the writing job's [`JobIdentity`], `g`, the cursor and the state
//! bytes, in the store's [`Codec`] (named in the envelope header, so a file
//! is read with the codec it was written in). The directory listing of
//! generation files *is* the list of live generations; there is no separate
//! manifest, so no crash (mid-commit or mid-GC) can leave a listed
//! generation with missing parts.
//!
//! # Commit and retention: two fsyncs per commit
//!
//! Committing generation `g` is one [`crate::replace()`] of its file: temp
//! file written and fsynced, renamed, directory fsynced. So `g` is durable
//! before anything older is touched. Then GC unlinks every generation that
//! has at least `keep` *valid* generations newer than it (valid: the file
//! decodes and carries this job's fingerprint; generations this store wrote
//! or already verified are remembered, so a steady-state commit reads
//! nothing back). GC does **not** fsync the directory: its unlinks become
//! durable with the directory fsync of the *next* commit's `replace` (a
//! directory fsync makes every earlier change of its entries durable), or
//! with [`CheckpointStore::sync_removals`]. A steady-state commit is thus
//! file fsync, rename, directory fsync, unlink: two fsyncs, not three.
//!
//! Why that is safe, at every crash point:
//!
//! - **What can reappear.** Only generations unlinked since the last
//!   successful fsync of the directory: in the runner's steady state, the
//!   one (or few) the previous commit's GC removed. Nothing else: every
//!   other unlink was covered by a later directory fsync, and commits never
//!   unlink anything else.
//! - **Why `keep` valid generations always remain.** GC unlinks a
//!   generation only when `keep` valid generations newer than it are
//!   durable (each one's `replace` returned `Ok`, which includes its
//!   directory fsync), and it never unlinks those `keep`. A crash can undo
//!   an unlink (bringing an old file back) but cannot undo a durable rename,
//!   so after any crash the `keep` newest valid generations committed so
//!   far are all there, plus perhaps some older ones.
//! - **Why a resurrected generation is harmless.** It is a complete, valid,
//!   older checkpoint of this job (it was durable before it was unlinked).
//!   Recovery walks newest first and stops at the first valid one, so it is
//!   never chosen while a newer valid one exists, and when every newer one
//!   is damaged it is exactly the right fallback. Its number is below the
//!   newest, so numbering is unaffected.
//! - **Who removes it.** Startup GC ([`CheckpointStore::open`]) sees `keep`
//!   valid generations newer than it and removes it, then fsyncs the
//!   directory (once per open, not per commit).
//!
//! Paths that must still fsync after removing, because no commit follows
//! to cover them: [`CheckpointStore::discard_all`] (a forced restart, or
//! cleanup after success, must not see discarded checkpoints come back),
//! startup GC, and [`CheckpointStore::sync_removals`], which the runner
//! calls before [`crate::Runner::run`] returns `Ok` (after its final
//! commit, or when it yields) so a finished job's directory is durably in
//! its final shape even if no process ever opens it again.
//!
//! # Startup GC
//!
//! [`CheckpointStore::open`] removes what the store itself names and no
//! longer needs: temp files of its generation files (left by a crash inside
//! `replace`), the runner's write probe, and generation files GC would
//! delete. Nothing else in the directory is touched (the job's `LOCK`, a
//! yield sentinel, a user's `notes.txt`), and neither is a generation file
//! that is intact but not this job's (another job's, or written by a newer
//! build): the store never deletes what it cannot read as its own.
//!
//! # Choosing the checkpoint to resume
//!
//! [`CheckpointStore::latest`] walks generations newest first:
//! - a damaged file (torn, truncated, flipped bits) is skipped with a
//!   `tracing::warn!` and reported in [`StoredCheckpoint::skipped`],
//!   falling back to the previous generation;
//! - an intact file of another job is skipped the same way (warned,
//!   reported, never deleted): the job's own newest valid generation below
//!   it is resumed;
//! - an intact file of another format version or codec, or not a store
//!   record, is [`StoreError::Incompatible`]: it is not corruption, so the
//!   store does not fall back past it to older progress;
//! - the first valid file of this job decides: it is resumed;
//! - no valid file of this job, but another job's →
//!   [`StoreError::FingerprintMismatch`], advising to move that file aside;
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
mod skipped;

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use crate::digest::stable_digest;
use crate::envelope::{Codec, DecodeError};
use crate::failpoint;
use crate::fs::Fs;
use crate::replace::replace;

pub use error::StoreError;
pub use job_dir::{Leftover, leftovers};
pub use names::{
    WRITE_PROBE_FILE_NAME, generation_file_name, is_store_temp_name, parse_generation_file_name,
};
pub use record::JobIdentity;
pub use skipped::{SkipReason, SkippedGeneration};

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
    /// The codec its envelope names: the state bytes are in it.
    pub codec: Codec,
    /// The newer generation files recovery passed over to reach it, newest
    /// first (damaged ones, and other jobs' files).
    pub skipped: Vec<SkippedGeneration>,
}

impl StoredCheckpoint {
    /// How many newer generation files were damaged and skipped to reach it
    /// (each may have held up to K items of this job's progress).
    pub fn skipped_damaged(&self) -> u64 {
        self.skipped
            .iter()
            .filter(|s| matches!(s.reason, SkipReason::Damaged { .. }))
            .count() as u64
    }
}

/// What this process knows about one listed generation file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Validity {
    /// Listed but not read yet (or a commit of it failed midway).
    Unknown,
    /// Written by this store, or read back intact with this fingerprint:
    /// counts toward `keep`, removed once superseded.
    Ours,
    /// Damaged: removed once `keep` valid generations are newer.
    Damaged,
    /// Intact but not this job's (another job's, or unreadable by this
    /// build): never removed.
    NotOurs,
}

/// The checkpoint generations of one job in one directory. See the
/// [module documentation](self) for the layout and guarantees.
pub struct CheckpointStore<'a, F: Fs + ?Sized> {
    fs: &'a F,
    dir: PathBuf,
    job: JobIdentity,
    keep: usize,
    codec: Codec,
    generations: BTreeMap<u64, Validity>,
    next_generation: u64,
    /// GC unlinked files since the last directory fsync (see the module
    /// documentation: the next commit's fsync makes them durable).
    removals_unsynced: bool,
}

impl<F: Fs + ?Sized> std::fmt::Debug for CheckpointStore<'_, F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CheckpointStore")
            .field("dir", &self.dir)
            .field("job", &self.job)
            .field("keep", &self.keep)
            .field("codec", &self.codec)
            .field("generations", &self.generations)
            .field("next_generation", &self.next_generation)
            .field("removals_unsynced", &self.removals_unsynced)
            .finish_non_exhaustive()
    }
}

impl<'a, F: Fs + ?Sized> CheckpointStore<'a, F> {
    /// Opens (creating durably if missing) the store in `dir` for `job`,
    /// retaining at least `keep` valid generations, and runs startup GC.
    ///
    /// The caller must hold the job lock (the runner does). Fails with
    /// [`StoreError::InvalidKeep`] for `keep == 0`, with
    /// [`StoreError::NotADirectory`] if `dir` or an ancestor is a file, and
    /// with [`StoreError::Io`] if the directory cannot be created or listed
    /// (an unreadable directory is never taken for an empty one). Startup GC
    /// reads the generation files it needs to find `keep` valid ones, and
    /// older ones it has not read (to never delete another job's file). New
    /// generations are written in JSON unless [`CheckpointStore::with_codec`]
    /// says otherwise.
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
            codec: Codec::default(),
            generations: listing
                .generations
                .iter()
                .map(|&g| (g, Validity::Unknown))
                .collect(),
            next_generation,
            removals_unsynced: false,
        };
        let mut doomed: Vec<PathBuf> = listing.temps.iter().map(|t| store.dir.join(t)).collect();
        let old = store.doomed_generations()?;
        doomed.extend(old.iter().map(|&g| store.generation_path(g)));
        store.remove_files(&doomed, "startup GC")?;
        store.sync_removals()?;
        for g in old {
            store.generations.remove(&g);
        }
        Ok(store)
    }

    /// Writes new generations with `codec` (default [`Codec::Json`]).
    /// Existing files are read with the codec their header names, so a
    /// store can switch codecs between runs.
    pub fn with_codec(mut self, codec: Codec) -> Self {
        self.codec = codec;
        self
    }

    /// The codec new generations are written with.
    pub fn codec(&self) -> Codec {
        self.codec
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
    /// [`CheckpointStore::latest`] would choose it, and so are the removals
    /// of earlier GCs (its directory fsync covers them). On an error the
    /// older generations are intact; the number is used up either way.
    pub fn write_generation(&mut self, cursor: u64, state: &[u8]) -> Result<u64, StoreError> {
        let generation = self.next_generation;
        self.next_generation = generation.saturating_add(1);
        let meta = Meta {
            job: self.job.clone(),
            generation,
            cursor,
        };
        let bytes = record::encode(self.codec, &meta, state).map_err(StoreError::Encode)?;
        let path = self.generation_path(generation);
        // Until replace returns Ok the file may or may not exist whole.
        self.generations.insert(generation, Validity::Unknown);
        replace(self.fs, &path, &bytes)
            .map_err(StoreError::io("commit checkpoint generation", &path))?;
        // replace ended with a fsync of this directory: every earlier unlink
        // in it is durable now.
        self.removals_unsynced = false;
        self.generations.insert(generation, Validity::Ours);
        Ok(generation)
    }

    /// Deletes every generation that has at least `keep` valid generations
    /// newer than it (except intact files that are not this job's, which it
    /// never deletes), **without** fsyncing the directory: the removals are
    /// durable after the next [`CheckpointStore::write_generation`] or
    /// [`CheckpointStore::sync_removals`], and until then a crash may bring
    /// removed files back (harmless, see the module documentation). Returns
    /// how many files were removed. Reads back only generations whose
    /// validity it does not know. Starts with the failpoint
    /// [`failpoint::STORE_AFTER_WRITE_BEFORE_GC`].
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

    /// Fsyncs the directory if GC removed files since the last directory
    /// fsync, so they cannot come back after a crash. Returns whether it
    /// synced. Call it when no commit will follow soon (the runner does
    /// before `run` returns `Ok`); a steady-state commit does not need it.
    pub fn sync_removals(&mut self) -> Result<bool, StoreError> {
        if !self.removals_unsynced {
            return Ok(false);
        }
        self.fs.sync_dir(&self.dir).map_err(StoreError::io(
            "sync the checkpoint directory after removing files",
            &self.dir,
        ))?;
        self.removals_unsynced = false;
        Ok(true)
    }

    /// [`CheckpointStore::write_generation`] then
    /// [`CheckpointStore::collect_garbage`]: the steady-state commit, two
    /// fsyncs (the GC's removals become durable with the next commit). The
    /// generation is durable before GC touches anything, so a GC error never
    /// loses it.
    pub fn commit(&mut self, cursor: u64, state: &[u8]) -> Result<u64, StoreError> {
        let generation = self.write_generation(cursor, state)?;
        self.collect_garbage()?;
        Ok(generation)
    }

    /// Removes every generation file and store temp file in the directory
    /// (for a forced restart, or cleanup after success), any job's, then
    /// fsyncs the directory (also when only earlier GC removals were
    /// pending). When it returns `Ok`, no checkpoint of any job remains to
    /// be resumed, even after a crash. Returns how many files were removed.
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
        self.sync_removals()?;
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

    /// Generations older than the `keep` newest valid ones that GC may
    /// delete (this job's and damaged ones, not other jobs' intact files),
    /// oldest first. Reads the ones whose validity it does not know.
    fn doomed_generations(&mut self) -> Result<Vec<u64>, StoreError> {
        let newest_first: Vec<u64> = self.generations.keys().rev().copied().collect();
        let mut valid = 0;
        let mut doomed = Vec::new();
        for g in newest_first {
            let validity = self.validity(g)?;
            if valid >= self.keep {
                if validity != Validity::NotOurs {
                    doomed.push(g);
                }
            } else if validity == Validity::Ours {
                valid += 1;
            }
        }
        doomed.reverse();
        Ok(doomed)
    }

    /// What generation `g` is, reading it if this store does not know yet.
    fn validity(&mut self, g: u64) -> Result<Validity, StoreError> {
        if let Some(&known) = self.generations.get(&g)
            && known != Validity::Unknown
        {
            return Ok(known);
        }
        let validity = match examine(self.fs, &self.dir, &self.job, g)? {
            Verdict::Ours(_) => Validity::Ours,
            Verdict::Corrupt(_) => Validity::Damaged,
            Verdict::OtherJob(_) | Verdict::Refused(_) => Validity::NotOurs,
        };
        self.generations.insert(g, validity);
        Ok(validity)
    }

    /// Removes `paths` (a missing one counts as removed already) without
    /// fsyncing the directory; marks the removals unsynced.
    fn remove_files(&mut self, paths: &[PathBuf], why: &'static str) -> Result<usize, StoreError> {
        let mut removed = 0;
        for path in paths {
            match self.fs.remove_file(path) {
                Ok(()) => removed += 1,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(StoreError::io("remove an old checkpoint file", path)(e)),
            }
        }
        if removed > 0 {
            self.removals_unsynced = true;
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
    /// Intact, another job's: the mismatch error, should nothing of ours
    /// be found.
    OtherJob(StoreError),
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
        return Ok(Verdict::OtherJob(StoreError::FingerprintMismatch {
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
        codec: record.codec,
        skipped: Vec::new(),
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
    let mut first_other_job = None;
    let mut skipped = Vec::new();
    for generation in newest_first {
        let path = dir.join(generation_file_name(generation));
        match examine(fs, dir, job, generation)? {
            Verdict::Ours(mut checkpoint) => {
                mark(generation, Validity::Ours);
                checkpoint.skipped = skipped;
                return Ok(Some(checkpoint));
            }
            Verdict::Corrupt(e) => {
                tracing::warn!(
                    dir = ?dir,
                    generation,
                    error = %e,
                    "checkpoint generation {generation} is corrupt; falling back to the previous generation"
                );
                mark(generation, Validity::Damaged);
                skipped.push(SkippedGeneration {
                    generation,
                    path,
                    reason: SkipReason::damaged(&e),
                });
                newest_error.get_or_insert(e);
            }
            Verdict::OtherJob(mismatch) => {
                mark(generation, Validity::NotOurs);
                if let StoreError::FingerprintMismatch {
                    found_name,
                    found_fingerprint,
                    ..
                } = &mismatch
                {
                    let skip = SkippedGeneration {
                        generation,
                        path,
                        reason: SkipReason::OtherJob {
                            name: found_name.clone(),
                            fingerprint: *found_fingerprint,
                        },
                    };
                    tracing::warn!(dir = ?dir, "checkpoint {skip}; looking for this job's own checkpoints below it");
                    skipped.push(skip);
                }
                first_other_job.get_or_insert(mismatch);
            }
            Verdict::Refused(e) => {
                mark(generation, Validity::NotOurs);
                return Err(e);
            }
        }
    }
    if let Some(mismatch) = first_other_job {
        return Err(mismatch);
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
/// [`StoreError::NotADirectory`] if `dir` or an existing ancestor is not a
/// directory.
pub(crate) fn ensure_dir_durable<F: Fs + ?Sized>(fs: &F, dir: &Path) -> Result<(), StoreError> {
    let mut created = Vec::new();
    let mut cursor = Some(dir);
    while let Some(d) = cursor.filter(|d| !d.as_os_str().is_empty()) {
        match fs.metadata(d) {
            Ok(m) if m.is_dir => break,
            Ok(_) => {
                return Err(StoreError::NotADirectory {
                    path: d.to_path_buf(),
                    dir: dir.to_path_buf(),
                });
            }
            // Missing, or under a file: the walk up finds which.
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
                ) => {}
            Err(e) => return Err(StoreError::io("check the checkpoint directory", d)(e)),
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
