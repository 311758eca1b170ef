//! The audit: a workload that was denied a real-disk call and swallowed
//! the error (`let _ = std::fs::write(..)`) while writing through the
//! simulator too passes every check, since its runs look sound. So, once
//! per explorer and before its first run, the clean run is run under
//! `strace` (`strace.rs`; it is the passes' clean run too, kept for them,
//! so the audit costs `strace`'s start, not a run); a denied write in that
//! trace is
//! [`HarnessError::BypassedSimulator`], naming the call and its path. Where
//! the audit could not look (no `strace`, attaching refused, turned off,
//! threads or child processes the trace does not follow), every report says
//! so next to its bypass line ([`SwallowedDenials`]).
//!
//! The trace is kept for the explorer's life: a clean run that fails, or
//! writes nothing through the simulator, is explained from the same trace
//! (`bypass.rs`), never traced twice.

use std::sync::OnceLock;

use super::start::Engine;
use super::strace::Traced;
use crate::explore::vocabulary::error::HarnessError;
use crate::explore::vocabulary::sandbox::SwallowedDenials;

/// The traced clean run, memoised per engine (`Err`: why it could not be
/// traced).
pub(crate) type Audited = OnceLock<Result<Traced, String>>;

impl Engine<'_> {
    /// Audits the workload ([`crate::explore::ExploreOptions::audit`]):
    /// the first call traces the clean run, every later one reads the
    /// result. [`HarnessError::BypassedSimulator`] when the traced clean run
    /// completed and was denied a real-disk write. A clean run that does
    /// not complete is not judged here: the entry point's own clean run
    /// fails the same way and is explained (`bypass.rs`). Runs on the
    /// calling thread, which must not be confined (it starts `strace`).
    pub(crate) fn audit(&self) -> Result<(), HarnessError> {
        if !self.options().audit {
            return Ok(());
        }
        match self.trace() {
            Ok(traced) if traced.completed && !traced.calls.is_empty() => {
                Err(HarnessError::BypassedSimulator {
                    workload: self.workload().name(),
                    calls: traced.calls.clone(),
                    unnamed: None,
                    swallowed: true,
                })
            }
            Ok(_) | Err(_) => Ok(()),
        }
    }

    /// The clean run traced by `strace`, run on the first call only.
    pub(crate) fn trace(&self) -> &Result<Traced, String> {
        self.audited().get_or_init(|| self.traced_clean_run())
    }

    /// What the report says of swallowed denials (with bypass detection
    /// on): checked, partly, or not and why.
    pub(crate) fn swallowed_denials(&self) -> SwallowedDenials {
        let not_checked = |because: &str| SwallowedDenials::NotChecked {
            because: because.to_string(),
        };
        if !self.options().audit {
            return not_checked("the audit is turned off (ExploreOptions::audit)");
        }
        match self.audited().get() {
            None => not_checked("the clean run was not traced"),
            Some(Err(why)) => not_checked(why),
            Some(Ok(traced)) if !traced.completed => {
                not_checked("the traced clean run did not complete")
            }
            Some(Ok(Traced {
                unfollowed: Some(unfollowed),
                ..
            })) => SwallowedDenials::Partly {
                unfollowed: (*unfollowed).to_string(),
            },
            Some(Ok(_)) => SwallowedDenials::Checked,
        }
    }
}
