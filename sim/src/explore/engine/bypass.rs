//! What a clean run that failed, or wrote nothing through the simulator,
//! did on the real disk: the error a user reads names the call that
//! bypassed the simulator and its path.
//!
//! A confined run (`sandbox.rs`) that creates, writes, truncates, renames
//! or removes a real file is denied with `EACCES`. The program may
//! propagate the error (the clean run fails), or swallow it (`let _ =
//! std::fs::write(..)`): if it did nothing else, its clean run made no step
//! through the simulator and is refused as such; if it wrote through the
//! simulator too, the audit (`audit.rs`) finds the call before any run.
//! Either way the explorer names the path, first from the run's own error
//! when that carries one (`tempfile`'s errors say `at path "..."`,
//! `StdFs`'s name their path), else from the audit's trace of the clean run
//! by `strace` (`strace.rs`): Rust's `std::fs` errors carry no path, and the
//! kernel's Landlock audit records need system audit, which is off on most
//! machines. Without `strace` the error says the path could not be named,
//! and why.

use std::path::{Path, PathBuf};

use super::start::Engine;
use crate::explore::vocabulary::error::HarnessError;
use crate::explore::vocabulary::sandbox::RealDiskCall;

impl Engine<'_> {
    /// Audits the workload once ([`Engine::audit`]), then runs `work`
    /// confined (`Engine::confined`) and explains its error
    /// ([`Engine::explain`]). What every entry point of the explorer
    /// calls, from the caller's (unconfined) thread.
    pub(crate) fn sandboxed<R, W>(&self, work: W) -> Result<R, HarnessError>
    where
        R: Send,
        W: FnOnce(&Self) -> Result<R, HarnessError> + Send,
    {
        self.audit()?;
        self.confined(work, || {}).map_err(|e| self.explain(e))
    }

    /// `error` as the user should read it: a failed clean run or one that
    /// wrote nothing through the simulator becomes
    /// [`HarnessError::BypassedSimulator`] when it was denied a real-disk
    /// call (with the path, from its error or from the traced clean run),
    /// and a [`HarnessError::NoFilesystemStep`] says what the trace showed.
    /// Runs on the calling (unconfined) thread, which may start `strace`.
    pub(crate) fn explain(&self, error: HarnessError) -> HarnessError {
        if !self.bypass_detection().is_on() {
            return error;
        }
        match error {
            HarnessError::CleanRunFailed { workload, reason } => {
                if let Some(path) = denied_path_in(&reason) {
                    return HarnessError::BypassedSimulator {
                        workload,
                        calls: vec![RealDiskCall {
                            syscall: None,
                            path: absolute(&path),
                        }],
                        unnamed: None,
                        swallowed: false,
                    };
                }
                let denied = says_denied(&reason);
                match self.trace() {
                    Ok(traced) if !traced.calls.is_empty() => HarnessError::BypassedSimulator {
                        workload,
                        calls: traced.calls.clone(),
                        unnamed: None,
                        swallowed: false,
                    },
                    Ok(traced) if denied => HarnessError::BypassedSimulator {
                        workload,
                        calls: Vec::new(),
                        unnamed: Some(format!(
                            "a traced re-run showed no denied call{} (the run failed with: \
                             {reason})",
                            unfollowed_note(traced.unfollowed)
                        )),
                        swallowed: false,
                    },
                    Err(why) if denied => HarnessError::BypassedSimulator {
                        workload,
                        calls: Vec::new(),
                        unnamed: Some(format!("{why} (the run failed with: {reason})")),
                        swallowed: false,
                    },
                    Ok(_) | Err(_) => HarnessError::CleanRunFailed { workload, reason },
                }
            }
            HarnessError::NoFilesystemStep {
                workload,
                steps,
                note: _,
            } => match self.trace() {
                // It swallowed the denial, and wrote nothing else.
                Ok(traced) if !traced.calls.is_empty() => HarnessError::BypassedSimulator {
                    workload,
                    calls: traced.calls.clone(),
                    unnamed: None,
                    swallowed: true,
                },
                Ok(traced) => HarnessError::NoFilesystemStep {
                    workload,
                    steps,
                    note: Some(format!(
                        "A traced re-run shows no call to the real disk that was denied either{}: \
                         the code persists nothing, or through something other than files (a \
                         database server, the network)",
                        unfollowed_note(traced.unfollowed)
                    )),
                },
                Err(why) => HarnessError::NoFilesystemStep {
                    workload,
                    steps,
                    note: Some(format!(
                        "The run could not be traced for calls to the real disk: {why}"
                    )),
                },
            },
            other => other,
        }
    }
}

/// ` (but ...)`: what a trace that saw nothing did not follow, if anything.
fn unfollowed_note(unfollowed: Option<&str>) -> String {
    unfollowed.map_or(String::new(), |what| {
        format!(" (but the run starts {what}, which the trace does not follow)")
    })
}

/// Whether a run's error text says a real file was denied to it: an OS
/// error `EACCES` (13) or `EXDEV` (18, a rename or link across directories
/// Landlock refuses), as `Display` (`(os error 13)`) or `Debug` (`Os {
/// code: 13`) print it. The simulator never makes OS errors of these
/// codes, so such an error came from the real disk.
pub(crate) fn says_denied(text: &str) -> bool {
    [
        "(os error 13)",
        "Os { code: 13,",
        "(os error 18)",
        "Os { code: 18,",
    ]
    .iter()
    .any(|marker| text.contains(marker))
}

/// The real path a run's error names next to a denial, if it names one:
/// the quoted path nearest to the OS error (`tempfile`: `... (os error 13)
/// at path "/tmp/.tmpX"`; `StdFs`: `open "/x/y": ... (os error 13)`).
pub(crate) fn denied_path_in(text: &str) -> Option<PathBuf> {
    if !says_denied(text) {
        return None;
    }
    let marker = text
        .find("os error 13")
        .or_else(|| text.find("os error 18"))?;
    quoted(text)
        .into_iter()
        .filter(|(_, s)| s.contains('/'))
        .min_by_key(|(at, _)| at.abs_diff(marker))
        .map(|(_, s)| PathBuf::from(s))
}

/// Every `"..."` in `text` (Rust `Debug` escapes undone for `\"` and
/// `\\`), with the byte offset of its opening quote.
fn quoted(text: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    let mut chars = text.char_indices();
    while let Some((start, c)) = chars.next() {
        if c != '"' {
            continue;
        }
        let mut s = String::new();
        let mut closed = false;
        while let Some((_, c)) = chars.next() {
            match c {
                '\\' => {
                    if let Some((_, next)) = chars.next() {
                        s.push(next);
                    }
                }
                '"' => {
                    closed = true;
                    break;
                }
                c => s.push(c),
            }
        }
        if closed {
            found.push((start, s));
        }
    }
    found
}

/// `path` made absolute against the working directory (kept as is when
/// that is unknown).
pub(crate) fn absolute(path: &Path) -> PathBuf {
    if path.is_absolute() {
        return path.to_path_buf();
    }
    std::env::current_dir().map_or_else(|_| path.to_path_buf(), |cwd| cwd.join(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_denial_is_read_from_display_and_debug_forms_only() {
        assert!(says_denied(
            "filesystem error: Permission denied (os error 13)"
        ));
        assert!(says_denied(
            "panicked: called `Result::unwrap()` on an `Err` value: Os { code: 13, kind: \
             PermissionDenied, message: \"Permission denied\" }"
        ));
        assert!(!says_denied("open \"/x\": Permission denied"));
        assert!(!says_denied("filesystem error: No such file (os error 2)"));
    }

    #[test]
    fn the_path_next_to_the_denial_is_named() {
        assert_eq!(
            denied_path_in(
                "failed: Permission denied (os error 13) at path \"/tmp/w/.tmpAbC\"; see \"a/b\""
            ),
            Some(PathBuf::from("/tmp/w/.tmpAbC"))
        );
        assert_eq!(
            denied_path_in("open \"/data/x \\\"y\\\"\": Permission denied (os error 13)"),
            Some(PathBuf::from("/data/x \"y\""))
        );
        assert_eq!(
            denied_path_in("filesystem error: Permission denied (os error 13)"),
            None
        );
        assert_eq!(denied_path_in("open \"/data/x\": not found"), None);
    }
}
