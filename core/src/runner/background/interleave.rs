//! Background commits on the calling thread, at seeded points: the
//! deterministic committer the crash explorer runs.

use super::{Committer, CommitterGone};

/// Where, between the items after a hand-off, a deterministic committer
/// runs the commit and where the runner learns it finished: for each
/// hand-off, a point `run` and a point `report >= run` are drawn uniformly
/// from `0..=span_items` items later (`span_items`: the runner's K), from a
/// generator seeded with `seed`. Point 0 runs the commit at the hand-off
/// itself. A commit still pending when the runner must wait (the next
/// hand-off, a yield, the end) runs and is reported then.
///
/// Every such schedule is one a committer thread could produce, so the
/// explorer's verdict on it holds for the threaded runner's behaviour on
/// that interleaving; a different seed explores another one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct CommitInterleaving {
    /// Seeds the schedule; equal seeds, equal interleavings.
    pub seed: u64,
}

impl CommitInterleaving {
    /// The schedule seeded with `seed`.
    pub fn seeded(seed: u64) -> Self {
        Self { seed }
    }
}

/// A [`Committer`] that runs `work` on the calling thread at the points a
/// [`CommitInterleaving`] picks, counting [`Committer::poll`]s (one per
/// item) since the hand-off.
pub struct Interleaved<T, R, W: FnMut(T) -> R> {
    work: W,
    rng: SplitMix64,
    span_items: u64,
    pending: Option<T>,
    done: Option<R>,
    polls: u64,
    run_at: u64,
    report_at: u64,
}

impl<T, R, W: FnMut(T) -> R> std::fmt::Debug for Interleaved<T, R, W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Interleaved")
            .field("span_items", &self.span_items)
            .field("pending", &self.pending.is_some())
            .field("done", &self.done.is_some())
            .field("polls", &self.polls)
            .field("run_at", &self.run_at)
            .field("report_at", &self.report_at)
            .finish_non_exhaustive()
    }
}

impl<T, R, W: FnMut(T) -> R> Interleaved<T, R, W> {
    /// A committer running `work` at points of `schedule` drawn from
    /// `0..=span_items` items after each hand-off.
    pub fn new(schedule: CommitInterleaving, span_items: u64, work: W) -> Self {
        Self {
            work,
            rng: SplitMix64(schedule.seed),
            span_items,
            pending: None,
            done: None,
            polls: 0,
            run_at: 0,
            report_at: 0,
        }
    }

    fn run_pending(&mut self) {
        if let Some(request) = self.pending.take() {
            debug_assert!(self.done.is_none());
            self.done = Some((self.work)(request));
        }
    }
}

impl<T, R, W: FnMut(T) -> R> Committer<T, R> for Interleaved<T, R, W> {
    fn submit(&mut self, request: T) -> Result<(), CommitterGone> {
        debug_assert!(self.pending.is_none() && self.done.is_none());
        self.polls = 0;
        self.run_at = self.rng.below_or_at(self.span_items);
        self.report_at = self.run_at + self.rng.below_or_at(self.span_items - self.run_at);
        self.pending = Some(request);
        if self.run_at == 0 {
            self.run_pending();
        }
        Ok(())
    }

    fn poll(&mut self) -> Result<Option<R>, CommitterGone> {
        self.polls += 1;
        if self.polls >= self.run_at {
            self.run_pending();
        }
        if self.polls >= self.report_at {
            return Ok(self.done.take());
        }
        Ok(None)
    }

    fn wait(&mut self) -> Result<Option<R>, CommitterGone> {
        self.run_pending();
        Ok(self.done.take())
    }
}

/// SplitMix64 (Steele, Lea, Flood 2014): a tiny, well-mixed generator,
/// enough to place commits; the core takes no RNG dependency for it.
#[derive(Debug, Clone)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform-enough in `0..=max` (modulo bias is irrelevant here).
    fn below_or_at(&mut self, max: u64) -> u64 {
        match max.checked_add(1) {
            Some(bound) => self.next() % bound,
            None => self.next(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every report comes after its run, both within the span, and a wait
    /// runs and reports whatever is pending.
    #[test]
    fn points_stay_in_the_span_and_wait_forces_the_commit() {
        for seed in 0..200 {
            let mut ran = Vec::new();
            let mut committer = Interleaved::new(CommitInterleaving::seeded(seed), 3, |r: u64| {
                ran.push(r);
                r
            });
            committer.submit(7).unwrap();
            assert!(committer.run_at <= committer.report_at && committer.report_at <= 3);
            let mut reported = None;
            for _ in 0..3 {
                if let Some(r) = committer.poll().unwrap() {
                    reported = Some(r);
                }
            }
            assert_eq!(reported, Some(7), "seed {seed}: reported by the span's end");
            assert_eq!(committer.wait().unwrap(), None);
            committer.submit(8).unwrap();
            assert_eq!(committer.wait().unwrap(), Some(8));
            assert_eq!(ran, [7, 8]);
        }
    }

    /// Seeds decide the points: some seed runs at the hand-off, some at the
    /// last item, and equal seeds agree.
    #[test]
    fn seeds_reach_both_ends_of_the_span_deterministically() {
        let points = |seed| {
            let mut c = Interleaved::new(CommitInterleaving::seeded(seed), 4, |r: u8| r);
            c.submit(0).unwrap();
            (c.run_at, c.report_at)
        };
        let all: Vec<(u64, u64)> = (0..64).map(points).collect();
        assert!(all.iter().any(|&(run, _)| run == 0));
        assert!(all.iter().any(|&(_, report)| report == 4));
        assert_eq!(all, (0..64).map(points).collect::<Vec<_>>());
    }

    /// The generator is SplitMix64 itself: the reference outputs for seed 0
    /// (so a seed names the same schedule in every build and report).
    #[test]
    fn the_generator_is_splitmix64() {
        let mut rng = SplitMix64(0);
        assert_eq!(
            [rng.next(), rng.next(), rng.next()],
            [
                0xE220_A839_7B1D_CDAF,
                0x6E78_9E6A_A1B9_65F4,
                0x06C4_5D18_8009_454F
            ]
        );
    }

    /// A commit drawn to run at point 0 runs at the hand-off itself; any
    /// other point leaves it pending until that many polls.
    #[test]
    fn point_zero_runs_the_commit_at_the_hand_off() {
        let mut at_zero = 0;
        for seed in 0..64 {
            let ran = std::cell::Cell::new(false);
            let mut committer =
                Interleaved::new(CommitInterleaving::seeded(seed), 3, |()| ran.set(true));
            assert_eq!(committer.submit(()), Ok(()));
            assert_eq!(ran.get(), committer.run_at == 0, "seed {seed}");
            at_zero += usize::from(committer.run_at == 0);
        }
        assert!(
            at_zero > 0 && at_zero < 64,
            "both cases drawn: {at_zero} of 64"
        );
    }
}
