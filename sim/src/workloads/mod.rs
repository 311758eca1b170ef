//! Built-in workloads the explorer can run by name.
//!
//! - `reference`: the reference core's resumable `Runner` on a built-in
//!   deterministic job (see [`reference`]);
//! - the bug zoo's correct control and its mutants (`crate::zoo`).

use super::explore::Workload;

/// Every built-in workload: the reference first, then the zoo's control and
/// mutants in catalogue order.
pub fn catalogue() -> Vec<Box<dyn Workload>> {
    let mut all: Vec<Box<dyn Workload>> = Vec::new();
    all.push(crate::zoo::reference());
    all.extend(crate::zoo::catalogue().into_iter().map(|m| m.workload));
    all
}
