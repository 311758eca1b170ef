//! The durability rule of each operation added for real persistence code
//! (`set_len`, `sync_data`, `hard_link`, `create_dir`, `remove_dir`,
//! `OpenMode::Create`, `read_at`, `file_metadata`), shown under every crash
//! model. Each table lists, per model, every post-crash tree the model
//! enumerates, in enumeration order, derived by hand in the comment above
//! it: the first is always "everything unsynced lost".
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::collections::BTreeSet;
use std::io;
use std::path::Path;

use common::{durable_dir, durable_file, p, sim};
use crashproof_core::fs::{Fs, OpenMode};
use crashproof_sim::{CrashModel, FaultConfig, SimConfig, SimFs, SimView};

/// The whole visible tree as one line: `dir/` for a directory, `file=bytes`
/// for a file (one character a byte: as is if printable, `_` for zero, `~`
/// for anything else), in name order, depth first.
fn tree(fs: &SimFs) -> String {
    let mut out = Vec::new();
    walk(fs, Path::new("/"), &mut out);
    out.join(" ")
}

fn walk(fs: &SimFs, dir: &Path, out: &mut Vec<String>) {
    for entry in fs.read_dir(dir).unwrap() {
        let path = dir.join(&entry.name);
        if entry.is_dir {
            out.push(format!("{}/", path.display()));
            walk(fs, &path, out);
        } else {
            let bytes = fs.read(&path).unwrap();
            let text: String = bytes
                .iter()
                .map(|&b| match b {
                    0 => '_',
                    b if b.is_ascii_graphic() => char::from(b),
                    _ => '~',
                })
                .collect();
            out.push(format!("{}={text}", path.display()));
        }
    }
}

/// Every post-crash tree of `model`, in enumeration order; also checks the
/// count agrees with `crash_state_count` and every image holds its
/// invariants.
fn trees(fs: &SimFs, model: CrashModel) -> Vec<String> {
    let images = fs.crash_images(model, 1000).unwrap();
    assert_eq!(images.len() as u64, fs.crash_state_count(model), "{model}");
    images
        .iter()
        .map(|i| {
            i.fs.check_invariants().unwrap();
            tree(&i.fs)
        })
        .collect()
}

/// Whether the tree `got` is `want`, where `?` in `want` stands for one
/// garbage byte of a torn write (seeded, so not spelled out).
fn matches(want: &str, got: &str) -> bool {
    want.chars().count() == got.chars().count()
        && want
            .chars()
            .zip(got.chars())
            .all(|(w, g)| w == '?' || w == g)
}

/// Compares every model's trees with the table.
fn expect(fs: &SimFs, table: &[(CrashModel, &[&str])]) {
    let models: BTreeSet<CrashModel> = table.iter().map(|(m, _)| *m).collect();
    assert_eq!(models.len(), CrashModel::ALL.len(), "a table row per model");
    for (model, want) in table {
        let got = trees(fs, *model);
        let same = got.len() == want.len() && want.iter().zip(&got).all(|(w, g)| matches(w, g));
        assert!(
            same,
            "{model}: want {want:?}\n got {got:?}\ntrace:\n{}",
            fs.trace()
        );
    }
}

/// All four models have the one state `only` (nothing unsynced).
fn expect_one(fs: &SimFs, only: &str) {
    assert_eq!(fs.unsynced_ops(), 0, "{}", fs.trace());
    for model in CrashModel::ALL {
        assert_eq!(trees(fs, model), vec![only.to_string()], "{model}");
    }
}

use CrashModel::{DropUnsynced, EagerDirs, Prefix, Subset};

#[test]
fn set_len_changes_the_length_durably_only_after_a_file_sync() {
    let fs = sim(1);
    durable_dir(&fs, "/d").unwrap();
    durable_file(&fs, "/d/f", b"hello").unwrap();
    let h = fs.open(p("/d/f"), OpenMode::Existing).unwrap();
    fs.set_len(&h, 2).unwrap();
    assert_eq!(fs.read(p("/d/f")).unwrap(), b"he", "visible at once");
    // One unsynced length change, a data op: lost or kept as a unit; the
    // kinder model keeps directory ops only, so it loses it too.
    assert_eq!(fs.unsynced_ops(), 1);
    expect(
        &fs,
        &[
            (DropUnsynced, &["/d/ /d/f=hello"]),
            (Prefix, &["/d/ /d/f=hello", "/d/ /d/f=he"]),
            (Subset, &["/d/ /d/f=hello", "/d/ /d/f=he"]),
            (EagerDirs, &["/d/ /d/f=hello"]),
        ],
    );
    fs.sync(&h).unwrap();
    expect_one(&fs, "/d/ /d/f=he");
}

#[test]
fn set_len_extends_with_zeros_and_sync_data_makes_the_length_durable() {
    let fs = sim(2);
    durable_dir(&fs, "/d").unwrap();
    durable_file(&fs, "/d/f", b"ab").unwrap();
    let h = fs.open(p("/d/f"), OpenMode::Existing).unwrap();
    fs.set_len(&h, 4).unwrap();
    assert_eq!(fs.read(p("/d/f")).unwrap(), b"ab\0\0");
    expect(
        &fs,
        &[
            (DropUnsynced, &["/d/ /d/f=ab"]),
            (Prefix, &["/d/ /d/f=ab", "/d/ /d/f=ab__"]),
            (Subset, &["/d/ /d/f=ab", "/d/ /d/f=ab__"]),
            (EagerDirs, &["/d/ /d/f=ab"]),
        ],
    );
    // fdatasync flushes the size with the data (reading it back needs it).
    fs.sync_data(&h).unwrap();
    expect_one(&fs, "/d/ /d/f=ab__");
    // Setting the length it already has changes nothing a crash could show.
    fs.set_len(&h, 4).unwrap();
    assert_eq!(fs.unsynced_ops(), 0);
}

#[test]
fn a_write_after_set_len_may_survive_without_the_cut_under_subset_only() {
    let fs = sim(3);
    durable_dir(&fs, "/d").unwrap();
    durable_file(&fs, "/d/f", b"hello").unwrap();
    let h = fs.open(p("/d/f"), OpenMode::Existing).unwrap();
    fs.set_len(&h, 2).unwrap();
    fs.write_all_at(&h, 4, b"X").unwrap();
    assert_eq!(fs.read(p("/d/f")).unwrap(), b"he\0\0X");
    // Two data ops: the cut (unit) and a one-sector write (old, new or
    // garbage). Prefix: 0, 1 or 2 kept = 3 states. Subset: 2 * 3 = 6, in
    // mixed radix with the first op most significant: (cut lost; write
    // old, new, garbage), then (cut kept; ...). "hellX" (the write
    // without the cut) is a Subset state only. Garbage is `?`.
    expect(
        &fs,
        &[
            (DropUnsynced, &["/d/ /d/f=hello"]),
            (Prefix, &["/d/ /d/f=hello", "/d/ /d/f=he", "/d/ /d/f=he__X"]),
            (
                Subset,
                &[
                    "/d/ /d/f=hello",
                    "/d/ /d/f=hellX",
                    "/d/ /d/f=hell?",
                    "/d/ /d/f=he",
                    "/d/ /d/f=he__X",
                    "/d/ /d/f=he__?",
                ],
            ),
            (EagerDirs, &["/d/ /d/f=hello"]),
        ],
    );
    fs.sync(&h).unwrap();
    expect_one(&fs, "/d/ /d/f=he__X");
}

#[test]
fn sync_data_does_not_make_a_new_name_durable() {
    let fs = sim(4);
    durable_dir(&fs, "/d").unwrap();
    let h = fs.create_new(p("/d/f")).unwrap();
    fs.write_all_at(&h, 0, b"data").unwrap();
    fs.sync_data(&h).unwrap();
    // Only the create (a link in /d) is unsynced.
    expect(
        &fs,
        &[
            (DropUnsynced, &["/d/"]),
            (Prefix, &["/d/", "/d/ /d/f=data"]),
            (Subset, &["/d/", "/d/ /d/f=data"]),
            (EagerDirs, &["/d/ /d/f=data"]),
        ],
    );
    fs.sync_dir(p("/d")).unwrap();
    expect_one(&fs, "/d/ /d/f=data");
}

#[test]
fn a_failed_sync_data_loses_the_data_like_a_failed_sync() {
    // Steps: 0 mkdir, 1 sync_dir /, 2 open, 3 write, 4 sync, 5 close,
    // 6 sync_dir /d (durable_file), 7 open, 8 write, 9 sync_data (EIO).
    let fs = SimFs::new(SimConfig {
        faults: FaultConfig {
            sync_eio_at_steps: [9].into(),
            ..FaultConfig::default()
        },
        ..SimConfig::with_seed(5)
    });
    durable_dir(&fs, "/d").unwrap();
    durable_file(&fs, "/d/f", b"old").unwrap();
    let h = fs.open(p("/d/f"), OpenMode::Existing).unwrap();
    fs.write_all_at(&h, 0, b"new").unwrap();
    assert!(fs.sync_data(&h).is_err(), "{}", fs.trace());
    fs.sync_data(&h).unwrap();
    assert_eq!(fs.read(p("/d/f")).unwrap(), b"new", "readers still see it");
    expect_one(&fs, "/d/ /d/f=old");
}

#[test]
fn a_hard_link_is_durable_after_its_directory_is_synced() {
    let fs = sim(6);
    durable_dir(&fs, "/d").unwrap();
    durable_file(&fs, "/d/a", b"data").unwrap();
    fs.hard_link(p("/d/a"), p("/d/b")).unwrap();
    assert_eq!(fs.read(p("/d/b")).unwrap(), b"data");
    // One link in /d: a directory op.
    expect(
        &fs,
        &[
            (DropUnsynced, &["/d/ /d/a=data"]),
            (Prefix, &["/d/ /d/a=data", "/d/ /d/a=data /d/b=data"]),
            (Subset, &["/d/ /d/a=data", "/d/ /d/a=data /d/b=data"]),
            (EagerDirs, &["/d/ /d/a=data /d/b=data"]),
        ],
    );
    fs.sync_dir(p("/d")).unwrap();
    expect_one(&fs, "/d/ /d/a=data /d/b=data");
}

#[test]
fn two_names_are_one_file_and_it_lives_while_any_durable_name_does() {
    let fs = sim(7);
    durable_dir(&fs, "/d").unwrap();
    durable_file(&fs, "/d/a", b"data").unwrap();
    fs.hard_link(p("/d/a"), p("/d/b")).unwrap();
    fs.sync_dir(p("/d")).unwrap();
    // Written and synced through the second name: both names see it.
    let h = fs.open(p("/d/b"), OpenMode::Existing).unwrap();
    fs.write_all_at(&h, 0, b"DATA").unwrap();
    fs.sync(&h).unwrap();
    fs.close(h).unwrap();
    expect_one(&fs, "/d/ /d/a=DATA /d/b=DATA");
    // The first name removed, durably: the file lives on under the other.
    fs.remove_file(p("/d/a")).unwrap();
    fs.sync_dir(p("/d")).unwrap();
    expect_one(&fs, "/d/ /d/b=DATA");
}

#[test]
fn link_then_unlink_is_two_entries_and_subset_may_lose_both_names() {
    // The "link the new name, unlink the old" idiom without a directory
    // sync between: two ops in /d. Prefix: {a}, {a, b}, {b}. Subset, in
    // mixed radix (link most significant): (link lost, unlink lost) {a};
    // (lost, kept) {} — the file under no name; (kept, lost) {a, b};
    // (kept, kept) {b}.
    let fs = sim(8);
    durable_dir(&fs, "/d").unwrap();
    durable_file(&fs, "/d/a", b"x").unwrap();
    fs.hard_link(p("/d/a"), p("/d/b")).unwrap();
    fs.remove_file(p("/d/a")).unwrap();
    expect(
        &fs,
        &[
            (DropUnsynced, &["/d/ /d/a=x"]),
            (Prefix, &["/d/ /d/a=x", "/d/ /d/a=x /d/b=x", "/d/ /d/b=x"]),
            (
                Subset,
                &["/d/ /d/a=x", "/d/", "/d/ /d/a=x /d/b=x", "/d/ /d/b=x"],
            ),
            (EagerDirs, &["/d/ /d/b=x"]),
        ],
    );
}

#[test]
fn a_hard_link_in_another_directory_needs_that_directory_synced() {
    let fs = sim(9);
    durable_dir(&fs, "/d").unwrap();
    durable_dir(&fs, "/e").unwrap();
    durable_file(&fs, "/d/a", b"x").unwrap();
    fs.hard_link(p("/d/a"), p("/e/a")).unwrap();
    fs.sync_dir(p("/d")).unwrap();
    assert_eq!(
        fs.unsynced_ops(),
        1,
        "syncing the original's dir is not enough"
    );
    fs.sync_dir(p("/e")).unwrap();
    expect_one(&fs, "/d/ /d/a=x /e/ /e/a=x");
}

#[test]
fn create_dir_is_durable_after_its_parent_is_synced() {
    let fs = sim(10);
    durable_dir(&fs, "/d").unwrap();
    fs.create_dir(p("/d/sub")).unwrap();
    let missing = fs.create_dir(p("/d/no/sub")).unwrap_err();
    assert_eq!(missing.kind(), io::ErrorKind::NotFound, "not recursive");
    expect(
        &fs,
        &[
            (DropUnsynced, &["/d/"]),
            (Prefix, &["/d/", "/d/ /d/sub/"]),
            (Subset, &["/d/", "/d/ /d/sub/"]),
            (EagerDirs, &["/d/ /d/sub/"]),
        ],
    );
    fs.sync_dir(p("/d")).unwrap();
    expect_one(&fs, "/d/ /d/sub/");
}

#[test]
fn remove_dir_is_durable_after_its_parent_is_synced() {
    let fs = sim(11);
    durable_dir(&fs, "/d").unwrap();
    fs.remove_dir(p("/d")).unwrap();
    expect(
        &fs,
        &[
            (DropUnsynced, &["/d/"]),
            (Prefix, &["/d/", ""]),
            (Subset, &["/d/", ""]),
            (EagerDirs, &[""]),
        ],
    );
    fs.sync_dir(p("/")).unwrap();
    expect_one(&fs, "");
}

#[test]
fn a_removed_directory_may_come_back_with_its_durable_entries() {
    // /d/f removed, then /d: one unlink in /d, one in /. Prefix: {d/f},
    // {d}, {}. Subset (the unlink of f most significant): (lost, lost)
    // {d/f}; (lost, kept) {} — /d gone, so f is unreachable; (kept, lost)
    // {d}; (kept, kept) {}.
    let fs = sim(12);
    durable_dir(&fs, "/d").unwrap();
    durable_file(&fs, "/d/f", b"x").unwrap();
    fs.remove_file(p("/d/f")).unwrap();
    fs.remove_dir(p("/d")).unwrap();
    expect(
        &fs,
        &[
            (DropUnsynced, &["/d/ /d/f=x"]),
            (Prefix, &["/d/ /d/f=x", "/d/", ""]),
            (Subset, &["/d/ /d/f=x", "", "/d/", ""]),
            (EagerDirs, &[""]),
        ],
    );
}

#[test]
fn open_create_keeps_an_existing_file_and_creates_a_missing_one() {
    let fs = sim(13);
    durable_dir(&fs, "/d").unwrap();
    durable_file(&fs, "/d/f", b"old").unwrap();
    let h = fs.open(p("/d/f"), OpenMode::Create).unwrap();
    fs.close(h).unwrap();
    expect_one(&fs, "/d/ /d/f=old");
    let h = fs.open(p("/d/g"), OpenMode::Create).unwrap();
    fs.close(h).unwrap();
    expect(
        &fs,
        &[
            (DropUnsynced, &["/d/ /d/f=old"]),
            (Prefix, &["/d/ /d/f=old", "/d/ /d/f=old /d/g="]),
            (Subset, &["/d/ /d/f=old", "/d/ /d/f=old /d/g="]),
            (EagerDirs, &["/d/ /d/f=old /d/g="]),
        ],
    );
}

#[test]
fn reads_through_a_handle_change_nothing_a_crash_could_show() {
    let fs = sim(14);
    durable_dir(&fs, "/d").unwrap();
    durable_file(&fs, "/d/f", b"hello").unwrap();
    let w = fs.open(p("/d/f"), OpenMode::Existing).unwrap();
    fs.write_all_at(&w, 5, b"!").unwrap();
    let before = (fs.unsynced_ops(), fs.content_digest());
    let r = fs.open(p("/d/f"), OpenMode::Read).unwrap();
    let mut buf = [0u8; 4];
    assert_eq!(fs.read_at(&r, 3, &mut buf).unwrap(), 3, "short at the end");
    assert_eq!(&buf[..3], b"lo!", "unsynced bytes are visible");
    assert_eq!(fs.read_at(&r, 9, &mut buf).unwrap(), 0, "past the end");
    assert_eq!(fs.file_metadata(&r).unwrap().len, 6);
    // A read-only handle cannot write or change the length.
    let write = fs.write_all_at(&r, 0, b"x").unwrap_err();
    assert_eq!(write.raw_os_error(), None, "wrapped with op and path");
    assert_eq!(
        write.kind(),
        io::Error::from_raw_os_error(libc_ebadf()).kind(),
        "EBADF"
    );
    assert_eq!(
        fs.set_len(&r, 0).unwrap_err().kind(),
        io::ErrorKind::InvalidInput
    );
    fs.close(r).unwrap();
    assert_eq!((fs.unsynced_ops(), fs.content_digest()), before);
    expect(
        &fs,
        &[
            (DropUnsynced, &["/d/ /d/f=hello"]),
            (Prefix, &["/d/ /d/f=hello", "/d/ /d/f=hello!"]),
            (
                Subset,
                &["/d/ /d/f=hello", "/d/ /d/f=hello!", "/d/ /d/f=hello?"],
            ),
            (EagerDirs, &["/d/ /d/f=hello"]),
        ],
    );
}

/// `EBADF` on Linux (the simulator answers with the same OS error).
fn libc_ebadf() -> i32 {
    9
}

#[test]
fn open_refuses_a_directory_in_every_mode() {
    let fs = sim(15);
    durable_dir(&fs, "/d").unwrap();
    for mode in [
        OpenMode::Read,
        OpenMode::Existing,
        OpenMode::Create,
        OpenMode::Truncate,
    ] {
        let e = fs.open(p("/d"), mode).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::IsADirectory, "{mode:?}");
    }
}

#[test]
fn a_second_name_is_part_of_the_content_digest() {
    // Three disks with the same bytes at the same paths, or not: `/d/a`
    // alone; `/d/a` and a hard link `/d/b`; `/d/a` and a copy `/d/b`.
    let build = |second: Option<bool>| {
        let fs = sim(16);
        durable_dir(&fs, "/d").unwrap();
        durable_file(&fs, "/d/a", b"x").unwrap();
        match second {
            Some(true) => fs.hard_link(p("/d/a"), p("/d/b")).unwrap(),
            Some(false) => durable_file(&fs, "/d/b", b"x").unwrap(),
            None => {}
        }
        fs.sync_dir(p("/d")).unwrap();
        fs.content_digest()
    };
    let (alone, linked, copied) = (build(None), build(Some(true)), build(Some(false)));
    assert_ne!(alone, linked, "the link's name is hashed");
    assert_ne!(linked, copied, "one inode under two names is not two files");
    assert_eq!(linked, build(Some(true)), "and the digest is stable");
}
