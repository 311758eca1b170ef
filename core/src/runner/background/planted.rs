//! Bugs planted into [`super::drive_planted`] for the loom test, so each
//! property `tests/loom.rs` checks is shown to catch the bug that breaks
//! it. Without the `loom` feature only [`Planted::None`] exists and the
//! checks below are constant `false`.

/// A bug to plant into the background-commit loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Planted {
    /// The correct loop.
    #[default]
    None,
    /// The yield flag is read before the checkpoint is handed off (instead
    /// of after): a request made meanwhile waits for one more batch.
    #[cfg(feature = "loom")]
    FlagBeforeCommit,
    /// The next checkpoint is handed off without waiting for the previous
    /// one: two commits in flight.
    #[cfg(feature = "loom")]
    TwoInFlight,
}

impl Planted {
    /// Whether the yield flag is read before the hand-off.
    pub(super) fn flag_before_commit(self) -> bool {
        #[cfg(feature = "loom")]
        {
            self == Self::FlagBeforeCommit
        }
        #[cfg(not(feature = "loom"))]
        {
            false
        }
    }

    /// Whether the wait before a hand-off is skipped.
    pub(super) fn two_in_flight(self) -> bool {
        #[cfg(feature = "loom")]
        {
            self == Self::TwoInFlight
        }
        #[cfg(not(feature = "loom"))]
        {
            false
        }
    }
}
