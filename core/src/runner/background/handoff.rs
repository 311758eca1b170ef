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

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;

    use super::{Handoff, Slot};
    use crate::seam;

    /// `news` is set exactly when `try_collect` may find something: a report
    /// waits or the committer is gone (so the runner's poll after every item
    /// takes no lock otherwise).
    fn assert_news_is_exact<T, R>(handoff: &Handoff<T, R>) {
        let slot = seam::lock(&handoff.slot);
        assert_eq!(
            handoff.news.load(Ordering::Acquire),
            slot.done.is_some() || slot.gone,
            "news flag out of step with the slot"
        );
    }

    #[test]
    fn one_request_at_a_time_and_none_after_close_or_once_gone() {
        let handoff = Handoff::<u32, u32>::new();
        assert_eq!(handoff.submit(1), Ok(()));
        assert_eq!(handoff.submit(2), Err(2), "one in flight");
        assert_news_is_exact(&handoff);
        std::thread::scope(|s| {
            s.spawn(|| handoff.serve(|request| request * 10));
            assert_eq!(handoff.collect(), Ok(Some(10)));
            assert_news_is_exact(&handoff);
            assert_eq!(handoff.try_collect(), Ok(None), "collected once");
            assert_eq!(handoff.submit(3), Ok(()));
            // Until its report is collected, the finished commit still
            // holds the slot.
            while !handoff.news.load(Ordering::Acquire) {
                std::hint::spin_loop();
            }
            assert_eq!(handoff.submit(33), Err(33), "a report is uncollected");
            assert_eq!(handoff.collect(), Ok(Some(30)));
            assert_eq!(handoff.collect(), Ok(None), "nothing in flight");
            handoff.close();
        });
        // `serve` returned: the committer is gone, and says so.
        assert_news_is_exact(&handoff);
        assert_eq!(handoff.submit(4), Err(4), "the committer is gone");

        let closed = Handoff::<u32, u32>::new();
        closed.close();
        assert_eq!(closed.submit(5), Err(5), "closed, though still served");
    }

    #[test]
    fn the_last_report_is_collected_after_the_committer_is_gone() {
        let handoff = Handoff::<u32, u32>::new();
        assert_eq!(handoff.submit(7), Ok(()));
        handoff.close();
        // Serves the one request, then returns (closed): gone with a report.
        handoff.serve(|request| request + 1);
        assert_news_is_exact(&handoff);
        assert_eq!(handoff.try_collect(), Ok(Some(8)));
        assert_news_is_exact(&handoff);
        assert_eq!(handoff.try_collect(), Ok(None), "gone, nothing in flight");
    }

    #[cfg(debug_assertions)]
    #[test]
    #[should_panic(expected = "more than one commit in flight")]
    fn the_slot_check_refuses_two_commits_in_flight() {
        let slot: Slot<u32, u32> = Slot {
            request: Some(1),
            busy: true,
            done: None,
            closed: false,
            gone: false,
        };
        slot.check();
    }

    /// A committer that dies (its work unwinds) is gone: the runner's wait
    /// returns `CommitterGone` instead of waiting forever.
    #[test]
    fn a_committer_that_unwinds_is_gone() {
        let handoff = Handoff::<u32, u32>::new();
        assert_eq!(handoff.submit(1), Ok(()));
        let unwound = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            handoff.serve(|_| std::panic::resume_unwind(Box::new("the work failed")))
        }));
        assert!(unwound.is_err());
        assert_news_is_exact(&handoff);
        assert_eq!(handoff.collect(), Err(super::CommitterGone));
        assert_eq!(handoff.try_collect(), Err(super::CommitterGone));
    }

    /// The runner's end polls and waits through the mailbox.
    #[test]
    fn the_thread_committer_polls_and_waits_through_the_handoff() {
        use super::super::Committer;
        let handoff = Handoff::<u32, u32>::new();
        let mut committer = super::ThreadCommitter::new(&handoff);
        assert_eq!(committer.poll(), Ok(None), "nothing handed off");
        assert_eq!(committer.submit(4), Ok(()));
        handoff.close();
        handoff.serve(|request| request * 2);
        assert_eq!(committer.poll(), Ok(Some(8)));
        assert_eq!(committer.wait(), Ok(None));
        assert_eq!(committer.submit(5), Err(super::CommitterGone));
    }
}
