//! The inode table: what readers see now and what is durable, plus the log
//! of unsynced operations a crash chooses from.

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::SeedableRng;

use super::StepHook;
use super::config::SimConfig;
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
    /// File length change (open with truncate), durable after `sync` of `ino`.
    Truncate { ino: Ino, len: u64 },
    /// A name added to `dir` (create, mkdir, the target half of a
    /// cross-directory rename), durable after `sync_dir` of `dir`.
    Link { dir: Ino, name: String, ino: Ino },
    /// A name removed from `dir` (unlink, the source half of a
    /// cross-directory rename).
    Unlink { dir: Ino, name: String },
    /// A rename inside one directory: one atomic unit.
    Rename {
        dir: Ino,
        from: String,
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

    /// The directory whose entries this op changes, if it is a dir op.
    pub fn dir_ino(&self) -> Option<Ino> {
        match self {
            PendingKind::Link { dir, .. }
            | PendingKind::Unlink { dir, .. }
            | PendingKind::Rename { dir, .. } => Some(*dir),
            _ => None,
        }
    }

    /// Applies a directory op to `entries`.
    pub fn apply_to_dir(&self, entries: &mut BTreeMap<String, Ino>) {
        match self {
            PendingKind::Link { name, ino, .. } => {
                entries.insert(name.clone(), *ino);
            }
            PendingKind::Unlink { name, .. } => {
                entries.remove(name);
            }
            PendingKind::Rename { from, to, ino, .. } => {
                entries.remove(from);
                entries.insert(to.clone(), *ino);
            }
            PendingKind::Write { .. } | PendingKind::Truncate { .. } => {}
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
    if bytes.len() < end {
        bytes.resize(end, 0);
    }
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
    /// Drives injected faults; drawn only when a probabilistic fault is on.
    pub fault_rng: ChaCha8Rng,
    pub hook: Option<StepHook>,
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
        let fault_rng = ChaCha8Rng::seed_from_u64(super::seeds::child(config.seed, 1));
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
            fault_rng,
            hook: None,
            step_faults: Vec::new(),
        }
    }

    pub fn dir(&self, ino: Ino) -> Option<&DirNode> {
        match self.nodes.get(&ino) {
            Some(Node::Dir(d)) => Some(d),
            _ => None,
        }
    }

    pub fn dir_mut(&mut self, ino: Ino) -> Option<&mut DirNode> {
        match self.nodes.get_mut(&ino) {
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

    pub fn file_mut(&mut self, ino: Ino) -> Option<&mut FileNode> {
        match self.nodes.get_mut(&ino) {
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
            let Some(dir) = self.dir(ino) else { continue };
            for (name, &child) in &dir.visible {
                let child_path = path.join(name);
                match self.nodes.get(&child) {
                    Some(Node::File(f)) => {
                        out.insert(child_path, f.visible.as_ref().clone());
                    }
                    Some(Node::Dir(_)) => stack.push((child_path, child)),
                    None => {}
                }
            }
        }
        out
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
