//! Building post-crash states: which unsynced operations survive under each
//! [`CrashModel`], one seeded pick or all of them.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};

use super::CrashModel;
use super::error::TooManyStates;
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
            }
        }
        Ok(())
    }
}

/// The sectors a write of `len > 0` bytes at `offset` touches.
fn sectors_touched(offset: u64, len: u64, sector: u64) -> u64 {
    let first = offset / sector;
    let last = offset.saturating_add(len).saturating_sub(1) / sector;
    last - first + 1
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
/// (each sector old, new or garbage), 2 for anything else. `None` on overflow.
fn subset_choices(p: &Pending, sector: u64) -> Option<u64> {
    match &p.kind {
        PendingKind::Write { offset, data, .. } => {
            let n = sectors_touched(*offset, data.len() as u64, sector);
            3u64.checked_pow(u32::try_from(n).ok()?)
        }
        _ => Some(2),
    }
}

/// The `digit`th Subset outcome of `p` (`digit < subset_choices`).
fn subset_fate(p: &Pending, sector: u64, mut digit: u64) -> OpFate {
    match &p.kind {
        PendingKind::Write { offset, data, .. } => {
            let n = sectors_touched(*offset, data.len() as u64, sector);
            let mut fates = vec![SectorFate::Old; to_usize(n)];
            for slot in fates.iter_mut().rev() {
                *slot = SECTOR_FATES[(digit % 3) as usize];
                digit /= 3;
            }
            write_fate(fates)
        }
        _ if digit == 0 => OpFate::Lost,
        _ => OpFate::Kept,
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
                    if p.kind.dir_ino().is_some() {
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
            let sector = state.config.sector();
            state
                .pending
                .values()
                .try_fold(1u64, |acc, p| acc.checked_mul(subset_choices(p, sector)?))
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
    let garbage_seed = child(state.config.seed, state.steps.wrapping_mul(2));
    let base = child(state.config.seed, state.steps.wrapping_mul(2) + 1);
    let sector = state.config.sector();
    let mut out = Vec::with_capacity(to_usize(total));
    for idx in 0..total {
        let fates = match fixed_fates(state, model) {
            Some(f) => f,
            None if model == CrashModel::Prefix => state
                .pending
                .keys()
                .enumerate()
                .map(|(i, _)| {
                    if (i as u64) < idx {
                        OpFate::Kept
                    } else {
                        OpFate::Lost
                    }
                })
                .collect(),
            None => {
                // Mixed radix, the first op most significant.
                let mut rest = idx;
                let mut fates: Vec<OpFate> = state
                    .pending
                    .values()
                    .rev()
                    .map(|p| {
                        let radix = subset_choices(p, sector).unwrap_or(1);
                        let digit = rest % radix;
                        rest /= radix;
                        subset_fate(p, sector, digit)
                    })
                    .collect();
                fates.reverse();
                fates
            }
        };
        let image = build(state, model, fates, garbage_seed, child(base, idx));
        out.push(image);
    }
    Ok(out)
}

/// One seeded post-crash state of `model`.
pub(crate) fn pick(state: &State, model: CrashModel, seed: u64) -> (CrashChoice, State) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let sector = state.config.sector();
    let fates = match fixed_fates(state, model) {
        Some(f) => f,
        None if model == CrashModel::Prefix => {
            let k = below(&mut rng, state.pending.len() as u64 + 1);
            (0..state.pending.len() as u64)
                .map(|i| if i < k { OpFate::Kept } else { OpFate::Lost })
                .collect()
        }
        None => state
            .pending
            .values()
            .map(|p| match &p.kind {
                PendingKind::Write { offset, data, .. } => match below(&mut rng, 3) {
                    0 => OpFate::Lost,
                    1 => OpFate::Kept,
                    _ => {
                        let n = sectors_touched(*offset, data.len() as u64, sector);
                        write_fate(
                            (0..n)
                                .map(|_| SECTOR_FATES[below(&mut rng, 3) as usize])
                                .collect(),
                        )
                    }
                },
                _ if below(&mut rng, 2) == 0 => OpFate::Lost,
                _ => OpFate::Kept,
            })
            .collect(),
    };
    let garbage_seed = rng.next_u64();
    build(state, model, fates, garbage_seed, child(seed, 0xC0FF))
}

/// The state after a crash in which op `i` of the pending log met `fates[i]`:
/// durable state plus the surviving ops applied in issue order, then only
/// what is reachable from `/` through durable entries.
fn build(
    state: &State,
    model: CrashModel,
    fates: Vec<OpFate>,
    garbage_seed: u64,
    image_seed: u64,
) -> (CrashChoice, State) {
    let sector = state.config.sector();
    let mut dirs: BTreeMap<Ino, BTreeMap<String, Ino>> = BTreeMap::new();
    let mut files: BTreeMap<Ino, Vec<u8>> = BTreeMap::new();
    for ((seq, p), fate) in state.pending.iter().zip(&fates) {
        if *fate == OpFate::Lost {
            continue;
        }
        if let Some(dir) = p.kind.dir_ino() {
            let entries = dirs.entry(dir).or_insert_with(|| {
                state
                    .dir(dir)
                    .map(|d| d.durable.clone())
                    .unwrap_or_default()
            });
            p.kind.apply_to_dir(entries);
        } else if let Some(ino) = p.kind.data_ino() {
            let bytes = files.entry(ino).or_insert_with(|| {
                state
                    .file(ino)
                    .map(|f| f.durable.as_ref().clone())
                    .unwrap_or_default()
            });
            match (fate, &p.kind) {
                (OpFate::Torn(fates), PendingKind::Write { offset, data, .. }) => {
                    apply_torn(bytes, *offset, data, fates, sector, garbage_seed, *seq);
                }
                _ => p.kind.apply_to_file(bytes),
            }
        }
    }
    let nodes = reachable(state, &dirs, files);
    let mut config = state.config.clone();
    config.seed = image_seed;
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
    (choice, State::from_nodes(config, nodes, state.next_ino))
}

fn apply_torn(
    bytes: &mut Vec<u8>,
    offset: u64,
    data: &[u8],
    fates: &[SectorFate],
    sector: u64,
    garbage_seed: u64,
    seq: u64,
) {
    let start = to_usize(offset);
    let end = start.saturating_add(data.len());
    let old_len = bytes.len();
    if bytes.len() < end {
        bytes.resize(end, 0);
    }
    let sector = to_usize(sector);
    let first_sector = start / sector;
    for (i, fate) in fates.iter().enumerate() {
        let s = first_sector + i;
        let lo = s.saturating_mul(sector).max(start);
        let hi = s.saturating_add(1).saturating_mul(sector).min(end);
        if lo >= hi {
            continue;
        }
        let new = &data[lo - start..hi - start];
        match fate {
            SectorFate::Old => {}
            SectorFate::New => bytes[lo..hi].copy_from_slice(new),
            SectorFate::Garbage => {
                // Old bytes past the old end read as zeros, already there.
                let old = &bytes[lo..hi];
                let junk = garbage(garbage_seed, seq, s as u64, old, new);
                bytes[lo..hi].copy_from_slice(&junk);
            }
        }
    }
    debug_assert!(bytes.len() >= old_len);
}

/// The nodes reachable from `/` through durable entries (overlaid by `dirs`),
/// each with visible == durable. Unchanged files share their bytes with
/// `state`. A directory reached a second time (possible when two halves of
/// cross-directory renames survive differently) keeps only its first name, in
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
                .dir(dir)
                .map(|d| d.durable.clone())
                .unwrap_or_default(),
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
                None => {}
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
