//! One test per durability rule of the strict model.

use crate::common;

use common::{content, durable_dir, durable_file, p, sim};
use crashproof_core::fs::Fs;
use crashproof_sim::CrashModel;
use crashproof_sim::SimView;

#[test]
fn unsynced_write_is_lost_and_synced_write_survives() {
    let fs = sim(1);
    durable_dir(&fs, "/d").unwrap();
    durable_file(&fs, "/d/f", b"old").unwrap();
    let h = fs
        .open(p("/d/f"), crashproof_core::fs::OpenMode::Existing)
        .unwrap();
    fs.write_all_at(&h, 0, b"new").unwrap();
    assert_eq!(
        fs.read(p("/d/f")).unwrap(),
        b"new",
        "readers see unsynced writes"
    );
    fs.close(h).unwrap();
    // close does not sync
    let image = fs.crash_image(CrashModel::DropUnsynced, 0).fs;
    assert_eq!(content(&image, "/d/f").unwrap(), b"old");

    let h = fs
        .open(p("/d/f"), crashproof_core::fs::OpenMode::Existing)
        .unwrap();
    fs.sync(&h).unwrap();
    let image = fs.crash_image(CrashModel::DropUnsynced, 0).fs;
    assert_eq!(content(&image, "/d/f").unwrap(), b"new");
}

#[test]
fn created_name_is_lost_without_dir_sync_even_if_file_synced() {
    let fs = sim(2);
    durable_dir(&fs, "/d").unwrap();
    let h = fs.create_new(p("/d/f")).unwrap();
    fs.write_all_at(&h, 0, b"data").unwrap();
    fs.sync(&h).unwrap();
    let image = fs.crash_image(CrashModel::DropUnsynced, 0).fs;
    assert_eq!(content(&image, "/d/f"), None);
    // The weaker models may or may not have written the entry: both occur.
    for model in [CrashModel::Subset, CrashModel::Prefix] {
        let images = fs.crash_images(model, 10).unwrap();
        let present: Vec<bool> = images
            .iter()
            .map(|i| content(&i.fs, "/d/f").is_some())
            .collect();
        assert_eq!(present, vec![false, true], "{model}");
    }
    // The kinder model keeps the entry (and the synced data).
    let eager = fs.crash_image(CrashModel::EagerDirs, 0).fs;
    assert_eq!(content(&eager, "/d/f").unwrap(), b"data");
    fs.sync_dir(p("/d")).unwrap();
    let image = fs.crash_image(CrashModel::DropUnsynced, 0).fs;
    assert_eq!(content(&image, "/d/f").unwrap(), b"data");
}

#[test]
fn create_dir_all_entries_need_sync_dir_of_each_parent() {
    let fs = sim(3);
    fs.create_dir_all(p("/a/b/c")).unwrap();
    fs.sync_dir(p("/a/b")).unwrap();
    fs.sync_dir(p("/a")).unwrap();
    // "/" was not synced: /a, and so everything under it, is gone.
    let image = fs.crash_image(CrashModel::DropUnsynced, 0).fs;
    assert!(!image.exists(p("/a")).unwrap());
    fs.sync_dir(p("/")).unwrap();
    let image = fs.crash_image(CrashModel::DropUnsynced, 0).fs;
    assert!(image.metadata(p("/a/b/c")).unwrap().is_dir);
}

#[test]
fn unsynced_unlink_comes_back() {
    let fs = sim(4);
    durable_dir(&fs, "/d").unwrap();
    durable_file(&fs, "/d/f", b"keep").unwrap();
    fs.remove_file(p("/d/f")).unwrap();
    assert!(!fs.exists(p("/d/f")).unwrap());
    let image = fs.crash_image(CrashModel::DropUnsynced, 0).fs;
    assert_eq!(content(&image, "/d/f").unwrap(), b"keep");
    fs.sync_dir(p("/d")).unwrap();
    let image = fs.crash_image(CrashModel::DropUnsynced, 0).fs;
    assert_eq!(content(&image, "/d/f"), None);
}

#[test]
fn handle_follows_its_inode_across_rename() {
    let fs = sim(5);
    durable_dir(&fs, "/d").unwrap();
    let h = fs.create_new(p("/d/tmp")).unwrap();
    fs.write_all_at(&h, 0, b"abc").unwrap();
    fs.rename(p("/d/tmp"), p("/d/final")).unwrap();
    fs.append(&h, b"def").unwrap();
    fs.sync(&h).unwrap();
    fs.sync_dir(p("/d")).unwrap();
    assert_eq!(fs.read(p("/d/final")).unwrap(), b"abcdef");
    let image = fs.crash_image(CrashModel::DropUnsynced, 0).fs;
    assert_eq!(content(&image, "/d/final").unwrap(), b"abcdef");
    assert_eq!(content(&image, "/d/tmp"), None);
}

#[test]
fn rename_without_fsync_exposes_empty_file() {
    // The classic bug: write temp, rename over target, sync_dir, no fsync.
    let fs = sim(6);
    durable_dir(&fs, "/d").unwrap();
    durable_file(&fs, "/d/target", b"old").unwrap();
    let h = fs.create_new(p("/d/tmp")).unwrap();
    fs.write_all_at(&h, 0, b"new").unwrap();
    fs.rename(p("/d/tmp"), p("/d/target")).unwrap();
    fs.sync_dir(p("/d")).unwrap();
    let image = fs.crash_image(CrashModel::DropUnsynced, 0).fs;
    assert_eq!(content(&image, "/d/target").unwrap(), b"");
}

#[test]
fn rename_in_one_directory_never_loses_both_names() {
    let fs = sim(7);
    durable_dir(&fs, "/d").unwrap();
    durable_file(&fs, "/d/target", b"old").unwrap();
    durable_file(&fs, "/d/tmp", b"new").unwrap();
    fs.rename(p("/d/tmp"), p("/d/target")).unwrap();
    let images = fs.crash_images(CrashModel::Subset, 100).unwrap();
    assert_eq!(images.len(), 2, "one unit: kept or lost");
    let mut outcomes = Vec::new();
    for image in &images {
        let target = content(&image.fs, "/d/target");
        let tmp = content(&image.fs, "/d/tmp");
        assert!(target.is_some(), "target lost in {}", image.choice);
        outcomes.push((target, tmp));
    }
    outcomes.sort();
    assert_eq!(
        outcomes,
        vec![
            (Some(b"new".to_vec()), None),
            (Some(b"old".to_vec()), Some(b"new".to_vec())),
        ]
    );
}

#[test]
fn cross_directory_rename_may_keep_both_names_or_neither() {
    let fs = sim(8);
    durable_dir(&fs, "/a").unwrap();
    durable_dir(&fs, "/b").unwrap();
    durable_file(&fs, "/a/f", b"x").unwrap();
    fs.rename(p("/a/f"), p("/b/f")).unwrap();
    // One rename entry whose two halves (old name removed from /a, new
    // name added to /b) are independent under Subset: 2 * 2 = 4 states.
    assert_eq!(fs.unsynced_ops(), 1);
    let images = fs.crash_images(CrashModel::Subset, 100).unwrap();
    assert_eq!(images.len(), 4);
    let mut seen = Vec::new();
    for image in &images {
        let a = content(&image.fs, "/a/f").is_some();
        let b = content(&image.fs, "/b/f").is_some();
        seen.push((a, b));
    }
    seen.sort();
    assert_eq!(
        seen,
        vec![(false, false), (false, true), (true, false), (true, true)]
    );
    // Syncing both parents makes only the new name durable.
    fs.sync_dir(p("/a")).unwrap();
    fs.sync_dir(p("/b")).unwrap();
    let only = fs.crash_images(CrashModel::Subset, 100).unwrap();
    assert_eq!(only.len(), 1);
    assert_eq!(content(&only[0].fs, "/a/f"), None);
    assert_eq!(content(&only[0].fs, "/b/f").unwrap(), b"x");
}

#[test]
fn write_to_a_file_whose_name_did_not_survive_is_unreachable() {
    let fs = sim(9);
    durable_dir(&fs, "/d").unwrap();
    let h = fs.create_new(p("/d/f")).unwrap();
    fs.write_all_at(&h, 0, b"zz").unwrap();
    for image in fs.crash_images(CrashModel::Subset, 100).unwrap() {
        let kept_link = image.choice.ops()[0].fate == crashproof_sim::fs::OpFate::Kept;
        assert_eq!(
            content(&image.fs, "/d/f").is_some(),
            kept_link,
            "{}",
            image.choice
        );
    }
}

#[test]
fn try_lock_is_exclusive_until_close_and_gone_after_crash() {
    let fs = sim(10);
    durable_dir(&fs, "/d").unwrap();
    let lock = fs.try_lock(p("/d/LOCK")).unwrap();
    let second = fs.try_lock(p("/d/LOCK")).unwrap_err();
    assert_eq!(second.kind(), std::io::ErrorKind::WouldBlock);
    fs.sync_dir(p("/d")).unwrap();
    let image = fs.crash_image(CrashModel::DropUnsynced, 0).fs;
    let relock = image.try_lock(p("/d/LOCK")).unwrap();
    image.close(relock).unwrap();
    fs.close(lock).unwrap();
    let again = fs.try_lock(p("/d/LOCK")).unwrap();
    fs.close(again).unwrap();
}

#[test]
fn sim_fs_is_send_and_sync_and_usable_as_dyn_fs() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<crashproof_sim::SimFs>();
    assert_send_sync::<crashproof_sim::CrashImage>();
    let fs = std::sync::Arc::new(sim(11));
    let dyn_fs: &dyn Fs = &fs;
    dyn_fs.create_dir_all(p("/x")).unwrap();
    assert!(fs.exists(p("/x")).unwrap());
}

#[test]
fn bare_names_resolve_against_the_root_so_parent_dir_works() {
    let fs = sim(12);
    let h = fs.create_new(p("f")).unwrap();
    fs.write_all_at(&h, 0, b"1").unwrap();
    fs.sync(&h).unwrap();
    fs.close(h).unwrap();
    fs.sync_dir(crashproof_core::fs::parent_dir(p("f")))
        .unwrap();
    let image = fs.crash_image(CrashModel::DropUnsynced, 0).fs;
    assert_eq!(content(&image, "/f").unwrap(), b"1");
    assert_eq!(fs.read(p("./f")).unwrap(), b"1");
}

#[test]
fn a_directory_under_two_names_after_a_crash_keeps_its_first_name() {
    let fs = sim(13);
    durable_dir(&fs, "/a").unwrap();
    durable_dir(&fs, "/b").unwrap();
    fs.create_dir_all(p("/a/sub")).unwrap();
    fs.sync_dir(p("/a")).unwrap();
    durable_file(&fs, "/a/sub/x", b"1").unwrap();
    fs.rename(p("/a/sub"), p("/b/sub")).unwrap();
    // Subset: lost (/a/sub), kept (/b/sub), old name removed only (no
    // name), new name added only: both durable names reach the directory;
    // like fsck, the image keeps the first in breadth-first name order,
    // /a/sub ("a" < "b"), and drops /b/sub.
    let found: Vec<(bool, bool)> = fs
        .crash_images(CrashModel::Subset, 10)
        .unwrap()
        .iter()
        .map(|i| {
            (
                content(&i.fs, "/a/sub/x").is_some(),
                content(&i.fs, "/b/sub/x").is_some(),
            )
        })
        .collect();
    assert_eq!(
        found,
        vec![(true, false), (false, true), (false, false), (true, false)]
    );
}
