//! Building post-crash states: which unsynced operations survive under each
//! [`CrashModel`], one seeded pick or all of them.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::SeedableRng;

use super::CrashModel;
use super::digest::{self, ContentDigest, NodeView, Tree};
use super::error::TooManyStates;
use super::invariants::{
    Fingerprint, InvariantViolation, TornWrite, check_crash_image, check_torn_write,
    debug_assert_holds, invariant_broken,
};
use super::seeds::{below, child, garbage};
use super::state::{DirNode, FileNode, Ino, Node, Pending, PendingKind, ROOT, State, to_usize};

/// What a crash left of one sector of a torn write.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SectorFate {
    /// The bytes before the write (zeros past the old end).
    Old,
    /// The written bytes.
    New,
    /// Garbage: every byte differs from both the old and the new byte.
    Garbage,
}

impl SectorFate {
    fn name(self) -> &'static str {
        match self {
            SectorFate::Old => "old",
            SectorFate::New => "new",
            SectorFate::Garbage => "garbage",
        }
    }
}

/// Which half of a rename across two directories reached the disk when the
/// other did not (each directory's entries are written back on their own).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RenameHalf {
    /// The source directory's half: the old name is gone and the new name
    /// was not written, so the file is under neither name.
    OldNameRemoved,
    /// The target directory's half: the new name is there and the old one
    /// was not removed, so the file is under both names.
    NewNameAdded,
}

impl RenameHalf {
    fn name(self) -> &'static str {
        match self {
            RenameHalf::OldNameRemoved => "old name removed, new name not written",
            RenameHalf::NewNameAdded => "new name written, old name not removed",
        }
    }
}

/// What a crash left of one unsynced operation.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OpFate {
    /// It did not reach the disk.
    Lost,
    /// It reached the disk whole.
    Kept,
    /// A write that reached the disk in part: one fate per sector it touches,
    /// in file order, at least one not `Old` and at least one not `New`.
    Torn(Vec<SectorFate>),
    /// A rename across two directories of which one directory's half reached
    /// the disk (Subset model only).
    Half(RenameHalf),
}

/// One unsynced operation and what the crash left of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpChoice {
    /// The step that issued it.
    pub step: u64,
    /// What it was (`write /d/a @0+10`, `create /d/a`, `rename /d/a -> /d/b`).
    pub label: String,
    /// What survived of it.
    pub fate: OpFate,
}

/// Which unsynced operations survived a crash and how each write was torn.
/// `Display` is one readable line, used in traces and reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CrashChoice {
    model: CrashModel,
    ops: Vec<OpChoice>,
}

impl CrashChoice {
    /// The crash model the state was drawn from.
    pub fn model(&self) -> CrashModel {
        self.model
    }

    /// Every operation that was unsynced at the crash, in issue order, with
    /// its fate.
    pub fn ops(&self) -> &[OpChoice] {
        &self.ops
    }

    /// How many unsynced operations survived whole.
    pub fn kept(&self) -> usize {
        self.count(|f| matches!(f, OpFate::Kept))
    }

    /// How many were lost.
    pub fn lost(&self) -> usize {
        self.count(|f| matches!(f, OpFate::Lost))
    }

    /// How many writes were torn.
    pub fn torn(&self) -> usize {
        self.count(|f| matches!(f, OpFate::Torn(_)))
    }

    /// How many renames across directories survived in one directory only.
    pub fn halved(&self) -> usize {
        self.count(|f| matches!(f, OpFate::Half(_)))
    }

    fn count(&self, pred: impl Fn(&OpFate) -> bool) -> usize {
        self.ops.iter().filter(|o| pred(&o.fate)).count()
    }
}

impl fmt::Display for CrashChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.model)?;
        if self.ops.is_empty() {
            return f.write_str("nothing was unsynced");
        }
        for (i, op) in self.ops.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            match &op.fate {
                OpFate::Lost => write!(f, "lost #{} {}", op.step, op.label)?,
                OpFate::Kept => write!(f, "kept #{} {}", op.step, op.label)?,
                OpFate::Torn(sectors) => {
                    write!(f, "TORN #{} {} [", op.step, op.label)?;
                    for (j, s) in sectors.iter().enumerate() {
                        if j > 0 {
                            f.write_str(" ")?;
                        }
                        f.write_str(s.name())?;
                    }
                    f.write_str("]")?;
                }
                OpFate::Half(half) => {
                    write!(f, "HALF #{} {} [{}]", op.step, op.label, half.name())?;
                }
            }
        }
        Ok(())
    }
}

/// The sectors a write of `len > 0` bytes at `offset` touches.
fn sectors_touched(offset: u64, len: u64, sector_size_bytes: u64) -> u64 {
    let first = offset / sector_size_bytes;
    let last = offset.saturating_add(len).saturating_sub(1) / sector_size_bytes;
    last - first + 1
}

/// How many sectors the pending write `p` touches (0 for any other op).
fn write_sectors(p: &Pending, sector_size_bytes: u64) -> u64 {
    match &p.kind {
        PendingKind::Write { offset, data, .. } => {
            sectors_touched(*offset, data.len() as u64, sector_size_bytes)
        }
        _ => 0,
    }
}

/// Canonical fate of a write from per-sector fates: all old is lost, all new
/// is kept, anything else is torn.
fn write_fate(sectors: Vec<SectorFate>) -> OpFate {
    if sectors.iter().all(|s| *s == SectorFate::Old) {
        OpFate::Lost
    } else if sectors.iter().all(|s| *s == SectorFate::New) {
        OpFate::Kept
    } else {
        OpFate::Torn(sectors)
    }
}

const SECTOR_FATES: [SectorFate; 3] = [SectorFate::Old, SectorFate::New, SectorFate::Garbage];

/// How many outcomes one pending op has under Subset: 3^sectors for a write
/// (each sector old, new or garbage), 4 for a rename across directories
/// (each half independently), 2 for anything else. `None` on overflow.
fn subset_choices(p: &Pending, sector_size_bytes: u64) -> Option<u64> {
    match &p.kind {
        PendingKind::Write { .. } => {
            3u64.checked_pow(u32::try_from(write_sectors(p, sector_size_bytes)).ok()?)
        }
        kind if kind.is_cross_dir_rename() => Some(4),
        _ => Some(2),
    }
}

/// The `digit`th Subset outcome of `p` (`digit < subset_choices`), the
/// first (0) always `Lost`.
fn subset_fate(p: &Pending, sector_size_bytes: u64, mut digit: u64) -> OpFate {
    match &p.kind {
        PendingKind::Write { .. } => {
            let n = write_sectors(p, sector_size_bytes);
            let mut fates = vec![SectorFate::Old; to_usize(n)];
            for slot in fates.iter_mut().rev() {
                *slot = SECTOR_FATES[(digit % 3) as usize];
                digit /= 3;
            }
            write_fate(fates)
        }
        // A unit has digits 0 and 1 only; a rename across directories also
        // 2 and 3, its halves.
        _ => match digit {
            0 => OpFate::Lost,
            1 => OpFate::Kept,
            2 => OpFate::Half(RenameHalf::OldNameRemoved),
            _ => OpFate::Half(RenameHalf::NewNameAdded),
        },
    }
}

fn fixed_fates(state: &State, model: CrashModel) -> Option<Vec<OpFate>> {
    match model {
        CrashModel::DropUnsynced => Some(vec![OpFate::Lost; state.pending.len()]),
        CrashModel::EagerDirs => Some(
            state
                .pending
                .values()
                .map(|p| {
                    if p.kind.dir_inos().next().is_some() {
                        OpFate::Kept
                    } else {
                        OpFate::Lost
                    }
                })
                .collect(),
        ),
        CrashModel::Prefix | CrashModel::Subset => None,
    }
}

/// How many states [`enumerate`] yields for `model`, or `None` past `u64`.
pub(crate) fn count(state: &State, model: CrashModel) -> Option<u64> {
    match model {
        CrashModel::DropUnsynced | CrashModel::EagerDirs => Some(1),
        CrashModel::Prefix => (state.pending.len() as u64).checked_add(1),
        CrashModel::Subset => {
            let sector_size_bytes = state.config.sector_size_bytes_used();
            state.pending.values().try_fold(1u64, |acc, p| {
                acc.checked_mul(subset_choices(p, sector_size_bytes)?)
            })
        }
    }
}

/// Every post-crash state of `model`, in a deterministic order (the first is
/// always "everything unsynced lost"), or `TooManyStates` past `cap`.
pub(crate) fn enumerate(
    state: &State,
    model: CrashModel,
    cap: usize,
) -> Result<Vec<(CrashChoice, State)>, TooManyStates> {
    let total = count(state, model).unwrap_or(u64::MAX);
    if total > cap as u64 {
        return Err(TooManyStates {
            cap,
            at_least: total,
        });
    }
    Ok((0..total)
        .map(|idx| build(state, state.steps, model, fates_at(state, model, idx)))
        .collect())
}

/// The fates of state `idx` (below [`count`]) in [`enumerate`]'s order.
pub(crate) fn fates_at(state: &State, model: CrashModel, idx: u64) -> Vec<OpFate> {
    if let Some(fates) = fixed_fates(state, model) {
        return fates;
    }
    if model == CrashModel::Prefix {
        return (0..state.pending.len() as u64)
            .map(|i| if i < idx { OpFate::Kept } else { OpFate::Lost })
            .collect();
    }
    // Mixed radix, the first op most significant.
    let sector_size_bytes = state.config.sector_size_bytes_used();
    let mut rest = idx;
    let mut fates: Vec<OpFate> = state
        .pending
        .values()
        .rev()
        .map(|p| {
            let radix = subset_choices(p, sector_size_bytes).unwrap_or(1);
            let digit = rest % radix;
            rest /= radix;
            subset_fate(p, sector_size_bytes, digit)
        })
        .collect();
    fates.reverse();
    fates
}

/// One seeded post-crash state of `model`: Prefix keeps the first `k` ops,
/// `k` uniform in `0..=n`; Subset keeps each directory op with probability
/// 1/2 (each half of a rename across directories on its own), and loses,
/// keeps or tears each write with 1/3 each. Every state [`enumerate`] lists
/// can come out, as the very same image (see [`build`]).
pub(crate) fn pick(state: &State, model: CrashModel, seed: u64) -> (CrashChoice, State) {
    build(state, state.steps, model, fates_picked(state, model, seed))
}

/// The fates [`pick`] draws with `seed`.
pub(crate) fn fates_picked(state: &State, model: CrashModel, seed: u64) -> Vec<OpFate> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let sector_size_bytes = state.config.sector_size_bytes_used();
    match fixed_fates(state, model) {
        Some(f) => f,
        None if model == CrashModel::Prefix => {
            let n = state.pending.len() as u64;
            let k = below(&mut rng, n + 1);
            (0..n)
                .map(|i| if i < k { OpFate::Kept } else { OpFate::Lost })
                .collect()
        }
        None => state
            .pending
            .values()
            .map(|p| pick_subset_fate(&mut rng, p, sector_size_bytes))
            .collect(),
    }
}

fn pick_subset_fate(rng: &mut ChaCha8Rng, p: &Pending, sector_size_bytes: u64) -> OpFate {
    match &p.kind {
        PendingKind::Write { .. } => match below(rng, 3) {
            0 => OpFate::Lost,
            1 => OpFate::Kept,
            _ => pick_tear(rng, write_sectors(p, sector_size_bytes)),
        },
        // Any other op: one of the outcomes enumeration lists, uniformly
        // (two for a unit, four for the two independent halves of a rename
        // across directories).
        _ => {
            let choices = subset_choices(p, sector_size_bytes).unwrap_or(1);
            subset_fate(p, sector_size_bytes, below(rng, choices))
        }
    }
}

/// A torn write of `n >= 1` sectors: each sector old, new or garbage at
/// random; a draw that came out all old or all new (not torn) has one
/// random sector turned to garbage. Every torn combination can come out.
fn pick_tear(rng: &mut ChaCha8Rng, n: u64) -> OpFate {
    let mut sectors: Vec<SectorFate> = (0..n)
        .map(|_| SECTOR_FATES[below(rng, 3) as usize])
        .collect();
    let all = |fate: SectorFate| sectors.iter().all(|s| *s == fate);
    if all(SectorFate::Old) || all(SectorFate::New) {
        sectors[to_usize(below(rng, n))] = SectorFate::Garbage;
    }
    OpFate::Torn(sectors)
}

/// The seed of everything random in the images of the moment `steps` steps
/// into the run of `state`: a function of the source's seed and the moment
/// alone, never of a pick's seed.
fn moment_seed(state: &State, steps: u64) -> u64 {
    child(state.config.seed, steps)
}

/// The seed garbage bytes are drawn from, so a pick and the enumeration
/// tear a write into the same bytes.
fn garbage_seed(state: &State, steps: u64) -> u64 {
    child(moment_seed(state, steps), 0)
}

/// The seed of the image built from `fates`: a function of the source
/// state, the moment and the choice alone, so the same choice gives the
/// same image whether it was picked or enumerated, and different choices
/// different seeds.
fn image_seed(state: &State, steps: u64, fates: &[OpFate]) -> u64 {
    let mut tokens = Vec::with_capacity(fates.len());
    for fate in fates {
        match fate {
            OpFate::Lost => tokens.push(0),
            OpFate::Kept => tokens.push(1),
            OpFate::Half(RenameHalf::OldNameRemoved) => tokens.push(2),
            OpFate::Half(RenameHalf::NewNameAdded) => tokens.push(3),
            OpFate::Torn(sectors) => {
                tokens.push(4);
                tokens.extend(sectors.iter().map(|s| *s as u64));
            }
        }
    }
    tokens
        .into_iter()
        .fold(child(moment_seed(state, steps), 1), child)
}

/// Whether the image `fates` make depends on the moment besides the disk:
/// only garbage sectors do (their bytes are drawn from the moment's seed).
pub(crate) fn draws_garbage(fates: &[OpFate]) -> bool {
    fates.iter().any(|fate| match fate {
        OpFate::Torn(sectors) => sectors.contains(&SectorFate::Garbage),
        _ => false,
    })
}

/// What the surviving ops (or halves, or torn sectors) of a crash made of
/// the durable state: the entries of each directory they touched and the
/// bytes of each file they changed, the rest as durable.
struct Overlay {
    dirs: BTreeMap<Ino, BTreeMap<String, Ino>>,
    files: BTreeMap<Ino, Vec<u8>>,
}

/// Durable state plus the ops of the pending log that met a surviving fate
/// (`fates[i]` for op `i`), applied in issue order.
fn overlay(state: &State, steps: u64, fates: &[OpFate]) -> Overlay {
    let sector_size_bytes = state.config.sector_size_bytes_used();
    let garbage_seed = garbage_seed(state, steps);
    let mut dirs: BTreeMap<Ino, BTreeMap<String, Ino>> = BTreeMap::new();
    let mut files: BTreeMap<Ino, Vec<u8>> = BTreeMap::new();
    for ((seq, p), fate) in state.pending.iter().zip(fates) {
        let referrer = || format!("unsynced op #{seq} `{}`", p.label);
        let dirs_reached: [Option<Ino>; 2] = match (fate, &p.kind) {
            (OpFate::Lost, _) => [None, None],
            (OpFate::Half(RenameHalf::OldNameRemoved), PendingKind::Rename { from_dir, .. }) => {
                [Some(*from_dir), None]
            }
            (OpFate::Half(RenameHalf::NewNameAdded), PendingKind::Rename { to_dir, .. }) => {
                [Some(*to_dir), None]
            }
            _ => {
                let mut dirs = p.kind.dir_inos();
                [dirs.next(), dirs.next()]
            }
        };
        for dir in dirs_reached.into_iter().flatten() {
            let entries = dirs
                .entry(dir)
                .or_insert_with(|| state.dir_or_broken(dir, referrer).durable.clone());
            p.kind.apply_to_dir(dir, entries);
        }
        let Some(ino) = p.kind.data_ino() else {
            continue;
        };
        if *fate == OpFate::Lost {
            continue;
        }
        let bytes = files
            .entry(ino)
            .or_insert_with(|| state.file_or_broken(ino, referrer).durable.as_ref().clone());
        match (fate, &p.kind) {
            (OpFate::Torn(sectors), PendingKind::Write { offset, data, .. }) => {
                let write = TornWrite {
                    label: &p.label,
                    offset: *offset,
                    data,
                    sectors,
                    sector_size_bytes,
                };
                let before = cfg!(debug_assertions).then(|| bytes.clone());
                apply_torn(bytes, &write, garbage_seed, *seq);
                if let Some(before) = before {
                    debug_assert_holds(|| check_torn_write(&write, &before, bytes));
                }
            }
            _ => p.kind.apply_to_file(bytes),
        }
    }
    Overlay { dirs, files }
}

/// The state after a crash, `steps` steps into the run of `state` (its own
/// step counter, or a later one that changed nothing on disk), in which op
/// `i` of the pending log met `fates[i]`: durable state plus the surviving
/// ops (or halves, or torn sectors) applied in issue order, then only what
/// is reachable from `/` through durable entries. Depends on the source
/// state, the moment and `fates` only.
pub(crate) fn build(
    state: &State,
    steps: u64,
    model: CrashModel,
    fates: Vec<OpFate>,
) -> (CrashChoice, State) {
    let source = cfg!(debug_assertions).then(|| Fingerprint::of(state));
    let Overlay { dirs, files } = overlay(state, steps, &fates);
    let nodes = reachable(state, &dirs, files);
    let mut config = state.config.clone();
    config.seed = image_seed(state, steps, &fates);
    let choice = CrashChoice {
        model,
        ops: state
            .pending
            .values()
            .zip(fates)
            .map(|(p, fate)| OpChoice {
                step: p.step,
                label: p.label.clone(),
                fate,
            })
            .collect(),
    };
    let image = State::from_nodes(config, nodes, state.next_ino);
    debug_assert_holds(|| check_crash_image(&image));
    if let Some(source) = source {
        debug_assert_holds(|| source.check_unchanged(state));
    }
    (choice, image)
}

/// The content digest of the image [`build`] makes of `fates`, without
/// building it: the same walk over the same tree (what is reachable from
/// `/` through the overlaid durable entries, a directory reached twice
/// kept under its first name in breadth-first name order), fed from the
/// source's bytes. Equal to `build(..).content_digest()` by construction
/// (`the_digest_of_a_crash_state_is_its_images` in the tests checks it).
pub(crate) fn digest(state: &State, steps: u64, fates: &[OpFate]) -> ContentDigest {
    let Overlay { dirs, files } = overlay(state, steps, fates);
    let kept = kept_entries(state, &dirs);
    digest::of_settled(&CrashTree { state, kept, files })
}

/// A crash state as a tree to digest (see [`digest`]).
struct CrashTree<'s> {
    state: &'s State,
    /// Every reachable directory's entries, as [`reachable`] keeps them.
    kept: BTreeMap<Ino, Cow<'s, BTreeMap<String, Ino>>>,
    /// The bytes of the files the crash changed.
    files: BTreeMap<Ino, Vec<u8>>,
}

impl Tree for CrashTree<'_> {
    fn node(&self, ino: Ino) -> Option<NodeView<'_>> {
        if let Some(entries) = self.kept.get(&ino) {
            return Some(NodeView::Dir(entries));
        }
        match self.state.nodes.get(&ino)? {
            Node::File(f) => Some(NodeView::File(
                self.files
                    .get(&ino)
                    .map_or(f.durable.as_slice(), Vec::as_slice),
            )),
            // Not reachable: no kept entry names it.
            Node::Dir(_) => None,
        }
    }
}

/// The entries [`reachable`] keeps in each directory reachable from `/`
/// (the same breadth-first walk), borrowed where it keeps them all.
fn kept_entries<'s>(
    state: &'s State,
    dirs: &'s BTreeMap<Ino, BTreeMap<String, Ino>>,
) -> BTreeMap<Ino, Cow<'s, BTreeMap<String, Ino>>> {
    let mut kept = BTreeMap::new();
    let mut seen_dirs = BTreeSet::from([ROOT]);
    let mut queue = std::collections::VecDeque::from([ROOT]);
    while let Some(dir) = queue.pop_front() {
        let entries = match dirs.get(&dir) {
            Some(e) => e,
            None => {
                &state
                    .dir_or_broken(dir, || {
                        format!("a durable entry naming directory inode {dir}")
                    })
                    .durable
            }
        };
        // A directory met again keeps only its first name (as `reachable`).
        let mut dropped: Vec<&String> = Vec::new();
        for (name, ino) in entries {
            match state.nodes.get(ino) {
                Some(Node::Dir(_)) if seen_dirs.insert(*ino) => queue.push_back(*ino),
                Some(Node::Dir(_)) => dropped.push(name),
                Some(Node::File(_)) => {}
                None => invariant_broken(&InvariantViolation::MissingInode {
                    ino: *ino,
                    referrer: format!("the durable entry `{name}` of directory inode {dir}"),
                }),
            }
        }
        let entries = if dropped.is_empty() {
            Cow::Borrowed(entries)
        } else {
            let mut first = entries.clone();
            for name in dropped {
                first.remove(name);
            }
            Cow::Owned(first)
        };
        kept.insert(dir, entries);
    }
    kept
}

/// Applies a torn write: each sector keeps its old bytes, gets the new ones
/// or garbage; the file grows only to the end of the last sector that is
/// not old (clipped to the write's end), as a file's length grows sector by
/// sector on write-back. Garbage differs from the old and the new byte at
/// every position and depends only on `garbage_seed`, the op and the sector.
fn apply_torn(bytes: &mut Vec<u8>, write: &TornWrite<'_>, garbage_seed: u64, seq: u64) {
    let start = to_usize(write.offset);
    let end = start.saturating_add(write.data.len());
    let sector_size_bytes = to_usize(write.sector_size_bytes);
    let first_sector = start / sector_size_bytes;
    let grown_end = write
        .sectors
        .iter()
        .rposition(|s| *s != SectorFate::Old)
        .map_or(0, |i| {
            (first_sector + i + 1)
                .saturating_mul(sector_size_bytes)
                .min(end)
        });
    bytes.resize(bytes.len().max(grown_end), 0);
    for (i, fate) in write.sectors.iter().enumerate() {
        let sector = first_sector + i;
        let lo = sector.saturating_mul(sector_size_bytes).max(start);
        let hi = sector
            .saturating_add(1)
            .saturating_mul(sector_size_bytes)
            .min(end);
        let new = &write.data[lo - start..hi - start];
        match fate {
            SectorFate::Old => {}
            SectorFate::New => bytes[lo..hi].copy_from_slice(new),
            SectorFate::Garbage => {
                // Old bytes past the old end read as zeros, already there.
                let old = &bytes[lo..hi];
                let junk = garbage(garbage_seed, seq, sector as u64, old, new);
                bytes[lo..hi].copy_from_slice(&junk);
            }
        }
    }
}

/// The nodes reachable from `/` through durable entries (overlaid by `dirs`),
/// each with visible == durable. Unchanged files share their bytes with
/// `state`. A directory reached a second time (possible when only one half
/// of a rename across directories survived) keeps only its first name, in
/// breadth-first name order, like fsck would.
fn reachable(
    state: &State,
    dirs: &BTreeMap<Ino, BTreeMap<String, Ino>>,
    mut files: BTreeMap<Ino, Vec<u8>>,
) -> BTreeMap<Ino, Node> {
    let mut nodes = BTreeMap::new();
    let mut seen_dirs = BTreeSet::new();
    let mut queue = std::collections::VecDeque::from([ROOT]);
    seen_dirs.insert(ROOT);
    let mut changed: BTreeMap<Ino, Arc<Vec<u8>>> = BTreeMap::new();
    while let Some(dir) = queue.pop_front() {
        let entries = match dirs.get(&dir) {
            Some(e) => e.clone(),
            None => state
                .dir_or_broken(dir, || {
                    format!("a durable entry naming directory inode {dir}")
                })
                .durable
                .clone(),
        };
        let mut kept = BTreeMap::new();
        for (name, ino) in entries {
            match state.nodes.get(&ino) {
                Some(Node::Dir(_)) if seen_dirs.insert(ino) => {
                    queue.push_back(ino);
                    kept.insert(name, ino);
                }
                Some(Node::Dir(_)) => {}
                Some(Node::File(f)) => {
                    let bytes = match files.remove(&ino) {
                        Some(b) => Arc::clone(changed.entry(ino).or_insert(Arc::new(b))),
                        None => match changed.get(&ino) {
                            Some(b) => Arc::clone(b),
                            None => Arc::clone(&f.durable),
                        },
                    };
                    nodes.insert(
                        ino,
                        Node::File(FileNode {
                            visible: Arc::clone(&bytes),
                            durable: bytes,
                            diverged: false,
                        }),
                    );
                    kept.insert(name, ino);
                }
                None => invariant_broken(&InvariantViolation::MissingInode {
                    ino,
                    referrer: format!("the durable entry `{name}` of directory inode {dir}"),
                }),
            }
        }
        nodes.insert(
            dir,
            Node::Dir(DirNode {
                visible: kept.clone(),
                durable: kept,
            }),
        );
    }
    nodes
}
