//! The post-crash states of one crash point, as the exhaustive modes take
//! them from a step hook: every state, or seeded picks past the cap.

use crashproof_fault::{CrashModel, StateSelector};
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};

use super::options::ExploreOptions;
use crate::{SimFs, SimView};

/// The post-crash states collected at one crash point.
pub(crate) struct PointStates {
    /// The crash is before this step of the run.
    pub(crate) step: u64,
    /// Each state with the selector that names it in a schedule.
    pub(crate) states: Vec<(StateSelector, SimFs)>,
    /// Whether the states were too many to enumerate and were sampled.
    pub(crate) capped: bool,
    /// How many states the model allows here (the simulator's count).
    pub(crate) possible: u64,
}

/// How many states a crash point has, for the tally (without the images).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PointSummary {
    /// States about to be checked.
    pub(crate) states: u64,
    /// Whether they were sampled past the cap.
    pub(crate) capped: bool,
    /// How many the model allows here.
    pub(crate) possible: u64,
}

impl PointStates {
    /// The counts of this point.
    pub(crate) fn summary(&self) -> PointSummary {
        PointSummary {
            states: self.states.len() as u64,
            capped: self.capped,
            possible: self.possible,
        }
    }
}

/// Every state at this point when there are at most
/// [`ExploreOptions::states_enumerated_max`], else
/// `picks_per_capped_point` seeded picks. The pick seeds are drawn from the
/// exploration seed and the step, so they are the same in every run and
/// printable in a schedule (`#seed=`); enumerated states are printed by
/// index (`#idx=`), which `pick` resolves with the same limit.
pub(crate) fn states_at(
    src: &impl SimView,
    model: CrashModel,
    options: &ExploreOptions,
    step: u64,
) -> PointStates {
    let possible = src.crash_state_count(model);
    match src.crash_images(model, options.states_enumerated_max()) {
        Ok(images) => PointStates {
            step,
            states: images
                .into_iter()
                .enumerate()
                .map(|(i, img)| (StateSelector::Index(i), img.fs))
                .collect(),
            capped: false,
            possible,
        },
        Err(_) => {
            let mut rng =
                ChaCha8Rng::seed_from_u64(options.seed ^ step.wrapping_mul(0x9E37_79B9_7F4A_7C15));
            let states = (0..options.picks_per_capped_point)
                .map(|_| {
                    let s = rng.next_u64();
                    (StateSelector::Seed(s), src.crash_image(model, s).fs)
                })
                .collect();
            PointStates {
                step,
                states,
                capped: true,
                possible,
            }
        }
    }
}
