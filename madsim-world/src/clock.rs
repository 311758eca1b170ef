//! The runner's clock in the world: madsim's virtual clock at the start of
//! the batch plus the virtual cost of the items processed in it so far.
//!
//! A step processes its batch without awaiting (virtual time stands still
//! inside it), so the world sleeps the batch's cost *before* the step and
//! the clock replays that time item by item during it: at every await point
//! it reads madsim's clock (relative to the world's origin), and inside a
//! step it moves one item cost per item, so a time-based checkpoint policy
//! ends the batch after the item that crosses the interval, exactly as on a
//! real clock.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use crashproof_core::Clock;
use madsim::time::Instant;

/// Shared between the runner (reads) and the job (counts items).
#[derive(Debug, Clone)]
pub struct WorldClock {
    inner: Rc<Inner>,
}

#[derive(Debug)]
struct Inner {
    origin: Instant,
    item_cost: Duration,
    batch_start: Cell<Duration>,
    items_in_batch: Cell<u32>,
}

impl WorldClock {
    /// A clock reading the virtual time since `origin`; each item costs
    /// `item_cost`.
    pub fn new(origin: Instant, item_cost: Duration) -> Self {
        let clock = Self {
            inner: Rc::new(Inner {
                origin,
                item_cost,
                batch_start: Cell::new(Duration::ZERO),
                items_in_batch: Cell::new(0),
            }),
        };
        clock.begin_batch();
        clock
    }

    /// A batch starts now (madsim's clock): the reading jumps to it.
    pub fn begin_batch(&self) {
        self.inner
            .batch_start
            .set(Instant::now().saturating_duration_since(self.inner.origin));
        self.inner.items_in_batch.set(0);
    }

    /// One more item of the batch was processed.
    pub fn item_done(&self) {
        let n = self.inner.items_in_batch.get();
        self.inner.items_in_batch.set(n.saturating_add(1));
    }
}

impl Clock for WorldClock {
    fn now(&self) -> Duration {
        self.inner.batch_start.get() + self.inner.item_cost * self.inner.items_in_batch.get()
    }
}
