//! Where a workload's runs may touch the real disk ([`Sandbox`], what a
//! workload declares) and whether the explorer could hold them to it
//! ([`BypassDetection`], what every report says once).
//!
//! Code under test is meant to persist through the `Fs` it is given (the
//! simulator). A call that reaches the real disk instead (`std::fs` left
//! imported, a crate that writes files itself) is never crashed or checked,
//! and it changes the machine the test runs on. So the explorer runs every
//! run of a workload on threads of its own that the kernel (Linux Landlock)
//! does not let create, write, truncate, rename or remove a real file:
//! such a call fails with `EACCES`, and the explorer reports it as a call
//! that bypassed the simulator (`engine/sandbox.rs`, `engine/bypass.rs`).
//! Reading real files stays allowed. A program may swallow the `EACCES`
//! (`let _ = std::fs::write(..)`) and go on through the simulator, so its
//! runs look sound: once per explorer, its clean run is traced for such
//! calls ([`SwallowedDenials`], `engine/audit.rs`).

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// What a workload's runs may do on the real disk
/// ([`crate::explore::Workload::sandbox`]). The default, for every
/// workload, is [`Sandbox::NoRealWrites`].
///
/// A workload that runs a real program on a mount whose writes reach the
/// simulator (a FUSE filesystem backed by the `SimFs` of the run) declares
/// [`Sandbox::WritableBeneath`] with the mountpoint: the program's writes
/// there are allowed, any other real write is still refused. Mount it from
/// a thread the explorer did not start (a restricted thread may not call
/// `mount(2)`), for example a helper thread started when the workload is
/// built. Child processes inherit the restriction of the thread that
/// starts them. [`Sandbox::Unrestricted`] is for what cannot be confined
/// at all; the report then says bypass detection is off, and why.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Sandbox {
    /// No run may create, write, truncate, rename or remove a real file
    /// (writing to `/dev/null` and to files opened before the run, such as
    /// stdout, stays allowed).
    #[default]
    NoRealWrites,
    /// As [`Sandbox::NoRealWrites`], except beneath these real directories
    /// (or files), where everything is allowed: a mountpoint whose writes
    /// reach the simulator, a scratch directory a real subprocess needs.
    /// Each must exist when the exploration starts.
    WritableBeneath(Vec<PathBuf>),
    /// Runs are not confined at all: the explorer cannot tell a call that
    /// bypassed the simulator, and every report says so with `reason`.
    Unrestricted {
        /// Why, for the report ("mounts a FUSE filesystem in every run").
        reason: String,
    },
}

/// Whether the runs of an exploration could write the real disk unnoticed:
/// one line of every report (`bypass detection: on (Landlock ABI 7);
/// swallowed denials checked (clean run traced)`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "state")]
pub enum BypassDetection {
    /// Every run ran on threads that cannot write the real disk: a call
    /// that tried is reported as a bypass of the simulator.
    On {
        /// The Landlock ABI version of this kernel.
        landlock_abi: u32,
        /// What this kernel's ABI cannot deny, if anything (older kernels
        /// lack the truncate and cross-directory rights).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        partly: Option<String>,
        /// Whether a denied call the program swallowed would have been
        /// seen: the clean run traced once, or why not.
        #[serde(default)]
        swallowed_denials: SwallowedDenials,
    },
    /// Runs could write the real disk unnoticed.
    Off {
        /// Why ("this kernel has no Landlock", "the workload declared
        /// Sandbox::Unrestricted: ...").
        because: String,
    },
}

impl Default for BypassDetection {
    /// What a report read from JSON written before the field existed says.
    fn default() -> Self {
        BypassDetection::Off {
            because: "the report does not say (written by an older crashproof)".to_string(),
        }
    }
}

impl BypassDetection {
    /// Whether runs were confined.
    pub fn is_on(&self) -> bool {
        matches!(self, BypassDetection::On { .. })
    }

    /// The weaker of two (what a merged report of both can vouch for): off
    /// if either is; else on with the first gap of the kernel's ABI either
    /// names and the weaker check of swallowed denials.
    pub fn weaker(self, other: BypassDetection) -> BypassDetection {
        match (self, other) {
            (off @ BypassDetection::Off { .. }, _) | (_, off @ BypassDetection::Off { .. }) => off,
            (
                BypassDetection::On {
                    landlock_abi,
                    partly,
                    swallowed_denials,
                },
                BypassDetection::On {
                    landlock_abi: other_abi,
                    partly: other_partly,
                    swallowed_denials: other_swallowed,
                },
            ) => BypassDetection::On {
                landlock_abi: landlock_abi.min(other_abi),
                partly: partly.or(other_partly),
                swallowed_denials: swallowed_denials.weaker(other_swallowed),
            },
        }
    }
}

impl fmt::Display for BypassDetection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BypassDetection::On {
                landlock_abi,
                partly,
                swallowed_denials,
            } => {
                write!(f, "on (Landlock ABI {landlock_abi}")?;
                if let Some(gap) = partly {
                    write!(f, "; {gap}")?;
                }
                write!(f, "); {swallowed_denials}")
            }
            BypassDetection::Off { because } => write!(f, "off, because {because}"),
        }
    }
}

/// Whether a real-disk call that was denied and that the program swallowed
/// (`let _ = std::fs::write(..)`, then on through the simulator, so the
/// run looks sound) would have been caught: once per explorer, after Landlock
/// was found on, the clean run is run again on a confined thread that
/// `strace` follows ([`crate::explore::ExploreOptions::audit`]); a denied
/// write it shows is [`crate::explore::HarnessError::BypassedSimulator`].
/// Part of [`BypassDetection::On`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "state")]
pub enum SwallowedDenials {
    /// The clean run was traced and no call of it was denied.
    Checked,
    /// The clean run was traced, but it starts threads or child processes
    /// whose calls the trace does not follow (a real program run on a
    /// mount): only the calls of the thread that runs it were checked.
    Partly {
        /// What the clean run starts that was not followed ("child
        /// processes", "threads", "child processes and threads").
        unfollowed: String,
    },
    /// Not checked.
    NotChecked {
        /// Why ("`strace` is not installed", "the audit is turned off").
        because: String,
    },
}

impl Default for SwallowedDenials {
    /// What a report read from JSON written before the field existed says.
    fn default() -> Self {
        SwallowedDenials::NotChecked {
            because: "the report does not say (written by an older crashproof)".to_string(),
        }
    }
}

impl SwallowedDenials {
    /// The weaker of two: not checked, then partly, then checked.
    pub fn weaker(self, other: SwallowedDenials) -> SwallowedDenials {
        let rank = |s: &SwallowedDenials| match s {
            SwallowedDenials::NotChecked { .. } => 0,
            SwallowedDenials::Partly { .. } => 1,
            SwallowedDenials::Checked => 2,
        };
        if rank(&other) < rank(&self) {
            other
        } else {
            self
        }
    }
}

impl fmt::Display for SwallowedDenials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SwallowedDenials::Checked => {
                f.write_str("swallowed denials checked (clean run traced)")
            }
            SwallowedDenials::Partly { unfollowed } => write!(
                f,
                "swallowed denials checked on the clean run's own thread only: it starts \
                 {unfollowed}, which the trace does not follow"
            ),
            SwallowedDenials::NotChecked { because } => {
                write!(f, "swallowed denials not checked: {because}")
            }
        }
    }
}

/// A call of a run that went to the real disk instead of the simulator and
/// was denied ([`crate::explore::HarnessError::BypassedSimulator`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RealDiskCall {
    /// The system call (`openat`, `mkdir`, `rename`, ...), when a trace of
    /// the run saw it; `None` when the run's error named only the path.
    pub syscall: Option<String>,
    /// The real path it named (absolute when the call's was relative: the
    /// process's working directory is prefixed).
    pub path: PathBuf,
}

impl fmt::Display for RealDiskCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.syscall {
            Some(call) => write!(f, "`{call}` of {}", self.path.display()),
            None => write!(f, "a write of {}", self.path.display()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn on(partly: Option<&str>, swallowed_denials: SwallowedDenials) -> BypassDetection {
        BypassDetection::On {
            landlock_abi: 7,
            partly: partly.map(str::to_string),
            swallowed_denials,
        }
    }

    fn not_checked() -> SwallowedDenials {
        SwallowedDenials::NotChecked {
            because: "`strace` is not installed".into(),
        }
    }

    #[test]
    fn the_report_line_says_on_with_the_abi_or_off_with_the_reason() {
        let on = on(None, SwallowedDenials::Checked);
        assert_eq!(
            on.to_string(),
            "on (Landlock ABI 7); swallowed denials checked (clean run traced)"
        );
        let off = BypassDetection::Off {
            because: "this kernel has no Landlock".into(),
        };
        assert_eq!(off.to_string(), "off, because this kernel has no Landlock");
        assert_eq!(on.clone().weaker(off.clone()), off);
        assert_eq!(off.clone().weaker(on.clone()), off);
        assert_eq!(on.clone().weaker(on.clone()), on);
    }

    #[test]
    fn a_merge_keeps_the_weaker_check_of_swallowed_denials() {
        let checked = on(None, SwallowedDenials::Checked);
        let partly = on(
            None,
            SwallowedDenials::Partly {
                unfollowed: "child processes".into(),
            },
        );
        let missing = on(Some("no truncate"), not_checked());
        assert_eq!(
            missing.to_string(),
            "on (Landlock ABI 7; no truncate); swallowed denials not checked: `strace` is not \
             installed"
        );
        assert_eq!(
            partly.to_string(),
            "on (Landlock ABI 7); swallowed denials checked on the clean run's own thread only: \
             it starts child processes, which the trace does not follow"
        );
        assert_eq!(checked.clone().weaker(partly.clone()), partly);
        assert_eq!(partly.clone().weaker(checked.clone()), partly);
        assert_eq!(checked.clone().weaker(missing.clone()), missing);
        assert_eq!(missing.clone().weaker(partly.clone()), missing);
        // Field by field: the ABI gap of one, the missing trace of the other.
        assert_eq!(
            on(Some("no truncate"), SwallowedDenials::Checked).weaker(on(None, not_checked())),
            missing
        );
    }

    #[test]
    fn a_report_written_before_the_audit_reads_as_not_checked() {
        let old: BypassDetection =
            serde_json::from_str(r#"{"state":"on","landlock_abi":7}"#).unwrap();
        assert_eq!(old, on(None, SwallowedDenials::default()));
        let json = serde_json::to_string(&on(None, SwallowedDenials::Checked)).unwrap();
        assert_eq!(
            json,
            r#"{"state":"on","landlock_abi":7,"swallowed_denials":{"state":"checked"}}"#
        );
    }
}
