//! Stopping a resumed run once it has converged with the clean run.
//!
//! A workload declares points after which its future depends only on the disk
//! and the point's label ([`crate::explore::Progress::converged`]; the core
//! runner right after a commit). The clean run **records** each such point: its
//! label and the disk digest there ([`crate::ContentDigest`], visible and
//! durable), at the step it was reached. A resumed run **converges** when it
//! reaches a point with a label and disk the clean run recorded: what remains
//! is the clean run from that step, by determinism, so the explorer stops it
//! (its step hook crashes the filesystem on the next step) and takes the clean
//! run's outcome: its output, and no leftovers (the clean run had none). Where
//! the run resumed, which the result oracle checks, it must have said before
//! ([`crate::explore::Progress::resumed`]).
//!
//! Only the visible and durable trees are compared, not the unsynced log:
//! a converged run never crashes again (it is a recovery checked to its
//! end; runs that still have crash points ahead never converge).
//!
//! A point is seen by the step hook of the step after it, where the
//! filesystem is exactly as the program left it at the point. A point with
//! no step after it is never used (the run is about to end anyway).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use super::lock::lock;
use crate::explore::vocabulary::workload::Listener;
use crate::{ContentDigest, SimView};

/// A converged point as the clean run recorded it: its label and the disk
/// there (visible and durable trees).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct PointKey {
    label: String,
    visible: u128,
    durable: u128,
}

impl PointKey {
    fn new(label: String, disk: ContentDigest) -> Self {
        Self {
            label,
            visible: disk.visible,
            durable: disk.durable,
        }
    }
}

/// The clean run's converged points, each with the clean run's step there
/// (the first, if a label and disk recur).
#[derive(Debug, Clone, Default)]
pub(crate) struct ConvergedPoints(BTreeMap<PointKey, u64>);

impl ConvergedPoints {
    /// How many points the clean run recorded.
    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }
}

/// Where a resumed run converged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Converged {
    /// The clean run's step at the point.
    pub(crate) clean_step: u64,
    /// Where the run said it resumed.
    pub(crate) resumed_from: Option<u64>,
}

/// What the watch does with the points a run reports.
#[derive(Debug)]
enum Role {
    /// The clean run: record every point.
    Record(ConvergedPoints),
    /// A resumed run: stop at the first point the clean run recorded.
    Converge {
        clean: Arc<ConvergedPoints>,
        converged: Option<Converged>,
    },
}

#[derive(Debug)]
struct State {
    role: Role,
    /// A point reported and not yet seen by a step hook.
    pending: Option<String>,
    /// Where the run said it resumed, if it did.
    resumed: Option<Option<u64>>,
}

/// The channel between a run's [`crate::explore::Progress`] (which reports
/// points, through [`Watch::listener`]) and its step hook (which sees the
/// disk there). Cloning shares it.
#[derive(Clone)]
pub(crate) struct Watch(Arc<Mutex<State>>);

impl Watch {
    fn with(role: Role) -> Self {
        Watch(Arc::new(Mutex::new(State {
            role,
            pending: None,
            resumed: None,
        })))
    }

    /// A watch that records the clean run's points.
    pub(crate) fn recording() -> Self {
        Self::with(Role::Record(ConvergedPoints::default()))
    }

    /// A watch that stops a resumed run at a point of `clean`.
    pub(crate) fn converging(clean: Arc<ConvergedPoints>) -> Self {
        Self::with(Role::Converge {
            clean,
            converged: None,
        })
    }

    /// The watch as the listener a run's progress record tells: the same
    /// shared state.
    pub(crate) fn listener(&self) -> Arc<dyn Listener> {
        Arc::clone(&self.0) as Arc<dyn Listener>
    }

    /// Called by the step hook before step `index`, with the disk as the
    /// program left it: handles a pending point. Returns whether the run
    /// converged here (the hook then stops it).
    pub(crate) fn before_step(&self, index: u64, disk: &impl SimView) -> bool {
        let mut state = lock(&self.0);
        let Some(label) = state.pending.take() else {
            return false;
        };
        let key = PointKey::new(label, disk.content_digest());
        let resumed = state.resumed;
        match &mut state.role {
            Role::Record(points) => {
                points.0.entry(key).or_insert(index);
                false
            }
            Role::Converge { clean, converged } => {
                let (Some(&clean_step), Some(resumed_from)) = (clean.0.get(&key), resumed) else {
                    return false;
                };
                *converged = Some(Converged {
                    clean_step,
                    resumed_from,
                });
                true
            }
        }
    }

    /// The points a recording watch recorded.
    pub(crate) fn recorded(&self) -> ConvergedPoints {
        match &lock(&self.0).role {
            Role::Record(points) => points.clone(),
            Role::Converge { .. } => ConvergedPoints::default(),
        }
    }

    /// Where a converging watch's run converged, if it did.
    pub(crate) fn converged_at(&self) -> Option<Converged> {
        match &lock(&self.0).role {
            Role::Converge { converged, .. } => *converged,
            Role::Record(_) => None,
        }
    }
}

/// What the progress record tells the watch.
impl Listener for Mutex<State> {
    fn resumed(&self, from: Option<u64>) {
        lock(self).resumed = Some(from);
    }

    fn converged(&self, label: String) {
        lock(self).pending = Some(label);
    }
}

impl fmt::Debug for Watch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Watch")
    }
}
