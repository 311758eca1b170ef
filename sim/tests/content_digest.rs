//! `SimView::content_digest`: equal content, equal digest, whatever the
//! inode numbers, handles, steps or seed; any observable difference (a
//! byte, an empty directory, what is durable, what is unsynced) changes it;
//! and the value is the documented XXH3-128 of the documented framing.

// This file is a test crate: its helpers are test code too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use common::{durable_dir, durable_file, p, sim};
use crashproof_core::fs::{Fs, OpenMode};
use crashproof_sim::{CrashModel, SimFs, SimView};

/// `/d/a` = "one", `/d/b` = "two", all durable, built in the given order
/// (so inode numbers differ between orders), on a filesystem with `seed`.
fn two_files(seed: u64, a_first: bool) -> SimFs {
    let fs = sim(seed);
    durable_dir(&fs, "/d").unwrap();
    if a_first {
        durable_file(&fs, "/d/a", b"one").unwrap();
        durable_file(&fs, "/d/b", b"two").unwrap();
    } else {
        durable_file(&fs, "/d/b", b"two").unwrap();
        durable_file(&fs, "/d/a", b"one").unwrap();
    }
    fs
}

#[test]
fn equal_content_has_equal_digests_whatever_the_inodes_steps_and_seed() {
    let a = two_files(1, true);
    let b = two_files(2, false);
    assert_eq!(a.content_digest(), b.content_digest());
    // An open handle and extra reads (steps, trace) change nothing on disk.
    let h = b.open(p("/d/a"), OpenMode::Existing).unwrap();
    b.read(p("/d/b")).unwrap();
    assert_eq!(a.content_digest(), b.content_digest());
    b.close(h).unwrap();
    // A crash image (new inodes, step 0, derived seed) of a durable tree.
    let image = b.crash_image(CrashModel::DropUnsynced, 7).fs;
    assert_eq!(a.content_digest(), image.content_digest());
}

#[test]
fn every_observable_difference_changes_the_digest() {
    let base = two_files(1, true).content_digest();

    let byte = two_files(1, true);
    durable_file(&byte, "/d/a", b"onE").unwrap();
    assert_ne!(byte.content_digest().visible, base.visible, "a byte");

    let empty_dir = two_files(1, true);
    durable_dir(&empty_dir, "/d/e").unwrap();
    assert_ne!(
        empty_dir.content_digest().visible,
        base.visible,
        "an empty dir"
    );

    // An unsynced write: visible and the log change, durable does not.
    let unsynced = two_files(1, true);
    let h = unsynced.open(p("/d/a"), OpenMode::Existing).unwrap();
    unsynced.write_all_at(&h, 0, b"ONE").unwrap();
    let d = unsynced.content_digest();
    assert_ne!(d.visible, base.visible, "visible bytes");
    assert_eq!(d.durable, base.durable, "durable bytes unchanged");
    assert_ne!(d.unsynced, base.unsynced, "the log holds the write");
    // Synced: durable catches up, the log is empty again.
    unsynced.sync(&h).unwrap();
    let synced = unsynced.content_digest();
    assert_eq!(synced.visible, d.visible);
    assert_ne!(synced.durable, base.durable);
    assert_eq!(synced.unsynced, base.unsynced);

    // A file and a directory of the same name are different trees.
    let file = sim(3);
    durable_file(&file, "/x", b"").unwrap();
    let dir = sim(3);
    durable_dir(&dir, "/x").unwrap();
    assert_ne!(file.content_digest().visible, dir.content_digest().visible);
}

/// The framing of `digest.rs`, written out for one tree: `/` with the file
/// `/f` = "hi". Tag `d` and the root's path "", then tag `f`, "/f" and its
/// bytes, each field prefixed by its length (u64, little endian).
#[test]
fn the_value_is_xxh3_128_of_the_documented_framing() {
    let fs = sim(0);
    durable_file(&fs, "/f", b"hi").unwrap();
    let mut stream = Vec::new();
    let field = |stream: &mut Vec<u8>, bytes: &[u8]| {
        stream.extend((bytes.len() as u64).to_le_bytes());
        stream.extend(bytes);
    };
    stream.push(b'd');
    field(&mut stream, b"");
    stream.push(b'f');
    field(&mut stream, b"/f");
    field(&mut stream, b"hi");
    let want = xxhash_rust::xxh3::xxh3_128(&stream);
    let got = fs.content_digest();
    assert_eq!(got.visible, want);
    assert_eq!(got.durable, want, "everything is durable");
    assert_eq!(
        got.unsynced,
        xxhash_rust::xxh3::xxh3_128(b""),
        "nothing is unsynced"
    );
    assert_eq!(got.visible_short(), want as u64);
}
