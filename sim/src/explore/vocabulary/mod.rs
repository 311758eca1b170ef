//! Layer 1, the bottom: the vocabulary a user writes against and every
//! other layer shares.
//!
//! What is explored ([`workload::Workload`], the record it keeps
//! ([`workload::Progress`]), the facts it reports ([`checks::Checks`]), the
//! two ready-made workloads ([`job_workload::JobWorkload`],
//! [`program::ProgramWorkload`]) and the core observer they use), how
//! ([`options::ExploreOptions`] with its [`replay_line::ReplayLine`] and
//! [`shard::Shard`], and the [`plan::Plan`] of modes and models), where its
//! runs may write the real disk ([`sandbox::Sandbox`]) and whether that was
//! enforced ([`sandbox::BypassDetection`]), and what
//! can go wrong in the harness itself ([`error::HarnessError`],
//! [`unreached::UnreachedPoint`]). Plus the serde forms of the fault
//! crate's values the JSON report uses (`json.rs`).
//!
//! **Imports:** nothing of `crate::explore` outside this folder (only the
//! simulator, the core and the fault crate). The engine listens to a run's
//! [`workload::Progress`] through the [`workload::Listener`] trait declared
//! here, so the record never names the engine.

pub(crate) mod checks;
pub(crate) mod error;
pub(crate) mod job_workload;
pub(crate) mod json;
pub(crate) mod observer;
pub(crate) mod options;
pub(crate) mod plan;
pub(crate) mod program;
pub(crate) mod replay_line;
pub(crate) mod sandbox;
pub(crate) mod shard;
pub(crate) mod unreached;
pub(crate) mod workload;
