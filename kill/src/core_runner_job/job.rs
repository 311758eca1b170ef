//! The hash job: the same job as the explorer's `core-runner` workload
//! (`crashproof_catalog::core_runner`: same name, fingerprint, state bytes
//! and output), plus an optional per-item side effect, `items.log`.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crashproof_core::{Job, JobError, stable_digest};
use serde::{Deserialize, Serialize};

/// The job's name, as the catalog's `core-runner` workload names it.
pub const JOB_NAME: &str = "core-runner-hash";

/// SplitMix64's finaliser (the catalog job's mixing function).
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// What the job checkpoints. Without the items log the JSON is exactly the
/// catalog job's (`{"acc":..,"count":..}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HashState {
    acc: u64,
    count: u64,
    /// Bytes of `items.log` that belong to the items up to this state's
    /// cursor; a resume truncates the log to it (the idempotent way).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    log_len: Option<u64>,
}

/// How the job treats `items.log` on a resume.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogMode {
    /// Truncate to the checkpointed length first: redone items are not
    /// logged twice.
    Idempotent,
    /// Append blindly (the bug): items redone after a kill appear twice.
    AppendOnly,
}

/// `items.log`: one line per processed item, appended as a side effect.
#[derive(Debug)]
pub struct ItemsLog {
    path: PathBuf,
    file: File,
    mode: LogMode,
    positioned: bool,
}

impl ItemsLog {
    /// Opens (creating) the log at `path` for appending.
    pub fn open(path: &Path, mode: LogMode) -> std::io::Result<Self> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(Self {
            path: path.to_path_buf(),
            file,
            mode,
            positioned: false,
        })
    }

    /// Another handle on the same file, for syncing it before each commit.
    pub fn sync_handle(&self) -> std::io::Result<File> {
        self.file.try_clone()
    }
}

/// The hash job over `items` items.
#[derive(Debug)]
pub struct HashJob {
    items: u64,
    log: Option<ItemsLog>,
}

impl HashJob {
    /// The job over `items` items, with an optional items log.
    pub fn new(items: u64, log: Option<ItemsLog>) -> Self {
        Self { items, log }
    }
}

fn job_error(what: &str, e: std::io::Error) -> JobError {
    JobError::with_source(format!("items.log: {what}"), e)
}

impl Job for HashJob {
    type State = HashState;
    type Output = String;

    fn name(&self) -> &str {
        JOB_NAME
    }

    fn fingerprint(&self) -> u64 {
        stable_digest(format!("{JOB_NAME}/v1/items={}", self.items).as_bytes())
    }

    fn item_count(&self) -> u64 {
        self.items
    }

    fn initial_state(&self) -> HashState {
        HashState {
            acc: 0,
            count: 0,
            log_len: self.log.as_ref().map(|_| 0),
        }
    }

    fn process(&mut self, index: u64, state: &mut HashState) -> Result<(), JobError> {
        state.acc = mix(state.acc ^ mix(index));
        state.count += 1;
        let Some(log) = &mut self.log else {
            return Ok(());
        };
        if !log.positioned {
            if log.mode == LogMode::Idempotent {
                let len = state.log_len.unwrap_or(0);
                log.file
                    .set_len(len)
                    .map_err(|e| job_error("truncate on resume", e))?;
            }
            log.positioned = true;
        }
        let line = format!("{index} {:016x}\n", mix(index));
        log.file
            .write_all(line.as_bytes())
            .map_err(|e| job_error("append", e))?;
        state.log_len = Some(state.log_len.unwrap_or(0) + line.len() as u64);
        Ok(())
    }

    fn finalize(&mut self, state: &HashState) -> Result<String, JobError> {
        let head = format!("items={} hash={:016x}", state.count, state.acc);
        let Some(log) = &self.log else {
            return Ok(head);
        };
        let mut bytes = Vec::new();
        let mut file = File::open(&log.path).map_err(|e| job_error("open to read", e))?;
        file.seek(SeekFrom::Start(0))
            .and_then(|_| file.read_to_end(&mut bytes))
            .map_err(|e| job_error("read", e))?;
        if log.mode == LogMode::Idempotent {
            // Anything past the checkpointed length belongs to no item.
            let len = usize::try_from(state.log_len.unwrap_or(0)).unwrap_or(usize::MAX);
            bytes.truncate(len);
        }
        let lines = bytes.iter().filter(|&&b| b == b'\n').count();
        Ok(format!(
            "{head} log_lines={lines} log_digest={:016x}",
            stable_digest(&bytes)
        ))
    }
}
