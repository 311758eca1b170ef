//! Runs of a workload on threads that cannot write the real disk.
//!
//! Every entry point of the explorer runs its work through
//! [`Engine::confined`]: on a thread spawned for the purpose, which first
//! restricts itself with Linux Landlock so that creating, writing,
//! truncating, renaming or removing a real file fails with `EACCES`
//! ([`Sandbox::NoRealWrites`], the default; a workload may declare
//! [`Sandbox::WritableBeneath`] or [`Sandbox::Unrestricted`]). Reads stay
//! allowed, and so do writes to files opened before (stdout, stderr) and
//! to `/dev/null`.
//!
//! A Landlock restriction is per thread and can never be lifted, so the
//! caller's thread (a test harness's main thread with `--test-threads=1`,
//! the CLI's main thread) is never restricted: the work moves to a spawned
//! thread and the caller waits for it. Threads that a restricted thread
//! starts inherit its restriction: the rayon pool of
//! [`crate::explore::ExploreOptions::jobs`] is built from within (its threads
//! are restricted from birth), and so are threads and child processes a
//! workload starts. The restriction also forbids `mount(2)`.
//!
//! Where Landlock is unavailable (not Linux, a kernel without it, a ruleset
//! the kernel cannot enforce) the work runs unrestricted and
//! [`BypassDetection::Off`] says why, once, in every report.

use std::sync::OnceLock;

use super::start::Engine;
use crate::explore::vocabulary::error::HarnessError;
use crate::explore::vocabulary::sandbox::{BypassDetection, Sandbox};

/// The stack of a confined thread: the size of a typical main thread's, as
/// the work ran on the caller's thread before (a test thread has 2 MiB, a
/// main thread 8 MiB).
const STACK_BYTES: usize = 8 << 20;

/// What restricting one thread concluded, memoised per engine (every thread
/// gets the same policy, so the same status).
pub(crate) type Detection = OnceLock<BypassDetection>;

impl Engine<'_> {
    /// Runs `work` on a new thread restricted by the workload's
    /// [`Sandbox`], while `meanwhile` runs on the calling thread (it may
    /// forward what `work` sends it), and returns what `work` returned. A
    /// panic of `work` (a harness bug: the workload's own panics are
    /// caught where it runs) is resumed on the caller.
    pub(crate) fn confined<R, W, M>(&self, work: W, meanwhile: M) -> Result<R, HarnessError>
    where
        R: Send,
        W: FnOnce(&Self) -> Result<R, HarnessError> + Send,
        M: FnOnce(),
    {
        std::thread::scope(|scope| {
            let spawned = std::thread::Builder::new()
                .name("crashproof-explore".to_string())
                .stack_size(STACK_BYTES)
                .spawn_scoped(scope, || {
                    self.restrict_this_thread()?;
                    work(self)
                });
            let handle = match spawned {
                Ok(handle) => handle,
                Err(e) => {
                    return Err(HarnessError::ThreadPool {
                        threads: 1,
                        reason: e.to_string(),
                    });
                }
            };
            meanwhile();
            match handle.join() {
                Ok(result) => result,
                Err(payload) => std::panic::resume_unwind(payload),
            }
        })
    }

    /// Restricts the calling thread by the workload's [`Sandbox`] and
    /// records what that gave ([`Engine::bypass_detection`]). Only ever
    /// called on a thread the engine spawned.
    pub(crate) fn restrict_this_thread(&self) -> Result<(), HarnessError> {
        let detection = restrict(&self.workload().sandbox()).map_err(|(path, reason)| {
            HarnessError::SandboxPath {
                workload: self.workload().name(),
                path,
                reason,
            }
        })?;
        let _ = self.detection().set(detection);
        Ok(())
    }

    /// Whether this engine's runs were confined: set by the first confined
    /// thread (every report made on one carries it), with what the audit
    /// of swallowed denials did (`audit.rs`).
    pub(crate) fn bypass_detection(&self) -> BypassDetection {
        match self.detection().get().cloned() {
            Some(BypassDetection::On {
                landlock_abi,
                partly,
                swallowed_denials: _,
            }) => BypassDetection::On {
                landlock_abi,
                partly,
                swallowed_denials: self.swallowed_denials(),
            },
            Some(off) => off,
            None => BypassDetection::Off {
                because: "the runs were not started on a confined thread".to_string(),
            },
        }
    }
}

/// Restricts the calling thread as `policy` says. `Err` names a path of
/// [`Sandbox::WritableBeneath`] that cannot be opened.
#[cfg(target_os = "linux")]
fn restrict(policy: &Sandbox) -> Result<BypassDetection, (std::path::PathBuf, String)> {
    use landlock::{
        ABI, AccessFs, PathBeneath, PathFd, Ruleset, RulesetAttr, RulesetCreatedAttr, RulesetStatus,
    };

    let writable = match policy {
        Sandbox::NoRealWrites => Vec::new(),
        Sandbox::WritableBeneath(paths) => paths.clone(),
        Sandbox::Unrestricted { reason } => {
            return Ok(BypassDetection::Off {
                because: format!("the workload declared Sandbox::Unrestricted ({reason})"),
            });
        }
    };
    let mut rules = Vec::new();
    for path in &writable {
        let fd = PathFd::new(path).map_err(|e| (path.clone(), e.to_string()))?;
        rules.push((fd, path.is_dir()));
    }
    // Writing, creating, removing, renaming across directories (Refer, ABI
    // 2) and truncating (ABI 3) real files; not IoctlDev or ResolveUnix,
    // which persist nothing.
    let abi = ABI::V3;
    let handled = AccessFs::from_write(abi);
    let file_rights = AccessFs::from_file(abi) & handled;
    let enforced = (|| {
        let mut created = Ruleset::default().handle_access(handled)?.create()?;
        if let Ok(null) = PathFd::new("/dev/null") {
            created = created.add_rule(PathBeneath::new(null, file_rights))?;
        }
        for (fd, is_dir) in rules {
            let rights = if is_dir { handled } else { file_rights };
            created = created.add_rule(PathBeneath::new(fd, rights))?;
        }
        created.restrict_self()
    })();
    let status = match enforced {
        Ok(status) => status,
        Err(e) => {
            return Ok(BypassDetection::Off {
                because: format!("the Landlock ruleset could not be enforced ({e})"),
            });
        }
    };
    let landlock_abi = match status.landlock {
        landlock::LandlockStatus::Available {
            effective_abi,
            kernel_abi,
        } => kernel_abi.map_or(effective_abi as u32, |v| u32::try_from(v).unwrap_or(0)),
        landlock::LandlockStatus::NotEnabled => {
            return Ok(BypassDetection::Off {
                because: "Landlock is not enabled in this kernel (add `landlock` to the `lsm=` \
                          boot parameter)"
                    .to_string(),
            });
        }
        landlock::LandlockStatus::NotImplemented => {
            return Ok(BypassDetection::Off {
                because: "this kernel has no Landlock (Linux 5.13 or later has it)".to_string(),
            });
        }
    };
    Ok(match status.ruleset {
        RulesetStatus::FullyEnforced => BypassDetection::On {
            landlock_abi,
            partly: None,
            swallowed_denials: not_traced_yet(),
        },
        RulesetStatus::PartiallyEnforced => BypassDetection::On {
            landlock_abi,
            partly: Some(
                "this kernel's Landlock cannot deny truncate(2) by path or renames across \
                 directories"
                    .to_string(),
            ),
            swallowed_denials: not_traced_yet(),
        },
        RulesetStatus::NotEnforced => BypassDetection::Off {
            because: format!("this kernel's Landlock (ABI {landlock_abi}) enforced nothing"),
        },
    })
}

/// What restricting a thread knows of the audit: nothing yet
/// ([`Engine::bypass_detection`] says what it did).
#[cfg(target_os = "linux")]
fn not_traced_yet() -> crate::explore::vocabulary::sandbox::SwallowedDenials {
    crate::explore::vocabulary::sandbox::SwallowedDenials::NotChecked {
        because: "the clean run was not traced".to_string(),
    }
}

#[cfg(not(target_os = "linux"))]
fn restrict(policy: &Sandbox) -> Result<BypassDetection, (std::path::PathBuf, String)> {
    let because = match policy {
        Sandbox::Unrestricted { reason } => {
            format!("the workload declared Sandbox::Unrestricted ({reason})")
        }
        _ => "runs are confined with Linux Landlock, and this is not Linux".to_string(),
    };
    Ok(BypassDetection::Off { because })
}
