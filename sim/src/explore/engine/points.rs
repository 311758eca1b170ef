//! The post-crash states of one crash point, as the exhaustive modes take
//! them from a step hook: every state, or seeded picks past the cap.
//!
//! A point keeps the moment it was taken at (a [`Snapshot`] of the disk:
//! the inodes and the unsynced log, no image) and the selector of each
//! state. A state is digested without being built
//! ([`Image::digest`]), and built into a filesystem only when a run or an
//! inspection needs one ([`Image::build`]), so a point costs one copy of
//! its moment, not one image per state, and a state whose disk was
//! checked before (dedup) is never built at all.

use std::cell::OnceCell;

use crashproof_fault::{CrashModel, StateSelector};
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};

use crate::explore::report::tally::PointSummary;
use crate::explore::vocabulary::options::ExploreOptions;
use crate::fs::{OpFate, Snapshot};
use crate::{ContentDigest, SimFs};

/// One post-crash state of a crash point: the moment and what each
/// unsynced operation met there.
pub(crate) struct Image {
    source: Snapshot,
    model: CrashModel,
    fates: Vec<OpFate>,
    digest: OnceCell<ContentDigest>,
}

impl Image {
    /// The image's content digest, computed once, without building it
    /// (the same value as the built image's
    /// [`SimView::content_digest`]).
    pub(crate) fn digest(&self) -> ContentDigest {
        *self
            .digest
            .get_or_init(|| self.source.crash_digest(&self.fates))
    }

    /// A new filesystem holding the image: the very image the simulator's
    /// `crash_images` (an `Index` selector) or `crash_image` (a `Seed`)
    /// gives for this state, its own seed included.
    pub(crate) fn build(&self) -> SimFs {
        self.source.crash_fs(self.model, self.fates.clone())
    }

    /// [`Image::build`], consuming the image.
    pub(crate) fn into_fs(self) -> SimFs {
        self.source.crash_fs(self.model, self.fates)
    }
}

/// The post-crash states of one crash point.
pub(crate) struct PointStates {
    /// The crash is before this step of the run.
    pub(crate) step: u64,
    /// The disk at the crash, shared by the point's states.
    source: Snapshot,
    model: CrashModel,
    /// The selector that names each state in a schedule, in order.
    selectors: Vec<StateSelector>,
    /// Whether the states were too many to enumerate and were sampled.
    pub(crate) capped: bool,
    /// How many states the model allows here (the simulator's count).
    pub(crate) possible: u64,
}

impl PointStates {
    /// The counts of this point.
    pub(crate) fn summary(&self) -> PointSummary {
        PointSummary {
            states: self.selectors.len() as u64,
            capped: self.capped,
            possible: self.possible,
        }
    }

    /// How many states this point has (the work it holds).
    pub(crate) fn len(&self) -> usize {
        self.selectors.len()
    }

    /// Each state with the selector that names it, in order.
    pub(crate) fn into_states(self) -> impl Iterator<Item = (StateSelector, Image)> {
        let Self {
            source,
            model,
            selectors,
            ..
        } = self;
        selectors.into_iter().map(move |selector| {
            let image = Image {
                fates: source.fates(model, selector),
                source: source.clone(),
                model,
                digest: OnceCell::new(),
            };
            (selector, image)
        })
    }
}

/// Every state at the moment `source` when there are at most
/// [`ExploreOptions::states_enumerated_max`], else
/// `picks_per_capped_point` seeded picks. The pick seeds are drawn from the
/// exploration seed and the step, so they are the same in every run and
/// printable in a schedule (`#seed=`); enumerated states are printed by
/// index (`#idx=`), which `pick` resolves with the same limit.
pub(crate) fn states_at(
    source: Snapshot,
    model: CrashModel,
    options: &ExploreOptions,
    step: u64,
) -> PointStates {
    let possible = source.crash_state_count(model);
    let cap = options.states_enumerated_max();
    let (selectors, capped) = if possible <= cap as u64 {
        let enumerated = (0..possible as usize).map(StateSelector::Index).collect();
        (enumerated, false)
    } else {
        let mut rng =
            ChaCha8Rng::seed_from_u64(options.seed ^ step.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let picks = (0..options.picks_per_capped_point)
            .map(|_| StateSelector::Seed(rng.next_u64()))
            .collect();
        (picks, true)
    };
    PointStates {
        step,
        source,
        model,
        selectors,
        capped,
        possible,
    }
}
