//! Faults besides crashes: fsync EIO with Linux semantics, ENOSPC, short
//! writes, bit flips.

use crate::common;

use std::collections::BTreeSet;
use std::io::ErrorKind;

use common::{content, durable_dir, durable_file, p};
use crashproof_core::fs::{Fs, OpenMode};
use crashproof_sim::SimView;
use crashproof_sim::{CrashModel, FaultConfig, SimConfig, SimFs};

fn sim_with(faults: FaultConfig) -> SimFs {
    SimFs::new(SimConfig {
        faults,
        ..SimConfig::with_seed(21)
    })
}

#[test]
fn eio_on_sync_then_successful_sync_still_loses_the_data() {
    // Steps: 0 create_dir_all, 1 sync_dir, 2 open, 3 write, 4 sync, 5 close,
    // 6 sync_dir (durable_dir + durable_file), 7 open, 8 write, 9 sync (EIO).
    let fs = sim_with(FaultConfig {
        sync_eio_at_steps: BTreeSet::from([9]),
        ..FaultConfig::default()
    });
    durable_dir(&fs, "/d").unwrap();
    durable_file(&fs, "/d/f", b"old").unwrap();
    let h = fs.open(p("/d/f"), OpenMode::Existing).unwrap();
    fs.write_all_at(&h, 0, b"new").unwrap();
    assert_eq!(fs.steps(), 9);
    let err = fs.sync(&h).unwrap_err();
    assert!(err.to_string().contains("EIO"), "{err}");
    assert_eq!(fs.read(p("/d/f")).unwrap(), b"new", "readers still see it");
    fs.sync(&h).unwrap();
    // The data is no longer pending, so no crash model can bring it back.
    for model in CrashModel::ALL {
        for image in fs.crash_images(model, 10).unwrap() {
            assert_eq!(content(&image.fs, "/d/f").unwrap(), b"old", "{model}");
        }
    }
    let trace = fs.trace().to_string();
    assert!(trace.contains("EIO on fsync"), "{trace}");
    // Later writes are synced normally, on top of what is really durable.
    fs.write_all_at(&h, 3, b"+").unwrap();
    fs.sync(&h).unwrap();
    let image = fs.crash_image(CrashModel::DropUnsynced, 0).fs;
    assert_eq!(content(&image, "/d/f").unwrap(), b"old+");
    assert_eq!(fs.read(p("/d/f")).unwrap(), b"new+");
}

#[test]
fn without_eio_the_same_sequence_keeps_the_data() {
    let fs = sim_with(FaultConfig::default());
    durable_dir(&fs, "/d").unwrap();
    durable_file(&fs, "/d/f", b"old").unwrap();
    let h = fs.open(p("/d/f"), OpenMode::Existing).unwrap();
    fs.write_all_at(&h, 0, b"new").unwrap();
    fs.sync(&h).unwrap();
    fs.sync(&h).unwrap();
    let image = fs.crash_image(CrashModel::DropUnsynced, 0).fs;
    assert_eq!(content(&image, "/d/f").unwrap(), b"new");
}

#[test]
fn enospc_changes_nothing() {
    let fs = sim_with(FaultConfig {
        capacity_bytes: Some(10),
        ..FaultConfig::default()
    });
    durable_dir(&fs, "/d").unwrap();
    durable_file(&fs, "/d/f", b"hello").unwrap();
    let h = fs.open(p("/d/f"), OpenMode::Existing).unwrap();
    let pending = fs.unsynced_ops();
    let err = fs.write_all_at(&h, 5, b"world!").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::StorageFull);
    assert_eq!(fs.read(p("/d/f")).unwrap(), b"hello");
    assert_eq!(fs.unsynced_ops(), pending);
    // Overwriting in place does not grow the file, so it fits.
    fs.write_all_at(&h, 0, b"HELLO").unwrap();
    fs.append(&h, b"12345").unwrap();
    assert_eq!(
        fs.append(&h, b"6").unwrap_err().kind(),
        ErrorKind::StorageFull
    );
    assert_eq!(fs.read(p("/d/f")).unwrap(), b"HELLO12345");
    assert!(fs.trace().to_string().contains("ENOSPC"));
}

#[test]
fn short_writes_write_a_prefix_then_fail() {
    let fs = sim_with(FaultConfig {
        short_write_probability: 1.0,
        ..FaultConfig::default()
    });
    durable_dir(&fs, "/d").unwrap();
    let h = fs.create_new(p("/d/f")).unwrap();
    let mut shorts = 0;
    let mut expect = Vec::new();
    for i in 0..20u8 {
        let chunk = [i; 8];
        let err = fs.append(&h, &chunk).unwrap_err();
        let inner = err.get_ref().unwrap().to_string();
        assert!(inner.contains("short write"), "{inner}");
        let written = fs.read(p("/d/f")).unwrap().len() - expect.len();
        assert!(written < 8);
        expect.extend_from_slice(&chunk[..written]);
        shorts += 1;
    }
    assert_eq!(fs.read(p("/d/f")).unwrap(), expect);
    assert_eq!(shorts, 20);
    assert!(!expect.is_empty(), "some prefixes are non-empty");
}

#[test]
fn bit_flip_persists_across_reads_and_crashes() {
    // Steps 0..=6 build the durable file; the flip happens before step 7.
    let fs = sim_with(FaultConfig {
        bit_flip_at_steps: BTreeSet::from([7]),
        ..FaultConfig::default()
    });
    durable_dir(&fs, "/d").unwrap();
    durable_file(&fs, "/d/f", &[0u8; 64]).unwrap();
    let first = fs.read(p("/d/f")).unwrap();
    let second = fs.read(p("/d/f")).unwrap();
    assert_eq!(first, second);
    assert_eq!(
        first.iter().map(|b| b.count_ones()).sum::<u32>(),
        1,
        "exactly one bit flipped"
    );
    let image = fs.crash_image(CrashModel::DropUnsynced, 0).fs;
    assert_eq!(content(&image, "/d/f").unwrap(), first);
    assert!(fs.trace().to_string().contains("bit flip"));
}

#[test]
fn random_eio_is_seeded() {
    let run = |seed| {
        let fs = SimFs::new(SimConfig {
            faults: FaultConfig {
                sync_eio_probability: 0.5,
                ..FaultConfig::default()
            },
            ..SimConfig::with_seed(seed)
        });
        let h = fs.create_new(p("/f")).unwrap();
        (0..32).map(|_| fs.sync(&h).is_ok()).collect::<Vec<bool>>()
    };
    let a = run(1);
    assert_eq!(a, run(1));
    assert_ne!(a, run(2));
    assert!(a.contains(&true) && a.contains(&false));
}

#[test]
fn a_wild_offset_fails_cleanly_instead_of_allocating() {
    let fs = sim_with(FaultConfig::default());
    let h = fs.create_new(p("/f")).unwrap();
    let err = fs.write_all_at(&h, u64::MAX - 1, b"xy").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::FileTooLarge);
    assert_eq!(fs.read(p("/f")).unwrap(), b"");
}

#[test]
fn set_faults_applies_from_the_next_step() {
    let fs = sim_with(FaultConfig {
        sync_eio_probability: 1.0,
        ..FaultConfig::default()
    });
    let h = fs.create_new(p("/f")).unwrap();
    assert!(fs.sync(&h).is_err());
    fs.set_faults(FaultConfig::default());
    fs.sync(&h).unwrap();
    // Images inherit the config in force when they are taken.
    let image = fs.crash_image(CrashModel::DropUnsynced, 0).fs;
    let h2 = image.create_new(p("/g")).unwrap();
    image.sync(&h2).unwrap();
}

#[test]
fn a_fault_that_is_off_draws_nothing_from_the_fault_stream() {
    // Each probabilistic fault draws from one seeded stream only when it is
    // on, so turning calls of another kind on or off cannot shift it: the
    // random EIO pattern of 16 syncs is the same with writes in between
    // (short writes off), and the short-write pattern of 16 appends the
    // same with syncs in between (sync EIO off).
    let fs_with = |faults: FaultConfig| {
        SimFs::new(SimConfig {
            faults,
            ..SimConfig::with_seed(5)
        })
    };
    let eio = |with_writes: bool| -> Vec<bool> {
        let fs = fs_with(FaultConfig {
            sync_eio_probability: 0.5,
            ..FaultConfig::default()
        });
        let h = fs.create_new(p("/f")).unwrap();
        (0..16)
            .map(|_| {
                if with_writes {
                    fs.append(&h, b"x").unwrap();
                }
                fs.sync(&h).is_ok()
            })
            .collect()
    };
    let short = |with_syncs: bool| -> Vec<bool> {
        let fs = fs_with(FaultConfig {
            short_write_probability: 0.5,
            ..FaultConfig::default()
        });
        let h = fs.create_new(p("/f")).unwrap();
        (0..16)
            .map(|_| {
                if with_syncs {
                    fs.sync(&h).unwrap();
                }
                fs.append(&h, b"xxxxxxxx").is_ok()
            })
            .collect()
    };
    for pattern in [eio(false), short(false)] {
        assert!(
            pattern.contains(&true) && pattern.contains(&false),
            "{pattern:?}"
        );
    }
    assert_eq!(eio(false), eio(true));
    assert_eq!(short(false), short(true));
}

#[test]
fn bit_flip_in_a_file_with_unsynced_changes_shows_only_after_a_crash() {
    // Steps 0..=6 build the durable file (all bits set), 7 opens it, 8
    // writes (unsynced); the flip happens before step 9.
    let fs = sim_with(FaultConfig {
        bit_flip_at_steps: BTreeSet::from([9]),
        ..FaultConfig::default()
    });
    durable_dir(&fs, "/d").unwrap();
    durable_file(&fs, "/d/f", &[0xFF; 64]).unwrap();
    let h = fs.open(p("/d/f"), OpenMode::Existing).unwrap();
    fs.write_all_at(&h, 64, b"tail").unwrap();
    // The page cache is dirty: readers keep seeing it, unflipped.
    let mut expected = vec![0xFF; 64];
    expected.extend_from_slice(b"tail");
    assert_eq!(fs.read(p("/d/f")).unwrap(), expected);
    assert!(
        fs.trace()
            .to_string()
            .contains("bit flip in durable data of /d/f")
    );
    // The disk has it: exactly one bit cleared, the write lost.
    let image = fs.crash_image(CrashModel::DropUnsynced, 0).fs;
    let durable = content(&image, "/d/f").unwrap();
    assert_eq!(durable.len(), 64);
    assert_eq!(durable.iter().map(|b| b.count_zeros()).sum::<u32>(), 1);
}

#[test]
fn a_bit_flip_with_no_durable_data_flips_nothing_and_says_so() {
    // Steps 0..=6 make a durable but empty file; the flip comes before
    // step 7 and has nothing to flip.
    let fs = sim_with(FaultConfig {
        bit_flip_at_steps: BTreeSet::from([7]),
        ..FaultConfig::default()
    });
    durable_dir(&fs, "/d").unwrap();
    durable_file(&fs, "/d/empty", b"").unwrap();
    assert_eq!(fs.read(p("/d/empty")).unwrap(), b"");
    let trace = fs.trace().to_string();
    assert!(
        trace.contains("bit flip: no durable data to flip"),
        "{trace}"
    );
}

#[test]
fn capacity_counts_every_file_with_a_name_or_an_open_handle() {
    // Capacity 10 bytes; an 8-byte file set up as the row says, then a
    // 3-byte write to a new file: 8 + 3 > 10 fails when the 8 bytes count.
    type Setup = fn(&SimFs);
    let rows: [(&str, Setup, bool); 4] = [
        (
            "a closed file with a name",
            |fs| durable_file(fs, "/d/a", &[1; 8]).unwrap(),
            true,
        ),
        (
            "a closed file in a subdirectory",
            |fs| {
                durable_dir(fs, "/d/e").unwrap();
                durable_file(fs, "/d/e/a", &[1; 8]).unwrap();
            },
            true,
        ),
        (
            "an unlinked file still open",
            |fs| {
                let h = fs.create_new(p("/d/a")).unwrap();
                fs.write_all_at(&h, 0, &[1; 8]).unwrap();
                fs.remove_file(p("/d/a")).unwrap();
                // Dropping a handle does not close it: its bytes still
                // take space until `close`, which this test never calls.
                drop(h);
            },
            true,
        ),
        (
            "an unlinked closed file",
            |fs| {
                durable_file(fs, "/d/a", &[1; 8]).unwrap();
                fs.remove_file(p("/d/a")).unwrap();
            },
            false,
        ),
    ];
    for (name, setup, full) in rows {
        let fs = sim_with(FaultConfig {
            capacity_bytes: Some(10),
            ..FaultConfig::default()
        });
        durable_dir(&fs, "/d").unwrap();
        setup(&fs);
        let h = fs.create_new(p("/d/b")).unwrap();
        let result = fs.write_all_at(&h, 0, b"xyz");
        assert_eq!(
            result.map_err(|e| e.kind()),
            if full {
                Err(ErrorKind::StorageFull)
            } else {
                Ok(())
            },
            "{name}"
        );
    }
}
