//! The simulator's own invariants, written as checks that say what broke.
//!
//! Each check returns `Err(InvariantViolation)` naming the inode, its path
//! and what differs, so unit tests can run it on a deliberately corrupted
//! state and see it report the corruption. [`debug_assert_holds`] runs a
//! check in debug builds (tests, fuzzing) and stops at the first violation;
//! release builds skip it, so the explorer does not pay for it.
//!
//! Where each check runs:
//! - [`check_state`]: after every executed step (`SimFs::step`), and on
//!   demand through `SimFs::check_invariants`.
//! - [`check_crash_image`] and [`Fingerprint::check_unchanged`]: at the end
//!   of building every crash image (`crash::build`), on the image and on
//!   the running state it was built from.
//! - [`check_torn_write`]: after every torn write applied to an image
//!   (`crash::build`).

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

use super::crash::SectorFate;
use super::state::{Ino, Node, PendingKind, ROOT, State, to_usize};

/// A broken invariant of the simulator's own state: a bug in
/// `crashproof-sim`, never in the code under test. Report it with the seed
/// and the trace; the message names the inode, its path and what differs.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InvariantViolation {
    /// For a file that is not diverged, the durable bytes with its unsynced
    /// data operations applied in issue order are not the visible bytes.
    #[error(
        "simulator invariant broken (a bug in crashproof-sim; report it with the seed): \
         file inode {ino} ({path}): durable bytes + {ops} unsynced data op(s) in issue \
         order do not give the visible bytes: {difference}"
    )]
    FileReplay {
        /// The file's inode.
        ino: u64,
        /// A visible path of it, or `<inode N>`.
        path: String,
        /// How many unsynced data operations were replayed.
        ops: usize,
        /// Where the replayed and the visible bytes differ.
        difference: String,
    },
    /// For a directory, the durable entries with its unsynced directory
    /// operations applied in issue order are not the visible entries.
    #[error(
        "simulator invariant broken (a bug in crashproof-sim; report it with the seed): \
         directory inode {ino} ({path}): durable entries + {ops} unsynced directory op(s) \
         in issue order do not give the visible entries: {difference}"
    )]
    DirReplay {
        /// The directory's inode.
        ino: u64,
        /// A visible path of it, or `<inode N>`.
        path: String,
        /// How many unsynced directory operations were replayed.
        ops: usize,
        /// The first name whose inode differs.
        difference: String,
    },
    /// An inode named by a directory entry, a handle or an unsynced
    /// operation does not exist.
    #[error(
        "simulator invariant broken (a bug in crashproof-sim; report it with the seed): \
         inode {ino}, named by {referrer}, does not exist"
    )]
    MissingInode {
        /// The missing inode.
        ino: u64,
        /// What names it.
        referrer: String,
    },
    /// An inode is a file where a directory must be, or the reverse.
    #[error(
        "simulator invariant broken (a bug in crashproof-sim; report it with the seed): \
         inode {ino}, named by {referrer}, is not a {expected}"
    )]
    WrongKind {
        /// The inode.
        ino: u64,
        /// What names it.
        referrer: String,
        /// `"file"` or `"directory"`.
        expected: &'static str,
    },
    /// A directory has a second visible name (or the root has one): only
    /// files may have several names (hard links), as on Linux.
    #[error(
        "simulator invariant broken (a bug in crashproof-sim; report it with the seed): \
         directory inode {ino} is named `{second}` as well as `{first}`; a directory has \
         one name (hard links are for files only)"
    )]
    DirNamedTwice {
        /// The directory's inode.
        ino: u64,
        /// The name met first (`/` for the root).
        first: String,
        /// The other name.
        second: String,
    },
    /// Counters, locks or the log disagree with each other.
    #[error(
        "simulator invariant broken (a bug in crashproof-sim; report it with the seed): {detail}"
    )]
    Bookkeeping {
        /// What disagrees.
        detail: String,
    },
    /// A crash image is not a freshly started filesystem holding durable
    /// state only.
    #[error(
        "simulator invariant broken (a bug in crashproof-sim; report it with the seed): \
         crash image: {detail}"
    )]
    CrashImage {
        /// What is wrong with the image.
        detail: String,
    },
    /// A torn write changed bytes it must not, left garbage equal to the old
    /// or the new byte, or gave the file the wrong length.
    #[error(
        "simulator invariant broken (a bug in crashproof-sim; report it with the seed): \
         torn write `{label}`: {detail}"
    )]
    TornWrite {
        /// The write's label (`write /d/f @0+600`).
        label: String,
        /// The first byte or length that breaks the rule.
        detail: String,
    },
    /// Building a crash image changed the filesystem it was built from.
    #[error(
        "simulator invariant broken (a bug in crashproof-sim; report it with the seed): \
         taking a crash image changed the running filesystem: {detail}"
    )]
    SourceChanged {
        /// What changed.
        detail: String,
    },
}

/// Stops the program at a broken invariant. Only for places that cannot
/// return an error (a read-only walk, building a crash image) and for the
/// debug-build checks: the simulator's own state is inconsistent, and going
/// on would report crash states that no disk could hold.
#[allow(clippy::panic)]
pub(crate) fn invariant_broken(violation: &InvariantViolation) -> ! {
    panic!("{violation}")
}

/// Runs `check` in debug builds only (tests, fuzzing) and stops at a broken
/// invariant; release builds do not run it.
pub(crate) fn debug_assert_holds(check: impl FnOnce() -> Result<(), InvariantViolation>) {
    if cfg!(debug_assertions)
        && let Err(violation) = check()
    {
        invariant_broken(&violation);
    }
}

/// Every invariant of a filesystem state, running or crashed: bookkeeping,
/// references, one visible name per directory, and visible == durable +
/// unsynced for files and directories.
pub(crate) fn check_state(state: &State) -> Result<(), InvariantViolation> {
    check_bookkeeping(state)?;
    check_references(state)?;
    check_dir_names(state)?;
    check_file_replay(state)?;
    check_dir_replay(state)
}

/// No directory has two visible names and the root has none: `hard_link`
/// refuses directories and `rename` moves a name, so only files may be
/// reached by several names. (Durable entries may name a directory twice
/// for a while, after one half of a rename across directories was synced;
/// a crash image keeps the first name.)
fn check_dir_names(state: &State) -> Result<(), InvariantViolation> {
    let mut names: BTreeMap<Ino, String> = BTreeMap::from([(ROOT, "/".to_string())]);
    for (dir_ino, node) in &state.nodes {
        let Node::Dir(dir) = node else { continue };
        for (name, ino) in &dir.visible {
            if !state.is_dir(*ino) {
                continue;
            }
            let this = format!("`{name}` in directory inode {dir_ino}");
            if let Some(first) = names.get(ino) {
                return Err(InvariantViolation::DirNamedTwice {
                    ino: *ino,
                    first: first.clone(),
                    second: this,
                });
            }
            names.insert(*ino, this);
        }
    }
    Ok(())
}

fn bookkeeping(detail: String) -> Result<(), InvariantViolation> {
    Err(InvariantViolation::Bookkeeping { detail })
}

/// The root is a directory; inode, sequence and step counters are ahead of
/// everything issued; the lock set is exactly the inodes of locked handles.
fn check_bookkeeping(state: &State) -> Result<(), InvariantViolation> {
    state.dir_referenced(ROOT, || "the root".to_string())?;
    if let Some(&last) = state.nodes.keys().next_back()
        && last >= state.next_ino
    {
        return bookkeeping(format!(
            "inode {last} exists but the next inode to allocate is {}",
            state.next_ino
        ));
    }
    for (seq, p) in &state.pending {
        if *seq >= state.next_seq {
            return bookkeeping(format!(
                "unsynced op #{seq} `{}` is not below the next sequence number {}",
                p.label, state.next_seq
            ));
        }
        if p.step >= state.steps {
            return bookkeeping(format!(
                "unsynced op `{}` was issued by step {}, but only {} step(s) ran",
                p.label, p.step, state.steps
            ));
        }
    }
    let mut locked_by_handles = BTreeSet::new();
    for (id, h) in &state.handles {
        if h.locked && !locked_by_handles.insert(h.ino) {
            return bookkeeping(format!(
                "handle {id} holds the lock on inode {} ({}) that another handle holds",
                h.ino,
                h.path.display()
            ));
        }
    }
    if locked_by_handles != state.locked {
        return bookkeeping(format!(
            "locked inodes {:?} are not the inodes of the locked handles {:?}",
            state.locked, locked_by_handles
        ));
    }
    Ok(())
}

/// Every inode named by a directory entry (visible or durable), a handle
/// or an unsynced operation exists and is of the kind it is used as.
fn check_references(state: &State) -> Result<(), InvariantViolation> {
    for (dir_ino, node) in &state.nodes {
        let Node::Dir(dir) = node else { continue };
        for (which, entries) in [("visible", &dir.visible), ("durable", &dir.durable)] {
            for (name, ino) in entries {
                if !state.nodes.contains_key(ino) {
                    return Err(InvariantViolation::MissingInode {
                        ino: *ino,
                        referrer: format!(
                            "the {which} entry `{name}` of directory inode {dir_ino} ({})",
                            state.path_of(*dir_ino)
                        ),
                    });
                }
            }
        }
    }
    for (id, h) in &state.handles {
        state.file_referenced(h.ino, || {
            format!("handle {id} (opened as {})", h.path.display())
        })?;
    }
    for (seq, p) in &state.pending {
        let referrer = || format!("unsynced op #{seq} `{}`", p.label);
        if let Some(ino) = p.kind.data_ino() {
            state.file_referenced(ino, referrer)?;
        }
        for dir in p.kind.dir_inos() {
            state.dir_referenced(dir, referrer)?;
        }
        if let PendingKind::Link { ino, .. } | PendingKind::Rename { ino, .. } = &p.kind
            && !state.nodes.contains_key(ino)
        {
            return Err(InvariantViolation::MissingInode {
                ino: *ino,
                referrer: referrer(),
            });
        }
    }
    Ok(())
}

/// Where two byte strings differ, in words.
fn bytes_difference(replayed: &[u8], visible: &[u8]) -> String {
    let first = replayed
        .iter()
        .zip(visible)
        .position(|(a, b)| a != b)
        .unwrap_or(replayed.len().min(visible.len()));
    format!(
        "replayed {} bytes, visible {} bytes, first difference at byte {first}",
        replayed.len(),
        visible.len()
    )
}

/// For every file that is not diverged: durable + its unsynced data ops in
/// issue order == visible. (A diverged file lost unsynced ops to a failed
/// `sync`, or had durable bits flipped, so the equation no longer holds by
/// design.)
fn check_file_replay(state: &State) -> Result<(), InvariantViolation> {
    let mut ops_by_file: BTreeMap<Ino, Vec<&PendingKind>> = BTreeMap::new();
    for p in state.pending.values() {
        if let Some(ino) = p.kind.data_ino() {
            ops_by_file.entry(ino).or_default().push(&p.kind);
        }
    }
    for (ino, node) in &state.nodes {
        let Node::File(file) = node else { continue };
        if file.diverged {
            continue;
        }
        let ops = ops_by_file.get(ino).map_or(&[][..], Vec::as_slice);
        let replayed: Cow<'_, [u8]> = if ops.is_empty() {
            Cow::Borrowed(file.durable.as_slice())
        } else {
            let mut bytes = file.durable.as_ref().clone();
            for op in ops {
                op.apply_to_file(&mut bytes);
            }
            Cow::Owned(bytes)
        };
        if *replayed != **file.visible {
            return Err(InvariantViolation::FileReplay {
                ino: *ino,
                path: state.path_of(*ino),
                ops: ops.len(),
                difference: bytes_difference(&replayed, &file.visible),
            });
        }
    }
    Ok(())
}

/// The first name whose inode differs between two entry maps, in words.
fn entries_difference(replayed: &BTreeMap<String, Ino>, visible: &BTreeMap<String, Ino>) -> String {
    let names: BTreeSet<&String> = replayed.keys().chain(visible.keys()).collect();
    for name in names {
        let (a, b) = (replayed.get(name), visible.get(name));
        if a != b {
            let show = |x: Option<&Ino>| x.map_or("no entry".to_string(), |i| format!("inode {i}"));
            return format!("name `{name}`: replayed {}, visible {}", show(a), show(b));
        }
    }
    "no name differs".to_string()
}

/// For every directory: durable entries + its unsynced directory ops (its
/// half of each rename) in issue order == visible entries.
fn check_dir_replay(state: &State) -> Result<(), InvariantViolation> {
    let mut ops_by_dir: BTreeMap<Ino, Vec<&PendingKind>> = BTreeMap::new();
    for p in state.pending.values() {
        for dir in p.kind.dir_inos() {
            ops_by_dir.entry(dir).or_default().push(&p.kind);
        }
    }
    for (ino, node) in &state.nodes {
        let Node::Dir(dir) = node else { continue };
        let ops = ops_by_dir.get(ino).map_or(&[][..], Vec::as_slice);
        let replayed = if ops.is_empty() {
            Cow::Borrowed(&dir.durable)
        } else {
            let mut entries = dir.durable.clone();
            for op in ops {
                op.apply_to_dir(*ino, &mut entries);
            }
            Cow::Owned(entries)
        };
        if *replayed != dir.visible {
            return Err(InvariantViolation::DirReplay {
                ino: *ino,
                path: state.path_of(*ino),
                ops: ops.len(),
                difference: entries_difference(&replayed, &dir.visible),
            });
        }
    }
    Ok(())
}

fn image_fault(detail: String) -> Result<(), InvariantViolation> {
    Err(InvariantViolation::CrashImage { detail })
}

/// A crash image is a filesystem just started on durable state: visible ==
/// durable everywhere, nothing unsynced, no handles or locks, step 0, an
/// empty trace, no hook; it holds only what is reachable from `/`, each
/// directory under one name; and every invariant of [`check_state`] holds.
pub(crate) fn check_crash_image(image: &State) -> Result<(), InvariantViolation> {
    if !image.pending.is_empty() {
        return image_fault(format!(
            "{} unsynced op(s) left, the first `{}`",
            image.pending.len(),
            image
                .pending
                .values()
                .next()
                .map_or("", |p| p.label.as_str())
        ));
    }
    if !image.handles.is_empty() || !image.locked.is_empty() {
        return image_fault(format!(
            "{} open handle(s) and {} lock(s) survived the crash",
            image.handles.len(),
            image.locked.len()
        ));
    }
    if image.steps != 0 || image.next_seq != 0 || !image.trace.entries.is_empty() {
        return image_fault(format!(
            "step counter {}, sequence counter {}, {} trace entries; a new image starts at 0",
            image.steps,
            image.next_seq,
            image.trace.entries.len()
        ));
    }
    if image.crashed || image.hook.is_set() || !image.step_faults.is_empty() {
        return image_fault("is crashed, has a step hook or pending step faults".to_string());
    }
    for (ino, node) in &image.nodes {
        let same = match node {
            Node::File(f) => !f.diverged && f.visible == f.durable,
            Node::Dir(d) => d.visible == d.durable,
        };
        if !same {
            return image_fault(format!(
                "inode {ino} ({}): visible state differs from durable state",
                image.path_of(*ino)
            ));
        }
    }
    check_image_tree(image)?;
    check_state(image)
}

/// Every node of an image is reachable from `/`, and a directory has one
/// name (the first in breadth-first name order, like fsck would keep).
fn check_image_tree(image: &State) -> Result<(), InvariantViolation> {
    let mut reached = BTreeSet::from([ROOT]);
    let mut queue = VecDeque::from([ROOT]);
    while let Some(dir) = queue.pop_front() {
        let entries = &image.dir_referenced(dir, || "a directory of the image".to_string())?;
        for (name, ino) in &entries.visible {
            let first = reached.insert(*ino);
            match image.nodes.get(ino) {
                Some(Node::Dir(_)) if first => queue.push_back(*ino),
                Some(Node::Dir(_)) => {
                    return image_fault(format!(
                        "directory inode {ino} has a second name `{name}` in directory inode {dir}"
                    ));
                }
                _ => {}
            }
        }
    }
    if let Some(orphan) = image.nodes.keys().find(|ino| !reached.contains(ino)) {
        return image_fault(format!(
            "inode {orphan} is kept but not reachable from /; a crash image holds only what \
             its durable entries reach"
        ));
    }
    Ok(())
}

/// A torn write as applied to one file of an image.
pub(crate) struct TornWrite<'a> {
    /// The write's label, for messages.
    pub label: &'a str,
    pub offset: u64,
    pub data: &'a [u8],
    /// One fate per sector the write touches, in file order.
    pub sectors: &'a [SectorFate],
    pub sector_size_bytes: u64,
}

/// The torn-write rule, byte by byte, computed independently of how the
/// write was applied: bytes outside the write's range are unchanged; in
/// range, an old sector keeps the old byte (zero past the old end), a new
/// sector has the written byte, a garbage sector has a byte different from
/// both; and the file grows only to the end of the last sector that is not
/// old (clipped to the write's end), never shrinks.
pub(crate) fn check_torn_write(
    write: &TornWrite<'_>,
    before: &[u8],
    after: &[u8],
) -> Result<(), InvariantViolation> {
    let fault = |detail: String| {
        Err(InvariantViolation::TornWrite {
            label: write.label.to_string(),
            detail,
        })
    };
    let start = to_usize(write.offset);
    let end = start.saturating_add(write.data.len());
    let sector_size_bytes = to_usize(write.sector_size_bytes.max(1));
    let first_sector = start / sector_size_bytes;
    let fate_at = |i: usize| write.sectors.get(i / sector_size_bytes - first_sector);
    let sectors_expected = (end.saturating_sub(1) / sector_size_bytes) + 1 - first_sector;
    if write.sectors.len() != sectors_expected {
        return fault(format!(
            "{} sector fates for a write touching {sectors_expected} sectors",
            write.sectors.len()
        ));
    }
    let last_reached = (start..end)
        .rev()
        .find(|&i| fate_at(i) != Some(&SectorFate::Old));
    let len_expected = last_reached.map_or(before.len(), |i| before.len().max(i + 1));
    if after.len() != len_expected {
        return fault(format!(
            "the file is {} bytes, expected {len_expected} (it was {} bytes; the write \
             grows it only to the end of its last sector that reached the disk)",
            after.len(),
            before.len()
        ));
    }
    for (i, &byte) in after.iter().enumerate() {
        let old = before.get(i).copied().unwrap_or(0);
        let fate = (i >= start && i < end).then(|| fate_at(i)).flatten();
        let ok = match fate {
            None => byte == old,
            Some(SectorFate::Old) => byte == old,
            Some(SectorFate::New) => byte == write.data[i - start],
            Some(SectorFate::Garbage) => byte != old && byte != write.data[i - start],
        };
        if !ok {
            return fault(format!(
                "byte {i} is {byte:#04x} (old {old:#04x}); its sector's fate is {}",
                fate.map_or("outside the write".to_string(), |f| format!("{f:?}"))
            ));
        }
    }
    Ok(())
}

/// What must not change in the running filesystem while a crash image is
/// built from it (the pair check of TigerBeetle's `reset()`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Fingerprint {
    steps: u64,
    next_seq: u64,
    next_ino: Ino,
    pending: Vec<u64>,
    handles: usize,
    locked: usize,
    nodes: usize,
    trace_entries: usize,
    crashed: bool,
}

impl Fingerprint {
    pub fn of(state: &State) -> Self {
        Self {
            steps: state.steps,
            next_seq: state.next_seq,
            next_ino: state.next_ino,
            pending: state.pending.keys().copied().collect(),
            handles: state.handles.len(),
            locked: state.locked.len(),
            nodes: state.nodes.len(),
            trace_entries: state.trace.entries.len(),
            crashed: state.crashed,
        }
    }

    /// Whether `state` still has this fingerprint.
    pub fn check_unchanged(&self, state: &State) -> Result<(), InvariantViolation> {
        let now = Self::of(state);
        if now == *self {
            Ok(())
        } else {
            Err(InvariantViolation::SourceChanged {
                detail: format!("before {self:?}, after {now:?}"),
            })
        }
    }
}

impl From<InvariantViolation> for std::io::Error {
    /// An `io::Error` (kind `Other`) carrying the violation, for the
    /// operations that return `io::Result`.
    fn from(violation: InvariantViolation) -> Self {
        std::io::Error::other(violation)
    }
}
