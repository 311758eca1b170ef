//! A moment of a simulated filesystem kept as a value ([`Snapshot`]), so
//! its crash states can be built, or only digested, later and on another
//! thread.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use crashproof_fault::StateSelector;

use super::CrashModel;
use super::crash::{self, OpFate};
use super::digest::{self, ContentDigest};
use super::invariants::{InvariantViolation, debug_assert_holds};
use super::sim_fs::{CrashSource, SimFs};
use super::state::State;

/// The state of a simulated filesystem at one moment, owned: what a step
/// hook's [`CrashSource`] sees, kept so that moment's crash states can be
/// built (or only digested) later, on any thread. Holds the inodes, the
/// unsynced log and the configuration (not handles, locks, trace or hook),
/// shared with the snapshots of later moments that changed nothing on disk,
/// plus the moment (its step counter): every crash state it gives is the
/// one the live filesystem gave at that moment.
#[derive(Clone)]
pub(crate) struct Snapshot {
    disk: Arc<Disk>,
    steps: u64,
}

/// What the snapshots of consecutive moments with the same disk share.
struct Disk {
    state: State,
    /// The source's `disk_version` when it was copied.
    version: u64,
    /// Digests of crash states already computed here that do not depend on
    /// the moment (no garbage sector), by what each op met.
    digests: Mutex<BTreeMap<Vec<OpFate>, ContentDigest>>,
}

impl Snapshot {
    /// The moment `state` is at. `previous`, a snapshot of an earlier
    /// moment of the **same** filesystem, is shared when no step since
    /// changed the disk.
    pub(crate) fn of(state: &State, previous: Option<&Snapshot>) -> Snapshot {
        let disk = match previous {
            Some(p) if p.disk.version == state.disk_version => {
                debug_assert_holds(|| same_disk(&p.disk.state, state));
                Arc::clone(&p.disk)
            }
            _ => Arc::new(Disk {
                state: state.snapshot(),
                version: state.disk_version,
                digests: Mutex::default(),
            }),
        };
        Snapshot {
            disk,
            steps: state.steps,
        }
    }

    /// How many crash states `model` allows here (`u64::MAX` past it).
    pub(crate) fn crash_state_count(&self, model: CrashModel) -> u64 {
        crash::count(&self.disk.state, model).unwrap_or(u64::MAX)
    }

    /// What each unsynced operation met in crash state `selector` of
    /// `model`: state `i` of `SimView::crash_images`' order for `Index(i)`
    /// (below [`Snapshot::crash_state_count`]), the state
    /// `SimView::crash_image` picks for `Seed(s)`.
    pub(crate) fn fates(&self, model: CrashModel, selector: StateSelector) -> Vec<OpFate> {
        match selector {
            StateSelector::Index(i) => crash::fates_at(&self.disk.state, model, i as u64),
            StateSelector::Seed(seed) => crash::fates_picked(&self.disk.state, model, seed),
        }
    }

    /// The content digest of the crash image `fates` make, without
    /// building it (equal to the image's `SimView::content_digest`),
    /// computed once per disk when it does not depend on the moment.
    pub(crate) fn crash_digest(&self, fates: &[OpFate]) -> ContentDigest {
        let compute = || crash::digest(&self.disk.state, self.steps, fates);
        if crash::draws_garbage(fates) {
            return compute();
        }
        let memo = |f: &mut dyn FnMut(&mut BTreeMap<Vec<OpFate>, ContentDigest>) -> _| {
            let mut digests = self
                .disk
                .digests
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            f(&mut digests)
        };
        if let Some(d) = memo(&mut |digests| digests.get(fates).copied()) {
            return d;
        }
        let d = compute();
        memo(&mut |digests| digests.insert(fates.to_vec(), d));
        d
    }

    /// The crash image `fates` make: the very image `SimView::crash_images`
    /// or `SimView::crash_image` gives for the selector they came from.
    pub(crate) fn crash_fs(&self, model: CrashModel, fates: Vec<OpFate>) -> SimFs {
        SimFs::from_state(crash::build(&self.disk.state, self.steps, model, fates).1)
    }
}

#[cfg(test)]
impl Snapshot {
    /// Whether both snapshots share one copy of the disk.
    pub(crate) fn shares_disk_with(&self, other: &Snapshot) -> bool {
        Arc::ptr_eq(&self.disk, &other.disk)
    }

    /// The source's disk version the copy was taken at.
    pub(crate) fn version(&self) -> u64 {
        self.disk.version
    }
}

impl CrashSource<'_> {
    /// This moment as a [`Snapshot`], sharing `previous`'s disk (a snapshot
    /// of an earlier moment of this filesystem) if nothing changed since.
    pub(crate) fn snapshot(&self, previous: Option<&Snapshot>) -> Snapshot {
        Snapshot::of(self.state, previous)
    }
}

/// A shared disk is still the source's: same content (visible, durable,
/// unsynced log), same log positions and inode counter.
fn same_disk(kept: &State, now: &State) -> Result<(), InvariantViolation> {
    let same = digest::of(kept) == digest::of(now)
        && kept.pending.keys().eq(now.pending.keys())
        && kept.next_ino == now.next_ino
        && kept.next_seq == now.next_seq;
    if same {
        return Ok(());
    }
    Err(InvariantViolation::Bookkeeping {
        detail: format!(
            "a snapshot shared from step {} no longer matches the disk at step {}: a step that \
             changed the disk did not move its version",
            kept.steps, now.steps
        ),
    })
}
