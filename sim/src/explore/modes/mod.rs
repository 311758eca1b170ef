//! Layer 4: the modes, each a function over the engine that chooses the
//! cases of one pass.
//!
//! Exhaustive single crashes (`exhaustive.rs`), two crashes
//! (`two_crashes.rs`), the sync-EIO sweep (`sync_eio.rs`), the run under
//! fault rules (`fault_rules.rs`), random
//! schedules (`random.rs`), one replayed schedule as a pass
//! (`replay.rs`), and determinism checked by running cases twice
//! (`determinism.rs`). The exhaustive, two-crash and sync-EIO passes hand
//! their units to one loop (`units.rs`) that checks them on the engine's
//! threads and tallies them in order.
//!
//! **Imports:** this folder, the engine, the report and the vocabulary;
//! never the `Explorer` facade, which calls these functions.

pub(crate) mod determinism;
pub(crate) mod exhaustive;
pub(crate) mod fault_rules;
pub(crate) mod random;
pub(crate) mod records;
pub(crate) mod replay;
pub(crate) mod sync_eio;
pub(crate) mod two_crashes;
pub(crate) mod units;
