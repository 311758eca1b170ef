//! The post-crash states of one crash point, as the exhaustive modes take
//! them from a step hook: every state, or seeded picks past the cap.

use std::collections::BTreeMap;
use std::sync::Arc;

use crashproof_fault::{CrashModel, StateSelector};
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};

use crate::explore::report::tally::PointSummary;
use crate::explore::vocabulary::options::ExploreOptions;
use crate::{ContentDigest, SimFs, SimView};

/// A post-crash state as collected: its own image, or (with dedup) one
/// image kept for every state of the run with the same content, so a run
/// holds one image per distinct state, not one per crash point.
pub(crate) enum Image {
    /// This state's own image.
    Own(Box<SimFs>),
    /// The image every state with this content digest shares.
    Shared {
        digest: ContentDigest,
        fs: Arc<SimFs>,
    },
}

impl Image {
    /// The image's content digest.
    pub(crate) fn digest(&self) -> ContentDigest {
        match self {
            Image::Own(fs) => fs.content_digest(),
            Image::Shared { digest, .. } => *digest,
        }
    }

    /// A filesystem to read the image's content from (not to run on).
    pub(crate) fn view(&self) -> &SimFs {
        match self {
            Image::Own(fs) => fs,
            Image::Shared { fs, .. } => fs,
        }
    }

    /// A filesystem of its own holding the image: the image itself, or an
    /// exact copy of a shared one (a crash image is fully durable, so its
    /// drop-unsynced image has the same content and configuration, the
    /// seed aside).
    pub(crate) fn into_fs(self) -> SimFs {
        match self {
            Image::Own(fs) => *fs,
            Image::Shared { fs, .. } => fs.crash_image(CrashModel::DropUnsynced, 0).fs,
        }
    }
}

/// Turns the images of a run's crash points into shared ones, one per
/// distinct content (the step hook calls it as the states come).
#[derive(Default)]
pub(crate) struct Sharing(BTreeMap<ContentDigest, Arc<SimFs>>);

impl Sharing {
    /// `states` with every image shared by content.
    pub(crate) fn share(&mut self, states: &mut PointStates) {
        states.states = std::mem::take(&mut states.states)
            .into_iter()
            .map(|(selector, image)| (selector, self.shared(image)))
            .collect();
    }

    fn shared(&mut self, image: Image) -> Image {
        let Image::Own(fs) = image else {
            return image;
        };
        let digest = fs.content_digest();
        let fs = Arc::clone(self.0.entry(digest).or_insert_with(|| Arc::new(*fs)));
        Image::Shared { digest, fs }
    }
}

/// The post-crash states collected at one crash point.
pub(crate) struct PointStates {
    /// The crash is before this step of the run.
    pub(crate) step: u64,
    /// Each state with the selector that names it in a schedule.
    pub(crate) states: Vec<(StateSelector, Image)>,
    /// Whether the states were too many to enumerate and were sampled.
    pub(crate) capped: bool,
    /// How many states the model allows here (the simulator's count).
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
                .map(|(i, img)| (StateSelector::Index(i), Image::Own(Box::new(img.fs))))
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
                    (
                        StateSelector::Seed(s),
                        Image::Own(Box::new(src.crash_image(model, s).fs)),
                    )
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
