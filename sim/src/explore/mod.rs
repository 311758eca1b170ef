//! The crash explorer: kill schedules, the two oracles, replay and shrinking.

mod workload;

pub use workload::{CheckpointId, Completion, Progress, Recovered, Workload, WorkloadError};
