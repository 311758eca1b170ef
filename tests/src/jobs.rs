//! A small deterministic job for tests and examples.

use std::time::Duration;

use crashproof_core::{Job, JobError, ManualClock, YieldSignal, stable_digest};
use serde::{Deserialize, Serialize};

/// [`SumJob`]'s state: an order-sensitive fold, so a skipped, repeated or
/// reordered item changes the output.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SumState {
    /// Items folded in.
    pub count: u64,
    /// Wrapping sum of item values.
    pub sum: u64,
    /// Rotate-xor chain of item values (order-sensitive).
    pub chain: u64,
}

impl SumState {
    /// Folds item `index` of a job salted with `salt` into the state.
    pub fn fold(&mut self, salt: u64, index: u64) {
        let value = item_value(salt, index);
        self.count = self.count.wrapping_add(1);
        self.sum = self.sum.wrapping_add(value);
        self.chain = self.chain.rotate_left(7) ^ value;
    }

    /// The canonical output string.
    pub fn output(&self) -> String {
        format!("{}:{:016x}:{:016x}", self.count, self.sum, self.chain)
    }
}

/// The value of item `index`.
pub fn item_value(salt: u64, index: u64) -> u64 {
    stable_digest(&(salt ^ index.rotate_left(17)).to_le_bytes())
}

/// What a clean run of `items` items with `salt` outputs, computed directly
/// (no runner), to compare runner results against.
pub fn expected_output(items: u64, salt: u64) -> String {
    let mut state = SumState::default();
    for index in 0..items {
        state.fold(salt, index);
    }
    state.output()
}

/// Folds `items` deterministic item values. Knobs let tests make it yield,
/// fail or advance a clock at chosen items; it records the indices it
/// processed.
#[derive(Debug, Clone)]
pub struct SumJob {
    /// The job name.
    pub name: String,
    /// How many items.
    pub items: u64,
    /// Changes every item value and the fingerprint.
    pub salt: u64,
    /// Request this signal after processing this item index.
    pub yield_after: Option<(u64, YieldSignal)>,
    /// Fail when asked to process this item index.
    pub fail_at: Option<u64>,
    /// Fail in `finalize`.
    pub fail_finalize: bool,
    /// Advance this clock by this much per processed item.
    pub tick: Option<(ManualClock, Duration)>,
    /// Every index processed, in order.
    pub processed: Vec<u64>,
    /// How many times `finalize` was called.
    pub finalized: u64,
}

impl SumJob {
    /// A plain job with no knobs set.
    pub fn new(name: &str, items: u64, salt: u64) -> Self {
        Self {
            name: name.to_owned(),
            items,
            salt,
            yield_after: None,
            fail_at: None,
            fail_finalize: false,
            tick: None,
            processed: Vec::new(),
            finalized: 0,
        }
    }
}

impl Job for SumJob {
    type State = SumState;
    type Output = String;

    fn name(&self) -> &str {
        &self.name
    }

    fn fingerprint(&self) -> u64 {
        stable_digest(format!("sum-job/{}/{}/{}", self.name, self.items, self.salt).as_bytes())
    }

    fn item_count(&self) -> u64 {
        self.items
    }

    fn initial_state(&self) -> SumState {
        SumState::default()
    }

    fn process(&mut self, index: u64, state: &mut SumState) -> Result<(), JobError> {
        if self.fail_at == Some(index) {
            return Err(JobError::new(format!("injected failure at item {index}")));
        }
        state.fold(self.salt, index);
        self.processed.push(index);
        if let Some((clock, by)) = &self.tick {
            clock.advance(*by);
        }
        if let Some((at, signal)) = &self.yield_after
            && *at == index
        {
            signal.request();
        }
        Ok(())
    }

    fn finalize(&mut self, state: &SumState) -> Result<String, JobError> {
        self.finalized += 1;
        if self.fail_finalize {
            return Err(JobError::new("injected finalize failure"));
        }
        Ok(state.output())
    }
}
