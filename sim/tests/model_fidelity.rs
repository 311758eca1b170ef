//! The two model-fidelity rules, each a table whose expected states are
//! derived by hand in the comments: a rename is one journal entry (Prefix),
//! and a torn append grows the file sector by sector (Subset).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::collections::BTreeMap;

use common::{content, durable_dir, durable_file, p, sim, sim_sector};
use crashproof_core::fs::{Fs, OpenMode};
use crashproof_sim::fs::{OpFate, RenameHalf, SectorFate};
use crashproof_sim::{CrashModel, SimFs, SimView};

/// The paths (of the two candidates) under which the file exists, per state.
fn names_per_state(fs: &SimFs, model: CrashModel, paths: [&str; 2]) -> Vec<Vec<String>> {
    fs.crash_images(model, 100)
        .unwrap()
        .iter()
        .map(|image| {
            paths
                .iter()
                .filter(|path| content(&image.fs, path).is_some())
                .map(|path| path.to_string())
                .collect()
        })
        .collect()
}

fn owned(states: &[Vec<&str>]) -> Vec<Vec<String>> {
    states
        .iter()
        .map(|names| names.iter().map(|n| n.to_string()).collect())
        .collect()
}

/// `/a` and `/b` durable, `/a/f` durable with "x", then `rename` and
/// `sync`, as the row says.
struct RenameRow {
    name: &'static str,
    to: &'static str,
    /// Directories synced after the rename.
    synced: &'static [&'static str],
    unsynced_ops: usize,
    prefix: Vec<Vec<&'static str>>,
    subset: Vec<Vec<&'static str>>,
}

#[test]
fn a_rename_is_one_journal_entry_and_each_directory_syncs_its_half() {
    let rows = vec![
        // One dir: one entry; Prefix k=0 keeps the old name, k=1 the new.
        // Subset: the same two (a rename in one directory is one unit).
        RenameRow {
            name: "inside one directory",
            to: "/a/g",
            synced: &[],
            unsynced_ops: 1,
            prefix: vec![vec!["/a/f"], vec!["/a/g"]],
            subset: vec![vec!["/a/f"], vec!["/a/g"]],
        },
        // Across directories, still one entry: Prefix has the same two
        // states, never neither name (before this rule it was logged as
        // two ops and the cut between them lost the file). Subset: the
        // two halves are independent, 4 states in the order lost, kept,
        // old name removed only, new name added only.
        RenameRow {
            name: "across directories",
            to: "/b/f",
            synced: &[],
            unsynced_ops: 1,
            prefix: vec![vec!["/a/f"], vec!["/b/f"]],
            subset: vec![vec!["/a/f"], vec!["/b/f"], vec![], vec!["/a/f", "/b/f"]],
        },
        // Only the source directory synced: its half (removal) is durable,
        // the entry left is the target's half. Both models: without it the
        // file has no name (strict per-directory durability), with it /b/f.
        RenameRow {
            name: "across, source directory synced",
            to: "/b/f",
            synced: &["/a"],
            unsynced_ops: 1,
            prefix: vec![vec![], vec!["/b/f"]],
            subset: vec![vec![], vec!["/b/f"]],
        },
        // Only the target directory synced: the new name is durable, the
        // removal of the old one is the entry left: both names, or /b/f.
        RenameRow {
            name: "across, target directory synced",
            to: "/b/f",
            synced: &["/b"],
            unsynced_ops: 1,
            prefix: vec![vec!["/a/f", "/b/f"], vec!["/b/f"]],
            subset: vec![vec!["/a/f", "/b/f"], vec!["/b/f"]],
        },
        // Both synced: nothing left, one state.
        RenameRow {
            name: "across, both synced",
            to: "/b/f",
            synced: &["/a", "/b"],
            unsynced_ops: 0,
            prefix: vec![vec!["/b/f"]],
            subset: vec![vec!["/b/f"]],
        },
    ];
    for row in rows {
        let fs = sim(70);
        durable_dir(&fs, "/a").unwrap();
        durable_dir(&fs, "/b").unwrap();
        durable_file(&fs, "/a/f", b"x").unwrap();
        fs.rename(p("/a/f"), p(row.to)).unwrap();
        for dir in row.synced {
            fs.sync_dir(p(dir)).unwrap();
        }
        let name = row.name;
        assert_eq!(fs.unsynced_ops(), row.unsynced_ops, "{name}");
        let paths = ["/a/f", row.to];
        let states = |model| names_per_state(&fs, model, paths);
        assert_eq!(states(CrashModel::Prefix), owned(&row.prefix), "{name}");
        assert_eq!(states(CrashModel::Subset), owned(&row.subset), "{name}");
        // DropUnsynced is the first Prefix state; EagerDirs the last.
        let prefix = owned(&row.prefix);
        assert_eq!(states(CrashModel::DropUnsynced), prefix[..1], "{name}");
        assert_eq!(
            states(CrashModel::EagerDirs),
            prefix[prefix.len() - 1..],
            "{name}"
        );
    }
}

#[test]
fn no_prefix_cut_loses_a_renamed_file_among_other_entries() {
    let fs = sim(71);
    durable_dir(&fs, "/a").unwrap();
    durable_dir(&fs, "/b").unwrap();
    durable_file(&fs, "/a/f", b"x").unwrap();
    // The log: [create /a/new, rename /a/f -> /b/f, write /a/new]: 3
    // entries, Prefix k = 0..=3 gives 4 states:
    //   k=0: /a/f             k=1: /a/f, /a/new ""
    //   k=2: /b/f, /a/new ""  k=3: /b/f, /a/new "data"
    let h = fs.create_new(p("/a/new")).unwrap();
    fs.rename(p("/a/f"), p("/b/f")).unwrap();
    fs.write_all_at(&h, 0, b"data").unwrap();
    assert_eq!(fs.unsynced_ops(), 3);
    let states: Vec<BTreeMap<String, Vec<u8>>> = fs
        .crash_images(CrashModel::Prefix, 10)
        .unwrap()
        .iter()
        .map(|i| {
            i.fs.files()
                .into_iter()
                .map(|(path, bytes)| (path.display().to_string(), bytes))
                .collect()
        })
        .collect();
    let expect = |files: &[(&str, &[u8])]| -> BTreeMap<String, Vec<u8>> {
        files
            .iter()
            .map(|(path, bytes)| (path.to_string(), bytes.to_vec()))
            .collect()
    };
    assert_eq!(
        states,
        vec![
            expect(&[("/a/f", b"x")]),
            expect(&[("/a/f", b"x"), ("/a/new", b"")]),
            expect(&[("/a/new", b""), ("/b/f", b"x")]),
            expect(&[("/a/new", b"data"), ("/b/f", b"x")]),
        ]
    );
}

#[test]
fn a_half_surviving_rename_says_which_half() {
    let fs = sim(72);
    durable_dir(&fs, "/a").unwrap();
    durable_dir(&fs, "/b").unwrap();
    durable_file(&fs, "/a/f", b"x").unwrap();
    fs.rename(p("/a/f"), p("/b/f")).unwrap();
    let images = fs.crash_images(CrashModel::Subset, 10).unwrap();
    let fates: Vec<OpFate> = images
        .iter()
        .map(|i| i.choice.ops()[0].fate.clone())
        .collect();
    assert_eq!(
        fates,
        vec![
            OpFate::Lost,
            OpFate::Kept,
            OpFate::Half(RenameHalf::OldNameRemoved),
            OpFate::Half(RenameHalf::NewNameAdded),
        ]
    );
    let halved: Vec<usize> = images.iter().map(|i| i.choice.halved()).collect();
    assert_eq!(halved, vec![0, 0, 1, 1]);
    let text = images[2].choice.to_string();
    assert!(
        text.contains("HALF #") && text.contains("rename /a/f -> /b/f"),
        "{text}"
    );
    assert!(text.contains("old name removed"), "{text}");
    assert!(
        images[3].choice.to_string().contains("new name written"),
        "{}",
        images[3].choice
    );
    // The label of the half left after a sync says which half it is.
    fs.sync_dir(p("/a")).unwrap();
    let left = fs.crash_image(CrashModel::Prefix, 0).choice.to_string();
    assert!(left.contains("only the new name is unsynced"), "{left}");
}

/// An append or write of `data` at `offset` over a durable file `old`,
/// with the sector size given.
struct TearRow {
    name: &'static str,
    old: &'static [u8],
    offset: u64,
    data: &'static [u8],
    sector_size_bytes: usize,
    /// File length -> how many Subset states have it.
    lengths: &'static [(usize, usize)],
}

#[test]
fn a_torn_append_ends_at_any_sector_boundary_inside_it() {
    let rows = [
        // Sectors 1, 2, 3 (bytes 4..8, 8..12, 12..16), all past the old end.
        // The length is the end of the last sector not old:
        //   all three old (lost):                 4   1 state
        //   last not-old is sector 1 (N|G):       8   2
        //   ... sector 2 (N|G), sector 1 any:    12   2*3 = 6
        //   ... sector 3 (N|G), 1 and 2 any:     16   2*9 = 18   (27 in all)
        TearRow {
            name: "append of three whole sectors",
            old: b"oooo",
            offset: 4,
            data: b"nnnnnnnnnnnn",
            sector_size_bytes: 4,
            lengths: &[(4, 1), (8, 2), (12, 6), (16, 18)],
        },
        // The append starts inside sector 1 (bytes 6..8), then sector 2
        // (8..12): old 6; last not-old sector 1 -> 8 (2 states); sector 2
        // -> 12 (2*3 = 6).
        TearRow {
            name: "append starting mid-sector",
            old: b"oooooo",
            offset: 6,
            data: b"nnnnnn",
            sector_size_bytes: 4,
            lengths: &[(6, 1), (8, 2), (12, 6)],
        },
        // Inside the old length: the length never changes, 3^3 = 27.
        TearRow {
            name: "overwrite inside the file",
            old: b"oooooooooooo",
            offset: 2,
            data: b"nnnnnnnnnn",
            sector_size_bytes: 4,
            lengths: &[(12, 27)],
        },
        // Past a gap: one sector (8..12); lost keeps 2 bytes, new or garbage
        // grows the file to 12 (bytes 2..8 read as zeros).
        TearRow {
            name: "write past a gap",
            old: b"oo",
            offset: 8,
            data: b"nnnn",
            sector_size_bytes: 4,
            lengths: &[(2, 1), (12, 2)],
        },
    ];
    for row in rows {
        let fs = sim_sector(73, row.sector_size_bytes);
        durable_dir(&fs, "/d").unwrap();
        durable_file(&fs, "/d/f", row.old).unwrap();
        let h = fs.open(p("/d/f"), OpenMode::Existing).unwrap();
        fs.write_all_at(&h, row.offset, row.data).unwrap();
        let images = fs.crash_images(CrashModel::Subset, 100).unwrap();
        let mut lengths = BTreeMap::new();
        let mut outcomes = Vec::new();
        for image in &images {
            let bytes = content(&image.fs, "/d/f").unwrap();
            *lengths.entry(bytes.len()).or_insert(0usize) += 1;
            outcomes.push(bytes);
        }
        let name = row.name;
        assert_eq!(
            lengths.into_iter().collect::<Vec<_>>(),
            row.lengths.to_vec(),
            "{name}"
        );
        let total: usize = row.lengths.iter().map(|(_, n)| n).sum();
        assert_eq!(fs.crash_state_count(CrashModel::Subset), total as u64);
        // Every distinct choice is a distinct file: listed once each.
        outcomes.sort();
        outcomes.dedup();
        assert_eq!(outcomes.len(), total, "{name}: two choices gave one file");
    }
}

#[test]
fn a_torn_append_keeps_exactly_its_written_sectors() {
    use SectorFate::{New, Old};
    let fs = sim_sector(74, 4);
    durable_dir(&fs, "/d").unwrap();
    durable_file(&fs, "/d/f", b"oooo").unwrap();
    let h = fs.open(p("/d/f"), OpenMode::Existing).unwrap();
    fs.append(&h, b"nnnnNNNNmmmm").unwrap();
    let images = fs.crash_images(CrashModel::Subset, 100).unwrap();
    let with = |sectors: &[SectorFate]| {
        let image = images
            .iter()
            .find(|i| i.choice.ops()[0].fate == OpFate::Torn(sectors.to_vec()))
            .unwrap();
        content(&image.fs, "/d/f").unwrap()
    };
    // The first sector written, the rest not: the file ends after it.
    assert_eq!(with(&[New, Old, Old]), b"oooonnnn");
    // The first two: ends after the second.
    assert_eq!(with(&[New, New, Old]), b"oooonnnnNNNN");
    // Only the last: the file reaches its end, the unwritten sectors
    // before it read as zeros.
    assert_eq!(with(&[Old, Old, New]), b"oooo\0\0\0\0\0\0\0\0mmmm");
    assert_eq!(with(&[Old, New, Old]), b"oooo\0\0\0\0NNNN");
}

#[test]
fn subset_counts_a_rename_across_directories_as_four_outcomes() {
    let fs = sim_sector(75, 512);
    durable_dir(&fs, "/a").unwrap();
    durable_dir(&fs, "/b").unwrap();
    // Three unsynced entries:
    //   create /a/x                   2 outcomes
    //   write 600 bytes at 0 of x     2 sectors (0..512, 512..600): 3^2 = 9
    //   rename /a/x -> /b/x           across directories: 4
    // Subset 2 * 9 * 4 = 72; Prefix 3 + 1 = 4.
    let h = fs.create_new(p("/a/x")).unwrap();
    fs.write_all_at(&h, 0, &[7u8; 600]).unwrap();
    fs.rename(p("/a/x"), p("/b/x")).unwrap();
    assert_eq!(fs.unsynced_ops(), 3);
    assert_eq!(fs.crash_state_count(CrashModel::Subset), 72);
    assert_eq!(fs.crash_images(CrashModel::Subset, 100).unwrap().len(), 72);
    assert_eq!(fs.crash_state_count(CrashModel::Prefix), 4);
    // The file is under /b/x when the rename's new-name half survived (kept
    // or new name only: 2 of 4 rename outcomes, any create, any write):
    // 2 * 9 * 2 = 36. It is under /a/x when the create survived (1 of 2)
    // and the old name was not removed (lost or new name only: 2 of 4):
    // 1 * 9 * 2 = 18.
    let images = fs.crash_images(CrashModel::Subset, 100).unwrap();
    let at_b = images
        .iter()
        .filter(|i| content(&i.fs, "/b/x").is_some())
        .count();
    let at_a = images
        .iter()
        .filter(|i| content(&i.fs, "/a/x").is_some())
        .count();
    assert_eq!((at_b, at_a), (36, 18));
}
