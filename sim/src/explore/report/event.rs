//! What an exploration tells its caller while it runs: a pass started, a
//! pass checked so many units, a pass ended with its report.

use super::summary::PassReport;
use crate::explore::vocabulary::plan::Pass;

/// What [`crate::explore::Explorer::explore_observed`] reports while it
/// runs, so a caller can time passes or show progress (the simulator reads
/// no clock).
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum Event<'a> {
    /// A pass is about to start.
    PassStarted(&'a Pass),
    /// A pass ended.
    PassFinished(&'a PassReport),
    /// A pass has checked `done` of the `total` units it checks (in this
    /// shard): crash points (exhaustive), first crash points (two
    /// crashes), failed syncs (sync-EIO). Sent once with `done: 0` when
    /// the total is known (after the clean run), then after each unit.
    Checking {
        /// The pass.
        pass: &'a Pass,
        /// Units checked so far.
        done: u64,
        /// Units this pass checks.
        total: u64,
        /// Post-crash states checked so far in the pass.
        states: u64,
    },
}

/// An [`Event`] that owns what it tells, so it can cross from the confined
/// thread the exploration runs on to the caller's thread, where the
/// observer runs (the observer may do what a confined thread may not, such
/// as write a log file).
#[derive(Debug, Clone)]
pub(crate) enum Told {
    PassStarted(Pass),
    PassFinished(Box<PassReport>),
    Checking {
        pass: Pass,
        done: u64,
        total: u64,
        states: u64,
    },
}

impl Told {
    /// The owned form of `event`.
    pub(crate) fn of(event: Event<'_>) -> Told {
        match event {
            Event::PassStarted(pass) => Told::PassStarted(pass.clone()),
            Event::PassFinished(report) => Told::PassFinished(Box::new(report.clone())),
            Event::Checking {
                pass,
                done,
                total,
                states,
            } => Told::Checking {
                pass: pass.clone(),
                done,
                total,
                states,
            },
        }
    }

    /// The event, borrowing from this.
    pub(crate) fn event(&self) -> Event<'_> {
        match self {
            Told::PassStarted(pass) => Event::PassStarted(pass),
            Told::PassFinished(report) => Event::PassFinished(report),
            Told::Checking {
                pass,
                done,
                total,
                states,
            } => Event::Checking {
                pass,
                done: *done,
                total: *total,
                states: *states,
            },
        }
    }
}
