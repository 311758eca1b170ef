//! Rooch tail replay onto an existing output (seed: rooch-tail-replay.txt),
//! on the core [`crashproof_core::Runner`].
//!
//! An output directory already holds a replay up to some order
//! (`output.json`: last order and state root). Tail replay resolves its
//! start order from that output (`last_order + 1`), records
//! `{from_order, to_order, base_root}` in `replay-meta.json`, and applies
//! the tail of orders in chunks of K loaded from the source one at a time —
//! never the whole tail in memory — checkpointing after each chunk. The
//! final checkpoint is durable before `finalize` writes the new
//! `output.json`, so a crash after it resumes straight into finalize: the
//! finalize-only path for a partially completed output. A resumed replay
//! reads its recorded meta, so the recorded start order must be the one
//! actually used.
//!
//! The mutant is the review's bug: the meta records the *requested* start
//! order (`from_order.unwrap_or(0)`) instead of the resolved one. A clean
//! run never notices; a replay resumed after a crash starts from the wrong
//! order and its checkpoints are refused as another job's.

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use crashproof_core::fs::Fs;
use crashproof_core::{Job, JobError, JobIdentity, RunnerConfig, envelope, replace, stable_digest};
use serde::{Deserialize, Serialize};

use super::common::{Ended, core_leftovers, mix, peek_core, read_if_exists, run_core};
use crashproof_sim::explore::{Completion, Progress, Recovered, Workload, WorkloadError};

/// Orders in the source: `0..SOURCE_ORDERS`.
pub const SOURCE_ORDERS: u64 = 40;
/// The last order the existing output already holds.
pub const EXISTING_LAST_ORDER: u64 = 9;
/// Orders per chunk loaded from the source and per checkpoint (K).
pub const CHUNK: u64 = 5;
const KEEP: usize = 2;
const OUTPUT: &str = "output.json";
const META: &str = "replay-meta.json";
const JOB_NAME: &str = "tail-replay";

/// The output's summary (Rooch's sequencer info and startup info).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutputInfo {
    /// The last order applied.
    pub last_order: u64,
    /// The state root after it.
    pub root: u64,
}

/// What a tail replay records before it starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplayMeta {
    /// The first order of the tail.
    pub from_order: u64,
    /// The last order of the tail.
    pub to_order: u64,
    /// The output's root before the tail.
    pub base_root: u64,
}

/// The state root after applying `order` to `root`.
pub fn apply(root: u64, order: u64) -> u64 {
    mix(root ^ mix(order ^ 0x7a11))
}

/// The replay's checkpointed progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TailState {
    /// Root after the orders applied so far.
    pub root: u64,
    /// Orders applied so far.
    pub applied: u64,
}

/// Applies orders `meta.from_order..=meta.to_order`, loading them from the
/// source `chunk` at a time, and writes the output at finalize.
pub struct TailReplay<'a> {
    meta: ReplayMeta,
    chunk: u64,
    loaded: Option<(u64, Vec<u64>)>,
    peak_resident: Rc<Cell<u64>>,
    output: Option<(&'a dyn Fs, PathBuf)>,
}

impl<'a> TailReplay<'a> {
    /// A replay of `meta` in chunks of `chunk` orders; with `output`, the
    /// finalize writes `output.json` there.
    pub fn new(meta: ReplayMeta, chunk: u64, output: Option<(&'a dyn Fs, PathBuf)>) -> Self {
        Self {
            meta,
            chunk: chunk.max(1),
            loaded: None,
            peak_resident: Rc::new(Cell::new(0)),
            output,
        }
    }

    /// The identity checkpoints are written under (it names the tail).
    pub fn identity(&self) -> JobIdentity {
        JobIdentity {
            name: JOB_NAME.to_string(),
            fingerprint: self.fingerprint(),
        }
    }

    /// A handle on the most orders ever held in memory at once.
    pub fn peak_resident(&self) -> Rc<Cell<u64>> {
        Rc::clone(&self.peak_resident)
    }

    /// The order values `start..start+len` (capped at the tail's end), as a
    /// source database read would return them.
    fn load_chunk(&mut self, start: u64) -> &[u64] {
        let end = start.saturating_add(self.chunk).min(self.meta.to_order + 1);
        let orders: Vec<u64> = (start..end).collect();
        let resident = orders.len() as u64;
        self.peak_resident
            .set(self.peak_resident.get().max(resident));
        self.loaded = Some((start, orders));
        self.loaded.as_ref().map_or(&[], |(_, o)| o.as_slice())
    }
}

impl Job for TailReplay<'_> {
    type State = TailState;
    type Output = String;

    fn name(&self) -> &str {
        JOB_NAME
    }

    fn fingerprint(&self) -> u64 {
        stable_digest(
            format!(
                "rooch-tail-replay/v1/from={}/to={}/base={:016x}",
                self.meta.from_order, self.meta.to_order, self.meta.base_root
            )
            .as_bytes(),
        )
    }

    fn item_count(&self) -> u64 {
        (self.meta.to_order + 1).saturating_sub(self.meta.from_order)
    }

    fn initial_state(&self) -> TailState {
        TailState {
            root: self.meta.base_root,
            applied: 0,
        }
    }

    fn process(&mut self, index: u64, state: &mut TailState) -> Result<(), JobError> {
        let order = self.meta.from_order + index;
        let in_loaded = self
            .loaded
            .as_ref()
            .is_some_and(|(start, o)| order >= *start && order < start + o.len() as u64);
        if !in_loaded {
            // Chunk boundaries are fixed by the tail, not by where a resume
            // starts, so a resumed run loads the same chunks.
            let start = self.meta.from_order + (index / self.chunk) * self.chunk;
            self.load_chunk(start);
        }
        let Some((start, orders)) = &self.loaded else {
            return Err(JobError::new("no chunk loaded"));
        };
        let Some(&value) = orders.get((order - start) as usize) else {
            return Err(JobError::new(format!("order {order} is not in the source")));
        };
        state.root = apply(state.root, value);
        state.applied += 1;
        Ok(())
    }

    fn finalize(&mut self, state: &TailState) -> Result<String, JobError> {
        let info = OutputInfo {
            last_order: self.meta.to_order,
            root: state.root,
        };
        if let Some((fs, dir)) = &self.output {
            let bytes = envelope::encode(&info)
                .map_err(|e| JobError::with_source("encode the output info", e))?;
            replace(*fs, &dir.join(OUTPUT), &bytes)
                .map_err(|e| JobError::with_source("write the finalized output", e))?;
        }
        Ok(format!(
            "last_order={} root={:016x}",
            info.last_order, info.root
        ))
    }
}

/// The most orders a replay of the default tail holds in memory at once,
/// with chunks of `chunk` orders (no filesystem involved).
pub fn peak_resident_orders(chunk: u64) -> Result<u64, JobError> {
    let meta = initial_meta(EXISTING_LAST_ORDER + 1);
    let mut job = TailReplay::new(meta, chunk, None);
    let peak = job.peak_resident();
    let mut state = job.initial_state();
    for i in 0..job.item_count() {
        job.process(i, &mut state)?;
    }
    Ok(peak.get())
}

/// Whether a replay kept at most `chunk` orders in memory: a typed error
/// naming the excess otherwise.
pub fn check_bounded_memory(peak: u64, chunk: u64) -> Result<(), WorkloadError> {
    if peak > chunk {
        return Err(WorkloadError::Invariant(format!(
            "held {peak} orders in memory at once; the chunk bound is {chunk}"
        )));
    }
    Ok(())
}

/// The output a previous full replay of orders `0..=EXISTING_LAST_ORDER`
/// left.
pub fn existing_output() -> OutputInfo {
    OutputInfo {
        last_order: EXISTING_LAST_ORDER,
        root: (0..=EXISTING_LAST_ORDER).fold(0, apply),
    }
}

fn initial_meta(from_order: u64) -> ReplayMeta {
    ReplayMeta {
        from_order,
        to_order: SOURCE_ORDERS - 1,
        base_root: existing_output().root,
    }
}

fn read_envelope<T: serde::de::DeserializeOwned>(
    fs: &dyn Fs,
    path: &Path,
) -> Result<Option<T>, WorkloadError> {
    match read_if_exists(fs, path)? {
        None => Ok(None),
        Some(bytes) => envelope::decode(&bytes)
            .map(Some)
            .map_err(|e| WorkloadError::core(format!("{}: {e}", path.display()))),
    }
}

fn write_envelope<T: Serialize>(fs: &dyn Fs, path: &Path, value: &T) -> Result<(), WorkloadError> {
    let bytes = envelope::encode(value).map_err(WorkloadError::core)?;
    replace(fs, path, &bytes)?;
    Ok(())
}

/// How the replay records its start order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Recording {
    /// The order resolved from the output (correct).
    Resolved,
    /// `requested.unwrap_or(0)` (the review's bug).
    Requested,
}

/// The tail replay workload (control or mutant).
#[derive(Debug, Clone)]
pub struct RoochTail {
    dir: PathBuf,
    /// The operator's `--from-order`, if given (the scenario gives none, so
    /// the start order is resolved from the existing output).
    requested_from: Option<u64>,
    recording: Recording,
}

impl RoochTail {
    /// The correct tail replay into `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            requested_from: None,
            recording: Recording::Resolved,
        }
    }

    /// The review mutant: records the requested (absent, so 0) start order.
    pub fn recording_requested_start(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            requested_from: None,
            recording: Recording::Requested,
        }
    }

    /// The output left by an earlier replay, created if this is the first
    /// run in a fresh directory.
    fn prepare_output(&self, fs: &dyn Fs) -> Result<OutputInfo, WorkloadError> {
        fs.create_dir_all(&self.dir)?;
        fs.sync_dir(crashproof_core::fs::parent_dir(&self.dir))?;
        let path = self.dir.join(OUTPUT);
        if let Some(info) = read_envelope(fs, &path)? {
            return Ok(info);
        }
        let info = existing_output();
        write_envelope(fs, &path, &info)?;
        Ok(info)
    }

    /// The replay in progress (its recorded meta), or a new one resolved
    /// from the output, recorded before anything is applied. Returns the
    /// meta the replay runs with.
    fn start(&self, fs: &dyn Fs, output: OutputInfo) -> Result<ReplayMeta, WorkloadError> {
        let path = self.dir.join(META);
        if let Some(meta) = read_envelope::<ReplayMeta>(fs, &path)? {
            return Ok(meta);
        }
        let requested = self.requested_from;
        let resolved = requested.unwrap_or(output.last_order + 1);
        let meta = ReplayMeta {
            from_order: resolved,
            to_order: SOURCE_ORDERS - 1,
            base_root: output.root,
        };
        let recorded = match self.recording {
            Recording::Resolved => meta,
            // BUG: records the requested start order, not the resolved one.
            Recording::Requested => ReplayMeta {
                from_order: requested.unwrap_or(0),
                ..meta
            },
        };
        write_envelope(fs, &path, &recorded)?;
        Ok(meta)
    }
}

impl Workload for RoochTail {
    fn name(&self) -> String {
        match self.recording {
            Recording::Resolved => "rooch-tail-replay".to_string(),
            Recording::Requested => "rooch-tail-replay/wrong-start-order".to_string(),
        }
    }

    fn run(&self, fs: &dyn Fs, progress: &mut Progress) -> Result<Completion, WorkloadError> {
        let output = self.prepare_output(fs)?;
        let meta = self.start(fs, output)?;
        let mut job = TailReplay::new(meta, CHUNK, Some((fs, self.dir.clone())));
        let peak = job.peak_resident();
        let config = RunnerConfig {
            keep: KEEP,
            ..RunnerConfig::every(CHUNK)
        };
        let ended = Ended::from(run_core(fs, &self.dir, &mut job, config, progress)?);
        check_bounded_memory(peak.get(), CHUNK)?;
        ended.completed("the tail replay")
    }

    fn inspect(&self, fs: &dyn Fs) -> Result<Recovered, WorkloadError> {
        let Some(meta) = read_envelope::<ReplayMeta>(fs, &self.dir.join(META))? else {
            return Ok(Recovered { checkpoint: None });
        };
        let job = TailReplay::new(meta, CHUNK, None);
        peek_core(fs, &self.dir, &job.identity())
    }

    fn redo_bound(&self) -> u64 {
        CHUNK
    }

    fn leftovers(&self, fs: &dyn Fs) -> Result<Vec<String>, WorkloadError> {
        core_leftovers(fs, &self.dir, KEEP, &[OUTPUT, META])
    }
}
