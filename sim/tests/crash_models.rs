//! The crash models: Subset reordering and tearing, enumeration counts,
//! the cap, fork isolation and data sharing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use common::{content, durable_dir, durable_file, p, sim, sim_sector};
use crashproof_core::fs::{Fs, OpenMode};
use crashproof_sim::SimView;
use crashproof_sim::fs::{OpFate, RenameHalf, SectorFate};
use crashproof_sim::{CrashModel, TooManyStates};

#[test]
fn subset_keeps_a_later_write_while_losing_an_earlier_one() {
    let fs = sim(11);
    durable_dir(&fs, "/d").unwrap();
    durable_file(&fs, "/d/f", b"").unwrap();
    let h = fs.open(p("/d/f"), OpenMode::Existing).unwrap();
    fs.write_all_at(&h, 0, b"AAAA").unwrap();
    fs.write_all_at(&h, 4, b"BBBB").unwrap();
    let images = fs.crash_images(CrashModel::Subset, 100).unwrap();
    // 1 sector each (sector 512): 3 * 3 = 9 states.
    assert_eq!(images.len(), 9);
    let later_only = images
        .iter()
        .find(|i| i.choice.ops()[0].fate == OpFate::Lost && i.choice.ops()[1].fate == OpFate::Kept)
        .unwrap();
    assert_eq!(content(&later_only.fs, "/d/f").unwrap(), b"\0\0\0\0BBBB");
    // Prefix never does that: its states are "", "AAAA", "AAAABBBB".
    let prefix: Vec<Vec<u8>> = fs
        .crash_images(CrashModel::Prefix, 100)
        .unwrap()
        .iter()
        .map(|i| content(&i.fs, "/d/f").unwrap())
        .collect();
    assert_eq!(
        prefix,
        vec![b"".to_vec(), b"AAAA".to_vec(), b"AAAABBBB".to_vec()]
    );
}

/// Checks one torn-write state: bytes 0..2 untouched, then for each sector
/// of the write (2..4, 4..8, 8..12 with sector size 4) all old, all new or
/// all garbage, matching the reported fate.
fn check_torn(bytes: &[u8], fate: &OpFate) {
    let old = b"oooooooooooo";
    let new = b"nnnnnnnnnn";
    assert_eq!(bytes.len(), 12);
    assert_eq!(&bytes[..2], b"oo");
    let sectors = match fate {
        OpFate::Lost => vec![SectorFate::Old; 3],
        OpFate::Kept => vec![SectorFate::New; 3],
        OpFate::Torn(s) => s.clone(),
        OpFate::Half(_) => panic!("a write has no rename half"),
    };
    assert_eq!(sectors.len(), 3);
    for (range, fate) in [(2..4, sectors[0]), (4..8, sectors[1]), (8..12, sectors[2])] {
        for i in range {
            let b = bytes[i];
            match fate {
                SectorFate::Old => assert_eq!(b, old[i], "byte {i}"),
                SectorFate::New => assert_eq!(b, new[i - 2], "byte {i}"),
                SectorFate::Garbage => {
                    assert!(b != old[i] && b != new[i - 2], "byte {i} is not garbage")
                }
            }
        }
    }
}

#[test]
fn torn_write_tears_at_sector_boundaries() {
    let fs = sim_sector(12, 4);
    durable_dir(&fs, "/d").unwrap();
    durable_file(&fs, "/d/f", b"oooooooooooo").unwrap();
    let h = fs.open(p("/d/f"), OpenMode::Existing).unwrap();
    // Bytes 2..12: sectors 0 (2..4), 1 (4..8), 2 (8..12).
    fs.write_all_at(&h, 2, b"nnnnnnnnnn").unwrap();
    let images = fs.crash_images(CrashModel::Subset, 100).unwrap();
    assert_eq!(images.len(), 27, "3 sectors, each old|new|garbage: 3^3");
    let mut fates = Vec::new();
    for image in &images {
        let fate = &image.choice.ops()[0].fate;
        check_torn(&content(&image.fs, "/d/f").unwrap(), fate);
        fates.push(fate.clone());
    }
    fates.sort();
    fates.dedup();
    assert_eq!(fates.len(), 27, "every combination occurs once");
    // Seeded random picks obey the same rule and do tear.
    let mut torn = 0;
    for seed in 0..200 {
        let image = fs.crash_image(CrashModel::Subset, seed);
        let fate = &image.choice.ops()[0].fate;
        torn += usize::from(matches!(fate, OpFate::Torn(_)));
        check_torn(&content(&image.fs, "/d/f").unwrap(), fate);
    }
    assert!(torn > 20, "random picks tear sometimes ({torn}/200)");
}

#[test]
fn torn_check_rejects_a_write_torn_inside_a_sector() {
    // The check above has teeth: a state torn mid-sector fails it.
    let bad = b"oonnnooooooo".to_vec();
    let result = std::panic::catch_unwind(|| {
        check_torn(
            &bad,
            &OpFate::Torn(vec![SectorFate::New, SectorFate::New, SectorFate::Old]),
        )
    });
    assert!(result.is_err());
}

#[test]
fn enumeration_counts_match_hand_counts() {
    let fs = sim_sector(13, 512);
    durable_dir(&fs, "/d").unwrap();
    // Three unsynced ops:
    //   1. link   create /d/f                      (dir op: 2 outcomes)
    //   2. write  600 bytes at offset 0 of /d/f    (sectors 0..512, 512..600:
    //                                               2 sectors, 3^2 = 9 outcomes)
    //   3. rename /d/f -> /d/g (same dir, 1 unit)  (2 outcomes)
    let h = fs.create_new(p("/d/f")).unwrap();
    fs.write_all_at(&h, 0, &[7u8; 600]).unwrap();
    fs.rename(p("/d/f"), p("/d/g")).unwrap();
    assert_eq!(fs.unsynced_ops(), 3);
    // Prefix: k = 0, 1, 2 or 3 ops survive -> 3 + 1 = 4.
    assert_eq!(fs.crash_images(CrashModel::Prefix, 100).unwrap().len(), 4);
    // Subset: 2 * 9 * 2 = 36.
    let subset = fs.crash_images(CrashModel::Subset, 100).unwrap();
    assert_eq!(subset.len(), 36);
    assert_eq!(fs.crash_state_count(CrashModel::Subset), 36);
    // Exactly 1 for the fixed models.
    assert_eq!(
        fs.crash_images(CrashModel::DropUnsynced, 1).unwrap().len(),
        1
    );
    assert_eq!(fs.crash_images(CrashModel::EagerDirs, 1).unwrap().len(), 1);
    // Choices are distinct and the first one loses everything.
    for (i, a) in subset.iter().enumerate() {
        for b in &subset[i + 1..] {
            assert_ne!(a.choice, b.choice);
        }
    }
    assert_eq!(subset[0].choice.lost(), 3);
    // Of the 36, the file is visible under /d/g when the rename survives (18),
    // under /d/f when the link survives and the rename does not (9).
    let at_g = subset
        .iter()
        .filter(|i| content(&i.fs, "/d/g").is_some())
        .count();
    let at_f = subset
        .iter()
        .filter(|i| content(&i.fs, "/d/f").is_some())
        .count();
    assert_eq!((at_g, at_f), (18, 9));
    // EagerDirs keeps the dir ops but not the data: /d/g, empty.
    let eager = fs.crash_image(CrashModel::EagerDirs, 0).fs;
    assert_eq!(content(&eager, "/d/g").unwrap(), b"");
    assert_eq!(content(&eager, "/d/f"), None);
}

#[test]
fn too_many_states_is_an_error_not_a_truncation() {
    let fs = sim(14);
    durable_dir(&fs, "/d").unwrap();
    durable_file(&fs, "/d/f", b"").unwrap();
    let h = fs.open(p("/d/f"), OpenMode::Existing).unwrap();
    for i in 0..20u64 {
        fs.write_all_at(&h, i * 512, b"x").unwrap();
    }
    // 20 one-sector writes: 3^20 = 3_486_784_401 Subset states.
    let err = fs.crash_images(CrashModel::Subset, 1000).unwrap_err();
    assert_eq!(
        err,
        TooManyStates {
            cap: 1000,
            at_least: 3_486_784_401
        }
    );
    assert!(err.to_string().contains("3486784401"));
    // Prefix has 21, so a cap of 20 fails and 21 succeeds.
    assert_eq!(
        fs.crash_images(CrashModel::Prefix, 20).unwrap_err(),
        TooManyStates {
            cap: 20,
            at_least: 21
        }
    );
    assert_eq!(fs.crash_images(CrashModel::Prefix, 21).unwrap().len(), 21);
}

#[test]
fn taking_a_crash_image_leaves_the_running_fs_unchanged() {
    let fs = sim(15);
    durable_dir(&fs, "/d").unwrap();
    durable_file(&fs, "/d/a", b"synced").unwrap();
    let h = fs.create_new(p("/d/b")).unwrap();
    fs.write_all_at(&h, 0, b"pending").unwrap();
    fs.rename(p("/d/a"), p("/d/c")).unwrap();
    let before = (
        fs.files(),
        fs.trace().to_string(),
        fs.steps(),
        fs.unsynced_ops(),
    );
    for model in CrashModel::ALL {
        let image = fs.crash_image(model, 99).fs;
        // The image is a working filesystem of its own.
        image.create_dir_all(p("/scratch")).unwrap();
        let ih = image.create_new(p("/scratch/x")).unwrap();
        image.write_all_at(&ih, 0, b"image only").unwrap();
        let _ = image.remove_file(p("/d/c"));
        assert_eq!(image.steps(), 4);
        let _ = fs.crash_images(model, 1000).unwrap();
    }
    let after = (
        fs.files(),
        fs.trace().to_string(),
        fs.steps(),
        fs.unsynced_ops(),
    );
    assert_eq!(before, after);
    // And it keeps running normally.
    fs.sync(&h).unwrap();
    fs.sync_dir(p("/d")).unwrap();
    let image = fs.crash_image(CrashModel::DropUnsynced, 0).fs;
    assert_eq!(content(&image, "/d/b").unwrap(), b"pending");
    assert_eq!(content(&image, "/d/c").unwrap(), b"synced");
}

#[test]
fn crash_image_state_is_fresh() {
    let fs = sim(16);
    durable_dir(&fs, "/d").unwrap();
    let h = fs.create_new(p("/d/f")).unwrap();
    fs.sync_dir(p("/d")).unwrap();
    let image = fs.crash_image(CrashModel::Subset, 1).fs;
    assert_eq!(image.steps(), 0);
    assert!(image.trace().entries.is_empty());
    assert_eq!(image.unsynced_ops(), 0);
    assert_ne!(image.config().seed, fs.config().seed);
    // The old handle means nothing to the image.
    assert_eq!(
        image.write_all_at(&h, 0, b"x").unwrap_err().kind(),
        std::io::ErrorKind::InvalidInput
    );
    fs.close(h).unwrap();
}

#[test]
fn crash_images_share_unchanged_file_data() {
    let fs = sim(17);
    durable_dir(&fs, "/d").unwrap();
    durable_file(&fs, "/d/big", &vec![1u8; 1 << 20]).unwrap();
    durable_file(&fs, "/d/small", b"s").unwrap();
    let h = fs.open(p("/d/small"), OpenMode::Existing).unwrap();
    fs.write_all_at(&h, 0, b"t").unwrap();
    for model in CrashModel::ALL {
        for image in fs.crash_images(model, 10).unwrap() {
            assert!(
                image.fs.shares_content(p("/d/big"), &fs, p("/d/big")),
                "{model}: the 1 MiB file was copied"
            );
            let kept = image.choice.kept() > 0 || image.choice.torn() > 0;
            assert!(
                !image.fs.shares_content(p("/d/small"), &fs, p("/d/small")),
                "the running file has the unsynced write, the image does not share it"
            );
            if !kept {
                assert_eq!(content(&image.fs, "/d/small").unwrap(), b"s");
            }
        }
    }
    // Two images of the same moment share too.
    let a = fs.crash_image(CrashModel::DropUnsynced, 1).fs;
    let b = fs.crash_image(CrashModel::DropUnsynced, 2).fs;
    assert!(a.shares_content(p("/d/big"), &b, p("/d/big")));
}

#[test]
fn a_choice_reads_as_one_line_naming_every_fate() {
    use OpFate::{Half, Kept, Lost, Torn};
    use SectorFate::{Garbage, New, Old};
    let fs = sim_sector(18, 4);
    // Steps 0-1 /a, 2-3 /b, 4-8 /a/f (open, write, sync, close, sync_dir).
    durable_dir(&fs, "/a").unwrap();
    durable_dir(&fs, "/b").unwrap();
    durable_file(&fs, "/a/f", b"oooooooooo").unwrap();
    let nothing = fs.crash_image(CrashModel::DropUnsynced, 0).choice;
    assert_eq!(nothing.to_string(), "drop-unsynced: nothing was unsynced");
    // Step 9 open, 10 write (bytes 2..10: sectors 0, 1, 2), 11 rename,
    // 12 create.
    let h = fs.open(p("/a/f"), OpenMode::Existing).unwrap();
    fs.write_all_at(&h, 2, b"nnnnnnnn").unwrap();
    fs.rename(p("/a/f"), p("/b/f")).unwrap();
    fs.create_new(p("/a/g")).map(drop).unwrap();
    let images = fs.crash_images(CrashModel::Subset, 1000).unwrap();
    // (fates, text, kept, lost, torn, halved)
    let rows: Vec<(Vec<OpFate>, &str, [usize; 4])> = vec![
        (
            vec![Lost, Lost, Lost],
            "subset: lost #10 write /a/f @2+8; lost #11 rename /a/f -> /b/f; lost #12 create /a/g",
            [0, 3, 0, 0],
        ),
        (
            vec![
                Torn(vec![New, Old, Garbage]),
                Half(RenameHalf::OldNameRemoved),
                Kept,
            ],
            "subset: TORN #10 write /a/f @2+8 [new old garbage]; \
             HALF #11 rename /a/f -> /b/f [old name removed, new name not written]; \
             kept #12 create /a/g",
            [1, 0, 1, 1],
        ),
        (
            vec![Kept, Half(RenameHalf::NewNameAdded), Lost],
            "subset: kept #10 write /a/f @2+8; \
             HALF #11 rename /a/f -> /b/f [new name written, old name not removed]; \
             lost #12 create /a/g",
            [1, 1, 0, 1],
        ),
    ];
    for (fates, text, [kept, lost, torn, halved]) in rows {
        let image = images
            .iter()
            .find(|i| i.choice.ops().iter().map(|o| &o.fate).eq(fates.iter()))
            .unwrap();
        let choice = &image.choice;
        assert_eq!(choice.to_string(), text);
        assert_eq!(choice.model(), CrashModel::Subset);
        assert_eq!(
            [choice.kept(), choice.lost(), choice.torn(), choice.halved()],
            [kept, lost, torn, halved],
            "{text}"
        );
    }
}

#[test]
fn garbage_comes_from_the_seed_and_the_moment_not_the_pick() {
    // The bytes of one torn choice (a one-sector write all garbage), for a
    // filesystem seed, optionally one read later (another moment).
    let garbage = |seed: u64, later: bool| -> Vec<u8> {
        let fs = sim_sector(seed, 4);
        durable_dir(&fs, "/d").unwrap();
        durable_file(&fs, "/d/f", b"oooo").unwrap();
        let h = fs.open(p("/d/f"), OpenMode::Existing).unwrap();
        fs.write_all_at(&h, 0, b"nnnn").unwrap();
        if later {
            fs.read(p("/d/f")).unwrap();
        }
        let images = fs.crash_images(CrashModel::Subset, 10).unwrap();
        let torn = images
            .iter()
            .find(|i| i.choice.ops()[0].fate == OpFate::Torn(vec![SectorFate::Garbage]))
            .unwrap();
        content(&torn.fs, "/d/f").unwrap()
    };
    let first = garbage(1, false);
    assert_eq!(first, garbage(1, false), "same seed and moment, same bytes");
    assert_ne!(first, garbage(2, false), "another filesystem seed");
    assert_ne!(first, garbage(1, true), "another moment of the same run");
}
