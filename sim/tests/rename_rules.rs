//! The rules `rename` follows on Linux (rename(2)), one row each, checked on
//! SimFs and on the real filesystem (StdFs in a temp dir) so the expected
//! answers are not ours alone.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use crashproof_core::fs::{Fs, StdFs};
use crashproof_sim::{CrashModel, SimConfig, SimFs, SimView};

struct Row {
    name: &'static str,
    dirs: &'static [&'static str],
    files: &'static [&'static str],
    from: &'static str,
    to: &'static str,
    expect: Result<(), ErrorKind>,
    /// Files that exist afterwards (relative to the root).
    after: &'static [&'static str],
}

fn rows() -> Vec<Row> {
    vec![
        Row {
            name: "a file to a new name in another directory",
            dirs: &["x", "y"],
            files: &["x/f"],
            from: "x/f",
            to: "y/g",
            expect: Ok(()),
            after: &["y/g"],
        },
        Row {
            name: "a file over an existing file",
            dirs: &["x"],
            files: &["x/f", "x/g"],
            from: "x/f",
            to: "x/g",
            expect: Ok(()),
            after: &["x/g"],
        },
        Row {
            name: "a file onto itself changes nothing",
            dirs: &["x"],
            files: &["x/f"],
            from: "x/f",
            to: "x/f",
            expect: Ok(()),
            after: &["x/f"],
        },
        Row {
            name: "a directory into another directory",
            dirs: &["x/d", "y"],
            files: &["x/d/f"],
            from: "x/d",
            to: "y/d",
            expect: Ok(()),
            after: &["y/d/f"],
        },
        Row {
            name: "a directory over an empty directory elsewhere",
            dirs: &["x/d", "y/e"],
            files: &["x/d/f"],
            from: "x/d",
            to: "y/e",
            expect: Ok(()),
            after: &["y/e/f"],
        },
        Row {
            name: "a directory into its own subdirectory (EINVAL)",
            dirs: &["x/d/sub"],
            files: &["x/d/f"],
            from: "x/d",
            to: "x/d/sub/d",
            expect: Err(ErrorKind::InvalidInput),
            after: &["x/d/f"],
        },
        Row {
            name: "a directory onto its own parent (ENOTEMPTY)",
            dirs: &["x/d"],
            files: &["x/d/f"],
            from: "x/d",
            to: "x",
            expect: Err(ErrorKind::DirectoryNotEmpty),
            after: &["x/d/f"],
        },
        Row {
            name: "a directory over a non-empty directory elsewhere (ENOTEMPTY)",
            dirs: &["x/d", "y/e"],
            files: &["x/d/f", "y/e/g"],
            from: "x/d",
            to: "y/e",
            expect: Err(ErrorKind::DirectoryNotEmpty),
            after: &["x/d/f", "y/e/g"],
        },
        Row {
            name: "a directory over a file (ENOTDIR)",
            dirs: &["x/d", "y"],
            files: &["y/f"],
            from: "x/d",
            to: "y/f",
            expect: Err(ErrorKind::NotADirectory),
            after: &["y/f"],
        },
        Row {
            name: "a file over a directory (EISDIR)",
            dirs: &["x", "y/d"],
            files: &["x/f"],
            from: "x/f",
            to: "y/d",
            expect: Err(ErrorKind::IsADirectory),
            after: &["x/f"],
        },
        Row {
            name: "a missing source (ENOENT)",
            dirs: &["x"],
            files: &[],
            from: "x/f",
            to: "x/g",
            expect: Err(ErrorKind::NotFound),
            after: &[],
        },
        Row {
            name: "into a missing directory (ENOENT)",
            dirs: &["x"],
            files: &["x/f"],
            from: "x/f",
            to: "y/f",
            expect: Err(ErrorKind::NotFound),
            after: &["x/f"],
        },
    ]
}

/// Runs `row` on `fs` under `root`; returns the rename's result and which
/// of the row's `after` files exist.
fn run(fs: &dyn Fs, root: &Path, row: &Row) -> (Result<(), ErrorKind>, Vec<bool>) {
    let at = |rel: &str| -> PathBuf { root.join(rel) };
    for dir in row.dirs {
        fs.create_dir_all(&at(dir)).unwrap();
    }
    for file in row.files {
        let h = fs.create_new(&at(file)).unwrap();
        fs.write_all_at(&h, 0, file.as_bytes()).unwrap();
        fs.close(h).unwrap();
    }
    let result = fs.rename(&at(row.from), &at(row.to)).map_err(|e| e.kind());
    let exist = row
        .after
        .iter()
        .map(|f| fs.exists(&at(f)).unwrap())
        .collect();
    (result, exist)
}

#[test]
fn rename_follows_linux_on_sim_fs_and_the_real_filesystem() {
    for row in rows() {
        let all_there = vec![true; row.after.len()];
        let tmp = tempfile::TempDir::new().unwrap();
        let real = run(&StdFs::new(), tmp.path(), &row);
        let sim = SimFs::new(SimConfig::with_seed(60));
        let simulated = run(&sim, Path::new("/r"), &row);
        assert_eq!(real, (row.expect, all_there.clone()), "{}: real", row.name);
        assert_eq!(simulated, (row.expect, all_there), "{}: sim", row.name);
        // A failed rename logs nothing; a rename onto itself neither.
        let renamed = row.expect.is_ok() && row.from != row.to;
        let logged = sim.trace().to_string();
        assert_eq!(
            sim.crash_state_count(CrashModel::Prefix),
            unsynced_before(&row) + u64::from(renamed) + 1,
            "{}:\n{logged}",
            row.name
        );
    }
}

/// Unsynced ops before the rename: one link per directory created (each
/// component of each dir path, counted once) and per file, one write per
/// file (its bytes).
fn unsynced_before(row: &Row) -> u64 {
    let mut dirs = std::collections::BTreeSet::new();
    dirs.insert("r".to_string());
    for dir in row.dirs {
        let mut path = "r".to_string();
        for part in dir.split('/') {
            path = format!("{path}/{part}");
            dirs.insert(path.clone());
        }
    }
    // "r" itself is linked too: every directory in the set is one link.
    dirs.len() as u64 + 2 * row.files.len() as u64
}
