//! Picking the post-crash state a crash point selects, from a live
//! filesystem or from the view a step hook gets.

use crashproof_fault::{CrashPoint, StateSelector};

use crate::explore::vocabulary::error::HarnessError;
use crate::{SimFs, SimView};

/// The post-crash filesystem `point` selects and a one-line description.
/// An `idx=` selector indexes the enumeration of at most `cap` states
/// (`ExploreOptions::states_enumerated_max`, the limit the exhaustive modes
/// enumerate with, so every index they print selects the same state here).
pub(crate) fn pick(
    src: &impl SimView,
    point: &CrashPoint,
    cap: usize,
) -> Result<(SimFs, String), HarnessError> {
    let model = point.model;
    match point.state {
        StateSelector::Seed(seed) => {
            let image = src.crash_image(model, seed);
            Ok((
                image.fs,
                format!("{} (seed {seed}): {}", point.model, image.choice),
            ))
        }
        StateSelector::Index(idx) => {
            let mut images =
                src.crash_images(model, cap)
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
