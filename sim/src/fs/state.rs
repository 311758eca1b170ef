//! The inode table: what readers see now and what is durable, plus the log
//! of unsynced operations a crash chooses from.

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::SeedableRng;

use super::StepHook;
use super::config::SimConfig;
use super::invariants::{InvariantViolation, invariant_broken};
use super::trace::Trace;

/// An inode number. Never reused within one filesystem.
pub(crate) type Ino = u64;

/// The root directory's inode.
pub(crate) const ROOT: Ino = 1;

/// A regular file: the bytes readers see and the bytes on "disk".
#[derive(Clone, Debug)]
pub(crate) struct FileNode {
    pub visible: Arc<Vec<u8>>,
    pub durable: Arc<Vec<u8>>,
    /// `durable` + this file's pending ops no longer equals `visible` (a
    /// failed sync dropped pending ops, or a bit flip hit durable data only),
    /// so a sync must replay the ops instead of copying `visible`.
    pub diverged: bool,
}

impl FileNode {
    pub fn empty() -> Self {
        let bytes = Arc::new(Vec::new());
        Self {
            visible: Arc::clone(&bytes),
            durable: bytes,
            diverged: false,
        }
    }
}

/// A directory: the entries readers see and the durable entries.
#[derive(Clone, Debug, Default)]
pub(crate) struct DirNode {
    pub visible: BTreeMap<String, Ino>,
    pub durable: BTreeMap<String, Ino>,
}

#[derive(Clone, Debug)]
pub(crate) enum Node {
    File(FileNode),
    Dir(DirNode),
}

/// One unsynced operation, in issue order.
#[derive(Clone, Debug)]
pub(crate) struct Pending {
    /// The step that issued it.
    pub step: u64,
    /// A readable label (`write /d/a @0+10`).
    pub label: String,
    pub kind: PendingKind,
}

#[derive(Clone, Debug)]
pub(crate) enum PendingKind {
    /// File data, durable after `sync` of `ino`.
    Write {
        ino: Ino,
        offset: u64,
        data: Arc<[u8]>,
    },
    /// File length change (open with truncate, `set_len`: cut or extended
    /// with zeros), durable after `sync` of `ino`.
    Truncate { ino: Ino, len: u64 },
    /// A name added to `dir` (create, mkdir, hard link), durable after
    /// `sync_dir` of
    /// `dir`; also what is left of a cross-directory rename whose source
    /// directory was synced.
    Link { dir: Ino, name: String, ino: Ino },
    /// A name removed from `dir` (unlink, rmdir); also what is left of a
    /// cross-directory rename whose target directory was synced.
    Unlink { dir: Ino, name: String },
    /// A rename, inside one directory or across two: one journal entry.
    /// Each directory's half (the old name removed from `from_dir`, the new
    /// name added to `to_dir`) is durable after `sync_dir` of that
    /// directory; once one half of a cross-directory rename is durable, the
    /// entry left in the log, at the same place, is the other half.
    Rename {
        from_dir: Ino,
        from: String,
        to_dir: Ino,
        to: String,
        ino: Ino,
    },
}

impl PendingKind {
    /// The file whose data this op changes, if it is a data op.
    pub fn data_ino(&self) -> Option<Ino> {
        match self {
            PendingKind::Write { ino, .. } | PendingKind::Truncate { ino, .. } => Some(*ino),
            _ => None,
        }
    }

    /// The directories whose entries this op changes: none for a data op,
    /// two for a rename across directories, else one.
    pub fn dir_inos(&self) -> impl Iterator<Item = Ino> + use<> {
        let pair = match self {
            PendingKind::Link { dir, .. } | PendingKind::Unlink { dir, .. } => [Some(*dir), None],
            PendingKind::Rename {
                from_dir, to_dir, ..
            } => [Some(*from_dir), (to_dir != from_dir).then_some(*to_dir)],
            PendingKind::Write { .. } | PendingKind::Truncate { .. } => [None, None],
        };
        pair.into_iter().flatten()
    }

    /// Whether this op changes the entries of directory `dir`.
    pub fn touches_dir(&self, dir: Ino) -> bool {
        self.dir_inos().any(|d| d == dir)
    }

    /// Whether this is a rename across two directories (two halves).
    pub fn is_cross_dir_rename(&self) -> bool {
        matches!(self, PendingKind::Rename { from_dir, to_dir, .. } if from_dir != to_dir)
    }

    /// Applies this op's change to the entries of directory `dir`, one of
    /// the directories it touches ([`PendingKind::dir_inos`]; every caller
    /// iterates those): its half, for a rename across directories.
    pub fn apply_to_dir(&self, dir: Ino, entries: &mut BTreeMap<String, Ino>) {
        debug_assert!(
            self.touches_dir(dir),
            "an op applied to a directory it does not touch"
        );
        match self {
            PendingKind::Link { name, ino, .. } => {
                entries.insert(name.clone(), *ino);
            }
            PendingKind::Unlink { name, .. } => {
                entries.remove(name);
            }
            PendingKind::Rename {
                from_dir,
                from,
                to_dir,
                to,
                ino,
            } => {
                if *from_dir == dir {
                    entries.remove(from);
                }
                if *to_dir == dir {
                    entries.insert(to.clone(), *ino);
                }
            }
            PendingKind::Write { .. } | PendingKind::Truncate { .. } => {}
        }
    }

    /// What is still unsynced of this op once the entries of `dir`, one of
    /// the directories it touches, are durable: the other half of a rename
    /// across directories, else nothing.
    pub fn left_after_sync_dir(&self, dir: Ino) -> Option<PendingKind> {
        debug_assert!(
            self.touches_dir(dir),
            "an op synced in a directory it does not touch"
        );
        match self {
            PendingKind::Rename {
                from_dir,
                from,
                to_dir,
                to,
                ino,
            } if from_dir != to_dir => Some(if *from_dir == dir {
                PendingKind::Link {
                    dir: *to_dir,
                    name: to.clone(),
                    ino: *ino,
                }
            } else {
                PendingKind::Unlink {
                    dir: *from_dir,
                    name: from.clone(),
                }
            }),
            _ => None,
        }
    }

    /// Applies a data op (whole) to `bytes`.
    pub fn apply_to_file(&self, bytes: &mut Vec<u8>) {
        match self {
            PendingKind::Write { offset, data, .. } => write_at(bytes, *offset, data),
            PendingKind::Truncate { len, .. } => bytes.resize(to_usize(*len), 0),
            _ => {}
        }
    }
}

/// Writes `data` at `offset`, zero-filling any gap past the end.
pub(crate) fn write_at(bytes: &mut Vec<u8>, offset: u64, data: &[u8]) {
    let start = to_usize(offset);
    let end = start.saturating_add(data.len());
    bytes.resize(bytes.len().max(end), 0);
    bytes[start..end].copy_from_slice(data);
}

/// Offsets are bounded by what fits in memory; a larger one saturates and
/// the allocation that follows fails loudly rather than wrapping.
pub(crate) fn to_usize(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// An open file.
#[derive(Clone, Debug)]
pub(crate) struct Handle {
    pub ino: Ino,
    pub path: PathBuf,
    pub locked: bool,
    /// Opened for writing (every mode but `OpenMode::Read`).
    pub writable: bool,
}

/// The whole filesystem. Lives behind the `SimFs` mutex.
pub(crate) struct State {
    pub config: SimConfig,
    pub nodes: BTreeMap<Ino, Node>,
    pub next_ino: Ino,
    /// Unsynced operations by issue sequence number.
    pub pending: BTreeMap<u64, Pending>,
    pub next_seq: u64,
    pub handles: BTreeMap<u64, Handle>,
    pub next_handle: u64,
    pub locked: BTreeSet<Ino>,
    pub steps: u64,
    pub crashed: bool,
    pub trace: Trace,
    /// Whether steps are recorded in `trace` (off for runs whose trace
    /// nobody reads: the step counter, the hook and the faults work the
    /// same either way).
    pub tracing: bool,
    /// Steps that had a fault injected, traced or not.
    pub faulted_steps: u64,
    /// Steps that changed the disk or tried to (`SimFs::writing_steps`).
    pub writing_steps: u64,
    /// Moves on at every step that may have changed the inodes or the
    /// unsynced log (see `leaves_disk_alone`), so a snapshot can tell it
    /// still holds.
    pub disk_version: u64,
    /// Drives injected faults; drawn only when a probabilistic fault is on.
    pub fault_rng: FaultRng,
    pub hook: HookSlot,
    /// Faults injected into the step now running, moved into its trace entry.
    pub step_faults: Vec<String>,
}

impl State {
    /// An empty filesystem: `/` exists and is durable.
    pub fn new(config: SimConfig) -> Self {
        let mut nodes = BTreeMap::new();
        nodes.insert(ROOT, Node::Dir(DirNode::default()));
        Self::from_nodes(config, nodes, ROOT + 1)
    }

    pub fn from_nodes(config: SimConfig, nodes: BTreeMap<Ino, Node>, next_ino: Ino) -> Self {
        let fault_rng = FaultRng::new(super::seeds::child(config.seed, 1));
        Self {
            config,
            nodes,
            next_ino,
            pending: BTreeMap::new(),
            next_seq: 0,
            handles: BTreeMap::new(),
            next_handle: 1,
            locked: BTreeSet::new(),
            steps: 0,
            crashed: false,
            trace: Trace::new(),
            tracing: true,
            faulted_steps: 0,
            writing_steps: 0,
            disk_version: 0,
            fault_rng,
            hook: HookSlot::default(),
            step_faults: Vec::new(),
        }
    }

    /// A copy of what the crash API reads (configuration, inodes, the
    /// unsynced log, the step counter), without handles, locks, trace or
    /// hook: what a crash image or a content digest of this moment needs.
    ///
    /// Only live inodes are copied: those reachable from `/` through
    /// visible or durable entries and those an unsynced op names (with
    /// what is below them). The live filesystem keeps every inode it ever
    /// made, so a copy of all of them would grow with the run.
    pub fn snapshot(&self) -> State {
        let nodes = self
            .live_inodes()
            .into_iter()
            .filter_map(|ino| Some((ino, self.nodes.get(&ino)?.clone())))
            .collect();
        let mut copy = State::from_nodes(self.config.clone(), nodes, self.next_ino);
        copy.pending = self.pending.clone();
        copy.next_seq = self.next_seq;
        copy.steps = self.steps;
        copy
    }

    /// The inodes a crash image or a content digest of this moment can
    /// reach: `/`, every inode an unsynced op names, and everything below
    /// them through visible or durable entries.
    fn live_inodes(&self) -> BTreeSet<Ino> {
        let mut live = BTreeSet::from([ROOT]);
        let mut stack = vec![ROOT];
        let named = self.pending.values().flat_map(|p| {
            let (file, entry) = match &p.kind {
                PendingKind::Write { ino, .. } | PendingKind::Truncate { ino, .. } => {
                    (Some(*ino), None)
                }
                PendingKind::Link { ino, .. } | PendingKind::Rename { ino, .. } => {
                    (None, Some(*ino))
                }
                PendingKind::Unlink { .. } => (None, None),
            };
            file.into_iter().chain(entry).chain(p.kind.dir_inos())
        });
        for ino in named {
            if live.insert(ino) {
                stack.push(ino);
            }
        }
        while let Some(ino) = stack.pop() {
            let Some(Node::Dir(dir)) = self.nodes.get(&ino) else {
                continue;
            };
            for &child in dir.visible.values().chain(dir.durable.values()) {
                if live.insert(child) {
                    stack.push(child);
                }
            }
        }
        live
    }

    pub fn dir(&self, ino: Ino) -> Option<&DirNode> {
        match self.nodes.get(&ino) {
            Some(Node::Dir(d)) => Some(d),
            _ => None,
        }
    }

    pub fn file(&self, ino: Ino) -> Option<&FileNode> {
        match self.nodes.get(&ino) {
            Some(Node::File(f)) => Some(f),
            _ => None,
        }
    }

    pub fn is_dir(&self, ino: Ino) -> bool {
        self.dir(ino).is_some()
    }

    pub fn alloc(&mut self, node: Node) -> Ino {
        let ino = self.next_ino;
        self.next_ino += 1;
        self.nodes.insert(ino, node);
        ino
    }

    /// Records an unsynced operation issued by the step now running.
    pub fn log(&mut self, label: String, kind: PendingKind) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.pending.insert(
            seq,
            Pending {
                step: self.steps.saturating_sub(1),
                label,
                kind,
            },
        );
    }

    /// Visible files (path -> bytes), walking from `/`.
    pub fn files(&self) -> BTreeMap<PathBuf, Vec<u8>> {
        let mut out = BTreeMap::new();
        let mut stack = vec![(PathBuf::from("/"), ROOT)];
        let mut seen = BTreeSet::new();
        while let Some((path, ino)) = stack.pop() {
            if !seen.insert(ino) {
                continue;
            }
            let dir = self.dir_or_broken(ino, || format!("the directory entry {}", path.display()));
            for (name, &child) in &dir.visible {
                let child_path = path.join(name);
                match self.nodes.get(&child) {
                    Some(Node::File(f)) => {
                        out.insert(child_path, f.visible.as_ref().clone());
                    }
                    Some(Node::Dir(_)) => stack.push((child_path, child)),
                    None => invariant_broken(&InvariantViolation::MissingInode {
                        ino: child,
                        referrer: format!("the visible entry {}", child_path.display()),
                    }),
                }
            }
        }
        out
    }

    /// A visible path of `ino`, for messages (`<inode N>` if it has none).
    pub fn path_of(&self, ino: Ino) -> String {
        if ino == ROOT {
            return "/".to_string();
        }
        let mut stack = vec![(PathBuf::from("/"), ROOT)];
        let mut seen = BTreeSet::new();
        while let Some((path, dir)) = stack.pop() {
            if !seen.insert(dir) {
                continue;
            }
            let Some(d) = self.dir(dir) else { continue };
            for (name, &child) in &d.visible {
                if child == ino {
                    return path.join(name).display().to_string();
                }
                if self.is_dir(child) {
                    stack.push((path.join(name), child));
                }
            }
        }
        format!("<inode {ino}>")
    }

    /// The directory `ino`, named by what `referrer` describes. A missing
    /// inode, or a file where a directory must be, is a broken invariant of
    /// the simulator, returned as a typed error.
    pub fn dir_referenced(
        &self,
        ino: Ino,
        referrer: impl FnOnce() -> String,
    ) -> Result<&DirNode, InvariantViolation> {
        match self.nodes.get(&ino) {
            Some(Node::Dir(d)) => Ok(d),
            other => Err(not_the_node(ino, other.is_some(), referrer, "directory")),
        }
    }

    /// [`State::dir_referenced`], mutably.
    pub fn dir_referenced_mut(
        &mut self,
        ino: Ino,
        referrer: impl FnOnce() -> String,
    ) -> Result<&mut DirNode, InvariantViolation> {
        match self.nodes.get_mut(&ino) {
            Some(Node::Dir(d)) => Ok(d),
            other => Err(not_the_node(ino, other.is_some(), referrer, "directory")),
        }
    }

    /// The file `ino`, named by what `referrer` describes; like
    /// [`State::dir_referenced`].
    pub fn file_referenced(
        &self,
        ino: Ino,
        referrer: impl FnOnce() -> String,
    ) -> Result<&FileNode, InvariantViolation> {
        match self.nodes.get(&ino) {
            Some(Node::File(f)) => Ok(f),
            other => Err(not_the_node(ino, other.is_some(), referrer, "file")),
        }
    }

    /// [`State::file_referenced`], mutably.
    pub fn file_referenced_mut(
        &mut self,
        ino: Ino,
        referrer: impl FnOnce() -> String,
    ) -> Result<&mut FileNode, InvariantViolation> {
        match self.nodes.get_mut(&ino) {
            Some(Node::File(f)) => Ok(f),
            other => Err(not_the_node(ino, other.is_some(), referrer, "file")),
        }
    }

    /// [`State::dir_referenced`] where no error can be returned (a read-only
    /// walk or a crash image): a broken invariant stops the program.
    pub fn dir_or_broken(&self, ino: Ino, referrer: impl FnOnce() -> String) -> &DirNode {
        match self.dir_referenced(ino, referrer) {
            Ok(d) => d,
            Err(v) => invariant_broken(&v),
        }
    }

    /// [`State::file_referenced`] where no error can be returned.
    pub fn file_or_broken(&self, ino: Ino, referrer: impl FnOnce() -> String) -> &FileNode {
        match self.file_referenced(ino, referrer) {
            Ok(f) => f,
            Err(v) => invariant_broken(&v),
        }
    }
}

/// Where the step hook is kept. In a mutex only so that a `State` is
/// `Sync` (a snapshot of one is shared by the checking threads); the
/// filesystem reaches it through `&mut State`, which needs no lock.
#[derive(Default)]
pub(crate) struct HookSlot(Mutex<Option<StepHook>>);

impl HookSlot {
    /// Takes the hook out (to call it while the state is borrowed).
    pub fn take(&mut self) -> Option<StepHook> {
        self.slot().take()
    }

    /// Puts `hook` in (replacing any).
    pub fn set(&mut self, hook: Option<StepHook>) {
        *self.slot() = hook;
    }

    /// Whether a hook is installed.
    pub fn is_set(&self) -> bool {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .is_some()
    }

    fn slot(&mut self) -> &mut Option<StepHook> {
        self.0
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The generator of injected faults, seeded at creation and built on its
/// first draw (most filesystems, every crash image among them, never draw).
pub(crate) struct FaultRng {
    seed: u64,
    rng: Option<ChaCha8Rng>,
}

impl FaultRng {
    fn new(seed: u64) -> Self {
        Self { seed, rng: None }
    }

    /// The generator, in the state its draws so far left it.
    pub fn get(&mut self) -> &mut ChaCha8Rng {
        let seed = self.seed;
        self.rng
            .get_or_insert_with(|| ChaCha8Rng::seed_from_u64(seed))
    }
}

/// A path split into UTF-8 components, resolved lexically against `/`
/// (relative paths are relative to `/`; `..` pops a component).
pub(crate) fn components(path: &Path) -> io::Result<Vec<&str>> {
    let mut out = Vec::new();
    for c in path.components() {
        match c {
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
            Component::ParentDir => {
                out.pop();
            }
            Component::Normal(name) => match name.to_str() {
                Some(s) => out.push(s),
                None => {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidInput,
                        "path component is not UTF-8; the simulator only stores UTF-8 names",
                    ));
                }
            },
        }
    }
    Ok(out)
}

/// The path `/a/b` from components.
pub(crate) fn join(components: &[&str]) -> PathBuf {
    let mut p = PathBuf::from("/");
    p.extend(components);
    p
}

/// Why inode `ino`, named by what `referrer` describes, is not the
/// `expected` kind of node: it is the other kind (`exists`) or missing.
fn not_the_node(
    ino: Ino,
    exists: bool,
    referrer: impl FnOnce() -> String,
    expected: &'static str,
) -> InvariantViolation {
    if exists {
        InvariantViolation::WrongKind {
            ino,
            referrer: referrer(),
            expected,
        }
    } else {
        InvariantViolation::MissingInode {
            ino,
            referrer: referrer(),
        }
    }
}
