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
//! Reading real files stays allowed.

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
/// one line of every report (`bypass detection: on (Landlock ABI 7)`).
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

    /// The weaker of two (what a merged report of both can vouch for).
    pub fn weaker(self, other: BypassDetection) -> BypassDetection {
        match (&self, &other) {
            (BypassDetection::On { .. }, BypassDetection::Off { .. }) => other,
            (
                BypassDetection::On { partly: None, .. },
                BypassDetection::On {
                    partly: Some(_), ..
                },
            ) => other,
            _ => self,
        }
    }
}

impl fmt::Display for BypassDetection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BypassDetection::On {
                landlock_abi,
                partly: None,
            } => write!(f, "on (Landlock ABI {landlock_abi})"),
            BypassDetection::On {
                landlock_abi,
                partly: Some(gap),
            } => write!(f, "on (Landlock ABI {landlock_abi}; {gap})"),
            BypassDetection::Off { because } => write!(f, "off, because {because}"),
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

    #[test]
    fn the_report_line_says_on_with_the_abi_or_off_with_the_reason() {
        let on = BypassDetection::On {
            landlock_abi: 7,
            partly: None,
        };
        assert_eq!(on.to_string(), "on (Landlock ABI 7)");
        let off = BypassDetection::Off {
            because: "this kernel has no Landlock".into(),
        };
        assert_eq!(off.to_string(), "off, because this kernel has no Landlock");
        assert_eq!(on.clone().weaker(off.clone()), off);
        assert_eq!(off.clone().weaker(on.clone()), off);
        assert_eq!(on.clone().weaker(on.clone()), on);
    }
}
