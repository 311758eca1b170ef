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

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::Xxh3;

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

/// Feeds length-prefixed fields to one hasher.
struct Framed(Xxh3);

impl Framed {
    fn new() -> Self {
        Self(Xxh3::new())
    }

    fn tag(&mut self, tag: u8) {
        self.0.update(&[tag]);
    }

    fn bytes(&mut self, bytes: &[u8]) {
        self.number(bytes.len() as u64);
        self.0.update(bytes);
    }

    fn number(&mut self, n: u64) {
        self.0.update(&n.to_le_bytes());
    }

    fn finish(&self) -> u128 {
        self.0.digest128()
    }
}

/// Which half of each inode a walk reads.
#[derive(Clone, Copy)]
enum Half {
    Visible,
    Durable,
}

/// Canonical inode names: the order in which inodes are first met.
#[derive(Default)]
struct Names(BTreeMap<Ino, u64>);

impl Names {
    fn of(&mut self, ino: Ino) -> u64 {
        let next = self.0.len() as u64;
        *self.0.entry(ino).or_insert(next)
    }
}

/// Walks the tree of `half` from `/`, depth first in name order, feeding
/// each directory and file to `out` and naming each inode in `names`.
fn walk(state: &State, half: Half, out: &mut Framed, names: &mut Names) {
    let mut seen = BTreeSet::from([ROOT]);
    let mut path = String::new();
    visit(state, half, ROOT, &mut path, &mut seen, out, names);
}

/// Feeds inode `ino`, reached at `path`, and (a directory) everything
/// below it; `path` is a buffer shared by the whole walk (no allocation
/// per entry).
fn visit(
    state: &State,
    half: Half,
    ino: Ino,
    path: &mut String,
    seen: &mut BTreeSet<Ino>,
    out: &mut Framed,
    names: &mut Names,
) {
    names.of(ino);
    match state.nodes.get(&ino) {
        Some(Node::Dir(dir)) => {
            out.tag(TAG_DIR);
            out.bytes(path.as_bytes());
            let entries = match half {
                Half::Visible => &dir.visible,
                Half::Durable => &dir.durable,
            };
            for (name, &child) in entries {
                let len = path.len();
                path.push('/');
                path.push_str(name);
                if seen.insert(child) {
                    visit(state, half, child, path, seen, out, names);
                } else if matches!(state.nodes.get(&child), Some(Node::File(_))) {
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
        Some(Node::File(file)) => {
            out.tag(TAG_FILE);
            out.bytes(path.as_bytes());
            let bytes = match half {
                Half::Visible => &file.visible,
                Half::Durable => &file.durable,
            };
            out.bytes(bytes);
        }
        // A dangling entry: the walk of `files()` skips it too.
        None => {}
    }
}

/// The digest of `state` (see the module documentation).
pub(crate) fn of(state: &State) -> ContentDigest {
    let mut names = Names::default();
    let mut visible = Framed::new();
    walk(state, Half::Visible, &mut visible, &mut names);
    let mut durable = Framed::new();
    walk(state, Half::Durable, &mut durable, &mut names);
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
