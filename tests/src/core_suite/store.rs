//! Suite: the checkpoint store.

use std::path::Path;

use crashproof_core::fs::{Fs, FsOp};
use crashproof_core::replace::temp_path;
use crashproof_core::store::{CheckpointStore, JobIdentity, StoreError, generation_file_name};

use crate::check::{Ctx, SuiteResult, case_dir, flip_bit, names, write_file};
use crate::fs_wrappers::{FailRule, FailingFs, RecordingFs};
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

fn gen_names(generations: &[u64]) -> Vec<String> {
    generations
        .iter()
        .map(|&g| generation_file_name(g))
        .collect()
}

type Store<'a> = CheckpointStore<'a, dyn Fs + 'a>;

/// keep = 2 after 5 commits leaves exactly the 2 newest, on disk and in
/// the store's view.
pub fn store_retention_keeps_newest(fs: &dyn Fs, root: &Path) -> SuiteResult {
    let dir = case_dir(fs, root, "store_retention")?;
    let mut store = Store::open(fs, &dir, job("a", 1), 2).ctx("open")?;
    for cursor in 1..=5 {
        store
            .commit(cursor * 10, &state(cursor * 10))
            .ctx("commit")?;
    }
    ensure_eq!(store.generations(), vec![4, 5], "store generations");
    ensure_eq!(names(fs, &dir)?, gen_names(&[4, 5]), "files on disk");
    let latest = store.latest().ctx("latest")?.ctx("a checkpoint")?;
    ensure_eq!((latest.generation, latest.cursor), (5, 50), "latest");
    ensure_eq!(latest.state, state(50), "latest state");
    Ok(())
}

/// GC order and durability: the new generation's rename and directory
/// fsync come before any removal of an older generation; the removal is
/// not fsynced by its own commit (two fsyncs per commit) but by the next
/// commit's directory fsync; a steady-state commit reads nothing back.
pub fn store_gc_runs_after_new_generation_is_durable(fs: &dyn Fs, root: &Path) -> SuiteResult {
    let dir = case_dir(fs, root, "store_gc_order")?;
    let recording = RecordingFs::new(fs);
    let mut store = CheckpointStore::open(&recording, &dir, job("a", 1), 2).ctx("open")?;
    store.commit(10, &state(10)).ctx("commit 1")?;
    store.commit(20, &state(20)).ctx("commit 2")?;
    recording.clear();
    store.commit(30, &state(30)).ctx("commit 3")?;
    let commit_3 = recording.ops();
    recording.clear();
    store.commit(40, &state(40)).ctx("commit 4")?;
    let commit_4 = recording.ops();
    let new_gen = dir.join(generation_file_name(3));
    let old_gen = dir.join(generation_file_name(1));
    let ops = commit_3;
    let position = |what: &str, pred: &dyn Fn(&crate::fs_wrappers::RecordedOp) -> bool| {
        ops.iter()
            .position(pred)
            .ctx(&format!("no {what} in {ops:#?}"))
    };
    let rename = position("rename of generation 3", &|o| {
        o.op == FsOp::Rename && o.to.as_deref() == Some(new_gen.as_path())
    })?;
    let remove = position("removal of generation 1", &|o| {
        o.op == FsOp::RemoveFile && o.path == old_gen
    })?;
    let dir_sync_between = ops
        .get(rename..remove)
        .unwrap_or_default()
        .iter()
        .any(|o| o.op == FsOp::SyncDir && o.path == dir);
    ensure!(
        rename < remove,
        "generation 1 was removed before generation 3 was renamed into place"
    );
    ensure!(
        dir_sync_between,
        "no directory fsync between the rename of generation 3 and the GC: {ops:#?}"
    );
    let count = |ops: &[crate::fs_wrappers::RecordedOp], op: FsOp| {
        ops.iter().filter(|o| o.op == op).count()
    };
    ensure_eq!(
        (count(&ops, FsOp::Sync), count(&ops, FsOp::SyncDir)),
        (1, 1),
        "a steady-state commit makes one file fsync and one directory fsync: {ops:#?}"
    );
    ensure!(
        !ops.iter().any(|o| o.op == FsOp::Read),
        "a steady-state commit re-read checkpoints it wrote itself: {ops:#?}"
    );
    // The removal of generation 1 is made durable by commit 4's directory
    // fsync, before commit 4 removes anything itself.
    let first_dir_sync = commit_4
        .iter()
        .position(|o| o.op == FsOp::SyncDir && o.path == dir)
        .ctx(&format!("no directory fsync in commit 4: {commit_4:#?}"))?;
    let first_remove = commit_4
        .iter()
        .position(|o| o.op == FsOp::RemoveFile)
        .ctx(&format!("no removal in commit 4: {commit_4:#?}"))?;
    ensure!(
        first_dir_sync < first_remove,
        "commit 4 removed a file before fsyncing the directory: {commit_4:#?}"
    );
    ensure_eq!(
        store.generations(),
        vec![3, 4],
        "generations after commit 4"
    );
    Ok(())
}

/// Startup GC removes an orphan temp of a generation file and generations
/// beyond retention; it leaves a user's files, look-alike names and the
/// temp of a file the store does not own.
pub fn store_startup_gc_removes_only_its_own_leftovers(fs: &dyn Fs, root: &Path) -> SuiteResult {
    let dir = case_dir(fs, root, "store_startup_gc")?;
    {
        let mut store = Store::open(fs, &dir, job("a", 1), 3).ctx("open keep=3")?;
        for cursor in [10, 20, 30] {
            store.commit(cursor, &state(cursor)).ctx("commit")?;
        }
    }
    let orphan = temp_path(&dir.join(generation_file_name(4))).ctx("temp path")?;
    write_file(fs, &orphan, b"torn")?;
    let user_files = [
        ("notes.txt", &b"my notes"[..]),
        ("ckpt-7.bin", b"look-alike"),
        (".notes.txt.crashproof-tmp", b"not the store's"),
    ];
    for (name, bytes) in user_files {
        write_file(fs, &dir.join(name), bytes)?;
    }
    let store = Store::open(fs, &dir, job("a", 1), 2).ctx("reopen keep=2")?;
    ensure_eq!(
        store.generations(),
        vec![2, 3],
        "generations after startup GC"
    );
    ensure!(
        !fs.exists(&orphan).ctx("exists")?,
        "orphan temp {orphan:?} survived startup GC"
    );
    ensure!(
        !fs.exists(&dir.join(generation_file_name(1)))
            .ctx("exists")?,
        "generation 1 survived"
    );
    for (name, bytes) in user_files {
        ensure_eq!(
            fs.read(&dir.join(name)).ctx(name)?,
            bytes.to_vec(),
            "{name} after startup GC"
        );
    }
    ensure_eq!(store.next_generation(), 4, "next generation");
    Ok(())
}

/// A damaged newest generation falls back to the previous one, and the
/// read-only peek chooses the same.
pub fn store_falls_back_from_corrupt_newest(fs: &dyn Fs, root: &Path) -> SuiteResult {
    let dir = case_dir(fs, root, "store_fallback")?;
    {
        let mut store = Store::open(fs, &dir, job("a", 1), 2).ctx("open")?;
        store.commit(10, &state(10)).ctx("commit 1")?;
        store.commit(20, &state(20)).ctx("commit 2")?;
    }
    flip_bit(fs, &dir.join(generation_file_name(2)), 30)?;
    let mut store = Store::open(fs, &dir, job("a", 1), 2).ctx("reopen")?;
    ensure_eq!(
        store.generations(),
        vec![1, 2],
        "startup GC must not delete the fallback"
    );
    let latest = store.latest().ctx("latest")?.ctx("a checkpoint")?;
    ensure_eq!(
        (latest.generation, latest.cursor, latest.skipped_damaged()),
        (1, 10, 1),
        "fallback"
    );
    ensure_eq!(latest.state, state(10), "fallback state");
    let peeked = Store::peek_latest(fs, &dir, &job("a", 1)).ctx("peek")?;
    ensure_eq!(peeked, Some(latest), "peek chooses what latest chooses");
    // The damaged generation is superseded and collected like any other.
    store.commit(30, &state(30)).ctx("commit 3")?;
    ensure_eq!(
        store.generations(),
        vec![1, 2, 3],
        "only 1 valid newer than generation 1"
    );
    store.commit(40, &state(40)).ctx("commit 4")?;
    ensure_eq!(store.generations(), vec![3, 4], "after 2 valid newer ones");
    Ok(())
}

/// Only damaged generations: a typed error, never a silent fresh start.
pub fn store_all_corrupt_is_an_error(fs: &dyn Fs, root: &Path) -> SuiteResult {
    let dir = case_dir(fs, root, "store_all_corrupt")?;
    {
        let mut store = Store::open(fs, &dir, job("a", 1), 2).ctx("open")?;
        store.commit(10, &state(10)).ctx("commit 1")?;
        store.commit(20, &state(20)).ctx("commit 2")?;
    }
    flip_bit(fs, &dir.join(generation_file_name(1)), 5)?;
    flip_bit(fs, &dir.join(generation_file_name(2)), 40)?;
    let mut store = Store::open(fs, &dir, job("a", 1), 2).ctx("reopen")?;
    match store.latest() {
        Err(StoreError::AllCorrupt { count: 2, .. }) => Ok(()),
        other => Err(format!("expected AllCorrupt, got {other:?}")),
    }
}

/// Another job's checkpoint is refused with a typed error naming both
/// jobs and the way out.
pub fn store_refuses_other_fingerprint(fs: &dyn Fs, root: &Path) -> SuiteResult {
    let dir = case_dir(fs, root, "store_fingerprint")?;
    Store::open(fs, &dir, job("wallet-sync", 0xaaaa), 2)
        .ctx("open a")?
        .commit(10, &state(10))
        .ctx("commit a")?;
    let mut store = Store::open(fs, &dir, job("prune", 0xbbbb), 2).ctx("open b")?;
    ensure_eq!(
        store.generations(),
        vec![1],
        "b's startup GC must not delete a's checkpoint"
    );
    let err = match store.latest() {
        Err(e @ StoreError::FingerprintMismatch { .. }) => e,
        other => return Err(format!("expected FingerprintMismatch, got {other:?}")),
    };
    let message = err.to_string();
    for needle in [
        "wallet-sync",
        "prune",
        "0x000000000000aaaa",
        "0x000000000000bbbb",
        "ForceRestart",
    ] {
        ensure!(
            message.contains(needle),
            "message lacks {needle:?}: {message}"
        );
    }
    Ok(())
}

/// Documented choice: newest damaged and the one before it another job's
/// gives `FingerprintMismatch` (the directory is the other job's).
pub fn store_corrupt_newest_over_foreign_is_mismatch(fs: &dyn Fs, root: &Path) -> SuiteResult {
    let dir = case_dir(fs, root, "store_corrupt_over_foreign")?;
    Store::open(fs, &dir, job("a", 1), 2)
        .ctx("open a")?
        .commit(10, &state(10))
        .ctx("commit a")?;
    Store::open(fs, &dir, job("b", 2), 2)
        .ctx("open b")?
        .commit(20, &state(20))
        .ctx("commit b")?;
    flip_bit(fs, &dir.join(generation_file_name(2)), 30)?;
    let mut store = Store::open(fs, &dir, job("b", 2), 2).ctx("reopen b")?;
    match store.latest() {
        Err(StoreError::FingerprintMismatch { found_name, .. }) if found_name == "a" => Ok(()),
        other => Err(format!(
            "expected FingerprintMismatch naming a, got {other:?}"
        )),
    }
}

/// `discard_all` removes every generation (any job's) and store temp, and
/// nothing else; numbering continues.
pub fn store_discard_all_removes_generations_only(fs: &dyn Fs, root: &Path) -> SuiteResult {
    let dir = case_dir(fs, root, "store_discard")?;
    write_file(fs, &dir.join("notes.txt"), b"keep me")?;
    let mut store = Store::open(fs, &dir, job("a", 1), 2).ctx("open")?;
    store.commit(10, &state(10)).ctx("commit 1")?;
    store.commit(20, &state(20)).ctx("commit 2")?;
    let removed = store.discard_all().ctx("discard_all")?;
    ensure_eq!(removed, 2, "files removed");
    ensure_eq!(names(fs, &dir)?, vec!["notes.txt".to_owned()], "directory");
    ensure_eq!(store.latest().ctx("latest")?, None, "latest after discard");
    ensure_eq!(
        store.commit(5, &state(5)).ctx("commit 3")?,
        3,
        "numbering continues"
    );
    Ok(())
}

/// An error listing the directory is an error, not "no checkpoints".
pub fn store_unreadable_directory_is_an_error(fs: &dyn Fs, root: &Path) -> SuiteResult {
    let dir = case_dir(fs, root, "store_unreadable")?;
    Store::open(fs, &dir, job("a", 1), 2)
        .ctx("open")?
        .commit(10, &state(10))
        .ctx("commit")?;
    let failing = FailingFs::new(fs, FailRule::first(FsOp::ReadDir, "store_unreadable"));
    let opened = CheckpointStore::open(&failing, &dir, job("a", 1), 2);
    ensure!(
        failing.fired(),
        "the injected read_dir failure never happened"
    );
    match opened {
        Err(StoreError::Io { .. }) => {}
        other => return Err(format!("expected an Io error from open, got {other:?}")),
    }
    let failing = FailingFs::new(fs, FailRule::first(FsOp::ReadDir, "store_unreadable"));
    match CheckpointStore::peek_latest(&failing, &dir, &job("a", 1)) {
        Err(StoreError::Io { .. }) => Ok(()),
        other => Err(format!("expected an Io error from peek, got {other:?}")),
    }
}

/// keep = 0 is refused.
pub fn store_rejects_zero_keep(fs: &dyn Fs, root: &Path) -> SuiteResult {
    let dir = case_dir(fs, root, "store_zero_keep")?;
    match Store::open(fs, &dir, job("a", 1), 0) {
        Err(StoreError::InvalidKeep) => Ok(()),
        other => Err(format!("expected InvalidKeep, got {other:?}")),
    }
}
