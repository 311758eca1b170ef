//! The one-slot mailbox between the runner and a committer thread.

use std::sync::atomic::Ordering;

use crate::seam::{self, AtomicBool, Condvar, Mutex};

use super::{Committer, CommitterGone};

/// What the slot holds. At most one of `request`, `busy`, `done` is set:
/// that is "at most one commit in flight" (checked on every change).
#[derive(Debug)]
struct Slot<T, R> {
    /// Handed off, not yet taken by the committer.
    request: Option<T>,
    /// The committer is working on a request.
    busy: bool,
    /// Finished, not yet collected by the runner.
    done: Option<R>,
    /// The runner will hand off nothing more: the committer exits once idle.
    closed: bool,
    /// [`Handoff::serve`] returned (or unwound): nothing will finish now.
    gone: bool,
}

impl<T, R> Slot<T, R> {
    fn in_flight(&self) -> bool {
        self.request.is_some() || self.busy
    }

    fn check(&self) {
        let held = usize::from(self.request.is_some())
            + usize::from(self.busy)
            + usize::from(self.done.is_some());
        debug_assert!(held <= 1, "more than one commit in flight");
    }
}

/// A one-slot mailbox: the runner [`Handoff::submit`]s a request, a
/// committer thread running [`Handoff::serve`] takes it, does the work and
/// leaves the report, which the runner collects with
/// [`Handoff::try_collect`] or [`Handoff::collect`]. A second request is
/// refused while one is in flight or uncollected. Built on
/// [`crate::seam`] (one mutex, one condition variable, one flag), so loom
/// checks it.
#[derive(Debug)]
pub struct Handoff<T, R> {
    slot: Mutex<Slot<T, R>>,
    changed: Condvar,
    /// Whether [`Handoff::try_collect`] may find something: a report is
    /// waiting or the committer is gone. Written only with `slot` locked,
    /// read without it, so the runner's poll after every item takes no
    /// lock while the commit is still running (a stale `false` only
    /// delays the report to a later poll or the next collect).
    news: AtomicBool,
}

impl<T, R> Default for Handoff<T, R> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T, R> Handoff<T, R> {
    /// An empty, open mailbox.
    pub fn new() -> Self {
        Self {
            slot: Mutex::new(Slot {
                request: None,
                busy: false,
                done: None,
                closed: false,
                gone: false,
            }),
            changed: Condvar::new(),
            news: AtomicBool::new(false),
        }
    }

    /// Takes the report out of the locked `slot`, if any.
    fn take_done(&self, slot: &mut Slot<T, R>) -> Option<R> {
        let done = slot.done.take();
        if done.is_some() && !slot.gone {
            self.news.store(false, Ordering::Relaxed);
        }
        done
    }

    /// Runner side: hands off `request`. Refused (given back) while a
    /// request is in flight or its report uncollected, after
    /// [`Handoff::close`], or once the committer is gone.
    pub fn submit(&self, request: T) -> Result<(), T> {
        let mut slot = seam::lock(&self.slot);
        if slot.in_flight() || slot.done.is_some() || slot.closed || slot.gone {
            return Err(request);
        }
        slot.request = Some(request);
        slot.check();
        drop(slot);
        self.changed.notify_all();
        Ok(())
    }

    /// Runner side, without blocking: the report of the finished request,
    /// if any. `Err` if the committer is gone with a request unfinished.
    pub fn try_collect(&self) -> Result<Option<R>, CommitterGone> {
        if !self.news.load(Ordering::Acquire) {
            return Ok(None);
        }
        let mut slot = seam::lock(&self.slot);
        if let Some(done) = self.take_done(&mut slot) {
            return Ok(Some(done));
        }
        if slot.in_flight() && slot.gone {
            return Err(CommitterGone);
        }
        Ok(None)
    }

    /// Runner side: waits for the request in flight to finish and returns
    /// its report; `Ok(None)` at once when nothing was handed off since the
    /// last collect. `Err` if the committer is gone with it unfinished.
    pub fn collect(&self) -> Result<Option<R>, CommitterGone> {
        let mut slot = seam::lock(&self.slot);
        loop {
            if let Some(done) = self.take_done(&mut slot) {
                return Ok(Some(done));
            }
            if !slot.in_flight() {
                return Ok(None);
            }
            if slot.gone {
                return Err(CommitterGone);
            }
            slot = seam::wait(&self.changed, slot);
        }
    }

    /// Runner side: no more requests. A committer in [`Handoff::serve`]
    /// finishes what it holds and returns.
    pub fn close(&self) {
        seam::lock(&self.slot).closed = true;
        self.changed.notify_all();
    }

    /// Committer side: takes each request in turn, runs `work` on it outside
    /// the lock, leaves the report and wakes the runner; returns after
    /// [`Handoff::close`] once nothing is left. Marks the committer gone on
    /// the way out, also when `work` panics, so a waiting runner never
    /// waits forever.
    pub fn serve(&self, mut work: impl FnMut(T) -> R) {
        let _gone = GoneOnDrop(self);
        loop {
            let request = {
                let mut slot = seam::lock(&self.slot);
                loop {
                    if let Some(request) = slot.request.take() {
                        slot.busy = true;
                        slot.check();
                        break request;
                    }
                    if slot.closed {
                        return;
                    }
                    slot = seam::wait(&self.changed, slot);
                }
            };
            let done = work(request);
            let mut slot = seam::lock(&self.slot);
            debug_assert!(slot.busy && slot.done.is_none());
            slot.busy = false;
            slot.done = Some(done);
            slot.check();
            self.news.store(true, Ordering::Release);
            drop(slot);
            self.changed.notify_all();
        }
    }
}

/// Marks the committer gone when [`Handoff::serve`] ends, however it ends.
struct GoneOnDrop<'h, T, R>(&'h Handoff<T, R>);

impl<T, R> Drop for GoneOnDrop<'_, T, R> {
    fn drop(&mut self) {
        let mut slot = seam::lock(&self.0.slot);
        slot.gone = true;
        self.0.news.store(true, Ordering::Release);
        drop(slot);
        self.0.changed.notify_all();
    }
}

/// The runner's [`Committer`] over a [`Handoff`] whose other end a
/// committer thread serves.
#[derive(Debug)]
pub struct ThreadCommitter<'h, T, R> {
    handoff: &'h Handoff<T, R>,
}

impl<'h, T, R> ThreadCommitter<'h, T, R> {
    /// The runner's end of `handoff`.
    pub fn new(handoff: &'h Handoff<T, R>) -> Self {
        Self { handoff }
    }
}

impl<T, R> Committer<T, R> for ThreadCommitter<'_, T, R> {
    fn submit(&mut self, request: T) -> Result<(), CommitterGone> {
        // `drive` waits before every hand-off, so a refusal means the
        // committer is gone (or closed), never that one is in flight.
        self.handoff.submit(request).map_err(|_| CommitterGone)
    }

    fn poll(&mut self) -> Result<Option<R>, CommitterGone> {
        self.handoff.try_collect()
    }

    fn wait(&mut self) -> Result<Option<R>, CommitterGone> {
        self.handoff.collect()
    }
}
