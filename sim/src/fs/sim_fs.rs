//! [`SimFs`]: the step machinery (hook, crash, trace) around the inode
//! state, and its [`Fs`] implementation.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use crashproof_core::fs::{DirEntry, FileHandle, Fs, FsOp, FsOpError, Metadata, OpenMode};

use super::config::SimConfig;
use super::crash::CrashChoice;
use super::error::Crashed;
use super::invariants::{InvariantViolation, check_state, debug_assert_holds};
use super::snapshot::Snapshot;
use super::state::{State, components};
use super::trace::{StepInfo, StepOutcome, Trace, TraceEntry};

/// Called before every step with the step about to run and a view of the
/// state before it. It runs while the filesystem's lock is held: it must not
/// call the `SimFs` itself (use the [`CrashSource`]).
pub type StepHook = Box<dyn FnMut(&StepInfo, &CrashSource<'_>) -> StepAction + Send>;

/// What the step hook wants done.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StepAction {
    /// Run the step.
    Continue,
    /// Crash before the step: it and every later call return [`Crashed`].
    Crash,
}

/// One post-crash state: what survived, and the filesystem holding it.
#[derive(Debug)]
pub struct CrashImage {
    /// What survived and how writes were torn.
    pub choice: CrashChoice,
    /// The post-crash filesystem (visible == durable, no handles or locks,
    /// step counter 0, empty trace).
    pub fs: SimFs,
}

/// The state just before a step, borrowed from the locked filesystem; can
/// produce crash images of that moment.
pub struct CrashSource<'a> {
    pub(crate) state: &'a State,
}

/// An in-memory filesystem keyed by inode that models what survives a crash.
/// See the [module documentation](super) for the durability model.
///
/// `Send + Sync` (the state is behind a mutex); deterministic from
/// [`SimConfig::seed`].
pub struct SimFs {
    state: Mutex<State>,
}

impl std::fmt::Debug for SimFs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let st = self.lock();
        f.debug_struct("SimFs")
            .field("seed", &st.config.seed)
            .field("steps", &st.steps)
            .field("unsynced_ops", &st.pending.len())
            .field("crashed", &st.crashed)
            .finish_non_exhaustive()
    }
}

impl Default for SimFs {
    fn default() -> Self {
        Self::new(SimConfig::default())
    }
}

/// The label of a step, before its index is known.
struct Label {
    op: FsOp,
    path: PathBuf,
    to: Option<PathBuf>,
    len_bytes: Option<u64>,
    failpoint: Option<&'static str>,
    detail: Detail,
}

impl Label {
    fn path(op: FsOp, path: &Path) -> Self {
        Self {
            op,
            path: path.to_path_buf(),
            to: None,
            len_bytes: None,
            failpoint: None,
            detail: Detail::None,
        }
    }
}

/// Extra arguments of a step worth reading in a trace, formatted only when
/// a trace records them.
#[derive(Clone, Copy)]
enum Detail {
    None,
    /// `handle N`.
    Handle(u64),
    /// `handle N @offset`.
    HandleAt(u64, u64),
    /// `handle N @offset+len`.
    HandleRange(u64, u64, usize),
    /// `handle N to len bytes`.
    HandleSetLen(u64, u64),
    /// The open mode.
    Mode(OpenMode),
}

impl std::fmt::Display for Detail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Detail::None => Ok(()),
            Detail::Handle(h) => write!(f, "handle {h}"),
            Detail::HandleAt(h, offset) => write!(f, "handle {h} @{offset}"),
            Detail::HandleRange(h, offset, len) => write!(f, "handle {h} @{offset}+{len}"),
            Detail::HandleSetLen(h, len) => write!(f, "handle {h} to {len} bytes"),
            Detail::Mode(mode) => write!(f, "{mode:?}"),
        }
    }
}

/// What a step that succeeded returned, as a trace says it, formatted only
/// when a trace records it.
#[derive(Clone, Copy)]
enum Said {
    Nothing,
    /// `N bytes`.
    Bytes(u64),
    /// `file, N bytes`.
    File(u64),
    /// `dir`.
    Dir,
    /// `handle N`.
    Handle(u64),
    /// `at offset N`.
    AtOffset(u64),
    /// `N entries`.
    Entries(usize),
    /// A directory opened to sync it.
    DirToSync,
}

impl std::fmt::Display for Said {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Said::Nothing => Ok(()),
            Said::Bytes(n) => write!(f, "{n} bytes"),
            Said::File(n) => write!(f, "file, {n} bytes"),
            Said::Dir => f.write_str("dir"),
            Said::Handle(h) => write!(f, "handle {h}"),
            Said::AtOffset(at) => write!(f, "at offset {at}"),
            Said::Entries(n) => write!(f, "{n} entries"),
            Said::DirToSync => f.write_str("directory (to sync it: sync_dir)"),
        }
    }
}

impl SimFs {
    /// An empty filesystem: `/` exists and is durable.
    pub fn new(config: SimConfig) -> SimFs {
        Self::from_state(State::new(config))
    }

    pub(crate) fn from_state(state: State) -> SimFs {
        SimFs {
            state: Mutex::new(state),
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        // A panicking hook cannot leave the state half-updated in a way that
        // matters more than the panic itself; keep going with what is there.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The configuration this filesystem was built with.
    pub fn config(&self) -> SimConfig {
        self.lock().config.clone()
    }

    /// Replaces the fault configuration from the next step on (added for the
    /// explorer: a kill schedule's faults apply to its first run only, so it
    /// clears them on the crash images recovery runs on, which otherwise
    /// inherit the configuration).
    pub fn set_faults(&self, faults: super::config::FaultConfig) {
        self.lock().config.faults = faults;
    }

    /// Installs the hook called before every step (every `Fs` call,
    /// failpoints included), replacing any previous one. It gets the step
    /// about to run and a view of the state *before* it; returning
    /// [`StepAction::Crash`] crashes the filesystem before the step runs: the
    /// call and every later call return the typed [`Crashed`] error. The
    /// trace is not marked; the caller marks it with [`Trace::mark_crash`]
    /// and the state it chose.
    pub fn set_step_hook(&self, hook: StepHook) {
        self.lock().hook.set(Some(hook));
    }

    /// Removes the step hook.
    pub fn clear_step_hook(&self) {
        self.lock().hook.set(None);
    }

    /// Crashes now: every later call returns [`Crashed`]. The state stays
    /// readable through [`super::SimView::crash_image`], [`super::SimView::files`] and
    /// [`SimFs::trace`].
    pub fn crash_now(&self) {
        self.lock().crashed = true;
    }

    /// Whether the filesystem has crashed.
    pub fn is_crashed(&self) -> bool {
        self.lock().crashed
    }

    /// Every step so far with its label and result.
    pub fn trace(&self) -> Trace {
        self.lock().trace.clone()
    }

    /// Whether later steps are recorded in the trace (on by default; the
    /// explorer turns it off for runs whose trace nobody reads). Steps,
    /// hooks and faults work the same either way.
    pub(crate) fn record_trace(&self, on: bool) {
        self.lock().tracing = on;
    }

    /// How many steps so far had a fault injected (EIO, ENOSPC, short
    /// write, bit flip), whether or not the trace records them.
    pub(crate) fn faulted_steps(&self) -> u64 {
        self.lock().faulted_steps
    }

    /// How many steps so far changed the disk or tried to (a write, a
    /// truncation, a create, a link, a rename, a remove, a directory made
    /// or removed, an open that creates or truncates), whether or not the
    /// trace records them. A run with none wrote nothing a crash could lose.
    pub(crate) fn writing_steps(&self) -> u64 {
        self.lock().writing_steps
    }

    /// What this filesystem's crash states are built from, now, as a value
    /// of its own (see [`Snapshot`]).
    pub(crate) fn snapshot(&self) -> Snapshot {
        Snapshot::of(&self.lock(), None)
    }

    /// Checks every invariant of the simulator's state now: for each file
    /// that is not diverged, durable bytes + its unsynced data ops in issue
    /// order == visible bytes; for each directory, durable entries + its
    /// unsynced directory ops == visible entries; every inode named by an
    /// entry, a handle or an unsynced op exists and is of the right kind;
    /// counters and locks agree. Debug builds check this after every step,
    /// and the crash-image postconditions on every image, on their own; this
    /// is for release builds and fuzzers. An `Err` is a bug in the
    /// simulator, never in the code under test.
    pub fn check_invariants(&self) -> Result<(), InvariantViolation> {
        check_state(&self.lock())
    }

    /// Whether `path` here and `other_path` in `other` are backed by the very
    /// same stored bytes (no copy was made), e.g. a crash image and its
    /// source. False if either is not a file.
    pub fn shares_content(&self, path: &Path, other: &SimFs, other_path: &Path) -> bool {
        let mine = self.content(path);
        let theirs = other.content(other_path);
        match (mine, theirs) {
            (Some(a), Some(b)) => Arc::ptr_eq(&a, &b),
            _ => false,
        }
    }

    fn content(&self, path: &Path) -> Option<Arc<Vec<u8>>> {
        let st = self.lock();
        let ino = st.walk(&components(path).ok()?).ok()?;
        st.file(ino).map(|f| Arc::clone(&f.visible))
    }

    /// Runs one step: label, crash check, hook, faults, body, trace.
    fn step<T>(
        &self,
        label: impl FnOnce(&State) -> Label,
        body: impl FnOnce(&mut State, u64) -> io::Result<(T, Said)>,
    ) -> io::Result<T> {
        let mut st = self.lock();
        let Label {
            op,
            path,
            to,
            len_bytes,
            failpoint,
            detail,
        } = label(&st);
        let info = StepInfo {
            index: st.steps,
            op,
            path,
            to,
            len_bytes,
            failpoint,
        };
        let wrap = |info: &StepInfo, e: io::Error| {
            FsOpError::wrap_rename(info.op, &info.path, info.to.clone(), e)
        };
        if st.crashed {
            return Err(wrap(&info, Crashed::io_error()));
        }
        if let Some(mut hook) = st.hook.take() {
            let action = hook(&info, &CrashSource { state: &st });
            st.hook.set(Some(hook));
            if action == StepAction::Crash {
                st.crashed = true;
                return Err(wrap(&info, Crashed::io_error()));
            }
        }
        st.steps += 1;
        if st.config.faults.bit_flip_at_steps.contains(&info.index) {
            st.flip_bit();
        }
        st.writing_steps += u64::from(writes(op, &detail));
        let result = body(&mut st, info.index);
        let faults = std::mem::take(&mut st.step_faults);
        st.faulted_steps += u64::from(!faults.is_empty());
        if !faults.is_empty() || !leaves_disk_alone(info.op) {
            st.disk_version += 1;
        }
        if !st.tracing {
            debug_assert_holds(|| check_state(&st));
            return result.map(|(value, _)| value).map_err(|e| wrap(&info, e));
        }
        let (outcome, result) = match result {
            Ok((value, said)) => (StepOutcome::Ok(said.to_string()), Ok(value)),
            Err(e) => {
                let outcome = StepOutcome::Err {
                    kind: e.kind(),
                    message: e.to_string(),
                };
                (outcome, Err(wrap(&info, e)))
            }
        };
        st.trace.push(TraceEntry {
            step: info,
            detail: detail.to_string(),
            outcome,
            faults,
        });
        debug_assert_holds(|| check_state(&st));
        result
    }

    fn handle_label(st: &State, op: FsOp, file: &FileHandle, len_bytes: Option<u64>) -> Label {
        let path = st.handles.get(&file.raw()).map_or_else(
            || PathBuf::from(format!("<handle {}>", file.raw())),
            |h| h.path.clone(),
        );
        Label {
            op,
            path,
            to: None,
            len_bytes,
            failpoint: None,
            detail: Detail::Handle(file.raw()),
        }
    }
}

/// Whether a step of `op` that succeeds or fails without an injected fault
/// leaves the inodes and the unsynced log as they were (it reads, or only
/// changes handles), so a snapshot taken before it still holds after it.
/// Every other op counts as a change, whatever it did.
fn leaves_disk_alone(op: FsOp) -> bool {
    matches!(
        op,
        FsOp::Read
            | FsOp::ReadAt
            | FsOp::ReadDir
            | FsOp::Metadata
            | FsOp::FileMetadata
            | FsOp::Failpoint
            | FsOp::Close
    )
}

/// Whether a step of `op` (with its label's `detail`) changes the disk, or
/// would have had it succeeded: see [`SimFs::writing_steps`]. Opening for
/// reading, reads, metadata, syncs, closes, locks and failpoints change
/// nothing a crash could lose; an open changes the disk only in a mode that
/// creates or truncates.
fn writes(op: FsOp, detail: &Detail) -> bool {
    match op {
        FsOp::CreateDirAll
        | FsOp::CreateDir
        | FsOp::RemoveDir
        | FsOp::HardLink
        | FsOp::SetLen
        | FsOp::WriteAllAt
        | FsOp::Append
        | FsOp::Rename
        | FsOp::RemoveFile => true,
        FsOp::Open => matches!(
            detail,
            Detail::Mode(OpenMode::CreateNew | OpenMode::Truncate | OpenMode::Create)
        ),
        FsOp::ReadAt
        | FsOp::FileMetadata
        | FsOp::SyncData
        | FsOp::Sync
        | FsOp::Close
        | FsOp::SyncDir
        | FsOp::Read
        | FsOp::ReadDir
        | FsOp::Metadata
        | FsOp::TryLock
        | FsOp::Failpoint => false,
    }
}

impl Fs for SimFs {
    fn create_dir_all(&self, path: &Path) -> io::Result<()> {
        self.step(
            |_| Label::path(FsOp::CreateDirAll, path),
            |st, _| st.create_dir_all(path).map(|()| ((), Said::Nothing)),
        )
    }

    fn create_dir(&self, path: &Path) -> io::Result<()> {
        self.step(
            |_| Label::path(FsOp::CreateDir, path),
            |st, _| st.create_dir(path).map(|()| ((), Said::Nothing)),
        )
    }

    fn remove_dir(&self, path: &Path) -> io::Result<()> {
        self.step(
            |_| Label::path(FsOp::RemoveDir, path),
            |st, _| st.remove_dir(path).map(|()| ((), Said::Nothing)),
        )
    }

    fn hard_link(&self, original: &Path, link: &Path) -> io::Result<()> {
        let mut label = Label::path(FsOp::HardLink, original);
        label.to = Some(link.to_path_buf());
        self.step(
            |_| label,
            |st, _| st.hard_link(original, link).map(|()| ((), Said::Nothing)),
        )
    }

    fn set_len(&self, file: &FileHandle, len_bytes: u64) -> io::Result<()> {
        self.step(
            |st| {
                let mut l = Self::handle_label(st, FsOp::SetLen, file, None);
                l.detail = Detail::HandleSetLen(file.raw(), len_bytes);
                l
            },
            |st, _| {
                st.set_len(file.raw(), len_bytes)
                    .map(|()| ((), Said::Nothing))
            },
        )
    }

    fn read_at(&self, file: &FileHandle, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        let len_bytes = buf.len();
        self.step(
            |st| {
                let mut l = Self::handle_label(st, FsOp::ReadAt, file, None);
                l.detail = Detail::HandleRange(file.raw(), offset, len_bytes);
                l
            },
            |st, _| {
                let n = st.read_at(file.raw(), offset, buf)?;
                Ok((n, Said::Bytes(n as u64)))
            },
        )
    }

    fn file_metadata(&self, file: &FileHandle) -> io::Result<Metadata> {
        self.step(
            |st| Self::handle_label(st, FsOp::FileMetadata, file, None),
            |st, _| {
                let m = st.file_metadata(file.raw())?;
                Ok((m, Said::File(m.len)))
            },
        )
    }

    fn sync_data(&self, file: &FileHandle) -> io::Result<()> {
        self.step(
            |st| Self::handle_label(st, FsOp::SyncData, file, None),
            |st, index| st.sync(file.raw(), index).map(|()| ((), Said::Nothing)),
        )
    }

    fn open(&self, path: &Path, mode: OpenMode) -> io::Result<FileHandle> {
        let mut label = Label::path(FsOp::Open, path);
        label.detail = Detail::Mode(mode);
        self.step(
            |_| label,
            |st, _| {
                let id = st.open(path, mode)?;
                Ok((FileHandle::from_raw(id), Said::Handle(id)))
            },
        )
    }

    /// One `open` step: a directory is "ok: directory" in the trace (Linux
    /// opens it read-only, to fsync it), not an `IsADirectory` error.
    fn open_read_or_dir(&self, path: &Path) -> io::Result<Option<FileHandle>> {
        let mut label = Label::path(FsOp::Open, path);
        label.detail = Detail::Mode(OpenMode::Read);
        self.step(
            |_| label,
            |st, _| {
                if st.metadata(path)?.is_dir {
                    return Ok((None, Said::DirToSync));
                }
                let id = st.open(path, OpenMode::Read)?;
                Ok((Some(FileHandle::from_raw(id)), Said::Handle(id)))
            },
        )
    }

    fn write_all_at(&self, file: &FileHandle, offset: u64, bytes: &[u8]) -> io::Result<()> {
        let len_bytes = bytes.len() as u64;
        self.step(
            |st| {
                let mut l = Self::handle_label(st, FsOp::WriteAllAt, file, Some(len_bytes));
                l.detail = Detail::HandleAt(file.raw(), offset);
                l
            },
            |st, _| {
                st.write(file.raw(), Some(offset), bytes)
                    .map(|_| ((), Said::Nothing))
            },
        )
    }

    fn append(&self, file: &FileHandle, bytes: &[u8]) -> io::Result<()> {
        let len_bytes = bytes.len() as u64;
        self.step(
            |st| Self::handle_label(st, FsOp::Append, file, Some(len_bytes)),
            |st, _| {
                st.write(file.raw(), None, bytes)
                    .map(|at| ((), Said::AtOffset(at)))
            },
        )
    }

    /// One `append` step (as [`Fs::append`]) that also answers the new
    /// length.
    fn append_at_end(&self, file: &FileHandle, bytes: &[u8]) -> io::Result<u64> {
        let len_bytes = bytes.len() as u64;
        self.step(
            |st| Self::handle_label(st, FsOp::Append, file, Some(len_bytes)),
            |st, _| {
                st.write(file.raw(), None, bytes)
                    .map(|at| (at + len_bytes, Said::AtOffset(at)))
            },
        )
    }

    fn sync(&self, file: &FileHandle) -> io::Result<()> {
        self.step(
            |st| Self::handle_label(st, FsOp::Sync, file, None),
            |st, index| st.sync(file.raw(), index).map(|()| ((), Said::Nothing)),
        )
    }

    fn close(&self, file: FileHandle) -> io::Result<()> {
        self.step(
            |st| Self::handle_label(st, FsOp::Close, &file, None),
            |st, _| st.close(file.raw()).map(|()| ((), Said::Nothing)),
        )
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        self.step(
            |_| Label::path(FsOp::SyncDir, dir),
            |st, _| st.sync_dir(dir).map(|()| ((), Said::Nothing)),
        )
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        let mut label = Label::path(FsOp::Rename, from);
        label.to = Some(to.to_path_buf());
        self.step(
            |_| label,
            |st, _| st.rename(from, to).map(|()| ((), Said::Nothing)),
        )
    }

    fn remove_file(&self, path: &Path) -> io::Result<()> {
        self.step(
            |_| Label::path(FsOp::RemoveFile, path),
            |st, _| st.remove_file(path).map(|()| ((), Said::Nothing)),
        )
    }

    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        self.step(
            |_| Label::path(FsOp::Read, path),
            |st, _| {
                let bytes = st.read(path)?;
                let text = Said::Bytes(bytes.len() as u64);
                Ok((bytes, text))
            },
        )
    }

    fn read_dir(&self, dir: &Path) -> io::Result<Vec<DirEntry>> {
        self.step(
            |_| Label::path(FsOp::ReadDir, dir),
            |st, _| {
                let entries = st.read_dir(dir)?;
                let text = Said::Entries(entries.len());
                Ok((entries, text))
            },
        )
    }

    fn metadata(&self, path: &Path) -> io::Result<Metadata> {
        self.step(
            |_| Label::path(FsOp::Metadata, path),
            |st, _| {
                let m = st.metadata(path)?;
                let text = if m.is_dir {
                    Said::Dir
                } else {
                    Said::File(m.len)
                };
                Ok((m, text))
            },
        )
    }

    fn try_lock(&self, path: &Path) -> io::Result<FileHandle> {
        self.step(
            |_| Label::path(FsOp::TryLock, path),
            |st, _| {
                let id = st.try_lock(path)?;
                Ok((FileHandle::from_raw(id), Said::Handle(id)))
            },
        )
    }

    fn failpoint(&self, name: &'static str) -> io::Result<()> {
        self.step(
            |_| {
                let mut l = Label::path(FsOp::Failpoint, Path::new(name));
                l.failpoint = Some(name);
                l
            },
            |_, _| Ok(((), Said::Nothing)),
        )
    }
}
