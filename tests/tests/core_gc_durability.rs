//! The store's deferred GC durability, on every post-crash disk SimFs can
//! build: GC's unlink is fsynced by the *next* commit, so a crash may bring
//! the unlinked generation back, but never takes away any of the `keep`
//! newest valid generations; startup GC removes the resurrected one for
//! good. (The explorer checks the same through the runner at every step;
//! this test names the states.)

// A test crate: a failed unwrap or panic is a failed test with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use crashproof_core::fs::Fs;
use crashproof_core::store::{CheckpointStore, JobIdentity, parse_generation_file_name};
use crashproof_sim::{CrashModel, SimConfig, SimFs, SimView};

const KEEP: usize = 2;
const CAP: usize = 4096;

fn job() -> JobIdentity {
    JobIdentity {
        name: "durability".into(),
        fingerprint: 3,
    }
}

fn generations(fs: &SimFs, dir: &Path) -> Vec<u64> {
    fs.read_dir(dir)
        .unwrap()
        .into_iter()
        .filter_map(|e| parse_generation_file_name(&e.name))
        .collect()
}

/// A store in `/job` on a fresh SimFs with generations `1..=commits`
/// committed (keep 2).
fn committed(commits: u64) -> SimFs {
    let fs = SimFs::new(SimConfig::with_seed(11));
    fs.create_dir_all(Path::new("/job")).unwrap();
    fs.sync_dir(Path::new("/")).unwrap();
    let mut store = CheckpointStore::open(&fs, "/job", job(), KEEP).unwrap();
    for cursor in 1..=commits {
        store.commit(cursor * 10, &cursor.to_le_bytes()).unwrap();
    }
    fs
}

/// Every post-crash disk of `fs` under every model.
fn every_image(fs: &SimFs) -> Vec<(CrashModel, SimFs)> {
    CrashModel::ALL
        .into_iter()
        .flat_map(|model| {
            fs.crash_images(model, CAP)
                .unwrap()
                .into_iter()
                .map(move |image| (model, image.fs))
        })
        .collect()
}

#[test]
fn a_crash_after_gc_keeps_the_newest_generations_and_may_resurrect_the_unlinked_one() {
    let dir = Path::new("/job");
    // Commit 3 unlinked generation 1 without fsyncing the directory.
    let fs = committed(3);
    assert_eq!(generations(&fs, dir), vec![2, 3]);
    let mut resurrected = 0;
    for (model, image) in every_image(&fs) {
        let on_disk = generations(&image, dir);
        assert!(
            on_disk.ends_with(&[2, 3]),
            "{model:?}: a kept generation was lost: {on_disk:?}"
        );
        if on_disk == [1, 2, 3] {
            resurrected += 1;
        }
        // Recovery resumes the newest, and startup GC removes generation 1
        // durably: no later crash brings it back.
        let mut store = CheckpointStore::open(&image, dir, job(), KEEP).unwrap();
        let latest = store.latest().unwrap().unwrap();
        assert_eq!((latest.generation, latest.cursor), (3, 30), "{model:?}");
        assert!(latest.skipped.is_empty());
        assert_eq!(store.generations(), vec![2, 3], "{model:?}");
        for (again, after) in every_image(&image) {
            assert_eq!(
                generations(&after, dir),
                vec![2, 3],
                "{model:?} then {again:?}: startup GC's removal was not durable"
            );
        }
    }
    // Teeth: the deferral is real; some crash brings generation 1 back.
    assert!(resurrected > 0, "no crash image resurrected generation 1");
}

#[test]
fn the_next_commit_makes_the_previous_unlink_durable() {
    let dir = Path::new("/job");
    // Commit 4's replace fsynced the directory after commit 3's unlink of
    // generation 1; commit 4 itself unlinked generation 2.
    let fs = committed(4);
    for (model, image) in every_image(&fs) {
        let on_disk = generations(&image, dir);
        assert!(
            on_disk == [3, 4] || on_disk == [2, 3, 4],
            "{model:?}: {on_disk:?}"
        );
    }
}

#[test]
fn sync_removals_makes_the_last_unlink_durable() {
    let dir = Path::new("/job");
    let fs = committed(3);
    let mut store = CheckpointStore::open(&fs, dir, job(), KEEP).unwrap();
    // Reopening already ran startup GC; unlink something new and sync it.
    store.commit(40, &4u64.to_le_bytes()).unwrap();
    assert!(store.sync_removals().unwrap());
    for (model, image) in every_image(&fs) {
        assert_eq!(generations(&image, dir), vec![3, 4], "{model:?}");
    }
}
