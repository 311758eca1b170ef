//! Picking the post-crash state a crash point selects, from a live
//! filesystem or from the view a step hook gets.

use crashproof_fault::{CrashPoint, StateSelector};

use super::error::HarnessError;
use crate::{CrashImage, CrashModel, CrashSource, SimFs, TooManyStates};

/// Something that can build post-crash filesystems of "this moment".
pub(crate) trait ImageSource {
    fn image(&self, model: CrashModel, seed: u64) -> CrashImage;
    fn images(&self, model: CrashModel, cap: usize) -> Result<Vec<CrashImage>, TooManyStates>;
    /// How many states `images` would return, without building them.
    fn count(&self, model: CrashModel) -> u64;
}

impl ImageSource for CrashSource<'_> {
    fn count(&self, model: CrashModel) -> u64 {
        self.crash_state_count(model)
    }
    fn image(&self, model: CrashModel, seed: u64) -> CrashImage {
        self.crash_image_with_choice(model, seed)
    }
    fn images(&self, model: CrashModel, cap: usize) -> Result<Vec<CrashImage>, TooManyStates> {
        self.crash_images(model, cap)
    }
}

impl ImageSource for SimFs {
    fn count(&self, model: CrashModel) -> u64 {
        self.crash_state_count(model)
    }
    fn image(&self, model: CrashModel, seed: u64) -> CrashImage {
        self.crash_image_with_choice(model, seed)
    }
    fn images(&self, model: CrashModel, cap: usize) -> Result<Vec<CrashImage>, TooManyStates> {
        self.crash_images(model, cap)
    }
}

/// The post-crash filesystem `point` selects and a one-line description.
pub(crate) fn pick(
    src: &impl ImageSource,
    point: &CrashPoint,
    cap: usize,
) -> Result<(SimFs, String), HarnessError> {
    let model = point.model;
    match point.state {
        StateSelector::Seed(seed) => {
            let image = src.image(model, seed);
            Ok((
                image.fs,
                format!("{} (seed {seed}): {}", point.model, image.choice),
            ))
        }
        StateSelector::Index(idx) => {
            let mut images = src
                .images(model, cap)
                .map_err(|e| HarnessError::TooManyStates {
                    point: point.clone(),
                    cap,
                    at_least: e.at_least,
                })?;
            let count = images.len();
            if count == 0 {
                return Err(HarnessError::NoStates {
                    point: point.clone(),
                });
            }
            let image = images.swap_remove(idx % count);
            Ok((
                image.fs,
                format!(
                    "{} state {} of {count}: {}",
                    point.model,
                    idx % count,
                    image.choice
                ),
            ))
        }
    }
}
