//! A [`Snapshot`] gives exactly the crash states the live filesystem gives
//! at that moment: over random operation sequences (every kind of unsynced
//! op, hard links, renames across directories, torn multi-sector writes,
//! read-only steps between changes, so snapshots are shared), at every
//! step, for every model, each state's digest computed without building
//! the image equals the built image's digest, and the image built from the
//! snapshot is the one `crash_images` / `crash_image` gives (content and
//! seed). A snapshot shared across a step that changed the disk is caught.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crashproof_core::fs::{FileHandle, Fs};
use crashproof_fault::StateSelector;
use proptest::prelude::*;

use super::snapshot::Snapshot;
use super::{CrashModel, SimConfig, SimFs, SimView, StepAction};

#[derive(Debug, Clone)]
enum Op {
    Mkdir(Vec<&'static str>),
    CreateNew(Vec<&'static str>),
    Write(usize, u64, Vec<u8>),
    Sync(usize),
    SyncDir(Vec<&'static str>),
    Rename(Vec<&'static str>, Vec<&'static str>),
    Link(Vec<&'static str>, Vec<&'static str>),
    Remove(Vec<&'static str>),
    SetLen(usize, u64),
    /// Steps that leave the disk alone: a snapshot taken before is shared.
    Look(Vec<&'static str>),
}

fn path() -> impl Strategy<Value = Vec<&'static str>> {
    prop::collection::vec(prop::sample::select(vec!["a", "b"]), 1..=2)
}

fn op() -> impl Strategy<Value = Op> {
    let data = prop::collection::vec(any::<u8>(), 1..12);
    prop_oneof![
        2 => path().prop_map(Op::Mkdir),
        4 => path().prop_map(Op::CreateNew),
        4 => (any::<usize>(), 0u64..12, data).prop_map(|(h, o, d)| Op::Write(h, o, d)),
        2 => any::<usize>().prop_map(Op::Sync),
        2 => prop::collection::vec(prop::sample::select(vec!["a", "b"]), 0..=1).prop_map(Op::SyncDir),
        3 => (path(), path()).prop_map(|(a, b)| Op::Rename(a, b)),
        1 => (path(), path()).prop_map(|(a, b)| Op::Link(a, b)),
        2 => path().prop_map(Op::Remove),
        1 => (any::<usize>(), 0u64..10).prop_map(|(h, n)| Op::SetLen(h, n)),
        3 => path().prop_map(Op::Look),
    ]
}

fn at(c: &[&str]) -> PathBuf {
    let mut p = PathBuf::from("/");
    p.extend(c);
    p
}

/// Applies `ops`, ignoring errors (they are part of the sequence).
fn run(fs: &SimFs, ops: &[Op]) {
    let mut handles: Vec<FileHandle> = Vec::new();
    let slot = |i: usize, n: usize| (n > 0).then(|| i % n);
    for op in ops {
        match op {
            Op::Mkdir(p) => drop(fs.create_dir_all(&at(p))),
            Op::CreateNew(p) => handles.extend(fs.create_new(&at(p)).ok()),
            Op::Write(i, o, d) => {
                if let Some(i) = slot(*i, handles.len()) {
                    drop(fs.write_all_at(&handles[i], *o, d));
                }
            }
            Op::Sync(i) => {
                if let Some(i) = slot(*i, handles.len()) {
                    drop(fs.sync(&handles[i]));
                }
            }
            Op::SyncDir(p) => drop(fs.sync_dir(&at(p))),
            Op::Rename(a, b) => drop(fs.rename(&at(a), &at(b))),
            Op::Link(a, b) => drop(fs.hard_link(&at(a), &at(b))),
            Op::Remove(p) => drop(fs.remove_file(&at(p))),
            Op::SetLen(i, n) => {
                if let Some(i) = slot(*i, handles.len()) {
                    drop(fs.set_len(&handles[i], *n));
                }
            }
            Op::Look(p) => {
                drop(fs.read(&at(p)));
                drop(fs.metadata(&at(p)));
                drop(fs.read_dir(Path::new("/")));
                drop(fs.failpoint("snapshot_tests.look"));
            }
        }
    }
}

/// Most states compared per model and step.
const STATES_MAX: usize = 48;

/// The snapshot's states against the live view's, at one moment.
fn compare(snapshot: &Snapshot, live: &impl SimView) -> Result<(), String> {
    for model in CrashModel::ALL {
        let count = snapshot.crash_state_count(model);
        if count != live.crash_state_count(model) {
            return Err(format!("{model}: {count} states"));
        }
        // Past the cap, picks only.
        let images = live.crash_images(model, STATES_MAX).unwrap_or_default();
        let picks = (0..3u64).map(|s| StateSelector::Seed(s * 7919));
        let indexes = (0..images.len()).map(StateSelector::Index);
        for selector in indexes.chain(picks) {
            let want = match selector {
                StateSelector::Index(i) => &images[i].fs,
                StateSelector::Seed(seed) => &live.crash_image(model, seed).fs,
            };
            let fates = snapshot.fates(model, selector);
            let digest = snapshot.crash_digest(&fates);
            let built = snapshot.crash_fs(model, fates);
            if digest != built.content_digest() {
                return Err(format!("{model} {selector:?}: digest without the image"));
            }
            if digest != want.content_digest() || built.config().seed != want.config().seed {
                return Err(format!("{model} {selector:?}: not the live view's image"));
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn a_snapshot_gives_the_live_crash_states_digested_or_built(
        ops in prop::collection::vec(op(), 1..30),
        seed in any::<u64>(),
    ) {
        // Small sectors: writes tear across several.
        let fs = SimFs::new(SimConfig { sector_size_bytes: 4, ..SimConfig::with_seed(seed) });
        let failed: Arc<Mutex<Option<String>>> = Arc::default();
        let hook_failed = Arc::clone(&failed);
        let mut last: Option<Snapshot> = None;
        fs.set_step_hook(Box::new(move |_, src| {
            let snapshot = src.snapshot(last.as_ref());
            if let Err(e) = compare(&snapshot, src) {
                hook_failed.lock().unwrap().get_or_insert(e);
            }
            last = Some(snapshot);
            StepAction::Continue
        }));
        run(&fs, &ops);
        fs.clear_step_hook();
        compare(&fs.snapshot(), &fs).map_err(TestCaseError::fail)?;
        if let Some(e) = failed.lock().unwrap().take() {
            return Err(TestCaseError::fail(e));
        }
    }
}

/// Steps that only read share the snapshot before them; a step that
/// changes the disk does not.
#[test]
fn reading_steps_share_a_snapshot_and_changes_do_not() {
    let fs = SimFs::new(SimConfig::with_seed(3));
    let h = fs.create_new(Path::new("/f")).unwrap();
    let first = fs.snapshot();
    fs.read(Path::new("/f")).unwrap();
    fs.metadata(Path::new("/f")).unwrap();
    fs.failpoint("snapshot_tests.look").unwrap();
    let after_reads = Snapshot::of(&fs.lock(), Some(&first));
    assert!(after_reads.shares_disk_with(&first));
    fs.write_all_at(&h, 0, b"changed").unwrap();
    let after_write = Snapshot::of(&fs.lock(), Some(&after_reads));
    assert!(!after_write.shares_disk_with(&after_reads));
}

/// A step that changes the disk without moving its version (here: the
/// version put back by hand) is caught where the stale snapshot would be
/// shared, in every debug build.
#[test]
#[cfg(debug_assertions)]
fn sharing_a_snapshot_across_a_change_is_caught() {
    let fs = SimFs::new(SimConfig::with_seed(3));
    let before = fs.snapshot();
    let h = fs.create_new(Path::new("/f")).unwrap();
    fs.write_all_at(&h, 0, b"changed").unwrap();
    let mut st = fs.lock();
    st.disk_version = before.version();
    let stale = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        Snapshot::of(&st, Some(&before))
    }));
    let payload = stale.err().expect("a stale snapshot was shared");
    let message = payload
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default();
    assert!(message.contains("did not move its version"), "{message}");
}
