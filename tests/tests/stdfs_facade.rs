//! The `std::fs` facade (`crashproof_core::stdfs`): every function agrees
//! with `std::fs` when its calls go to `StdFs`, and gives the same visible
//! results on `SimFs`; a `File` outlives its scope only as an error; two
//! threads with different scopes never see each other's filesystem; std's
//! directory-sync idiom is a real directory sync on the simulator.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crashproof_core::fs::{Fs, StdFs};
use crashproof_core::stdfs;
use crashproof_sim::{CrashModel, SimConfig, SimFs, SimView};
use proptest::prelude::*;

/// A path under the common root, as components.
#[derive(Debug, Clone)]
struct P(Vec<&'static str>);

impl P {
    fn under(&self, root: &Path) -> PathBuf {
        let mut p = root.to_path_buf();
        p.extend(&self.0);
        p
    }
}

/// `OpenOptions` flags: read, write, append, truncate, create, create_new.
type Flags = [bool; 6];

#[derive(Debug, Clone)]
enum Op {
    Write(P, Vec<u8>),
    Read(P),
    ReadToString(P),
    Rename(P, P),
    RemoveFile(P),
    RemoveDir(P),
    CreateDir(P),
    CreateDirAll(P),
    ReadDir(P),
    Metadata(P),
    HardLink(P, P),
    Exists(P),
    SyncDir(P),
    Open(P, Flags),
    FileOpen(P),
    FileCreate(P),
    FileCreateNew(P),
    FileWrite(usize, Vec<u8>),
    FileRead(usize, usize),
    FileReadToEnd(usize),
    FileSeek(usize, i8, i64),
    FileSetLen(usize, u64),
    FileSyncAll(usize),
    FileSyncData(usize),
    FileMetadata(usize),
    FileDrop(usize),
}

fn path() -> impl Strategy<Value = P> {
    prop::collection::vec(prop::sample::select(vec!["a", "b", "c"]), 1..=2).prop_map(P)
}

fn bytes() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..16)
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (path(), bytes()).prop_map(|(p, b)| Op::Write(p, b)),
        2 => path().prop_map(Op::Read),
        1 => path().prop_map(Op::ReadToString),
        2 => (path(), path()).prop_map(|(a, b)| Op::Rename(a, b)),
        2 => path().prop_map(Op::RemoveFile),
        2 => path().prop_map(Op::RemoveDir),
        2 => path().prop_map(Op::CreateDir),
        1 => path().prop_map(Op::CreateDirAll),
        2 => path().prop_map(Op::ReadDir),
        2 => path().prop_map(Op::Metadata),
        2 => (path(), path()).prop_map(|(a, b)| Op::HardLink(a, b)),
        1 => path().prop_map(Op::Exists),
        1 => path().prop_map(Op::SyncDir),
        4 => (path(), any::<Flags>()).prop_map(|(p, f)| Op::Open(p, f)),
        2 => path().prop_map(Op::FileOpen),
        2 => path().prop_map(Op::FileCreate),
        1 => path().prop_map(Op::FileCreateNew),
        4 => (any::<usize>(), bytes()).prop_map(|(h, b)| Op::FileWrite(h, b)),
        3 => (any::<usize>(), 0usize..24).prop_map(|(h, n)| Op::FileRead(h, n)),
        2 => any::<usize>().prop_map(Op::FileReadToEnd),
        3 => (any::<usize>(), 0i8..3, -8i64..24).prop_map(|(h, w, d)| Op::FileSeek(h, w, d)),
        2 => (any::<usize>(), 0u64..24).prop_map(|(h, n)| Op::FileSetLen(h, n)),
        1 => any::<usize>().prop_map(Op::FileSyncAll),
        1 => any::<usize>().prop_map(Op::FileSyncData),
        1 => any::<usize>().prop_map(Op::FileMetadata),
        2 => any::<usize>().prop_map(Op::FileDrop),
    ]
}

/// A comparable result: the Ok value, or only the error kind. Metadata is
/// (is_dir, length of a file): a directory's length is the OS's business.
#[derive(Debug, PartialEq, Eq)]
enum R {
    Unit,
    Bytes(Vec<u8>),
    Text(String),
    Count(usize),
    Entries(Vec<(String, bool)>),
    Meta(bool, u64),
    Bool(bool),
    Err(io::ErrorKind),
    NoFile,
}

fn r<T>(res: io::Result<T>, ok: impl FnOnce(T) -> R) -> R {
    match res {
        Ok(v) => ok(v),
        Err(e) => R::Err(e.kind()),
    }
}

fn meta(is_dir: bool, len: u64) -> R {
    R::Meta(is_dir, if is_dir { 0 } else { len })
}

/// The same operations, on `std::fs` or on the facade.
trait Api {
    type File: Read + Write + Seek + FileApi;
    fn apply_path(&self, op: &Op, root: &Path) -> Option<R>;
    fn open(&self, path: &Path, flags: Flags) -> io::Result<Self::File>;
    fn file_open(&self, path: &Path) -> io::Result<Self::File>;
    fn file_create(&self, path: &Path) -> io::Result<Self::File>;
    fn file_create_new(&self, path: &Path) -> io::Result<Self::File>;
    fn set_len(f: &Self::File, n: u64) -> io::Result<()>;
    fn sync_all(f: &Self::File) -> io::Result<()>;
    fn sync_data(f: &Self::File) -> io::Result<()>;
    fn metadata(f: &Self::File) -> io::Result<(bool, u64)>;
}

struct Std;
struct Facade;

impl Api for Std {
    type File = std::fs::File;

    fn apply_path(&self, op: &Op, root: &Path) -> Option<R> {
        use std::fs;
        let at = |p: &P| p.under(root);
        Some(match op {
            Op::Write(p, b) => r(fs::write(at(p), b), |()| R::Unit),
            Op::Read(p) => r(fs::read(at(p)), R::Bytes),
            Op::ReadToString(p) => r(fs::read_to_string(at(p)), R::Text),
            Op::Rename(a, b) => r(fs::rename(at(a), at(b)), |()| R::Unit),
            Op::RemoveFile(p) => r(fs::remove_file(at(p)), |()| R::Unit),
            Op::RemoveDir(p) => r(fs::remove_dir(at(p)), |()| R::Unit),
            Op::CreateDir(p) => r(fs::create_dir(at(p)), |()| R::Unit),
            Op::CreateDirAll(p) => r(fs::create_dir_all(at(p)), |()| R::Unit),
            Op::ReadDir(p) => r(
                fs::read_dir(at(p)).and_then(|rd| {
                    let mut v = Vec::new();
                    for e in rd {
                        let e = e?;
                        let name = e.file_name().into_string().unwrap();
                        v.push((name, e.file_type()?.is_dir()));
                    }
                    v.sort();
                    Ok(v)
                }),
                R::Entries,
            ),
            Op::Metadata(p) => r(fs::metadata(at(p)), |m| meta(m.is_dir(), m.len())),
            Op::HardLink(a, b) => r(fs::hard_link(at(a), at(b)), |()| R::Unit),
            Op::Exists(p) => r(fs::exists(at(p)), R::Bool),
            Op::SyncDir(p) => r(fs::File::open(at(p)).and_then(|d| d.sync_all()), |()| {
                R::Unit
            }),
            _ => return None,
        })
    }

    fn open(&self, path: &Path, f: Flags) -> io::Result<std::fs::File> {
        std::fs::OpenOptions::new()
            .read(f[0])
            .write(f[1])
            .append(f[2])
            .truncate(f[3])
            .create(f[4])
            .create_new(f[5])
            .open(path)
    }
    fn file_open(&self, path: &Path) -> io::Result<std::fs::File> {
        std::fs::File::open(path)
    }
    fn file_create(&self, path: &Path) -> io::Result<std::fs::File> {
        std::fs::File::create(path)
    }
    fn file_create_new(&self, path: &Path) -> io::Result<std::fs::File> {
        std::fs::File::create_new(path)
    }
    fn set_len(f: &std::fs::File, n: u64) -> io::Result<()> {
        f.set_len(n)
    }
    fn sync_all(f: &std::fs::File) -> io::Result<()> {
        f.sync_all()
    }
    fn sync_data(f: &std::fs::File) -> io::Result<()> {
        f.sync_data()
    }
    fn metadata(f: &std::fs::File) -> io::Result<(bool, u64)> {
        f.metadata().map(|m| (m.is_dir(), m.len()))
    }
}

impl Api for Facade {
    type File = stdfs::File;

    fn apply_path(&self, op: &Op, root: &Path) -> Option<R> {
        use crashproof_core::stdfs as fs;
        let at = |p: &P| p.under(root);
        Some(match op {
            Op::Write(p, b) => r(fs::write(at(p), b), |()| R::Unit),
            Op::Read(p) => r(fs::read(at(p)), R::Bytes),
            Op::ReadToString(p) => r(fs::read_to_string(at(p)), R::Text),
            Op::Rename(a, b) => r(fs::rename(at(a), at(b)), |()| R::Unit),
            Op::RemoveFile(p) => r(fs::remove_file(at(p)), |()| R::Unit),
            Op::RemoveDir(p) => r(fs::remove_dir(at(p)), |()| R::Unit),
            Op::CreateDir(p) => r(fs::create_dir(at(p)), |()| R::Unit),
            Op::CreateDirAll(p) => r(fs::create_dir_all(at(p)), |()| R::Unit),
            Op::ReadDir(p) => r(
                fs::read_dir(at(p)).and_then(|rd| {
                    let mut v = Vec::new();
                    for e in rd {
                        let e = e?;
                        assert_eq!(e.path(), at(p).join(e.file_name()));
                        let name = e.file_name().into_string().unwrap();
                        v.push((name, e.file_type()?.is_dir()));
                    }
                    v.sort();
                    Ok(v)
                }),
                R::Entries,
            ),
            Op::Metadata(p) => r(fs::metadata(at(p)), |m| meta(m.is_dir(), m.len())),
            Op::HardLink(a, b) => r(fs::hard_link(at(a), at(b)), |()| R::Unit),
            Op::Exists(p) => r(fs::exists(at(p)), R::Bool),
            // std's idiom, through the facade's File.
            Op::SyncDir(p) => r(fs::File::open(at(p)).and_then(|d| d.sync_all()), |()| {
                R::Unit
            }),
            _ => return None,
        })
    }

    fn open(&self, path: &Path, f: Flags) -> io::Result<stdfs::File> {
        stdfs::OpenOptions::new()
            .read(f[0])
            .write(f[1])
            .append(f[2])
            .truncate(f[3])
            .create(f[4])
            .create_new(f[5])
            .open(path)
    }
    fn file_open(&self, path: &Path) -> io::Result<stdfs::File> {
        stdfs::File::open(path)
    }
    fn file_create(&self, path: &Path) -> io::Result<stdfs::File> {
        stdfs::File::create(path)
    }
    fn file_create_new(&self, path: &Path) -> io::Result<stdfs::File> {
        stdfs::File::create_new(path)
    }
    fn set_len(f: &stdfs::File, n: u64) -> io::Result<()> {
        f.set_len(n)
    }
    fn sync_all(f: &stdfs::File) -> io::Result<()> {
        f.sync_all()
    }
    fn sync_data(f: &stdfs::File) -> io::Result<()> {
        f.sync_data()
    }
    fn metadata(f: &stdfs::File) -> io::Result<(bool, u64)> {
        f.metadata().map(|m| (m.is_dir(), m.len()))
    }
}

/// Runs `ops` through `api` under `root`, one result per op.
fn run<A: Api>(api: &A, root: &Path, ops: &[Op]) -> Vec<R> {
    let mut files: Vec<(A::File, bool)> = Vec::new();
    let mut out = Vec::new();
    for op in ops {
        if let Some(res) = api.apply_path(op, root) {
            out.push(res);
            continue;
        }
        let mut opened = |res: io::Result<A::File>, p: &P| match res {
            Ok(f) => {
                let is_dir = p.under(root).is_dir() || matches!(A::metadata(&f), Ok((true, _)));
                files.push((f, is_dir));
                R::Unit
            }
            Err(e) => R::Err(e.kind()),
        };
        let res = match op {
            Op::Open(p, flags) => opened(api.open(&p.under(root), *flags), p),
            Op::FileOpen(p) => opened(api.file_open(&p.under(root)), p),
            Op::FileCreate(p) => opened(api.file_create(&p.under(root)), p),
            Op::FileCreateNew(p) => opened(api.file_create_new(&p.under(root)), p),
            _ if files.is_empty() => R::NoFile,
            Op::FileDrop(i) => {
                let n = files.len();
                drop(files.remove(i % n));
                R::Unit
            }
            _ => {
                let n = files.len();
                let (f, is_dir) = match op {
                    Op::FileWrite(i, _)
                    | Op::FileRead(i, _)
                    | Op::FileReadToEnd(i)
                    | Op::FileSeek(i, _, _)
                    | Op::FileSetLen(i, _)
                    | Op::FileSyncAll(i)
                    | Op::FileSyncData(i)
                    | Op::FileMetadata(i) => &mut files[i % n],
                    _ => unreachable!(),
                };
                file_op(op, f, *is_dir)
            }
        };
        out.push(res);
    }
    out
}

fn file_op<F: Read + Write + Seek + FileApi>(op: &Op, f: &mut F, is_dir: bool) -> R {
    match op {
        Op::FileWrite(_, b) => r(f.write(b), R::Count),
        Op::FileRead(_, n) => {
            let mut buf = vec![0u8; *n];
            r(f.read(&mut buf), |got| {
                buf.truncate(got);
                R::Bytes(buf)
            })
        }
        Op::FileReadToEnd(_) => {
            let mut buf = Vec::new();
            r(f.read_to_end(&mut buf), |_| R::Bytes(buf))
        }
        // Seeking a directory is the OS's business (ext4 gives offsets of
        // its own), and the facade syncs and stats a directory by the path
        // it was opened with, which a later rename or removal changes
        // (documented; `std_idiom_..` covers the directory sync): skipped.
        Op::FileSeek(..) | Op::FileSyncAll(_) | Op::FileSyncData(_) | Op::FileMetadata(_)
            if is_dir =>
        {
            R::Unit
        }
        Op::FileSeek(_, whence, d) => {
            let to = match whence {
                0 => SeekFrom::Start(d.unsigned_abs()),
                1 => SeekFrom::Current(*d),
                _ => SeekFrom::End(*d),
            };
            r(f.seek(to), |p| R::Count(p as usize))
        }
        Op::FileSetLen(_, n) => r(f.api_set_len(*n), |()| R::Unit),
        Op::FileSyncAll(_) => r(f.api_sync_all(), |()| R::Unit),
        Op::FileSyncData(_) => r(f.api_sync_data(), |()| R::Unit),
        Op::FileMetadata(_) => r(f.api_metadata(), |(d, len)| meta(d, len)),
        _ => unreachable!(),
    }
}

/// The handle-level calls `Read`/`Write`/`Seek` do not cover.
trait FileApi {
    fn api_set_len(&self, n: u64) -> io::Result<()>;
    fn api_sync_all(&self) -> io::Result<()>;
    fn api_sync_data(&self) -> io::Result<()>;
    fn api_metadata(&self) -> io::Result<(bool, u64)>;
}

impl FileApi for std::fs::File {
    fn api_set_len(&self, n: u64) -> io::Result<()> {
        Std::set_len(self, n)
    }
    fn api_sync_all(&self) -> io::Result<()> {
        Std::sync_all(self)
    }
    fn api_sync_data(&self) -> io::Result<()> {
        Std::sync_data(self)
    }
    fn api_metadata(&self) -> io::Result<(bool, u64)> {
        Std::metadata(self)
    }
}

impl FileApi for stdfs::File {
    fn api_set_len(&self, n: u64) -> io::Result<()> {
        Facade::set_len(self, n)
    }
    fn api_sync_all(&self) -> io::Result<()> {
        Facade::sync_all(self)
    }
    fn api_sync_data(&self) -> io::Result<()> {
        Facade::sync_data(self)
    }
    fn api_metadata(&self) -> io::Result<(bool, u64)> {
        Facade::metadata(self)
    }
}

/// Every file under `root` with its bytes, read with `std::fs` (real) or
/// from the simulator's visible tree.
fn real_tree(root: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let path = e.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push((
                    path.strip_prefix(root).unwrap().to_path_buf(),
                    std::fs::read(&path).unwrap(),
                ));
            }
        }
    }
    out.sort();
    out
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(48)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    /// `std::fs` itself, the facade outside any scope, the facade on
    /// `StdFs`, and the facade on `SimFs`: the same answers (Ok values,
    /// error kinds) and the same files.
    #[test]
    fn the_facade_agrees_with_std_fs_on_std_fs_and_sim_fs(ops in prop::collection::vec(op(), 1..50)) {
        let plain = tempfile::TempDir::new().unwrap();
        let outside = tempfile::TempDir::new().unwrap();
        let on_std = tempfile::TempDir::new().unwrap();
        let want = run(&Std, plain.path(), &ops);
        prop_assert!(!stdfs::in_scope());
        let got_outside = run(&Facade, outside.path(), &ops);
        let std_fs = StdFs::new();
        let got_std = stdfs::with_fs(&std_fs, || run(&Facade, on_std.path(), &ops));
        let sim = SimFs::new(SimConfig::with_seed(3));
        sim.create_dir_all(Path::new("/root")).unwrap();
        let got_sim = stdfs::with_fs(&sim, || run(&Facade, Path::new("/root"), &ops));
        for (i, op) in ops.iter().enumerate() {
            prop_assert_eq!(&got_outside[i], &want[i], "outside a scope, op {}: {:?}", i, op);
            prop_assert_eq!(&got_std[i], &want[i], "on StdFs, op {}: {:?}", i, op);
            prop_assert_eq!(&got_sim[i], &want[i], "on SimFs, op {}: {:?}\n{}", i, op, sim.trace());
        }
        let files = real_tree(plain.path());
        prop_assert_eq!(&real_tree(outside.path()), &files);
        prop_assert_eq!(&real_tree(on_std.path()), &files);
        let sim_files: Vec<(PathBuf, Vec<u8>)> = sim
            .files()
            .into_iter()
            .map(|(p, b)| (p.strip_prefix("/root").unwrap().to_path_buf(), b))
            .collect();
        prop_assert_eq!(&sim_files, &files);
    }
}

#[test]
fn a_file_used_after_its_scope_ended_errors_and_never_reaches_the_disk() {
    let tmp = tempfile::TempDir::new().unwrap();
    let path = tmp.path().join("f");
    let sim = SimFs::default();
    sim.create_dir_all(tmp.path()).unwrap();
    let mut file = stdfs::with_fs(&sim, || {
        let mut f = stdfs::File::create(&path).unwrap();
        f.write_all(b"inside").unwrap();
        f
    });
    let err = file.write_all(b"after").unwrap_err();
    assert!(
        err.to_string().contains("scope that has ended"),
        "says why: {err}"
    );
    assert!(file.sync_all().is_err());
    assert!(file.metadata().is_err());
    assert!(!path.exists(), "nothing reached the real disk");
    // Not in a scope on another filesystem either, nor in a new scope on
    // the same one (its own scope ended).
    let other = SimFs::default();
    assert!(stdfs::with_fs(&other, || file.write_all(b"x")).is_err());
    assert!(stdfs::with_fs(&sim, || file.write_all(b"x")).is_err());
    assert_eq!(sim.read(&path).unwrap(), b"inside");
    // A nested scope on another filesystem hides the outer one's files.
    stdfs::with_fs(&sim, || {
        let mut f = stdfs::File::create(&path).unwrap();
        assert!(stdfs::with_fs(&other, || f.write_all(b"x")).is_err());
        f.write_all(b"outer").unwrap();
    });
    assert_eq!(sim.read(&path).unwrap(), b"outer");
}

#[test]
fn two_threads_with_different_scopes_see_only_their_own_filesystem() {
    let path = Path::new("/shared-name");
    let barrier = std::sync::Barrier::new(2);
    let worker = |tag: u8| {
        let sim = SimFs::default();
        stdfs::with_fs(&sim, || {
            for round in 0..20u8 {
                stdfs::write(path, [tag, round]).unwrap();
                barrier.wait();
                assert_eq!(stdfs::read(path).unwrap(), [tag, round], "thread {tag}");
                barrier.wait();
            }
        });
        sim.files()
    };
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| worker(1));
        let b = s.spawn(|| worker(2));
        (a.join().unwrap(), b.join().unwrap())
    });
    assert_eq!(a[path], [1, 19]);
    assert_eq!(b[path], [2, 19]);
    assert!(!stdfs::in_scope(), "this thread never had a scope");
    assert!(!path.exists(), "the real disk was never written");
}

#[test]
fn a_spawned_thread_needs_the_scope_again_and_then_shares_the_files() {
    let sim = SimFs::default();
    stdfs::with_fs(&sim, || {
        let mut f = stdfs::File::create("/f").unwrap();
        std::thread::scope(|s| {
            s.spawn(|| assert!(!stdfs::in_scope(), "not inherited"));
            s.spawn(|| {
                stdfs::with_fs(&sim, || f.write_all(b"from the child")).unwrap();
            });
        });
        stdfs::with_current(|fs| assert!(fs.is_some()));
    });
    assert_eq!(sim.read(Path::new("/f")).unwrap(), b"from the child");
}

/// Create a file, fsync it, then fsync the directory with `dir_sync`; the
/// file survives a crash only if `dir_sync` synced the directory.
fn survives(dir_sync: fn(&Path) -> io::Result<()>) -> bool {
    let sim = SimFs::default();
    sim.create_dir_all(Path::new("/d")).unwrap();
    sim.sync_dir(Path::new("/")).unwrap();
    stdfs::with_fs(&sim, || {
        let mut f = stdfs::File::create("/d/f").unwrap();
        f.write_all(b"data").unwrap();
        f.sync_all().unwrap();
        dir_sync(Path::new("/d")).unwrap();
    });
    let image = sim.crash_image(CrashModel::DropUnsynced, 0).fs;
    image.files().contains_key(Path::new("/d/f"))
}

#[test]
fn std_idiom_file_open_dir_sync_all_syncs_the_directory() {
    assert!(survives(|d| stdfs::File::open(d)?.sync_all()));
    assert!(survives(|d| stdfs::sync_dir(d)));
    assert!(survives(|d| stdfs::File::open(d)?.sync_data()));
    // Without a directory sync the entry is lost: the check can fail.
    assert!(!survives(|_| Ok(())));
    // Opening the directory alone syncs nothing.
    assert!(!survives(|d| stdfs::File::open(d).map(drop)));
}

/// The trace of `File::open(dir)?.sync_all()` through the facade shows the
/// two calls the program made, an open of a directory and a directory
/// sync, and no error: the idiom is not an `IsADirectory` failure.
#[test]
fn the_directory_sync_idiom_is_traced_as_an_open_and_a_sync_dir_without_error() {
    let sim = SimFs::default();
    sim.create_dir_all(Path::new("/d")).unwrap();
    let before = sim.trace().entries.len();
    stdfs::with_fs(&sim, || stdfs::File::open("/d")?.sync_all()).unwrap();
    let trace = sim.trace();
    let steps: Vec<String> = trace.entries[before..]
        .iter()
        .map(|e| e.to_string())
        .collect();
    assert_eq!(steps.len(), 2, "{steps:#?}");
    assert!(
        steps[0].contains("open") && steps[0].contains("ok: directory"),
        "{steps:#?}"
    );
    assert!(
        steps[1].contains("sync_dir") && steps[1].contains("/d"),
        "{steps:#?}"
    );
    assert!(!trace.to_string().contains("ERROR"), "{trace}");
    // A missing path is still an error, and a file still opens for reading.
    stdfs::with_fs(&sim, || {
        let missing = stdfs::File::open("/nothing").unwrap_err();
        assert_eq!(missing.kind(), io::ErrorKind::NotFound);
        stdfs::write("/d/f", b"x").unwrap();
        let mut text = String::new();
        stdfs::File::open("/d/f")
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(text, "x");
    });
}

/// An `O_APPEND` write through the facade is one `append` step, as the
/// program's one `write(2)` is: no `file_metadata` step the program never
/// made. The cursor is the end of the file as the append left it.
#[test]
fn an_append_is_one_step_and_leaves_the_cursor_at_the_end() {
    let sim = SimFs::default();
    let (appends, ops) = stdfs::with_fs(&sim, || {
        let mut log = stdfs::OpenOptions::new()
            .create(true)
            .append(true)
            .read(true)
            .open("/journal")
            .unwrap();
        let before = sim.trace().entries.len();
        for record in ["one\n", "two\n", "three\n"] {
            log.write_all(record.as_bytes()).unwrap();
        }
        let ops: Vec<String> = sim.trace().entries[before..]
            .iter()
            .map(|e| e.step.op.name().to_string())
            .collect();
        assert_eq!(log.stream_position().unwrap(), 14);
        (3, ops)
    });
    assert_eq!(ops, vec!["append"; appends], "steps of three appends");
    assert_eq!(
        sim.read(Path::new("/journal")).unwrap(),
        b"one\ntwo\nthree\n"
    );
}

/// `read`, `read_to_string` and `File::read_to_end` loop over short reads
/// (which `pread(2)` may return) until a read returns nothing: a reader
/// that stops early, or whose next buffer is empty, returns a truncated
/// file.
#[test]
fn reads_to_the_end_through_short_reads() {
    use crashproof_tests::fs_wrappers::{FailRule, FailingFs};
    let tmp = tempfile::TempDir::new().unwrap();
    let path = tmp.path().join("f");
    let content: Vec<u8> = (0..20_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(&path, &content).unwrap();
    let short = FailingFs::new(StdFs::new(), FailRule::never()).with_short_reads(7);
    stdfs::with_fs(&short, || {
        assert_eq!(stdfs::read(&path).unwrap(), content);
        let mut file = stdfs::File::open(&path).unwrap();
        file.seek(SeekFrom::Start(3)).unwrap();
        let mut out = b"kept".to_vec();
        assert_eq!(file.read_to_end(&mut out).unwrap(), content.len() - 3);
        assert_eq!(out.get(..4), Some(&b"kept"[..]));
        assert_eq!(out.get(4..), content.get(3..));
    });
    std::fs::write(&path, "text read in pieces").unwrap();
    stdfs::with_fs(&short, || {
        assert_eq!(stdfs::read_to_string(&path).unwrap(), "text read in pieces");
    });
}

/// `truncate(true)` without `create` empties an existing file (`O_TRUNC`),
/// as `std` does, on the real disk and on the simulator; without write
/// access it is `InvalidInput`, as in `std`.
#[test]
fn truncate_without_create_empties_an_existing_file() {
    let tmp = tempfile::TempDir::new().unwrap();
    let path = tmp.path().join("f");
    let sim = SimFs::default();
    sim.create_dir_all(tmp.path()).unwrap();
    let std_fs = StdFs::new();
    for fs in [&std_fs as &dyn Fs, &sim] {
        stdfs::with_fs(fs, || {
            stdfs::write(&path, b"old content").unwrap();
            let mut file = stdfs::OpenOptions::new()
                .write(true)
                .truncate(true)
                .open(&path)
                .unwrap();
            file.write_all(b"new").unwrap();
            drop(file);
            assert_eq!(stdfs::read(&path).unwrap(), b"new");
            let refused = stdfs::OpenOptions::new()
                .read(true)
                .truncate(true)
                .open(&path);
            assert_eq!(
                refused.map(|_| ()).unwrap_err().kind(),
                io::ErrorKind::InvalidInput
            );
        });
    }
    assert_eq!(std::fs::read(&path).unwrap(), b"new");
}

/// Dropping a `File` closes its handle on the scope's filesystem (as
/// `std::fs::File`'s drop closes the descriptor): every open is paired with
/// a close, so a long job opening many files leaks nothing.
#[test]
fn dropping_a_file_closes_its_handle() {
    use crashproof_core::fs::FsOp;
    use crashproof_tests::fs_wrappers::RecordingFs;
    let tmp = tempfile::TempDir::new().unwrap();
    let recording = RecordingFs::new(StdFs::new());
    stdfs::with_fs(&recording, || {
        for round in 0..3u8 {
            let mut file = stdfs::File::create(tmp.path().join("f")).unwrap();
            file.write_all(&[round]).unwrap();
        }
        let mut text = String::new();
        stdfs::File::open(tmp.path().join("f"))
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
    });
    let ops = recording.ops();
    let count = |op: FsOp| ops.iter().filter(|o| o.op == op).count();
    assert_eq!((count(FsOp::Open), count(FsOp::Close)), (4, 4), "{ops:#?}");
}

/// A file opened on one filesystem is refused inside a nested scope on
/// another, even where the other has a handle with the same number: it
/// never writes to the other filesystem's file. `in_scope` says whether a
/// scope runs.
#[test]
fn a_file_never_reaches_another_filesystems_handle() {
    let tmp = tempfile::TempDir::new().unwrap();
    let (mine, theirs) = (tmp.path().join("mine"), tmp.path().join("theirs"));
    let (fs_a, fs_b) = (StdFs::new(), StdFs::new());
    assert!(!stdfs::in_scope());
    stdfs::with_fs(&fs_a, || {
        assert!(stdfs::in_scope());
        // Each StdFs numbers its handles from the same start.
        let mut file = stdfs::File::create(&mine).unwrap();
        stdfs::with_fs(&fs_b, || {
            let _other = stdfs::File::create(&theirs).unwrap();
            assert!(file.write_all(b"stray").is_err());
        });
        file.write_all(b"mine").unwrap();
    });
    assert_eq!(std::fs::read(&theirs).unwrap(), b"");
    assert_eq!(std::fs::read(&mine).unwrap(), b"mine");
}
