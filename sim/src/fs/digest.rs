//! A content digest of a simulated filesystem: what a later reader or a
//! later crash can observe, and nothing else.
//!
//! Three parts, each a 128-bit XXH3 digest (`xxh3_128`, a published,
//! versioned algorithm: the same value on every platform, toolchain, build
//! and run, unlike `std`'s `DefaultHasher`), so digests can be compared
//! across processes and machines (shard reports):
//!
//! - **visible**: the tree readers see, walked from `/` in name order:
//!   every directory (empty ones too) and every file with its bytes; a
//!   file's second name (a hard link) as that name and the canonical name
//!   of the inode it shares;
//! - **durable**: the tree a crash keeps when nothing unsynced survives,
//!   walked from `/` through durable entries, with durable bytes;
//! - **unsynced**: the log of unsynced operations in issue order, inodes
//!   named canonically (by first appearance in the visible walk, then the
//!   durable walk, then the log), so two filesystems that differ only in
//!   inode numbering have the same digest.
//!
//! Left out on purpose: inode and handle numbers, open handles and locks,
//! the step counter, the trace, the configuration (seed, faults). What a
//! program holds in memory (handles, locks) is the program's state, not the
//! disk's.
//!
//! Each item is framed (a tag byte, then length-prefixed fields), so
//! different trees never hash the same input stream.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::{Xxh3, xxh3_128};

use super::state::{Ino, Node, PendingKind, ROOT, State};

/// The content digest of a filesystem at one moment (see the module
/// documentation for what each part covers). Equal filesystems have equal
/// digests; different ones collide with probability about 2^-128 per pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ContentDigest {
    /// The tree readers see: directories, files and their bytes.
    pub visible: u128,
    /// The tree that survives a crash that keeps nothing unsynced.
    pub durable: u128,
    /// The log of unsynced operations, inodes numbered canonically.
    pub unsynced: u128,
}

impl ContentDigest {
    /// The first 64 bits of the visible digest: a short name for a
    /// post-crash state (whose visible and durable trees are equal and
    /// whose log is empty), as reports count distinct states.
    pub fn visible_short(&self) -> u64 {
        self.visible as u64
    }
}

/// Tags that frame each item in a digest's input stream.
const TAG_DIR: u8 = b'd';
const TAG_FILE: u8 = b'f';
const TAG_SECOND_NAME: u8 = b'h';
const TAG_WRITE: u8 = b'w';
const TAG_TRUNCATE: u8 = b't';
const TAG_LINK: u8 = b'l';
const TAG_UNLINK: u8 = b'u';
const TAG_RENAME: u8 = b'r';

/// Past this many buffered bytes, [`Framed`] hands them to a streaming
/// hasher, so a tree of large files is never copied whole.
const FLUSH_BYTES: usize = 64 * 1024;

/// What [`Framed`] reserves at first: a crash state of a small job (a
/// directory, a lock, a few checkpoints) fits without growing.
const FRAMED_CAPACITY_BYTES: usize = 2048;

/// Feeds length-prefixed fields to one hash. The fields are gathered in a
/// buffer and hashed at the end (XXH3 of a stream is the same value however
/// the stream is cut, and one call over a small tree's few hundred bytes
/// costs a fraction of a streaming hasher's per-field updates); past
/// [`FLUSH_BYTES`] the buffer goes to a streaming hasher.
struct Framed {
    buf: Vec<u8>,
    streaming: Option<Box<Xxh3>>,
}

impl Framed {
    fn new() -> Self {
        Self {
            buf: Vec::with_capacity(FRAMED_CAPACITY_BYTES),
            streaming: None,
        }
    }

    fn tag(&mut self, tag: u8) {
        self.buf.push(tag);
    }

    fn bytes(&mut self, bytes: &[u8]) {
        if bytes.len() < FLUSH_BYTES && self.buf.len() + 8 + bytes.len() <= self.buf.capacity() {
            // The common case, in one reservation-free copy.
            self.buf
                .extend_from_slice(&(bytes.len() as u64).to_le_bytes());
            self.buf.extend_from_slice(bytes);
            return;
        }
        self.number(bytes.len() as u64);
        if bytes.len() >= FLUSH_BYTES {
            self.flush();
            self.streaming
                .get_or_insert_with(|| Box::new(Xxh3::new()))
                .update(bytes);
            return;
        }
        self.buf.extend_from_slice(bytes);
        if self.buf.len() >= FLUSH_BYTES {
            self.flush();
        }
    }

    fn number(&mut self, n: u64) {
        self.buf.extend_from_slice(&n.to_le_bytes());
    }

    fn flush(&mut self) {
        self.streaming
            .get_or_insert_with(|| Box::new(Xxh3::new()))
            .update(&self.buf);
        self.buf.clear();
    }

    fn finish(mut self) -> u128 {
        match &mut self.streaming {
            None => xxh3_128(&self.buf),
            Some(hasher) => {
                hasher.update(&self.buf);
                hasher.digest128()
            }
        }
    }
}

/// One node of a tree being digested.
pub(crate) enum NodeView<'a> {
    /// A directory: its entries, by name.
    Dir(&'a BTreeMap<String, Ino>),
    /// A regular file: its bytes.
    File(&'a [u8]),
}

/// A tree to digest: what each inode is (`None`: a dangling entry, skipped
/// as `files()` skips it). The live state's visible or durable half, or a
/// crash state not built into an image (`crash.rs`).
pub(crate) trait Tree {
    /// Inode `ino` in this tree.
    fn node(&self, ino: Ino) -> Option<NodeView<'_>>;
}

/// One half of a live state's inodes.
struct HalfOf<'s> {
    state: &'s State,
    half: Half,
}

/// Which half of each inode a walk reads.
#[derive(Clone, Copy)]
enum Half {
    Visible,
    Durable,
}

impl Tree for HalfOf<'_> {
    fn node(&self, ino: Ino) -> Option<NodeView<'_>> {
        match (self.state.nodes.get(&ino)?, self.half) {
            (Node::Dir(dir), Half::Visible) => Some(NodeView::Dir(&dir.visible)),
            (Node::Dir(dir), Half::Durable) => Some(NodeView::Dir(&dir.durable)),
            (Node::File(file), Half::Visible) => Some(NodeView::File(&file.visible)),
            (Node::File(file), Half::Durable) => Some(NodeView::File(&file.durable)),
        }
    }
}

/// Inodes in the order first met: a vector searched from the start while
/// it is short (a crash state's tree has a handful), indexed by a map
/// once it is not, so a digest allocates little either way.
struct FirstMet {
    order: Vec<Ino>,
    index: BTreeMap<Ino, u64>,
}

impl Default for FirstMet {
    fn default() -> Self {
        Self {
            order: Vec::with_capacity(16),
            index: BTreeMap::new(),
        }
    }
}

/// Past this many inodes, [`FirstMet`] keeps a map beside its vector.
const FIRST_MET_LINEAR_MAX: usize = 32;

impl FirstMet {
    /// The position of `ino` in first-met order, and whether it is new
    /// (then it was just added).
    fn meet(&mut self, ino: Ino) -> (u64, bool) {
        if self.order.len() <= FIRST_MET_LINEAR_MAX {
            if let Some(i) = self.order.iter().position(|&met| met == ino) {
                return (i as u64, false);
            }
        } else if let Some(&i) = self.index.get(&ino) {
            return (i, false);
        }
        let i = self.order.len() as u64;
        self.order.push(ino);
        if self.order.len() > FIRST_MET_LINEAR_MAX {
            if self.index.is_empty() {
                self.index = self
                    .order
                    .iter()
                    .zip(0..)
                    .map(|(&ino, i)| (ino, i))
                    .collect();
            } else {
                self.index.insert(ino, i);
            }
        }
        (i, true)
    }
}

/// Canonical inode names: the order in which inodes are first met.
#[derive(Default)]
struct Names(FirstMet);

impl Names {
    fn of(&mut self, ino: Ino) -> u64 {
        self.0.meet(ino).0
    }
}

/// Walks `tree` from `/`, depth first in name order, feeding each
/// directory and file to `out` and naming each inode in `names`.
fn walk(tree: &impl Tree, out: &mut Framed, names: &mut Names) {
    let mut seen = FirstMet::default();
    seen.meet(ROOT);
    let mut path = String::with_capacity(256);
    visit(tree, ROOT, &mut path, &mut seen, out, names);
}

/// Feeds inode `ino`, reached at `path`, and (a directory) everything
/// below it; `path` is a buffer shared by the whole walk (no allocation
/// per entry).
fn visit(
    tree: &impl Tree,
    ino: Ino,
    path: &mut String,
    seen: &mut FirstMet,
    out: &mut Framed,
    names: &mut Names,
) {
    names.of(ino);
    match tree.node(ino) {
        Some(NodeView::Dir(entries)) => {
            out.tag(TAG_DIR);
            out.bytes(path.as_bytes());
            for (name, &child) in entries {
                let len = path.len();
                path.push('/');
                path.push_str(name);
                if seen.meet(child).1 {
                    visit(tree, child, path, seen, out, names);
                } else if matches!(tree.node(child), Some(NodeView::File(_))) {
                    // A second name of a file (a hard link, or both names
                    // of a half-kept rename): the name and which inode it
                    // shares, not the bytes again. A directory met twice
                    // is skipped, as `files()` does.
                    out.tag(TAG_SECOND_NAME);
                    out.bytes(path.as_bytes());
                    out.number(names.of(child));
                }
                path.truncate(len);
            }
        }
        Some(NodeView::File(bytes)) => {
            out.tag(TAG_FILE);
            out.bytes(path.as_bytes());
            out.bytes(bytes);
        }
        // A dangling entry: the walk of `files()` skips it too.
        None => {}
    }
}

/// The digest of a state whose visible and durable trees are one tree with
/// nothing unsynced (a crash image, or a state built into one): both halves
/// are the same walk, so it is walked once.
pub(crate) fn of_settled(tree: &impl Tree) -> ContentDigest {
    let mut visible = Framed::new();
    walk(tree, &mut visible, &mut Names::default());
    let visible = visible.finish();
    ContentDigest {
        visible,
        durable: visible,
        unsynced: xxh3_128(&[]),
    }
}

/// Whether `state`'s visible and durable trees are equal, byte for byte
/// and entry for entry, and nothing is unsynced (so its two walks feed the
/// same stream and its log is empty).
fn is_settled(state: &State) -> bool {
    state.pending.is_empty()
        && state.nodes.values().all(|node| match node {
            Node::Dir(d) => d.visible == d.durable,
            Node::File(f) => {
                std::sync::Arc::ptr_eq(&f.visible, &f.durable) || f.visible == f.durable
            }
        })
}

/// The digest of `state` (see the module documentation).
pub(crate) fn of(state: &State) -> ContentDigest {
    if is_settled(state) {
        return of_settled(&HalfOf {
            state,
            half: Half::Visible,
        });
    }
    let mut names = Names::default();
    let mut visible = Framed::new();
    let tree = |half| HalfOf { state, half };
    walk(&tree(Half::Visible), &mut visible, &mut names);
    let mut durable = Framed::new();
    walk(&tree(Half::Durable), &mut durable, &mut names);
    let mut unsynced = Framed::new();
    for pending in state.pending.values() {
        match &pending.kind {
            PendingKind::Write { ino, offset, data } => {
                unsynced.tag(TAG_WRITE);
                unsynced.number(names.of(*ino));
                unsynced.number(*offset);
                unsynced.bytes(data);
            }
            PendingKind::Truncate { ino, len } => {
                unsynced.tag(TAG_TRUNCATE);
                unsynced.number(names.of(*ino));
                unsynced.number(*len);
            }
            PendingKind::Link { dir, name, ino } => {
                unsynced.tag(TAG_LINK);
                unsynced.number(names.of(*dir));
                unsynced.bytes(name.as_bytes());
                unsynced.number(names.of(*ino));
            }
            PendingKind::Unlink { dir, name } => {
                unsynced.tag(TAG_UNLINK);
                unsynced.number(names.of(*dir));
                unsynced.bytes(name.as_bytes());
            }
            PendingKind::Rename {
                from_dir,
                from,
                to_dir,
                to,
                ino,
            } => {
                unsynced.tag(TAG_RENAME);
                unsynced.number(names.of(*from_dir));
                unsynced.bytes(from.as_bytes());
                unsynced.number(names.of(*to_dir));
                unsynced.bytes(to.as_bytes());
                unsynced.number(names.of(*ino));
            }
        }
    }
    ContentDigest {
        visible: visible.finish(),
        durable: durable.finish(),
        unsynced: unsynced.finish(),
    }
}
