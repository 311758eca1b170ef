//! The read-only view of a simulated filesystem at one moment, written
//! once: [`SimView`] says what it holds and builds the post-crash states of
//! that moment, for a live [`SimFs`] and for the [`CrashSource`] a step hook
//! gets. Both only say how to reach their state; every method is
//! implemented here (the crash API exists once).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::MutexGuard;

use super::CrashModel;
use super::crash;
use super::digest::{self, ContentDigest};
use super::error::TooManyStates;
use super::sim_fs::{CrashImage, CrashSource, SimFs};
use super::state::State;

/// The state a view reads: borrowed by a hook, or locked from a live
/// filesystem. Opaque outside the simulator.
pub struct StateRef<'a>(Inner<'a>);

enum Inner<'a> {
    Borrowed(&'a State),
    Locked(MutexGuard<'a, State>),
}

impl StateRef<'_> {
    fn get(&self) -> &State {
        match &self.0 {
            Inner::Borrowed(s) => s,
            Inner::Locked(g) => g,
        }
    }
}

mod sealed {
    /// Only the simulator's own types build crash images.
    pub trait Sealed {
        fn state(&self) -> super::StateRef<'_>;
    }
}

impl sealed::Sealed for SimFs {
    fn state(&self) -> StateRef<'_> {
        StateRef(Inner::Locked(self.lock()))
    }
}

impl sealed::Sealed for CrashSource<'_> {
    fn state(&self) -> StateRef<'_> {
        StateRef(Inner::Borrowed(self.state))
    }
}

/// A simulated filesystem at one moment: its steps and files, and the
/// post-crash filesystems of that moment (see the durability model in the
/// [module documentation](super)). Implemented by [`SimFs`] (the state now)
/// and [`CrashSource`] (the state before the step a hook sees); sealed.
///
/// Every image is a **new** [`SimFs`]: visible == durable, nothing pending,
/// no open handles or locks, step counter 0, an empty trace, the source's
/// config with a seed derived from the pick. The source is not changed
/// (it is only read), and unchanged file bytes are shared with it, not
/// copied.
pub trait SimView: sealed::Sealed {
    /// One post-crash state under `model`, picked with `seed`, and what
    /// survived. Every state [`SimView::crash_images`] lists is picked
    /// by some seed, as the same bytes.
    fn crash_image(&self, model: CrashModel, seed: u64) -> CrashImage {
        let (choice, state) = crash::pick(self.state().get(), model, seed);
        CrashImage {
            choice,
            fs: SimFs::from_state(state),
        }
    }

    /// Every post-crash state `model` allows, one per distinct choice (not
    /// deduplicated: two choices may give equal trees), garbage bytes as one
    /// representative value, in a deterministic order whose first state is
    /// "every unsynced operation lost". Errors with [`TooManyStates`] (and
    /// builds nothing) when there would be more than `cap`; never truncates.
    fn crash_images(
        &self,
        model: CrashModel,
        cap: usize,
    ) -> Result<Vec<CrashImage>, TooManyStates> {
        Ok(crash::enumerate(self.state().get(), model, cap)?
            .into_iter()
            .map(|(choice, state)| CrashImage {
                choice,
                fs: SimFs::from_state(state),
            })
            .collect())
    }

    /// How many states [`SimView::crash_images`] would return
    /// (`u64::MAX` if that overflows), without building them.
    fn crash_state_count(&self, model: CrashModel) -> u64 {
        crash::count(self.state().get(), model).unwrap_or(u64::MAX)
    }

    /// How many operations are not yet durable.
    fn unsynced_ops(&self) -> usize {
        self.state().get().pending.len()
    }

    /// Every operation not yet durable, in issue order, by the file (with
    /// its byte range) or directory entry it changes: what a crash now
    /// could lose.
    fn unsynced(&self) -> Vec<super::Unsynced> {
        super::unsynced::list(self.state().get())
    }

    /// Steps executed so far (the index of the next step).
    fn steps(&self) -> u64 {
        self.state().get().steps
    }

    /// Visible files (path -> bytes), walking from `/`.
    fn files(&self) -> BTreeMap<PathBuf, Vec<u8>> {
        self.state().get().files()
    }

    /// A digest of everything a later reader or crash can observe: the
    /// visible tree, the durable tree and the unsynced log, inode numbers
    /// canonicalised (see [`ContentDigest`]). Stable across runs, builds
    /// and machines; blind to handles, locks, steps, trace and config.
    fn content_digest(&self) -> ContentDigest {
        digest::of(self.state().get())
    }
}

impl SimView for SimFs {}
impl SimView for CrashSource<'_> {}
