//! Differential test: without crashes, SimFs behaves like the real
//! filesystem (StdFs in a temp dir) — same Ok values, same error kinds.

use std::io;
use std::path::{Path, PathBuf};

use crashproof_core::fs::{DirEntry, FileHandle, Fs, Metadata, StdFs};
use crashproof_sim::SimView;
use crashproof_sim::{SimConfig, SimFs};
use proptest::prelude::*;

/// A path under the common root, as components (empty: the root itself).
#[derive(Debug, Clone)]
struct P(Vec<&'static str>);

impl P {
    fn under(&self, root: &Path) -> PathBuf {
        let mut p = root.to_path_buf();
        p.extend(&self.0);
        p
    }
}

#[derive(Debug, Clone)]
enum Op {
    CreateDirAll(P),
    CreateNew(P),
    OpenTruncate(P),
    OpenExisting(P),
    OpenCreate(P),
    OpenRead(P),
    TryLock(P),
    CreateDir(P),
    RemoveDir(P),
    HardLink(P, P),
    SetLen(usize, u64),
    ReadAt(usize, u64, usize),
    FileMetadata(usize),
    SyncData(usize),
    WriteAt(usize, u64, Vec<u8>),
    Append(usize, Vec<u8>),
    Sync(usize),
    Close(usize),
    SyncDir(P),
    Rename(P, P),
    RemoveFile(P),
    Read(P),
    ReadDir(P),
    Metadata(P),
    Exists(P),
}

fn name() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec!["a", "b", "c"])
}

/// Paths of depth 1..=3 over three names, so collisions are frequent.
fn path() -> impl Strategy<Value = P> {
    prop::collection::vec(name(), 1..=3).prop_map(P)
}

/// Like `path`, but may also be the root.
fn path_or_root() -> impl Strategy<Value = P> {
    prop::collection::vec(name(), 0..=3).prop_map(P)
}

fn bytes() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..24)
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => path().prop_map(Op::CreateDirAll),
        3 => path().prop_map(Op::CreateNew),
        2 => path().prop_map(Op::OpenTruncate),
        2 => path().prop_map(Op::OpenExisting),
        2 => path().prop_map(Op::OpenCreate),
        2 => path().prop_map(Op::OpenRead),
        1 => path().prop_map(Op::TryLock),
        2 => path().prop_map(Op::CreateDir),
        2 => path().prop_map(Op::RemoveDir),
        2 => (path(), path()).prop_map(|(a, b)| Op::HardLink(a, b)),
        2 => (any::<usize>(), 0u64..48).prop_map(|(h, n)| Op::SetLen(h, n)),
        3 => (any::<usize>(), 0u64..48, 0usize..32).prop_map(|(h, o, n)| Op::ReadAt(h, o, n)),
        1 => any::<usize>().prop_map(Op::FileMetadata),
        1 => any::<usize>().prop_map(Op::SyncData),
        4 => (any::<usize>(), 0u64..48, bytes()).prop_map(|(h, o, b)| Op::WriteAt(h, o, b)),
        3 => (any::<usize>(), bytes()).prop_map(|(h, b)| Op::Append(h, b)),
        2 => any::<usize>().prop_map(Op::Sync),
        2 => any::<usize>().prop_map(Op::Close),
        2 => path_or_root().prop_map(Op::SyncDir),
        3 => (path(), path()).prop_map(|(a, b)| Op::Rename(a, b)),
        2 => path().prop_map(Op::RemoveFile),
        3 => path_or_root().prop_map(Op::Read),
        2 => path_or_root().prop_map(Op::ReadDir),
        2 => path_or_root().prop_map(Op::Metadata),
        1 => path_or_root().prop_map(Op::Exists),
    ]
}

/// A comparable result: Ok values, or only the error kind.
#[derive(Debug, PartialEq, Eq)]
enum R {
    Unit,
    Handle,
    Bytes(Vec<u8>),
    Entries(Vec<DirEntry>),
    Meta(Metadata),
    Bool(bool),
    Count(usize, Vec<u8>),
    Err(io::ErrorKind),
}

fn r<T>(res: io::Result<T>, ok: impl FnOnce(T) -> R) -> R {
    match res {
        Ok(v) => ok(v),
        Err(e) => R::Err(e.kind()),
    }
}

/// One filesystem under test, with its handles in a slot table.
struct Side<'a> {
    fs: &'a dyn Fs,
    root: PathBuf,
    handles: Vec<FileHandle>,
}

impl Side<'_> {
    fn open(&mut self, res: io::Result<FileHandle>) -> R {
        match res {
            Ok(h) => {
                self.handles.push(h);
                R::Handle
            }
            Err(e) => R::Err(e.kind()),
        }
    }

    fn apply(&mut self, op: &Op) -> Option<R> {
        let fs = self.fs;
        let at = |p: &P| p.under(&self.root);
        let slot = |i: &usize, n: usize| if n == 0 { None } else { Some(i % n) };
        Some(match op {
            Op::CreateDirAll(p) => r(fs.create_dir_all(&at(p)), |()| R::Unit),
            Op::CreateNew(p) => {
                let res = fs.create_new(&at(p));
                self.open(res)
            }
            Op::OpenTruncate(p) => {
                let res = fs.open_truncate(&at(p));
                self.open(res)
            }
            Op::OpenExisting(p) => {
                let res = fs.open(&at(p), crashproof_core::fs::OpenMode::Existing);
                self.open(res)
            }
            Op::OpenCreate(p) => {
                let res = fs.open(&at(p), crashproof_core::fs::OpenMode::Create);
                self.open(res)
            }
            Op::OpenRead(p) => {
                let res = fs.open(&at(p), crashproof_core::fs::OpenMode::Read);
                self.open(res)
            }
            Op::CreateDir(p) => r(fs.create_dir(&at(p)), |()| R::Unit),
            Op::RemoveDir(p) => r(fs.remove_dir(&at(p)), |()| R::Unit),
            Op::HardLink(a, b) => r(fs.hard_link(&at(a), &at(b)), |()| R::Unit),
            Op::SetLen(i, n) => {
                let h = &self.handles[slot(i, self.handles.len())?];
                r(fs.set_len(h, *n), |()| R::Unit)
            }
            Op::ReadAt(i, off, n) => {
                let h = &self.handles[slot(i, self.handles.len())?];
                let mut buf = vec![0u8; *n];
                r(fs.read_at(h, *off, &mut buf), |got| {
                    buf.truncate(got);
                    R::Count(got, buf)
                })
            }
            Op::FileMetadata(i) => {
                let h = &self.handles[slot(i, self.handles.len())?];
                r(fs.file_metadata(h), R::Meta)
            }
            Op::SyncData(i) => {
                let h = &self.handles[slot(i, self.handles.len())?];
                r(fs.sync_data(h), |()| R::Unit)
            }
            Op::TryLock(p) => {
                let res = fs.try_lock(&at(p));
                self.open(res)
            }
            Op::WriteAt(i, off, b) => {
                let h = &self.handles[slot(i, self.handles.len())?];
                r(fs.write_all_at(h, *off, b), |()| R::Unit)
            }
            Op::Append(i, b) => {
                let h = &self.handles[slot(i, self.handles.len())?];
                r(fs.append(h, b), |()| R::Unit)
            }
            Op::Sync(i) => {
                let h = &self.handles[slot(i, self.handles.len())?];
                r(fs.sync(h), |()| R::Unit)
            }
            Op::Close(i) => {
                let h = self.handles.remove(slot(i, self.handles.len())?);
                r(fs.close(h), |()| R::Unit)
            }
            Op::SyncDir(p) => r(fs.sync_dir(&at(p)), |()| R::Unit),
            Op::Rename(a, b) => r(fs.rename(&at(a), &at(b)), |()| R::Unit),
            Op::RemoveFile(p) => r(fs.remove_file(&at(p)), |()| R::Unit),
            Op::Read(p) => r(fs.read(&at(p)), R::Bytes),
            Op::ReadDir(p) => r(fs.read_dir(&at(p)), R::Entries),
            Op::Metadata(p) => r(fs.metadata(&at(p)), R::Meta),
            Op::Exists(p) => r(fs.exists(&at(p)), R::Bool),
        })
    }
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
    fn sim_fs_matches_std_fs_without_crashes(ops in prop::collection::vec(op(), 1..60)) {
        let tmp = tempfile::TempDir::new().unwrap();
        let std_fs = StdFs::new();
        let sim_fs = SimFs::new(SimConfig::with_seed(7));
        sim_fs.create_dir_all(Path::new("/root")).unwrap();
        let mut real = Side { fs: &std_fs, root: tmp.path().to_path_buf(), handles: Vec::new() };
        let mut sim = Side { fs: &sim_fs, root: PathBuf::from("/root"), handles: Vec::new() };
        for (i, op) in ops.iter().enumerate() {
            let want = real.apply(op);
            let got = sim.apply(op);
            prop_assert_eq!(&got, &want, "step {}: {:?}\nsim trace:\n{}", i, op, sim_fs.trace());
        }
        // The whole visible tree agrees too, not just the answers.
        for (path, bytes) in sim_fs.files() {
            let rel = path.strip_prefix("/root").unwrap();
            prop_assert_eq!(std::fs::read(tmp.path().join(rel)).unwrap(), bytes, "{:?}", rel);
        }
        for h in real.handles.drain(..) {
            std_fs.close(h).unwrap();
        }
    }
}
