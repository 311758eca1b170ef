//! Layer 2: the report, what an exploration concludes, as data.
//!
//! A pass's numbers and its violations grouped by bug ([`summary`]), the
//! finding an oracle makes and the violation it becomes ([`violation`]),
//! the running totals a pass adds its cases to ([`tally`]), the events an
//! exploration tells its caller ([`event`]), and shard reports merged back
//! into the whole run's ([`merge`]).
//!
//! **Imports:** this folder and the vocabulary (`super::vocabulary`) only.
//! The one thing the tally needs from above, replaying a group's first
//! case for its full violation, is handed to it by the engine as a
//! function ([`tally::Confirm`]).

pub(crate) mod event;
pub(crate) mod merge;
pub(crate) mod summary;
pub(crate) mod tally;
pub(crate) mod violation;
