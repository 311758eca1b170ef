//! proptest strategies over kill schedules.
//!
//! Shrinking goes toward fewer crash points (the `Vec` drops elements),
//! earlier steps (step indexes shrink toward 0), the first model listed,
//! the first failpoint hit and seed 0, so a failing case shrinks to a small,
//! readable schedule.

use proptest::prelude::*;

use crate::schedule::{CrashAt, CrashModel, CrashPoint, Fault, KillSchedule, StateSelector};

/// What [`schedules`] generates.
#[derive(Debug, Clone)]
pub struct ScheduleStrategy {
    /// Most crash points per schedule (at least 1 is always generated).
    pub max_points: usize,
    /// Step indexes are drawn from `0..=max_step`.
    pub max_step: u64,
    /// Models to draw from; shrinking prefers the first. Empty means all.
    pub models: Vec<CrashModel>,
    /// Failpoint names a crash point may name (with hits 1..=4); empty means
    /// step crash points only.
    pub failpoints: Vec<String>,
    /// Whether to add up to two `eio:` faults.
    pub with_faults: bool,
}

impl Default for ScheduleStrategy {
    fn default() -> Self {
        Self {
            max_points: 3,
            max_step: 256,
            models: CrashModel::ALL.to_vec(),
            failpoints: Vec::new(),
            with_faults: false,
        }
    }
}

/// Any model of `models` (all of them if empty); shrinks to the first.
pub fn models(models: &[CrashModel]) -> BoxedStrategy<CrashModel> {
    let models = if models.is_empty() {
        CrashModel::ALL.to_vec()
    } else {
        models.to_vec()
    };
    (0..models.len()).prop_map(move |i| models[i]).boxed()
}

/// A state selector: mostly seeds, sometimes small indexes; shrinks to seed 0.
pub fn states() -> BoxedStrategy<StateSelector> {
    prop_oneof![
        3 => any::<u64>().prop_map(StateSelector::Seed),
        1 => (0usize..64).prop_map(StateSelector::Index),
    ]
    .boxed()
}

/// Where to crash: a step in `0..=max_step`, or a hit of one of `failpoints`.
pub fn crash_ats(max_step: u64, failpoints: &[String]) -> BoxedStrategy<CrashAt> {
    let steps = (0..=max_step).prop_map(CrashAt::Step);
    if failpoints.is_empty() {
        return steps.boxed();
    }
    let names = failpoints.to_vec();
    let fps = (0..names.len(), 1u32..=4).prop_map(move |(i, hit)| CrashAt::Failpoint {
        name: names[i].clone(),
        hit,
    });
    prop_oneof![3 => steps, 1 => fps].boxed()
}

/// One crash point drawn according to `config`.
pub fn crash_points(config: &ScheduleStrategy) -> BoxedStrategy<CrashPoint> {
    (
        crash_ats(config.max_step, &config.failpoints),
        models(&config.models),
        states(),
    )
        .prop_map(|(at, model, state)| CrashPoint { at, model, state })
        .boxed()
}

/// Schedules of 1 to `max_points` crash points (and optional faults).
pub fn schedules(config: ScheduleStrategy) -> BoxedStrategy<KillSchedule> {
    let points = prop::collection::vec(crash_points(&config), 1..=config.max_points.max(1));
    let max_faults = if config.with_faults { 2 } else { 0 };
    let faults = prop::collection::vec(
        (0..=config.max_step).prop_map(Fault::SyncEio),
        0..=max_faults,
    );
    (points, faults)
        .prop_map(|(points, faults)| KillSchedule { points, faults })
        .boxed()
}
