//! Workloads by name, for the CLI and replay commands.

use super::error::HarnessError;
use super::workload::Workload;

/// The names [`workload_by_name`] knows, in a stable order.
pub fn workload_names() -> Vec<String> {
    catalogue().iter().map(|w| w.name()).collect()
}

/// The workload called `name`: `reference` (the core's runner, default
/// configuration) or one of the bug-zoo mutants.
pub fn workload_by_name(name: &str) -> Option<Box<dyn Workload>> {
    catalogue().into_iter().find(|w| w.name() == name)
}

/// Like [`workload_by_name`], with a typed error that lists the known names.
pub fn workload(name: &str) -> Result<Box<dyn Workload>, HarnessError> {
    workload_by_name(name).ok_or_else(|| HarnessError::UnknownWorkload {
        name: name.to_string(),
        known: workload_names().join(", "),
    })
}

fn catalogue() -> Vec<Box<dyn Workload>> {
    let mut all: Vec<Box<dyn Workload>> = Vec::new();
    all.extend(crate::workloads::catalogue());
    all
}
