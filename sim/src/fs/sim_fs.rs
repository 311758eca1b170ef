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
    detail: String,
}

impl Label {
    fn path(op: FsOp, path: &Path) -> Self {
        Self {
            op,
            path: path.to_path_buf(),
            to: None,
            len_bytes: None,
            failpoint: None,
            detail: String::new(),
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
        self.lock().hook = Some(hook);
    }

    /// Removes the step hook.
    pub fn clear_step_hook(&self) {
        self.lock().hook = None;
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
        body: impl FnOnce(&mut State, u64) -> io::Result<(T, String)>,
    ) -> io::Result<T> {
        let mut st = self.lock();
        let label = label(&st);
        let wrap =
            |e: io::Error| FsOpError::wrap_rename(label.op, &label.path, label.to.clone(), e);
        if st.crashed {
            return Err(wrap(Crashed::io_error()));
        }
        let info = StepInfo {
            index: st.steps,
            op: label.op,
            path: label.path.clone(),
            to: label.to.clone(),
            len_bytes: label.len_bytes,
            failpoint: label.failpoint,
        };
        if let Some(mut hook) = st.hook.take() {
            let action = hook(&info, &CrashSource { state: &st });
            st.hook = Some(hook);
            if action == StepAction::Crash {
                st.crashed = true;
                return Err(wrap(Crashed::io_error()));
            }
        }
        st.steps += 1;
        if st.config.faults.bit_flip_at_steps.contains(&info.index) {
            st.flip_bit();
        }
        let result = body(&mut st, info.index);
        let faults = std::mem::take(&mut st.step_faults);
        let (outcome, result) = match result {
            Ok((value, text)) => (StepOutcome::Ok(text), Ok(value)),
            Err(e) => {
                let outcome = StepOutcome::Err {
                    kind: e.kind(),
                    message: e.to_string(),
                };
                (outcome, Err(wrap(e)))
            }
        };
        st.trace.push(TraceEntry {
            step: info,
            detail: label.detail.clone(),
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
            detail: format!("handle {}", file.raw()),
        }
    }
}

impl Fs for SimFs {
    fn create_dir_all(&self, path: &Path) -> io::Result<()> {
        self.step(
            |_| Label::path(FsOp::CreateDirAll, path),
            |st, _| st.create_dir_all(path).map(|()| ((), String::new())),
        )
    }

    fn create_dir(&self, path: &Path) -> io::Result<()> {
        self.step(
            |_| Label::path(FsOp::CreateDir, path),
            |st, _| st.create_dir(path).map(|()| ((), String::new())),
        )
    }

    fn remove_dir(&self, path: &Path) -> io::Result<()> {
        self.step(
            |_| Label::path(FsOp::RemoveDir, path),
            |st, _| st.remove_dir(path).map(|()| ((), String::new())),
        )
    }

    fn hard_link(&self, original: &Path, link: &Path) -> io::Result<()> {
        let mut label = Label::path(FsOp::HardLink, original);
        label.to = Some(link.to_path_buf());
        self.step(
            |_| label,
            |st, _| st.hard_link(original, link).map(|()| ((), String::new())),
        )
    }

    fn set_len(&self, file: &FileHandle, len_bytes: u64) -> io::Result<()> {
        self.step(
            |st| {
                let mut l = Self::handle_label(st, FsOp::SetLen, file, None);
                l.detail = format!("{} to {len_bytes} bytes", l.detail);
                l
            },
            |st, _| {
                st.set_len(file.raw(), len_bytes)
                    .map(|()| ((), String::new()))
            },
        )
    }

    fn read_at(&self, file: &FileHandle, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        let len_bytes = buf.len();
        self.step(
            |st| {
                let mut l = Self::handle_label(st, FsOp::ReadAt, file, None);
                l.detail = format!("{} @{offset}+{len_bytes}", l.detail);
                l
            },
            |st, _| {
                let n = st.read_at(file.raw(), offset, buf)?;
                Ok((n, format!("{n} bytes")))
            },
        )
    }

    fn file_metadata(&self, file: &FileHandle) -> io::Result<Metadata> {
        self.step(
            |st| Self::handle_label(st, FsOp::FileMetadata, file, None),
            |st, _| {
                let m = st.file_metadata(file.raw())?;
                Ok((m, format!("file, {} bytes", m.len)))
            },
        )
    }

    fn sync_data(&self, file: &FileHandle) -> io::Result<()> {
        self.step(
            |st| Self::handle_label(st, FsOp::SyncData, file, None),
            |st, index| st.sync(file.raw(), index).map(|()| ((), String::new())),
        )
    }

    fn open(&self, path: &Path, mode: OpenMode) -> io::Result<FileHandle> {
        let mut label = Label::path(FsOp::Open, path);
        label.detail = format!("{mode:?}");
        self.step(
            |_| label,
            |st, _| {
                let id = st.open(path, mode)?;
                Ok((FileHandle::from_raw(id), format!("handle {id}")))
            },
        )
    }

    /// One `open` step: a directory is "ok: directory" in the trace (Linux
    /// opens it read-only, to fsync it), not an `IsADirectory` error.
    fn open_read_or_dir(&self, path: &Path) -> io::Result<Option<FileHandle>> {
        let mut label = Label::path(FsOp::Open, path);
        label.detail = format!("{:?}", OpenMode::Read);
        self.step(
            |_| label,
            |st, _| {
                if st.metadata(path)?.is_dir {
                    return Ok((None, "directory (to sync it: sync_dir)".to_string()));
                }
                let id = st.open(path, OpenMode::Read)?;
                Ok((Some(FileHandle::from_raw(id)), format!("handle {id}")))
            },
        )
    }

    fn write_all_at(&self, file: &FileHandle, offset: u64, bytes: &[u8]) -> io::Result<()> {
        let len_bytes = bytes.len() as u64;
        self.step(
            |st| {
                let mut l = Self::handle_label(st, FsOp::WriteAllAt, file, Some(len_bytes));
                l.detail = format!("{} @{offset}", l.detail);
                l
            },
            |st, _| {
                st.write(file.raw(), Some(offset), bytes)
                    .map(|_| ((), String::new()))
            },
        )
    }

    fn append(&self, file: &FileHandle, bytes: &[u8]) -> io::Result<()> {
        let len_bytes = bytes.len() as u64;
        self.step(
            |st| Self::handle_label(st, FsOp::Append, file, Some(len_bytes)),
            |st, _| {
                st.write(file.raw(), None, bytes)
                    .map(|at| ((), format!("at offset {at}")))
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
                    .map(|at| (at + len_bytes, format!("at offset {at}")))
            },
        )
    }

    fn sync(&self, file: &FileHandle) -> io::Result<()> {
        self.step(
            |st| Self::handle_label(st, FsOp::Sync, file, None),
            |st, index| st.sync(file.raw(), index).map(|()| ((), String::new())),
        )
    }

    fn close(&self, file: FileHandle) -> io::Result<()> {
        self.step(
            |st| Self::handle_label(st, FsOp::Close, &file, None),
            |st, _| st.close(file.raw()).map(|()| ((), String::new())),
        )
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        self.step(
            |_| Label::path(FsOp::SyncDir, dir),
            |st, _| st.sync_dir(dir).map(|()| ((), String::new())),
        )
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        let mut label = Label::path(FsOp::Rename, from);
        label.to = Some(to.to_path_buf());
        self.step(
            |_| label,
            |st, _| st.rename(from, to).map(|()| ((), String::new())),
        )
    }

    fn remove_file(&self, path: &Path) -> io::Result<()> {
        self.step(
            |_| Label::path(FsOp::RemoveFile, path),
            |st, _| st.remove_file(path).map(|()| ((), String::new())),
        )
    }

    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        self.step(
            |_| Label::path(FsOp::Read, path),
            |st, _| {
                let bytes = st.read(path)?;
                let text = format!("{} bytes", bytes.len());
                Ok((bytes, text))
            },
        )
    }

    fn read_dir(&self, dir: &Path) -> io::Result<Vec<DirEntry>> {
        self.step(
            |_| Label::path(FsOp::ReadDir, dir),
            |st, _| {
                let entries = st.read_dir(dir)?;
                let text = format!("{} entries", entries.len());
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
                    "dir".to_string()
                } else {
                    format!("file, {} bytes", m.len)
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
                Ok((FileHandle::from_raw(id), format!("handle {id}")))
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
            |_, _| Ok(((), String::new())),
        )
    }
}
