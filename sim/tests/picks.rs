//! Seeded picks reach every state enumeration lists, as the very same image:
//! on small cases under each model, the union of picks over enough seeds is
//! the enumerated set, compared by choice, file contents (garbage included)
//! and image seed. Random exploration and the picks past a cap rely on it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use common::{durable_dir, durable_file, p, sim_sector};
use crashproof_core::fs::{Fs, OpenMode};
use crashproof_sim::fs::{OpFate, SectorFate};
use crashproof_sim::{CrashImage, CrashModel, SimFs, SimView};

/// What identifies a post-crash state: its files and the image's seed.
type State = (BTreeMap<PathBuf, Vec<u8>>, u64);

fn state(image: &CrashImage) -> State {
    (image.fs.files(), image.fs.config().seed)
}

/// A small case, and the number of seeds that reaches every state of it
/// (see each case for the least likely state's probability).
struct Case {
    name: &'static str,
    build: fn() -> SimFs,
    /// Subset states, counted by hand.
    subset_states: u64,
    seeds: u64,
}

/// `/d/f` durable with "oooooo" (sector 4): overwrite "NN" at 0 (1 sector:
/// 3 outcomes), then append 6 bytes (bytes 6..8 of sector 1 and 8..12 of
/// sector 2: 9 outcomes). Subset 27, Prefix 3. Least likely pick: a
/// specific tear of the append, 1/3 * 1/9, times 1/3 for the overwrite:
/// 1/81.
fn torn_writes() -> SimFs {
    let fs = sim_sector(80, 4);
    durable_dir(&fs, "/d").unwrap();
    durable_file(&fs, "/d/f", b"oooooo").unwrap();
    let h = fs.open(p("/d/f"), OpenMode::Existing).unwrap();
    fs.write_all_at(&h, 0, b"NN").unwrap();
    fs.append(&h, b"nnnnnn").unwrap();
    fs
}

/// `/a/f`, `/b/t` ("tt") durable; create `/a/g` (2), rename `/a/f -> /b/f`
/// (4), truncate `/b/t` (2): Subset 16, Prefix 4. Least likely pick:
/// 1/2 * 1/4 * 1/2 = 1/16.
fn directory_ops() -> SimFs {
    let fs = sim_sector(81, 4);
    durable_dir(&fs, "/a").unwrap();
    durable_dir(&fs, "/b").unwrap();
    durable_file(&fs, "/a/f", b"x").unwrap();
    durable_file(&fs, "/b/t", b"tt").unwrap();
    let g = fs.create_new(p("/a/g")).unwrap();
    fs.close(g).unwrap();
    fs.rename(p("/a/f"), p("/b/f")).unwrap();
    let t = fs.open_truncate(p("/b/t")).unwrap();
    fs.close(t).unwrap();
    fs
}

/// Create `/a/x` (2), write 6 bytes across two sectors (9), rename it to
/// `/b/x` (4): Subset 72, Prefix 4. Least likely pick: 1/2 * 1/27 * 1/4
/// = 1/216.
fn everything() -> SimFs {
    let fs = sim_sector(82, 4);
    durable_dir(&fs, "/a").unwrap();
    durable_dir(&fs, "/b").unwrap();
    let h = fs.create_new(p("/a/x")).unwrap();
    fs.write_all_at(&h, 1, b"wwwwww").unwrap();
    fs.rename(p("/a/x"), p("/b/x")).unwrap();
    fs
}

#[test]
fn seeded_picks_reach_every_enumerated_state_as_the_same_image() {
    // Seeds: 40x the inverse of the least likely state's probability, so
    // that missing one is a bug, not bad luck (each miss has probability
    // about e^-40).
    let cases = [
        Case {
            name: "torn writes",
            build: torn_writes,
            subset_states: 27,
            seeds: 40 * 81,
        },
        Case {
            name: "directory ops",
            build: directory_ops,
            subset_states: 16,
            seeds: 40 * 16,
        },
        Case {
            name: "everything",
            build: everything,
            subset_states: 72,
            seeds: 40 * 216,
        },
    ];
    for case in cases {
        let fs = (case.build)();
        assert_eq!(
            fs.crash_state_count(CrashModel::Subset),
            case.subset_states,
            "{}",
            case.name
        );
        for model in CrashModel::ALL {
            let what = format!("{} under {model}", case.name);
            let enumerated: BTreeMap<String, State> = fs
                .crash_images(model, 1000)
                .unwrap()
                .iter()
                .map(|i| (i.choice.to_string(), state(i)))
                .collect();
            assert_eq!(
                enumerated.len() as u64,
                fs.crash_state_count(model),
                "{what}: two enumerated states share a choice"
            );
            let mut picked = BTreeSet::new();
            for seed in 0..case.seeds {
                let image = fs.crash_image(model, seed);
                let key = image.choice.to_string();
                let Some(listed) = enumerated.get(&key) else {
                    panic!("{what}: seed {seed} picked `{key}`, which enumeration does not list");
                };
                assert_eq!(
                    &state(&image),
                    listed,
                    "{what}: seed {seed} picked `{key}` with other bytes or seed"
                );
                picked.insert(key);
            }
            let missed: Vec<&String> = enumerated.keys().filter(|k| !picked.contains(*k)).collect();
            assert!(
                missed.is_empty(),
                "{what}: {} seeds never picked {missed:?}",
                case.seeds
            );
        }
    }
}

#[test]
fn every_enumerated_image_has_a_seed_of_its_own() {
    // The image seed is a function of the choice: distinct choices, distinct
    // seeds (so the images' own faults and crashes differ), none equal to
    // the source's.
    let fs = everything();
    let images = fs.crash_images(CrashModel::Subset, 100).unwrap();
    let seeds: BTreeSet<u64> = images.iter().map(|i| i.fs.config().seed).collect();
    assert_eq!(seeds.len(), images.len());
    assert!(!seeds.contains(&fs.config().seed));
}

#[test]
fn a_pick_loses_keeps_or_tears_a_write_a_third_of_the_time_each() {
    // The documented pick distribution: 1/3 each. Over 3000 seeds each count
    // is 1000 on average with a standard deviation of about 26, so 850..1150
    // holds unless the draw is skewed (e.g. one outcome drawn twice as often).
    let fs = sim_sector(83, 4);
    durable_dir(&fs, "/d").unwrap();
    durable_file(&fs, "/d/f", b"").unwrap();
    let h = fs.open(p("/d/f"), OpenMode::Existing).unwrap();
    fs.write_all_at(&h, 0, b"12345678").unwrap();
    let (mut lost, mut kept, mut torn) = (0, 0, 0);
    for seed in 0..3000 {
        let choice = fs.crash_image(CrashModel::Subset, seed).choice;
        lost += choice.lost();
        kept += choice.kept();
        torn += choice.torn();
    }
    for (what, n) in [("lost", lost), ("kept", kept), ("torn", torn)] {
        assert!((850..=1150).contains(&n), "{what}: {n} of 3000");
    }
}

#[test]
fn a_torn_pick_draws_each_sector_old_new_or_garbage_about_equally() {
    // A 3-sector write; a torn pick draws each sector uniformly and, when
    // the draw is all old or all new (2 of 27 draws), turns one sector to
    // garbage. Expected sectors per torn pick: old and new 1 - 1/27 each,
    // garbage 1 + 2/27, i.e. fractions 0.321, 0.321, 0.358. About 2000 of
    // 6000 picks tear (6000 sectors, standard deviation about 0.006 on each
    // fraction), so each lands within 0.03 of its expectation unless the
    // draw is skewed.
    let fs = sim_sector(84, 4);
    durable_dir(&fs, "/d").unwrap();
    durable_file(&fs, "/d/f", b"").unwrap();
    let h = fs.open(p("/d/f"), OpenMode::Existing).unwrap();
    fs.write_all_at(&h, 0, b"123456789abc").unwrap();
    let mut counts = BTreeMap::new();
    let mut sectors = 0usize;
    for seed in 0..6000 {
        let choice = fs.crash_image(CrashModel::Subset, seed).choice;
        if let OpFate::Torn(fates) = &choice.ops()[0].fate {
            for fate in fates {
                *counts.entry(*fate).or_insert(0usize) += 1;
                sectors += 1;
            }
        }
    }
    for (fate, expected) in [
        (SectorFate::Old, 26.0 / 81.0),
        (SectorFate::New, 26.0 / 81.0),
        (SectorFate::Garbage, 29.0 / 81.0),
    ] {
        let share = counts.get(&fate).copied().unwrap_or(0) as f64 / sectors as f64;
        assert!(
            (share - expected).abs() < 0.03,
            "{fate:?}: {share:.3} of {sectors} sectors, expected {expected:.3}"
        );
    }
}
