//! crashproof-catalog: the workloads the project explores to prove the
//! simulator has teeth and the reference core is correct. Not a library for
//! users (they depend on `crashproof-sim` and `crashproof-core`); the CLI
//! and the tests depend on it.
//!
//! - [`core_runner`]: the reference core's `Runner` on a built-in job, the
//!   default workload of `crashproof explore` (and `core-runner-background`,
//!   the same with background commits);
//! - [`background`]: the background-commit mutant that acknowledges at
//!   hand-off;
//! - [`adaptive`]: the core's runner with K chosen online on a disk whose
//!   commits slow down and speed up (`core-runner-adaptive`, its background
//!   twin) and the planted variant that ignores `max_redo`;
//! - [`zoo`]: 13 deliberately broken checkpoint programs (mutants) and the
//!   correct controls, and [`zoo::hunt`], the mutation table's search;
//! - [`scenarios`]: the five seed systems, each with its review bug;
//! - [`registry`]: every workload above by name.

pub mod adaptive;
pub mod background;
pub mod core_runner;
pub mod registry;
pub mod scenarios;
pub mod zoo;

pub use registry::{UnknownWorkload, catalogue, workload, workload_names};
