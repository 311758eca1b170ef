//! What recovery passed over on its way to the checkpoint it chose.

use std::fmt;
use std::path::PathBuf;

use crate::envelope::{DecodeError, DecodeErrorKind};

/// A generation file newer than the checkpoint recovery chose, which it
/// did not resume from. Reported in [`super::StoredCheckpoint::skipped`]
/// and [`crate::Outcome`] so a caller sees what a log line alone would hide.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SkippedGeneration {
    /// Its generation number.
    pub generation: u64,
    /// Its file.
    pub path: PathBuf,
    /// Why it was not resumed.
    pub reason: SkipReason,
}

/// Why recovery did not resume a generation file.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SkipReason {
    /// The file is damaged (torn, truncated, flipped bits). Retention
    /// deletes it once `keep` valid generations are newer.
    Damaged {
        /// Which check rejected it.
        kind: DecodeErrorKind,
        /// The envelope's message.
        detail: String,
    },
    /// The file is intact but was written by another job. The store never
    /// deletes it; move it out of the job directory.
    OtherJob {
        /// The name of the job that wrote it.
        name: String,
        /// That job's fingerprint.
        fingerprint: u64,
    },
}

impl SkipReason {
    pub(crate) fn damaged(error: &DecodeError) -> Self {
        SkipReason::Damaged {
            kind: error.kind(),
            detail: error.to_string(),
        }
    }
}

impl fmt::Display for SkippedGeneration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "generation {} ({:?}) ", self.generation, self.path)?;
        match &self.reason {
            SkipReason::Damaged { detail, .. } => write!(f, "is damaged: {detail}"),
            SkipReason::OtherJob { name, fingerprint } => write!(
                f,
                "was written by another job, {name:?} (fingerprint {fingerprint:#018x}); \
                 it is left in place: move it out of the job directory"
            ),
        }
    }
}
