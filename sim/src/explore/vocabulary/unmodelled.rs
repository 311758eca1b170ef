//! Operations a workload made that the durability model has no rule for
//! (a program on a mount: `symlink`, `setxattr`, `RENAME_EXCHANGE`): counted
//! by the workload ([`super::workload::Workload::unmodelled`]) and carried
//! in the report as data, so nothing the model cannot vouch for passes in
//! silence.

use std::fmt;

use serde::{Deserialize, Serialize};

/// One kind of operation the model has no rule for, and how often it came.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct UnmodelledOp {
    /// The operation (`symlink`, `setattr (mode, owner or times)`).
    pub op: String,
    /// How many times, over every run.
    pub count: u64,
    /// The errno the program got (`EPERM`), or `None` for an operation
    /// that was accepted but not kept (no durability rule applies).
    pub refused_with: Option<String>,
}

impl fmt::Display for UnmodelledOp {
    /// `symlink x2 (refused: EPERM)`, `chmod x1 (accepted, not kept)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} x{} ", self.op, self.count)?;
        match &self.refused_with {
            Some(errno) => write!(f, "(refused: {errno})"),
            None => f.write_str("(accepted, not kept)"),
        }
    }
}

/// Adds `more` to `into`, summing the counts of equal operations.
pub(crate) fn add(into: &mut Vec<UnmodelledOp>, more: Vec<UnmodelledOp>) {
    for op in more {
        match into
            .iter_mut()
            .find(|o| o.op == op.op && o.refused_with == op.refused_with)
        {
            Some(o) => o.count += op.count,
            None => into.push(op),
        }
    }
    into.sort();
}
