//! Every invariant check shown catching a deliberately broken state, and
//! passing the healthy one. Each table row corrupts one thing and names the
//! violation it must produce and a word its message must contain (the
//! inode's path or what differs).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::sync::Arc;

use crashproof_core::fs::Fs;

use super::crash::{self, SectorFate};
use super::invariants::{
    Fingerprint, InvariantViolation, TornWrite, check_crash_image, check_state, check_torn_write,
};
use super::state::{FileNode, Handle, Ino, Node, PendingKind, ROOT, State};
use super::{CrashModel, SimConfig, SimFs};

fn p(s: &str) -> &Path {
    Path::new(s)
}

/// Something unsynced of every kind: `/d/a` synced then appended to
/// (pending write), `/d/b` created and written (pending link and write)
/// then renamed to `/e/b` (pending rename across directories), a held lock.
fn healthy() -> SimFs {
    let fs = SimFs::new(SimConfig::with_seed(7));
    fs.create_dir_all(p("/d")).unwrap();
    fs.create_dir_all(p("/e")).unwrap();
    fs.sync_dir(p("/")).unwrap();
    let a = fs.create_new(p("/d/a")).unwrap();
    fs.write_all_at(&a, 0, b"synced").unwrap();
    fs.sync(&a).unwrap();
    fs.sync_dir(p("/d")).unwrap();
    fs.append(&a, b"+more").unwrap();
    let b = fs.create_new(p("/d/b")).unwrap();
    fs.write_all_at(&b, 0, b"new").unwrap();
    fs.rename(p("/d/b"), p("/e/b")).unwrap();
    // Held on purpose: the lock stays taken in every test state.
    let _lock = fs.try_lock(p("/d/LOCK")).unwrap();
    fs
}

fn ino_of(st: &State, path: &str) -> Ino {
    let comps = super::state::components(p(path)).unwrap();
    st.walk(&comps).unwrap()
}

fn file_mut<'a>(st: &'a mut State, path: &str) -> &'a mut FileNode {
    let ino = ino_of(st, path);
    match st.nodes.get_mut(&ino) {
        Some(Node::File(f)) => f,
        _ => panic!("{path} is not a file"),
    }
}

fn dir_entries_mut<'a>(
    st: &'a mut State,
    path: &str,
    durable: bool,
) -> &'a mut std::collections::BTreeMap<String, Ino> {
    let ino = ino_of(st, path);
    match st.nodes.get_mut(&ino) {
        Some(Node::Dir(d)) => {
            if durable {
                &mut d.durable
            } else {
                &mut d.visible
            }
        }
        _ => panic!("{path} is not a directory"),
    }
}

fn first_pending_seq(st: &State, pred: impl Fn(&PendingKind) -> bool) -> u64 {
    *st.pending.iter().find(|(_, p)| pred(&p.kind)).unwrap().0
}

/// The violation's kind, as a word, for the table.
fn kind(v: &InvariantViolation) -> &'static str {
    match v {
        InvariantViolation::FileReplay { .. } => "FileReplay",
        InvariantViolation::DirReplay { .. } => "DirReplay",
        InvariantViolation::MissingInode { .. } => "MissingInode",
        InvariantViolation::WrongKind { .. } => "WrongKind",
        InvariantViolation::Bookkeeping { .. } => "Bookkeeping",
        InvariantViolation::CrashImage { .. } => "CrashImage",
        InvariantViolation::TornWrite { .. } => "TornWrite",
        InvariantViolation::SourceChanged { .. } => "SourceChanged",
    }
}

/// Runs `check` on the corrupted state and compares with `expect`:
/// `None` for "holds", or the violation's kind and a needle of its message.
fn check(name: &str, result: Result<(), InvariantViolation>, expect: Expect) {
    match (result, expect) {
        (Ok(()), None) => {}
        (Err(v), Some((want_kind, needle))) => {
            assert_eq!(kind(&v), want_kind, "{name}: {v}");
            let text = v.to_string();
            assert!(text.contains(needle), "{name}: `{needle}` not in: {text}");
            assert!(text.contains("a bug in crashproof-sim"), "{name}: {text}");
        }
        (Ok(()), Some(want)) => panic!("{name}: the check passed, expected {want:?}"),
        (Err(v), None) => panic!("{name}: expected to hold, got: {v}"),
    }
}

type Corruption = fn(&mut State);
/// What a row expects: `None` holds, else the violation's kind and a needle.
type Expect = Option<(&'static str, &'static str)>;
/// A torn-write row: name, write, bytes before, bytes after, expectation.
type TornRow<'a> = (&'a str, TornWrite<'a>, &'a [u8], &'a [u8], Expect);

#[test]
fn the_state_checks_catch_each_corruption() {
    let rows: Vec<(&str, Corruption, Expect)> = vec![
        ("healthy", |_| {}, None),
        (
            "visible bytes changed without logging",
            |st| Arc::make_mut(&mut file_mut(st, "/d/a").visible).push(b'!'),
            Some(("FileReplay", "/d/a")),
        ),
        (
            "an unsynced write dropped without marking the file diverged",
            |st| {
                let seq = first_pending_seq(st, |k| matches!(k, PendingKind::Write { .. }));
                st.pending.remove(&seq);
            },
            Some(("FileReplay", "/d/a")),
        ),
        (
            "the same on a diverged file is allowed (a failed sync does it)",
            |st| {
                let seq = first_pending_seq(st, |k| matches!(k, PendingKind::Write { .. }));
                st.pending.remove(&seq);
                file_mut(st, "/d/a").diverged = true;
            },
            None,
        ),
        (
            "a synced file whose durable bytes differ from visible",
            |st| {
                let f = file_mut(st, "/d/LOCK");
                f.durable = Arc::new(b"x".to_vec());
            },
            Some(("FileReplay", "/d/LOCK")),
        ),
        (
            "a visible entry added without logging",
            |st| {
                let ino = ino_of(st, "/d/a");
                dir_entries_mut(st, "/d", false).insert("ghost".to_string(), ino);
            },
            Some(("DirReplay", "`ghost`")),
        ),
        (
            "a rename dropped from the log",
            |st| {
                let seq = first_pending_seq(st, |k| matches!(k, PendingKind::Rename { .. }));
                st.pending.remove(&seq);
            },
            Some(("DirReplay", "/d")),
        ),
        (
            "a durable entry naming a missing inode",
            |st| {
                dir_entries_mut(st, "/e", true).insert("x".to_string(), 999);
            },
            Some(("MissingInode", "durable entry `x`")),
        ),
        (
            "a handle to a missing inode",
            |st| {
                st.handles
                    .values_mut()
                    .filter(|h| !h.locked)
                    .for_each(|h| h.ino = 999)
            },
            Some(("MissingInode", "handle")),
        ),
        (
            "a handle to a directory",
            |st| {
                st.handles.insert(
                    99,
                    Handle {
                        ino: ROOT,
                        path: "/".into(),
                        locked: false,
                    },
                );
            },
            Some(("WrongKind", "handle 99")),
        ),
        (
            "an unsynced op on a missing directory",
            |st| {
                for p in st.pending.values_mut() {
                    if let PendingKind::Link { dir, .. } = &mut p.kind {
                        *dir = 999;
                    }
                }
            },
            Some(("MissingInode", "unsynced op")),
        ),
        (
            "an unsynced write to a directory",
            |st| {
                for p in st.pending.values_mut() {
                    if let PendingKind::Write { ino, .. } = &mut p.kind {
                        *ino = ROOT;
                    }
                }
            },
            Some(("WrongKind", "write /d/a")),
        ),
        (
            "an unsynced link naming a missing inode",
            |st| {
                for p in st.pending.values_mut() {
                    if let PendingKind::Link { ino, .. } = &mut p.kind {
                        *ino = 999;
                    }
                }
            },
            Some(("MissingInode", "create /d/b")),
        ),
        (
            "a lock no handle holds",
            |st| {
                let ino = ino_of(st, "/d/a");
                st.locked.insert(ino);
            },
            Some(("Bookkeeping", "locked")),
        ),
        (
            "a locked handle the lock set does not know",
            |st| st.locked.clear(),
            Some(("Bookkeeping", "locked")),
        ),
        (
            "the inode counter behind an inode",
            |st| st.next_ino = 2,
            Some(("Bookkeeping", "next inode")),
        ),
        (
            "the sequence counter behind an op",
            |st| st.next_seq = 0,
            Some(("Bookkeeping", "sequence")),
        ),
        (
            "an op issued by a step that has not run",
            |st| st.pending.values_mut().for_each(|p| p.step = 1_000),
            Some(("Bookkeeping", "step 1000")),
        ),
        (
            "the root is a file",
            |st| {
                st.nodes.insert(ROOT, Node::File(FileNode::empty()));
            },
            Some(("WrongKind", "the root")),
        ),
    ];
    for (name, corrupt, expect) in rows {
        let fs = healthy();
        let mut st = fs.lock();
        corrupt(&mut st);
        check(name, check_state(&st), expect);
    }
}

#[test]
fn the_crash_image_checks_catch_each_corruption() {
    let rows: Vec<(&str, Corruption, Expect)> = vec![
        ("healthy", |_| {}, None),
        (
            "an unsynced op left",
            |st| {
                st.steps = 1;
                st.next_seq = 1;
                st.log(
                    "unlink /d/a".to_string(),
                    PendingKind::Unlink {
                        dir: ROOT,
                        name: "zzz".to_string(),
                    },
                );
            },
            Some(("CrashImage", "unlink /d/a")),
        ),
        (
            "an open handle left",
            |st| {
                let ino = ino_of(st, "/d/a");
                st.handles.insert(
                    1,
                    Handle {
                        ino,
                        path: "/d/a".into(),
                        locked: false,
                    },
                );
            },
            Some(("CrashImage", "handle")),
        ),
        (
            "a step counter not at 0",
            |st| st.steps = 3,
            Some(("CrashImage", "step counter 3")),
        ),
        (
            "already crashed",
            |st| st.crashed = true,
            Some(("CrashImage", "crashed")),
        ),
        (
            "a file whose visible bytes differ from durable",
            |st| file_mut(st, "/d/a").visible = Arc::new(b"other".to_vec()),
            Some(("CrashImage", "/d/a")),
        ),
        (
            "a diverged file",
            |st| file_mut(st, "/d/a").diverged = true,
            Some(("CrashImage", "/d/a")),
        ),
        (
            "a directory whose visible entries differ from durable",
            |st| {
                dir_entries_mut(st, "/d", false).remove("a");
            },
            Some(("CrashImage", "/d")),
        ),
        (
            "an unreachable inode kept",
            |st| {
                st.nodes.insert(50, Node::File(FileNode::empty()));
                st.next_ino = 51;
            },
            Some(("CrashImage", "inode 50")),
        ),
        (
            "a directory under two names",
            |st| {
                let d = ino_of(st, "/d");
                let root = dir_entries_mut(st, "/", false);
                root.insert("d2".to_string(), d);
                let root = dir_entries_mut(st, "/", true);
                root.insert("d2".to_string(), d);
            },
            Some(("CrashImage", "second name")),
        ),
    ];
    let fs = healthy();
    for (name, corrupt, expect) in rows {
        let (_, mut image) = crash::pick(&fs.lock(), CrashModel::Prefix, 3);
        corrupt(&mut image);
        check(name, check_crash_image(&image), expect);
    }
}

/// Sector size 4, old bytes `oooooooo`, write `nnnnnnnn` at 2: sectors
/// 0 (bytes 2..4), 1 (4..8), 2 (8..10).
fn torn_in_place(sectors: &[SectorFate]) -> TornWrite<'_> {
    TornWrite {
        label: "write /f @2+8",
        offset: 2,
        data: b"nnnnnnnn",
        sectors,
        sector_size_bytes: 4,
    }
}

#[test]
fn the_torn_write_check_catches_each_broken_rule() {
    use SectorFate::{Garbage, New, Old};
    let old = b"oooooooo".as_slice();
    let rows: Vec<TornRow<'_>> = vec![
        (
            "new, old, garbage past the old end",
            torn_in_place(&[New, Old, Garbage]),
            old,
            b"oonnooooxy",
            None,
        ),
        (
            "garbage equal to the new byte",
            torn_in_place(&[New, Old, Garbage]),
            old,
            b"oonnoooonn",
            Some(("TornWrite", "byte 8")),
        ),
        (
            "garbage past the old end equal to the old byte (zero)",
            torn_in_place(&[New, Old, Garbage]),
            old,
            b"oonnoooo\0y",
            Some(("TornWrite", "byte 8")),
        ),
        (
            "an old sector overwritten",
            torn_in_place(&[New, Old, Garbage]),
            old,
            b"oonnnoooxy",
            Some(("TornWrite", "byte 4")),
        ),
        (
            "a byte before the write changed",
            torn_in_place(&[New, Old, Garbage]),
            old,
            b"Xonnooooxy",
            Some(("TornWrite", "byte 0")),
        ),
        (
            "the file grown past its last written sector",
            torn_in_place(&[New, Garbage, Old]),
            old,
            b"oonnxxxxoo",
            Some(("TornWrite", "expected 8")),
        ),
        (
            "the file shrunk",
            torn_in_place(&[New, Garbage, Old]),
            old,
            b"oonnxxx",
            Some(("TornWrite", "expected 8")),
        ),
        (
            "a torn append ending at its first sector",
            TornWrite {
                label: "append /f @4+8",
                offset: 4,
                data: b"nnnnnnnn",
                sectors: &[New, Old],
                sector_size_bytes: 4,
            },
            b"oooo",
            b"oooonnnn",
            None,
        ),
        (
            "a torn append zero-filled to the end of the write (the old rule)",
            TornWrite {
                label: "append /f @4+8",
                offset: 4,
                data: b"nnnnnnnn",
                sectors: &[New, Old],
                sector_size_bytes: 4,
            },
            b"oooo",
            b"oooonnnn\0\0\0\0",
            Some(("TornWrite", "expected 8")),
        ),
        (
            "a hole left by an old sector before a written one reads as zeros",
            TornWrite {
                label: "append /f @4+8",
                offset: 4,
                data: b"nnnnnnnn",
                sectors: &[Old, New],
                sector_size_bytes: 4,
            },
            b"oooo",
            b"oooo\0\0\0\0nnnn",
            None,
        ),
        (
            "one fate too few",
            torn_in_place(&[New, Old]),
            old,
            b"oonnoooo",
            Some(("TornWrite", "2 sector fates")),
        ),
    ];
    for (name, write, before, after, expect) in rows {
        check(name, check_torn_write(&write, before, after), expect);
    }
}

#[test]
fn the_source_check_catches_a_changed_running_fs() {
    let fs = healthy();
    let mut st = fs.lock();
    let fingerprint = Fingerprint::of(&st);
    check("unchanged", fingerprint.check_unchanged(&st), None);
    st.pending.clear();
    check(
        "log cleared",
        fingerprint.check_unchanged(&st),
        Some(("SourceChanged", "pending")),
    );
}

/// Debug builds (these tests) assert the state after every step: a
/// corruption slipped in between two steps stops the next one.
#[test]
fn a_step_after_a_corruption_stops_with_the_violation() {
    let fs = healthy();
    Arc::make_mut(&mut file_mut(&mut fs.lock(), "/d/a").visible).push(b'!');
    let panic = std::panic::catch_unwind(|| fs.read(p("/d/a"))).unwrap_err();
    let text = panic.downcast_ref::<String>().unwrap();
    assert!(
        text.contains("file inode") && text.contains("/d/a"),
        "{text}"
    );
}

/// Where an operation can return an error, an inode that "cannot be
/// missing" is a typed error; where it cannot (a read-only walk, building an
/// image), an assertion naming the inode. Never a silent skip.
#[test]
fn a_missing_inode_is_an_error_or_an_assertion_never_skipped() {
    let fs = healthy();
    let payload = |e: std::io::Error| {
        e.get_ref()
            .and_then(|inner| inner.downcast_ref::<InvariantViolation>())
            .cloned()
            .unwrap()
    };
    {
        let mut st = fs.lock();
        let err = st.sync_file(999).unwrap_err();
        assert!(matches!(
            payload(err),
            InvariantViolation::MissingInode { ino: 999, .. }
        ));
        let d = ino_of(&st, "/d");
        dir_entries_mut(&mut st, "/", false).insert("lost".to_string(), 998);
        let err = st.open(p("/lost/x"), crashproof_core::fs::OpenMode::CreateNew);
        assert!(matches!(
            payload(err.unwrap_err()),
            InvariantViolation::MissingInode { ino: 998, .. }
        ));
        dir_entries_mut(&mut st, "/", false).remove("lost");
        st.nodes.remove(&d);
    }
    // /d is gone but still named by `/`: listing files stops, naming it.
    let panic = std::panic::catch_unwind(|| fs.lock().files()).unwrap_err();
    let text = panic.downcast_ref::<String>().unwrap();
    assert!(text.contains("inode") && text.contains("/d"), "{text}");
    // Building an image over a durable entry to it stops too.
    let panic = std::panic::catch_unwind(|| crash::pick(&fs.lock(), CrashModel::DropUnsynced, 0).0)
        .unwrap_err();
    let text = panic.downcast_ref::<String>().unwrap();
    assert!(text.contains("does not exist"), "{text}");
}
