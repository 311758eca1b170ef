//! Every catalogued workload by name, for the CLI, replay commands and the
//! tests.
//!
//! - `core-runner`: the reference core's resumable `Runner` on a built-in
//!   deterministic job ([`crate::core_runner`]), the default of
//!   `crashproof explore`;
//! - `core-runner-background`: the same with background commits, and
//!   `background-ack-before-durable`, its mutant ([`crate::background`]);
//! - `core-runner-adaptive`, `core-runner-adaptive-background`: K chosen
//!   online, and `adaptive-ignores-max-redo`, the variant that breaks its
//!   redo bound ([`crate::adaptive`]);
//! - `zoo-control`: the bug zoo's correct control program;
//! - `yield-after-commit`: the zoo's control for the yield mutant;
//! - the bug zoo's mutants ([`crate::zoo`]), under their catalogue names;
//! - the seed scenarios ([`crate::scenarios`]) and their review-bug mutants.

use crashproof_sim::explore::Workload;

use crate::core_runner::CoreRunnerWorkload;

/// No catalogued workload has the name asked for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown workload `{name}`; known workloads: {known}")]
pub struct UnknownWorkload {
    /// The name asked for.
    pub name: String,
    /// The catalogue's names, comma separated.
    pub known: String,
}

/// Every catalogued workload: the core runner first, then the zoo's controls
/// and mutants, then each seed scenario followed by its mutant.
pub fn catalogue() -> Vec<Box<dyn Workload>> {
    let mut all: Vec<Box<dyn Workload>> = vec![
        Box::new(CoreRunnerWorkload::default()),
        Box::new(CoreRunnerWorkload::background()),
        Box::new(crate::background::HandoffAckRunner::mutant()),
        Box::new(crate::adaptive::AdaptiveRunner::synchronous()),
        Box::new(crate::adaptive::AdaptiveRunner::background()),
        Box::new(crate::adaptive::AdaptiveRunner::ignoring_max_redo()),
        crate::zoo::control(),
        crate::zoo::yield_control(),
    ];
    all.extend(crate::zoo::catalogue().into_iter().map(|m| m.workload));
    for scenario in crate::scenarios::catalogue() {
        all.push(scenario.workload);
        all.push(scenario.mutant);
    }
    all
}

/// The names [`workload`] knows, in catalogue order.
pub fn workload_names() -> Vec<String> {
    catalogue().iter().map(|w| w.name()).collect()
}

/// The workload called `name`, or an error that lists the known names.
pub fn workload(name: &str) -> Result<Box<dyn Workload>, UnknownWorkload> {
    catalogue()
        .into_iter()
        .find(|w| w.name() == name)
        .ok_or_else(|| UnknownWorkload {
            name: name.to_string(),
            known: workload_names().join(", "),
        })
}
