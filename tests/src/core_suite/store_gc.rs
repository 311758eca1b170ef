//! Suite: the store's GC, its directory fsyncs, and the job directory.

use std::io;
use std::path::Path;

use crashproof_core::fs::{Fs, FsOp};
use crashproof_core::store::{CheckpointStore, JobIdentity, StoreError, generation_file_name};

use crate::check::{Ctx, SuiteResult, case_dir, write_file};
use crate::fs_wrappers::{FailRule, FailingFs, RecordedOp, RecordingFs};
use crate::{ensure, ensure_eq};

fn job() -> JobIdentity {
    JobIdentity {
        name: "gc".to_owned(),
        fingerprint: 1,
    }
}

fn state(cursor: u64) -> Vec<u8> {
    format!("{{\"cursor\":{cursor}}}").into_bytes()
}

fn count(ops: &[RecordedOp], op: FsOp) -> usize {
    ops.iter().filter(|o| o.op == op).count()
}

/// A GC that removes nothing leaves nothing to make durable: no directory
/// fsync beyond the commit's own, none from `sync_removals`, none at an
/// open whose startup GC removes nothing. After a GC that did remove,
/// `sync_removals` fsyncs the directory exactly once.
pub fn store_gc_that_removes_nothing_syncs_nothing(fs: &dyn Fs, root: &Path) -> SuiteResult {
    let dir = case_dir(fs, root, "store_gc_nothing")?;
    let recording = RecordingFs::new(fs);
    let mut store = CheckpointStore::open(&recording, &dir, job(), 3).ctx("open")?;
    ensure_eq!(
        count(&recording.ops(), FsOp::SyncDir),
        1,
        "open of an existing directory fsyncs its parent only: {:#?}",
        recording.ops()
    );
    recording.clear();
    store.commit(10, &state(10)).ctx("commit 1")?;
    store.commit(20, &state(20)).ctx("commit 2")?;
    let ops = recording.ops();
    ensure_eq!(count(&ops, FsOp::RemoveFile), 0, "removals: {ops:#?}");
    ensure_eq!(
        count(&ops, FsOp::SyncDir),
        2,
        "one directory fsync per commit (its replace): {ops:#?}"
    );
    recording.clear();
    ensure_eq!(
        store.sync_removals().ctx("sync_removals")?,
        false,
        "nothing was removed"
    );
    ensure_eq!(store.collect_garbage().ctx("gc")?, 0, "nothing to collect");
    ensure_eq!(
        store.sync_removals().ctx("sync_removals")?,
        false,
        "still nothing removed"
    );
    ensure_eq!(
        count(&recording.ops(), FsOp::SyncDir),
        0,
        "fsync without removals: {:#?}",
        recording.ops()
    );
    drop(store);
    recording.clear();
    CheckpointStore::open(&recording, &dir, job(), 3).ctx("reopen")?;
    ensure_eq!(
        count(&recording.ops(), FsOp::SyncDir),
        1,
        "a startup GC that removes nothing adds no fsync: {:#?}",
        recording.ops()
    );
    let mut store = CheckpointStore::open(&recording, &dir, job(), 1).ctx("reopen keep=1")?;
    ensure_eq!(store.generations(), vec![2], "startup GC with keep=1");
    store.commit(30, &state(30)).ctx("commit 3")?;
    recording.clear();
    ensure_eq!(
        store.sync_removals().ctx("sync_removals")?,
        true,
        "commit 3 removed generation 2"
    );
    ensure_eq!(
        store.sync_removals().ctx("sync_removals again")?,
        false,
        "already synced"
    );
    ensure_eq!(
        count(&recording.ops(), FsOp::SyncDir),
        1,
        "exactly one fsync: {:#?}",
        recording.ops()
    );
    Ok(())
}

/// Removing an old generation that fails with anything but `NotFound` is an
/// error naming the file, and the new generation stays durable and
/// resumable; one already missing counts as removed (no error, and it
/// leaves the store's view).
pub fn store_gc_removal_errors(fs: &dyn Fs, root: &Path) -> SuiteResult {
    for (case, kind, fails) in [
        ("store_gc_denied", io::ErrorKind::PermissionDenied, true),
        ("store_gc_missing", io::ErrorKind::NotFound, false),
    ] {
        let dir = case_dir(fs, root, case)?;
        let old = dir.join(generation_file_name(1));
        let failing = FailingFs::new(
            fs,
            FailRule {
                kind,
                ..FailRule::first(FsOp::RemoveFile, &generation_file_name(1))
            },
        );
        let mut store = CheckpointStore::open(&failing, &dir, job(), 1).ctx("open")?;
        store.commit(10, &state(10)).ctx("commit 1")?;
        let result = store.commit(20, &state(20));
        ensure!(
            failing.fired(),
            "the removal of generation 1 never happened"
        );
        match (result, fails) {
            (Err(e @ StoreError::Io { .. }), true) => {
                let message = e.to_string();
                ensure!(
                    message.contains("remove an old checkpoint file")
                        && message.contains(&generation_file_name(1)),
                    "message: {message}"
                );
            }
            (Ok(2), false) => {
                ensure_eq!(store.generations(), vec![2], "a missing file is removed");
            }
            (other, _) => return Err(format!("{kind:?}: unexpected {other:?}")),
        }
        let latest = store.latest().ctx("latest")?.ctx("a checkpoint")?;
        ensure_eq!(
            latest.generation,
            2,
            "the new generation is the resume point"
        );
        if fails {
            ensure!(
                fs.exists(&old).ctx("exists")?,
                "generation 1 vanished although its removal failed"
            );
        }
    }
    // A file already gone before GC runs (removed by hand): no error.
    let dir = case_dir(fs, root, "store_gc_by_hand")?;
    let mut store = CheckpointStore::open(fs, &dir, job(), 1).ctx("open")?;
    let g = store.commit(10, &state(10)).ctx("commit")?;
    fs.remove_file(&dir.join(generation_file_name(g)))
        .ctx("remove by hand")?;
    let next = store
        .commit(20, &state(20))
        .ctx("commit after a removal by hand")?;
    ensure_eq!(store.generations(), vec![next], "generations");
    Ok(())
}

/// `discard_all` fsyncs the directory even when it finds nothing to remove
/// but an earlier GC's removals are still unsynced, so a discarded
/// checkpoint cannot come back.
pub fn store_discard_all_makes_pending_removals_durable(fs: &dyn Fs, root: &Path) -> SuiteResult {
    let dir = case_dir(fs, root, "store_discard_pending")?;
    let recording = RecordingFs::new(fs);
    let mut store = CheckpointStore::open(&recording, &dir, job(), 1).ctx("open")?;
    store.commit(10, &state(10)).ctx("commit 1")?;
    store.commit(20, &state(20)).ctx("commit 2")?;
    // Someone removes the remaining generation by hand.
    fs.remove_file(&dir.join(generation_file_name(2)))
        .ctx("remove by hand")?;
    recording.clear();
    ensure_eq!(
        store.discard_all().ctx("discard")?,
        0,
        "nothing left to remove"
    );
    ensure_eq!(
        count(&recording.ops(), FsOp::SyncDir),
        1,
        "generation 1's removal was pending: {:#?}",
        recording.ops()
    );
    recording.clear();
    ensure_eq!(store.discard_all().ctx("discard again")?, 0, "nothing");
    ensure_eq!(
        count(&recording.ops(), FsOp::SyncDir),
        0,
        "nothing pending, nothing removed: {:#?}",
        recording.ops()
    );
    Ok(())
}

/// A job directory nested several levels below the deepest existing
/// directory: every created level's parent is fsynced, top-down, and
/// nothing else.
pub fn store_nested_job_dir_syncs_every_new_ancestor(fs: &dyn Fs, root: &Path) -> SuiteResult {
    let base = case_dir(fs, root, "store_nested")?;
    let dir = base.join("x/y/z");
    let recording = RecordingFs::new(fs);
    CheckpointStore::open(&recording, &dir, job(), 2).ctx("open")?;
    let synced: Vec<_> = recording
        .ops()
        .into_iter()
        .filter(|o| o.op == FsOp::SyncDir)
        .map(|o| o.path)
        .collect();
    ensure_eq!(
        synced,
        vec![base.clone(), base.join("x"), base.join("x/y")],
        "parents fsynced"
    );
    ensure!(
        fs.metadata(&dir).ctx("metadata")?.is_dir,
        "the directory was not created"
    );
    Ok(())
}

/// A regular file where the job directory (or an ancestor) should be:
/// `NotADirectory` naming it, "is not a directory", never "File exists".
pub fn store_job_dir_that_is_a_file_is_refused(fs: &dyn Fs, root: &Path) -> SuiteResult {
    let base = case_dir(fs, root, "store_file_dir")?;
    let file = base.join("plain");
    write_file(fs, &file, b"not a directory")?;
    for (dir, culprit) in [
        (file.clone(), file.clone()),
        (file.join("sub/deeper"), file.clone()),
    ] {
        match CheckpointStore::open(fs, &dir, job(), 2) {
            Err(e @ StoreError::NotADirectory { .. }) => {
                let message = e.to_string();
                ensure!(
                    message.contains("is not a directory") && !message.contains("File exists"),
                    "message: {message}"
                );
                let StoreError::NotADirectory { path, .. } = e else {
                    return Err("unreachable".to_owned());
                };
                ensure_eq!(path, culprit, "the file named");
            }
            other => return Err(format!("{dir:?}: expected NotADirectory, got {other:?}")),
        }
    }
    ensure_eq!(
        fs.read(&file).ctx("read")?,
        b"not a directory".to_vec(),
        "the file is untouched"
    );
    Ok(())
}

/// Error messages name each path once: a failed listing says what the store
/// was doing and the OS error, not the path twice.
pub fn store_error_messages_do_not_repeat_the_path(fs: &dyn Fs, root: &Path) -> SuiteResult {
    let dir = case_dir(fs, root, "store_messages")?;
    let failing = FailingFs::new(fs, FailRule::first(FsOp::ReadDir, "store_messages"));
    let message = match CheckpointStore::open(&failing, &dir, job(), 2) {
        Err(e) => e.to_string(),
        Ok(_) => return Err("the injected read_dir failure was ignored".to_owned()),
    };
    let shown = format!("{dir:?}");
    ensure_eq!(
        message.matches(&shown).count(),
        1,
        "the directory appears once in: {message}"
    );
    ensure!(
        message.contains("list the checkpoint directory") && message.contains("injected"),
        "message: {message}"
    );
    Ok(())
}

/// A directory whose name looks like a generation file or a store temp is
/// not the store's: not listed, not collected, not discarded.
pub fn store_ignores_directories_with_its_names(fs: &dyn Fs, root: &Path) -> SuiteResult {
    let dir = case_dir(fs, root, "store_dir_lookalikes")?;
    let lookalikes = [
        generation_file_name(9),
        format!(".{}.crashproof-tmp", generation_file_name(10)),
    ];
    for name in &lookalikes {
        fs.create_dir_all(&dir.join(name))
            .ctx("create look-alike")?;
    }
    let mut store = CheckpointStore::open(fs, &dir, job(), 1).ctx("open")?;
    ensure_eq!(store.generations(), Vec::<u64>::new(), "listed generations");
    ensure_eq!(
        store.next_generation(),
        1,
        "numbering ignores the look-alike"
    );
    store.commit(10, &state(10)).ctx("commit 1")?;
    store.commit(20, &state(20)).ctx("commit 2")?;
    store.discard_all().ctx("discard")?;
    for name in &lookalikes {
        ensure!(
            fs.metadata(&dir.join(name)).ctx("metadata")?.is_dir,
            "{name} was touched"
        );
    }
    Ok(())
}

/// The store reports the directory, job and retention it was opened with;
/// an error looking at the job directory (other than "missing") is an
/// error, not a reason to create it.
pub fn store_reports_its_configuration_and_stat_errors(fs: &dyn Fs, root: &Path) -> SuiteResult {
    let dir = case_dir(fs, root, "store_config")?.join("job");
    let store = CheckpointStore::open(fs, &dir, job(), 3).ctx("open")?;
    ensure_eq!(store.dir(), dir.as_path(), "dir");
    ensure_eq!(store.job(), &job(), "job");
    ensure_eq!(store.keep(), 3, "keep");
    ensure_eq!(
        store.generation_path(7),
        dir.join(generation_file_name(7)),
        "generation path"
    );
    drop(store);
    let failing = FailingFs::new(
        fs,
        FailRule {
            kind: io::ErrorKind::PermissionDenied,
            ..FailRule::first(FsOp::Metadata, "store_config/job")
        },
    );
    match CheckpointStore::open(&failing, &dir, job(), 3) {
        Err(e @ StoreError::Io { .. }) => {
            ensure!(
                e.to_string().contains("check the checkpoint directory"),
                "message: {e}"
            );
        }
        other => return Err(format!("expected an Io error, got {other:?}")),
    }
    ensure!(failing.fired(), "the metadata failure was not injected");
    Ok(())
}
