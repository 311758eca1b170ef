//! Picking the post-crash state a crash point selects, from a live
//! filesystem or from the view a step hook gets.

use crashproof_fault::{CrashPoint, StateSelector};

use crate::explore::vocabulary::error::HarnessError;
use crate::{SimFs, SimView};

/// The post-crash state a crash point selected.
pub(crate) struct Picked {
    /// The post-crash disk.
    pub(crate) fs: SimFs,
    /// One line that says which state it is.
    pub(crate) choice: String,
    /// For an `idx=` selector: how many states there were (an index at or
    /// past it was taken modulo the count: `Engine::replay` refuses it,
    /// random schedules draw indexes blind).
    pub(crate) states: Option<usize>,
}

/// The post-crash filesystem `point` selects and a one-line description.
/// An `idx=` selector indexes the enumeration of at most `cap` states
/// (`ExploreOptions::states_enumerated_max`, the limit the exhaustive modes
/// enumerate with, so every index they print selects the same state here).
pub(crate) fn pick(
    src: &impl SimView,
    point: &CrashPoint,
    cap: usize,
) -> Result<Picked, HarnessError> {
    let model = point.model;
    match point.state {
        StateSelector::Seed(seed) => {
            let image = src.crash_image(model, seed);
            Ok(Picked {
                fs: image.fs,
                choice: format!("{} (seed {seed}): {}", point.model, image.choice),
                states: None,
            })
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
            Ok(Picked {
                fs: image.fs,
                choice: format!(
                    "{} state {} of {count}: {}",
                    point.model,
                    idx % count,
                    image.choice
                ),
                states: Some(count),
            })
        }
    }
}

/// `point` as the state it selected names it: an `idx=` past the count
/// taken modulo the count (what [`pick`] did).
pub(crate) fn as_taken(point: &CrashPoint, states: Option<usize>) -> CrashPoint {
    let mut taken = point.clone();
    if let (StateSelector::Index(idx), Some(count)) = (point.state, states)
        && count > 0
    {
        taken.state = StateSelector::Index(idx % count);
    }
    taken
}
