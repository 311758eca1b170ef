//! Every invariant check shown catching a deliberately broken state, and
//! passing the healthy one. Each table row corrupts one thing and names the
//! violation it must produce and a word its message must contain (the
//! inode's path or what differs).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::sync::Arc;

use crashproof_core::fs::{Fs, FsOp};

use super::crash::{self, SectorFate};
use super::invariants::{
    Fingerprint, InvariantViolation, TornWrite, check_crash_image, check_state, check_torn_write,
};
use super::state::{FileNode, Handle, Ino, Node, PendingKind, ROOT, State};
use super::{CrashModel, SimConfig, SimFs, StepAction, StepInfo, StepOutcome, TraceEntry};

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
        InvariantViolation::DirNamedTwice { .. } => "DirNamedTwice",
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
        (Err(v), Some((want_kind, needles))) => {
            assert_eq!(kind(&v), want_kind, "{name}: {v}");
            let text = v.to_string();
            if std::env::var_os("SHOW_VIOLATIONS").is_some() {
                println!("{name}: {text}");
            }
            for needle in needles {
                assert!(text.contains(needle), "{name}: `{needle}` not in: {text}");
            }
            assert!(text.contains("a bug in crashproof-sim"), "{name}: {text}");
        }
        (Ok(()), Some(want)) => panic!("{name}: the check passed, expected {want:?}"),
        (Err(v), None) => panic!("{name}: expected to hold, got: {v}"),
    }
}

type Corruption = fn(&mut State);
/// What a row expects: `None` holds, else the violation's kind and words
/// its message must contain.
type Expect = Option<(&'static str, &'static [&'static str])>;
/// A torn-write row: name, write, bytes before, bytes after, expectation.
type TornRow<'a> = (&'a str, TornWrite<'a>, &'a [u8], &'a [u8], Expect);

#[test]
fn the_state_checks_catch_each_corruption() {
    let rows: Vec<(&str, Corruption, Expect)> = vec![
        ("healthy", |_| {}, None),
        (
            "visible bytes changed without logging",
            |st| Arc::make_mut(&mut file_mut(st, "/d/a").visible).push(b'!'),
            Some((
                "FileReplay",
                &[
                    "file inode 4 (/d/a)",
                    "1 unsynced data op",
                    "replayed 11 bytes, visible 12 bytes, first difference at byte 11",
                ],
            )),
        ),
        (
            "an unsynced write dropped without marking the file diverged",
            |st| {
                let seq = first_pending_seq(st, |k| matches!(k, PendingKind::Write { .. }));
                st.pending.remove(&seq);
            },
            Some((
                "FileReplay",
                &[
                    "(/d/a)",
                    "0 unsynced data op",
                    "replayed 6 bytes, visible 11 bytes, first difference at byte 6",
                ],
            )),
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
            Some((
                "FileReplay",
                &[
                    "(/d/LOCK)",
                    "replayed 1 bytes, visible 0 bytes, first difference at byte 0",
                ],
            )),
        ),
        (
            "a visible entry added without logging",
            |st| {
                let ino = ino_of(st, "/d/a");
                dir_entries_mut(st, "/d", false).insert("ghost".to_string(), ino);
            },
            Some((
                "DirReplay",
                &[
                    "directory inode 2 (/d)",
                    "3 unsynced directory op",
                    "name `ghost`: replayed no entry, visible inode 4",
                ],
            )),
        ),
        (
            "a visible entry added to the root without logging",
            |st| {
                let ino = ino_of(st, "/d/a");
                dir_entries_mut(st, "/", false).insert("ghost".to_string(), ino);
            },
            Some(("DirReplay", &["directory inode 1 (/)"])),
        ),
        (
            "a rename dropped from the log",
            |st| {
                let seq = first_pending_seq(st, |k| matches!(k, PendingKind::Rename { .. }));
                st.pending.remove(&seq);
            },
            Some((
                "DirReplay",
                &[
                    "(/d)",
                    "2 unsynced directory op",
                    "name `b`: replayed inode 5, visible no entry",
                ],
            )),
        ),
        (
            "a directory given a second visible name (a hard link to a directory)",
            |st| {
                let ino = ino_of(st, "/e");
                dir_entries_mut(st, "/d", false).insert("alias".to_string(), ino);
            },
            Some((
                "DirNamedTwice",
                &["directory inode 3 is named", "`alias` in directory inode 2"],
            )),
        ),
        (
            "the root given a visible name",
            |st| {
                dir_entries_mut(st, "/d", false).insert("up".to_string(), ROOT);
            },
            Some(("DirNamedTwice", &["directory inode 1", "`/`", "`up`"])),
        ),
        (
            "a file with two visible names is allowed (a hard link)",
            |st| {
                let ino = ino_of(st, "/d/a");
                dir_entries_mut(st, "/e", false).insert("a2".to_string(), ino);
                dir_entries_mut(st, "/e", true).insert("a2".to_string(), ino);
            },
            None,
        ),
        (
            "a durable entry naming a missing inode",
            |st| {
                dir_entries_mut(st, "/e", true).insert("x".to_string(), 999);
            },
            Some((
                "MissingInode",
                &[
                    "inode 999",
                    "the durable entry `x` of directory inode 3 (/e)",
                ],
            )),
        ),
        (
            "a handle to a missing inode",
            |st| {
                st.handles
                    .values_mut()
                    .filter(|h| !h.locked)
                    .for_each(|h| h.ino = 999)
            },
            Some(("MissingInode", &["inode 999", "handle 1 (opened as /d/a)"])),
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
                        writable: true,
                    },
                );
            },
            Some((
                "WrongKind",
                &["inode 1", "handle 99 (opened as /)", "is not a file"],
            )),
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
            Some((
                "MissingInode",
                &["inode 999", "unsynced op #5 `create /d/b`"],
            )),
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
            Some((
                "WrongKind",
                &[
                    "inode 1",
                    "unsynced op #4 `write /d/a @6+5`",
                    "is not a file",
                ],
            )),
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
            Some(("MissingInode", &["inode 999", "`create /d/b`"])),
        ),
        (
            "a lock no handle holds",
            |st| {
                let ino = ino_of(st, "/d/a");
                st.locked.insert(ino);
            },
            Some((
                "Bookkeeping",
                &["locked inodes {4, 6}", "the locked handles {6}"],
            )),
        ),
        (
            "a locked handle the lock set does not know",
            |st| st.locked.clear(),
            Some((
                "Bookkeeping",
                &["locked inodes {}", "the locked handles {6}"],
            )),
        ),
        (
            "two handles holding one lock",
            |st| {
                let ino = ino_of(st, "/d/LOCK");
                st.handles.insert(
                    98,
                    Handle {
                        ino,
                        path: "/d/LOCK".into(),
                        locked: true,
                        writable: true,
                    },
                );
            },
            Some((
                "Bookkeeping",
                &["handle 98 holds the lock on inode 6 (/d/LOCK)"],
            )),
        ),
        (
            "the inode counter behind an inode",
            |st| st.next_ino = 2,
            Some((
                "Bookkeeping",
                &["inode 6 exists but the next inode to allocate is 2"],
            )),
        ),
        (
            "the inode counter at the last inode",
            |st| st.next_ino = 6,
            Some((
                "Bookkeeping",
                &["inode 6 exists but the next inode to allocate is 6"],
            )),
        ),
        (
            "the inode counter just past the last inode",
            |st| st.next_ino = 7,
            None,
        ),
        (
            "the sequence counter behind an op",
            |st| st.next_seq = 0,
            Some((
                "Bookkeeping",
                &["#4 `write /d/a @6+5` is not below the next sequence number 0"],
            )),
        ),
        (
            "the sequence counter at the last op",
            |st| st.next_seq = *st.pending.keys().next_back().unwrap(),
            Some(("Bookkeeping", &["is not below the next sequence number 8"])),
        ),
        (
            "an op issued by a step that has not run",
            |st| st.pending.values_mut().for_each(|p| p.step = 1_000),
            Some((
                "Bookkeeping",
                &["`write /d/a @6+5` was issued by step 1000, but only 12 step(s) ran"],
            )),
        ),
        (
            "an op issued by the step about to run",
            |st| {
                let steps = st.steps;
                st.pending.values_mut().for_each(|p| p.step = steps);
            },
            Some((
                "Bookkeeping",
                &["issued by step 12, but only 12 step(s) ran"],
            )),
        ),
        (
            "an op issued by the last step that ran",
            |st| {
                let steps = st.steps;
                st.pending.values_mut().for_each(|p| p.step = steps - 1);
            },
            None,
        ),
        (
            "the root is a file",
            |st| {
                st.nodes.insert(ROOT, Node::File(FileNode::empty()));
            },
            Some((
                "WrongKind",
                &["inode 1, named by the root, is not a directory"],
            )),
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
            Some((
                "CrashImage",
                &["1 unsynced op(s) left, the first `unlink /d/a`"],
            )),
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
                        writable: true,
                    },
                );
            },
            Some(("CrashImage", &["1 open handle(s) and 0 lock(s) survived"])),
        ),
        (
            "a lock left",
            |st| {
                st.locked.insert(ROOT);
            },
            Some(("CrashImage", &["0 open handle(s) and 1 lock(s) survived"])),
        ),
        (
            "a step counter not at 0",
            |st| st.steps = 3,
            Some((
                "CrashImage",
                &["step counter 3, sequence counter 0, 0 trace entries"],
            )),
        ),
        (
            "a sequence counter not at 0",
            |st| st.next_seq = 2,
            Some((
                "CrashImage",
                &["step counter 0, sequence counter 2, 0 trace entries"],
            )),
        ),
        (
            "a trace entry",
            |st| {
                st.trace.push(TraceEntry {
                    step: StepInfo {
                        index: 0,
                        op: FsOp::Read,
                        path: "/d/a".into(),
                        to: None,
                        len_bytes: None,
                        failpoint: None,
                    },
                    detail: String::new(),
                    outcome: StepOutcome::Ok(String::new()),
                    faults: Vec::new(),
                })
            },
            Some((
                "CrashImage",
                &["step counter 0, sequence counter 0, 1 trace entries"],
            )),
        ),
        (
            "already crashed",
            |st| st.crashed = true,
            Some((
                "CrashImage",
                &["is crashed, has a step hook or pending step faults"],
            )),
        ),
        (
            "a step hook",
            |st| st.hook.set(Some(Box::new(|_, _| StepAction::Continue))),
            Some(("CrashImage", &["has a step hook"])),
        ),
        (
            "a fault waiting for its step",
            |st| st.step_faults.push("EIO".to_string()),
            Some(("CrashImage", &["pending step faults"])),
        ),
        (
            "a file whose visible bytes differ from durable",
            |st| file_mut(st, "/d/a").visible = Arc::new(b"other".to_vec()),
            Some(("CrashImage", &["inode 4 (/d/a): visible state differs"])),
        ),
        (
            "a diverged file",
            |st| file_mut(st, "/d/a").diverged = true,
            Some(("CrashImage", &["inode 4 (/d/a): visible state differs"])),
        ),
        (
            "a directory whose visible entries differ from durable",
            |st| {
                dir_entries_mut(st, "/d", false).remove("a");
            },
            Some(("CrashImage", &["inode 2 (/d): visible state differs"])),
        ),
        (
            "an unreachable inode kept",
            |st| {
                st.nodes.insert(50, Node::File(FileNode::empty()));
                st.next_ino = 51;
            },
            Some(("CrashImage", &["inode 50 is kept but not reachable from /"])),
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
            Some((
                "CrashImage",
                &["directory inode 2 has a second name `d2` in directory inode 1"],
            )),
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
            Some((
                "TornWrite",
                &["`write /f @2+8`: byte 8 is 0x6e (old 0x00); its sector's fate is Garbage"],
            )),
        ),
        (
            "garbage past the old end equal to the old byte (zero)",
            torn_in_place(&[New, Old, Garbage]),
            old,
            b"oonnoooo\0y",
            Some((
                "TornWrite",
                &["byte 8 is 0x00 (old 0x00); its sector's fate is Garbage"],
            )),
        ),
        (
            "an old sector overwritten",
            torn_in_place(&[New, Old, Garbage]),
            old,
            b"oonnnoooxy",
            Some((
                "TornWrite",
                &["byte 4 is 0x6e (old 0x6f); its sector's fate is Old"],
            )),
        ),
        (
            "a byte before the write changed",
            torn_in_place(&[New, Old, Garbage]),
            old,
            b"Xonnooooxy",
            Some((
                "TornWrite",
                &["byte 0 is 0x58 (old 0x6f); its sector's fate is outside the write"],
            )),
        ),
        (
            "the file grown past its last written sector",
            torn_in_place(&[New, Garbage, Old]),
            old,
            b"oonnxxxxoo",
            Some((
                "TornWrite",
                &["the file is 10 bytes, expected 8 (it was 8 bytes"],
            )),
        ),
        (
            "the file shrunk",
            torn_in_place(&[New, Garbage, Old]),
            old,
            b"oonnxxx",
            Some(("TornWrite", &["the file is 7 bytes, expected 8"])),
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
            Some((
                "TornWrite",
                &["the file is 12 bytes, expected 8 (it was 4 bytes"],
            )),
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
            "a write ending mid-sector inside a longer file",
            TornWrite {
                label: "write /f @2+3",
                offset: 2,
                data: b"nnn",
                sectors: &[Old, New],
                sector_size_bytes: 4,
            },
            b"oooooooooooo",
            b"oooonooooooo",
            None,
        ),
        (
            "a byte just past the write changed",
            TornWrite {
                label: "write /f @2+3",
                offset: 2,
                data: b"nnn",
                sectors: &[Old, New],
                sector_size_bytes: 4,
            },
            b"oooooooooooo",
            b"oooonXoooooo",
            Some((
                "TornWrite",
                &["byte 5 is 0x58 (old 0x6f); its sector's fate is outside the write"],
            )),
        ),
        (
            "one fate too few",
            torn_in_place(&[New, Old]),
            old,
            b"oonnoooo",
            Some((
                "TornWrite",
                &["2 sector fates for a write touching 3 sectors"],
            )),
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
        Some((
            "SourceChanged",
            &["pending: [4, 5, 6, 7, 8]", "pending: []"],
        )),
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

#[test]
fn check_invariants_reports_a_corruption_in_any_build() {
    let fs = healthy();
    assert_eq!(fs.check_invariants(), Ok(()));
    file_mut(&mut fs.lock(), "/d/a").durable = Arc::new(b"bitrot".to_vec());
    let violation = fs.check_invariants().unwrap_err();
    assert!(
        matches!(&violation, InvariantViolation::FileReplay { path, .. } if path == "/d/a"),
        "{violation}"
    );
}
