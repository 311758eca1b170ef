//! Properties of crash images over random operation sequences: the op log
//! replays to exactly the visible state, and syncing everything leaves
//! nothing for a crash to take.

use std::path::{Path, PathBuf};

use crashproof_core::fs::{FileHandle, Fs};
use crashproof_sim::SimView;
use crashproof_sim::{CrashModel, SimConfig, SimFs};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Mkdir(Vec<&'static str>),
    CreateNew(Vec<&'static str>),
    OpenTruncate(Vec<&'static str>),
    Write(usize, u64, Vec<u8>),
    Append(usize, Vec<u8>),
    Sync(usize),
    Close(usize),
    SyncDir(Vec<&'static str>),
    Rename(Vec<&'static str>, Vec<&'static str>),
    Remove(Vec<&'static str>),
}

fn path() -> impl Strategy<Value = Vec<&'static str>> {
    prop::collection::vec(prop::sample::select(vec!["a", "b"]), 1..=2)
}

fn op() -> impl Strategy<Value = Op> {
    let data = prop::collection::vec(any::<u8>(), 1..10);
    prop_oneof![
        2 => path().prop_map(Op::Mkdir),
        4 => path().prop_map(Op::CreateNew),
        2 => path().prop_map(Op::OpenTruncate),
        3 => (any::<usize>(), 0u64..16, data.clone()).prop_map(|(h, o, d)| Op::Write(h, o, d)),
        2 => (any::<usize>(), data).prop_map(|(h, d)| Op::Append(h, d)),
        2 => any::<usize>().prop_map(Op::Sync),
        1 => any::<usize>().prop_map(Op::Close),
        2 => prop::collection::vec(prop::sample::select(vec!["a", "b"]), 0..=1).prop_map(Op::SyncDir),
        4 => (path(), path()).prop_map(|(a, b)| Op::Rename(a, b)),
        2 => path().prop_map(Op::Remove),
    ]
}

fn at(c: &[&str]) -> PathBuf {
    let mut p = PathBuf::from("/");
    p.extend(c);
    p
}

/// Applies `ops`, ignoring errors (they are part of the sequence).
fn run(fs: &SimFs, ops: &[Op]) -> Vec<FileHandle> {
    let mut handles: Vec<FileHandle> = Vec::new();
    let slot = |i: usize, n: usize| (n > 0).then(|| i % n);
    for op in ops {
        match op {
            Op::Mkdir(p) => drop(fs.create_dir_all(&at(p))),
            Op::CreateNew(p) => handles.extend(fs.create_new(&at(p)).ok()),
            Op::OpenTruncate(p) => handles.extend(fs.open_truncate(&at(p)).ok()),
            Op::Write(i, o, d) => {
                if let Some(i) = slot(*i, handles.len()) {
                    drop(fs.write_all_at(&handles[i], *o, d));
                }
            }
            Op::Append(i, d) => {
                if let Some(i) = slot(*i, handles.len()) {
                    drop(fs.append(&handles[i], d));
                }
            }
            Op::Sync(i) => {
                if let Some(i) = slot(*i, handles.len()) {
                    drop(fs.sync(&handles[i]));
                }
            }
            Op::Close(i) => {
                if let Some(i) = slot(*i, handles.len()) {
                    drop(fs.close(handles.remove(i)));
                }
            }
            Op::SyncDir(p) => drop(fs.sync_dir(&at(p))),
            Op::Rename(a, b) => drop(fs.rename(&at(a), &at(b))),
            Op::Remove(p) => drop(fs.remove_file(&at(p))),
        }
    }
    handles
}

/// Every directory in the visible tree.
fn dirs(fs: &SimFs, dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    out.push(dir.to_path_buf());
    for e in fs.read_dir(dir)? {
        if e.is_dir {
            dirs(fs, &dir.join(&e.name), out)?;
        }
    }
    Ok(())
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(48)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn the_op_log_replays_to_the_visible_state(
        ops in prop::collection::vec(op(), 1..40),
        seed in any::<u64>(),
    ) {
        let fs = SimFs::new(SimConfig { sector_size_bytes: 4, ..SimConfig::with_seed(seed) });
        let handles = run(&fs, &ops);
        let visible = fs.files();
        let drop_all = fs.crash_image(CrashModel::DropUnsynced, seed).fs.files();
        let prefix = fs.crash_images(CrashModel::Prefix, 1000).unwrap();
        prop_assert_eq!(prefix.len(), fs.unsynced_ops() + 1);
        // Nothing kept is the strict image; everything kept is what readers see.
        prop_assert_eq!(&prefix[0].fs.files(), &drop_all);
        prop_assert_eq!(&prefix[prefix.len() - 1].fs.files(), &visible);
        let count = fs.crash_state_count(CrashModel::Subset);
        if count <= 2000 {
            let subset = fs.crash_images(CrashModel::Subset, 2000).unwrap();
            prop_assert_eq!(subset.len() as u64, count);
            prop_assert_eq!(&subset[0].fs.files(), &drop_all);
            let all_kept = subset.iter().find(|i| i.choice.kept() == fs.unsynced_ops()).unwrap();
            prop_assert_eq!(&all_kept.fs.files(), &visible);
        }
        // Sync every visible file and every directory: no model loses
        // anything a reader can see (what is left unsynced belongs to
        // unlinked files, unreachable after any crash).
        for path in visible.keys() {
            let h = fs.open(path, crashproof_core::fs::OpenMode::Existing).unwrap();
            fs.sync(&h).unwrap();
            fs.close(h).unwrap();
        }
        let mut all = Vec::new();
        dirs(&fs, Path::new("/"), &mut all).unwrap();
        for d in &all {
            fs.sync_dir(d).unwrap();
        }
        for model in CrashModel::ALL {
            for pick in 0..8 {
                let image = fs.crash_image(model, seed ^ pick).fs;
                prop_assert_eq!(image.files(), fs.files(), "{}", model);
            }
        }
        for h in handles {
            fs.close(h).unwrap();
        }
    }
}
