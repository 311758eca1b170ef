//! Suite: what recovery resumes, skips, refuses and never deletes; codecs.

use std::path::Path;

use crashproof_core::envelope::{Codec, MAGIC, TRAILER_LEN};
use crashproof_core::fs::Fs;
use crashproof_core::store::{
    CheckpointStore, JobIdentity, SkipReason, StoreError, generation_file_name,
};

use crate::check::{Ctx, SuiteResult, case_dir, write_file};
use crate::envelope_reference::crc32c;
use crate::{ensure, ensure_eq};

fn job(name: &str, fingerprint: u64) -> JobIdentity {
    JobIdentity {
        name: name.to_owned(),
        fingerprint,
    }
}

fn state(cursor: u64) -> Vec<u8> {
    format!("{{\"cursor\":{cursor}}}").into_bytes()
}

type Store<'a> = CheckpointStore<'a, dyn Fs + 'a>;

/// Turns the file of generation `g` into an intact envelope of format
/// version 3 (as a newer build would write): not corruption.
fn make_newer_version(fs: &dyn Fs, dir: &Path, g: u64) -> SuiteResult {
    let path = dir.join(generation_file_name(g));
    let mut bytes = fs.read(&path).ctx("read")?;
    ensure!(bytes.starts_with(&MAGIC), "not an envelope");
    bytes[8..12].copy_from_slice(&3u32.to_le_bytes());
    let crc_at = bytes.len() - TRAILER_LEN;
    let crc = crc32c(&bytes[..crc_at]);
    bytes[crc_at..].copy_from_slice(&crc.to_le_bytes());
    write_file(fs, &path, &bytes)
}

/// A newest checkpoint that is intact but of a newer format version is
/// `Incompatible`: recovery does not skip it as if it were corrupt and fall
/// back to older progress, and GC never deletes it.
pub fn store_newer_version_is_not_skipped_as_corrupt(fs: &dyn Fs, root: &Path) -> SuiteResult {
    let dir = case_dir(fs, root, "store_newer_version")?;
    {
        let mut store = Store::open(fs, &dir, job("a", 1), 2).ctx("open")?;
        store.commit(10, &state(10)).ctx("commit 1")?;
        store.commit(20, &state(20)).ctx("commit 2")?;
    }
    make_newer_version(fs, &dir, 2)?;
    let mut store = Store::open(fs, &dir, job("a", 1), 1).ctx("reopen keep=1")?;
    ensure_eq!(
        store.generations(),
        vec![1, 2],
        "startup GC deleted a generation around an unreadable one"
    );
    for (what, got) in [
        ("latest", store.latest()),
        ("peek_latest", Store::peek_latest(fs, &dir, &job("a", 1))),
    ] {
        match got {
            Err(e @ StoreError::Incompatible { .. }) => {
                ensure!(
                    e.to_string().contains("version 3"),
                    "{what}: the message does not name the version: {e}"
                );
            }
            other => return Err(format!("{what}: expected Incompatible, got {other:?}")),
        }
    }
    // Committing past it (as a forced NoResume would) never deletes it.
    for cursor in [30, 40, 50] {
        store.commit(cursor, &state(cursor)).ctx("commit")?;
    }
    ensure!(
        fs.exists(&dir.join(generation_file_name(2)))
            .ctx("exists")?,
        "GC deleted an intact file of a newer version"
    );
    ensure_eq!(store.generations(), vec![2, 5], "generations");
    Ok(())
}

/// Another job's file newer than this job's checkpoints: recovery skips it
/// (reported, never deleted) and resumes this job's own newest valid one;
/// only when this job has none is it `FingerprintMismatch`, whose advice is
/// to move the file aside (not to delete the directory).
pub fn store_resumes_own_checkpoint_below_another_jobs(fs: &dyn Fs, root: &Path) -> SuiteResult {
    let dir = case_dir(fs, root, "store_foreign_newer")?;
    {
        let mut mine = Store::open(fs, &dir, job("mine", 1), 2).ctx("open mine")?;
        mine.commit(10, &state(10)).ctx("commit 1")?;
        mine.commit(20, &state(20)).ctx("commit 2")?;
    }
    Store::open(fs, &dir, job("theirs", 2), 2)
        .ctx("open theirs")?
        .commit(99, &state(99))
        .ctx("commit theirs")?;
    let foreign = dir.join(generation_file_name(3));
    let mut store = Store::open(fs, &dir, job("mine", 1), 2).ctx("reopen mine")?;
    let latest = store.latest().ctx("latest")?.ctx("a checkpoint")?;
    ensure_eq!((latest.generation, latest.cursor), (2, 20), "resumed");
    ensure_eq!(latest.skipped.len(), 1, "skipped: {:?}", latest.skipped);
    let skipped = &latest.skipped[0];
    ensure_eq!(
        (&skipped.generation, &skipped.path, &skipped.reason),
        (
            &3,
            &foreign,
            &SkipReason::OtherJob {
                name: "theirs".to_owned(),
                fingerprint: 2
            }
        ),
        "skipped"
    );
    ensure_eq!(latest.skipped_damaged(), 0, "nothing damaged");
    ensure!(
        skipped.to_string().contains("move it out"),
        "display: {skipped}"
    );
    let peeked = Store::peek_latest(fs, &dir, &job("mine", 1)).ctx("peek")?;
    ensure_eq!(peeked, Some(latest), "peek chooses what latest chooses");
    for cursor in [30, 40, 50] {
        store.commit(cursor, &state(cursor)).ctx("commit")?;
    }
    ensure_eq!(
        store.generations(),
        vec![3, 5, 6],
        "retention keeps the other job's file"
    );
    drop(store);
    Store::open(fs, &dir, job("mine", 1), 2).ctx("reopen")?;
    ensure!(
        fs.exists(&foreign).ctx("exists")?,
        "startup GC deleted another job's checkpoint"
    );

    // Only the other job's files: refused, advising to move the file.
    let dir = case_dir(fs, root, "store_foreign_only")?;
    Store::open(fs, &dir, job("theirs", 2), 2)
        .ctx("open theirs")?
        .commit(99, &state(99))
        .ctx("commit theirs")?;
    match Store::open(fs, &dir, job("mine", 1), 2)
        .ctx("open mine")?
        .latest()
    {
        Err(e @ StoreError::FingerprintMismatch { .. }) => {
            let message = e.to_string();
            ensure!(
                message.contains("move") && message.contains(&generation_file_name(1)),
                "the advice does not say to move the file: {message}"
            );
            ensure!(
                !message.contains(" or delete "),
                "the advice still says to delete the directory: {message}"
            );
        }
        other => return Err(format!("expected FingerprintMismatch, got {other:?}")),
    }
    Ok(())
}

/// A store writes its codec into each file; any store reads a file with the
/// codec its header names; a postcard checkpoint of 15,770 raw bytes is
/// about their size, a JSON one several times more.
pub fn store_codec_is_recorded_per_file(fs: &dyn Fs, root: &Path) -> SuiteResult {
    let dir = case_dir(fs, root, "store_codec")?;
    let blob: Vec<u8> = (0..15_770u32).map(|i| (i * 7919 % 251) as u8).collect();
    let sizes = |codec: Codec| -> Result<(u64, u64), String> {
        let state = codec.to_vec(&blob).ctx("encode")?;
        let mut store = Store::open(fs, &dir, job("c", 1), 2)
            .ctx("open")?
            .with_codec(codec);
        ensure_eq!(store.codec(), codec, "codec");
        let g = store.commit(7, &state).ctx("commit")?;
        let len = fs
            .metadata(&dir.join(generation_file_name(g)))
            .ctx("metadata")?
            .len;
        Ok((len, state.len() as u64))
    };
    let (postcard_file, postcard_state) = sizes(Codec::Postcard)?;
    let (json_file, _) = sizes(Codec::Json)?;
    ensure_eq!(
        postcard_state,
        15_772,
        "postcard state: 2-byte length + bytes"
    );
    ensure!(
        postcard_file <= postcard_state + 64,
        "postcard checkpoint {postcard_file} bytes for a {postcard_state}-byte state"
    );
    ensure!(
        json_file > 3 * 15_770,
        "json checkpoint only {json_file} bytes"
    );
    // A default (JSON) store reads the postcard generation 1 and the JSON
    // generation 2 each with its own codec.
    let newest = Store::peek_latest(fs, &dir, &job("c", 1))
        .ctx("peek")?
        .ctx("a checkpoint")?;
    ensure_eq!(
        (newest.generation, newest.codec),
        (2, Codec::Json),
        "newest"
    );
    let decoded: Vec<u8> = newest.codec.from_slice(&newest.state).ctx("decode")?;
    ensure_eq!(decoded, blob, "json state");
    let path = dir.join(generation_file_name(2));
    fs.remove_file(&path).ctx("remove newest")?;
    let older = Store::peek_latest(fs, &dir, &job("c", 1))
        .ctx("peek")?
        .ctx("a checkpoint")?;
    ensure_eq!(
        (older.generation, older.codec),
        (1, Codec::Postcard),
        "older"
    );
    let decoded: Vec<u8> = older.codec.from_slice(&older.state).ctx("decode")?;
    ensure_eq!(decoded, blob, "postcard state");
    Ok(())
}
