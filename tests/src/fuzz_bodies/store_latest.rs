//! Checkpoint selection over arbitrary generation files.

use std::path::{Path, PathBuf};

use arbitrary::Unstructured;
use crashproof_core::envelope::{Codec, decode_raw, encode_raw_with};
use crashproof_core::fs::Fs;
use crashproof_core::store::generation_file_name;
use crashproof_core::{CheckpointStore, JobIdentity, StoredCheckpoint, stable_digest};
use crashproof_sim::{SimConfig, SimFs};

/// The generation the body commits properly before planting anything.
const VALID_GENERATION: u64 = 1;
const VALID_CURSOR: u64 = 5;
const VALID_STATE: &[u8] = b"{\"sum\":42}";
/// Planted files per input; generation numbers are drawn from `0..=MAX_PLANTED_GENERATION`.
const MAX_PLANTED: u32 = 3;
const MAX_PLANTED_GENERATION: u64 = 4;

fn dir() -> PathBuf {
    PathBuf::from("/job")
}

fn job() -> JobIdentity {
    JobIdentity {
        name: "fuzz".to_string(),
        fingerprint: 7,
    }
}

/// Commits one valid generation into a `SimFs` store, plants the input as
/// up to three generation files (raw, or wrapped in an intact envelope so
/// the fuzzer reaches the record decoder), then asks
/// [`CheckpointStore::peek_latest`] and [`CheckpointStore::open`] +
/// [`CheckpointStore::latest`] which checkpoint recovery would resume.
///
/// Invariants: no panic; both answer the same; never `Ok(None)` (a
/// generation file exists); a returned checkpoint has a consistent digest
/// and path, and is either the valid commit (when its file was not replaced)
/// or a planted file whose bytes decode to the same generation, cursor, job
/// fingerprint and state; if every planted file is older than the valid
/// commit, the valid commit is what is returned.
pub fn check_store_latest(data: &[u8]) -> Result<(), String> {
    let fs = SimFs::new(SimConfig::with_seed(0));
    let dir = dir();
    let job = job();
    {
        let mut store = CheckpointStore::open(&fs, &dir, job.clone(), 2)
            .map_err(|e| format!("setup: open a fresh store: {e}"))?;
        let g = store
            .commit(VALID_CURSOR, VALID_STATE)
            .map_err(|e| format!("setup: commit: {e}"))?;
        if g != VALID_GENERATION {
            return Err(format!(
                "setup: first commit got generation {g}, not {VALID_GENERATION}"
            ));
        }
    }
    let planted = plant(&fs, &dir, data)?;

    let peeked = CheckpointStore::peek_latest(&fs, &dir, &job);
    let opened = CheckpointStore::open(&fs, &dir, job.clone(), 2).and_then(|mut s| s.latest());
    let render = |r: &Result<Option<StoredCheckpoint>, _>| match r {
        Ok(c) => format!("Ok({c:?})"),
        Err(e) => format!("Err({e})"),
    };
    if render(&peeked) != render(&opened) {
        return Err(format!(
            "peek_latest and open+latest disagree (planted generations {planted:?}):\n  peek: {}\n  open: {}",
            render(&peeked),
            render(&opened)
        ));
    }
    let newer_planted = planted.iter().any(|&g| g >= VALID_GENERATION);
    match peeked {
        Ok(None) => Err(format!(
            "no checkpoint returned although generation files exist (planted {planted:?})"
        )),
        Ok(Some(c)) => check_returned_checkpoint(&fs, &dir, &c, &planted),
        Err(e) if !newer_planted => Err(format!(
            "every planted file {planted:?} is older than the valid generation, yet: {e}"
        )),
        Err(_) => Ok(()),
    }
}

/// Writes the planted files; returns their generations.
fn plant(fs: &SimFs, dir: &Path, data: &[u8]) -> Result<Vec<u64>, String> {
    let mut u = Unstructured::new(data);
    let count = u.int_in_range(1..=MAX_PLANTED).unwrap_or(1);
    let mut planted = Vec::new();
    for i in 0..count {
        let generation = u.int_in_range(0..=MAX_PLANTED_GENERATION).unwrap_or(2);
        // 0: raw bytes; 1: in an intact JSON envelope; 2: postcard.
        let wrap = u.int_in_range(0..=2u8).unwrap_or(0);
        let len = if i + 1 == count {
            u.len()
        } else {
            u.arbitrary_len::<u8>().unwrap_or(0)
        };
        let bytes = u.bytes(len).unwrap_or_default();
        let contents = match wrap {
            1 => encode_raw_with(Codec::Json, bytes),
            2 => encode_raw_with(Codec::Postcard, bytes),
            _ => bytes.to_vec(),
        };
        let path = dir.join(generation_file_name(generation));
        let file = fs
            .open_truncate(&path)
            .map_err(|e| format!("setup: plant {}: {e}", path.display()))?;
        fs.write_all_at(&file, 0, &contents)
            .map_err(|e| format!("setup: write {}: {e}", path.display()))?;
        fs.close(file)
            .map_err(|e| format!("setup: close {}: {e}", path.display()))?;
        planted.push(generation);
    }
    Ok(planted)
}

/// Checks a checkpoint the store returned from `dir` on `fs` after the body
/// planted generation files `planted`: digest and path consistent, and
/// either the body's valid commit (generation 1, cursor 5) when its file was
/// not replaced, or a planted file whose record says the same generation,
/// cursor, job fingerprint (7) and state.
pub fn check_returned_checkpoint(
    fs: &SimFs,
    dir: &Path,
    c: &StoredCheckpoint,
    planted: &[u64],
) -> Result<(), String> {
    if c.state_digest != stable_digest(&c.state) {
        return Err(format!("state_digest does not match the state: {c:?}"));
    }
    if c.path != dir.join(generation_file_name(c.generation)) {
        return Err(format!("path does not name its generation: {c:?}"));
    }
    let mut previous = u64::MAX;
    for skipped in &c.skipped {
        if skipped.generation <= c.generation || skipped.generation >= previous {
            return Err(format!(
                "skipped generations must be newer than the returned one, newest first: {c:?}"
            ));
        }
        if skipped.path != dir.join(generation_file_name(skipped.generation)) {
            return Err(format!(
                "a skipped path does not name its generation: {c:?}"
            ));
        }
        previous = skipped.generation;
    }
    if !planted.contains(&c.generation) {
        if c.generation != VALID_GENERATION || c.cursor != VALID_CURSOR || c.state != VALID_STATE {
            return Err(format!(
                "returned neither the valid commit nor a planted file: {c:?}"
            ));
        }
        return Ok(());
    }
    if planted.iter().all(|&g| g < VALID_GENERATION) {
        return Err(format!(
            "returned an older planted generation over the valid commit: {c:?}"
        ));
    }
    let bytes = fs
        .read(&c.path)
        .map_err(|e| format!("re-read {}: {e}", c.path.display()))?;
    let raw = decode_raw(&bytes)
        .map_err(|e| format!("returned a file whose envelope does not decode ({e}): {c:?}"))?;
    if raw.codec != c.codec {
        return Err(format!(
            "returned codec {} but the file's header says {}: {c:?}",
            c.codec, raw.codec
        ));
    }
    let payload = raw.payload;
    let meta_len = payload
        .get(..4)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map(|b| u32::from_le_bytes(b) as usize)
        .ok_or_else(|| format!("returned a record without a meta length: {c:?}"))?;
    let meta_end = meta_len.saturating_add(4);
    let (Some(meta), Some(state)) = (payload.get(4..meta_end), payload.get(meta_end..)) else {
        return Err(format!("returned a record whose meta overruns it: {c:?}"));
    };
    let meta: PlantedMeta = raw.codec.from_slice(meta).map_err(|e| {
        format!(
            "returned a record whose meta is not {} ({e}): {c:?}",
            raw.codec
        )
    })?;
    if meta.generation != c.generation
        || meta.cursor != c.cursor
        || meta.job.fingerprint != job().fingerprint
        || state != c.state.as_slice()
    {
        return Err(format!(
            "returned checkpoint disagrees with its file's record {meta:?}: {c:?}"
        ));
    }
    Ok(())
}

/// A store record's meta as the format documents it (the core's own type is
/// private): re-derived so the check does not trust the core's decoder.
#[derive(Debug, serde::Deserialize)]
struct PlantedMeta {
    job: JobIdentity,
    generation: u64,
    cursor: u64,
}
