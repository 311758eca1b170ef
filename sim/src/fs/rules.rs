//! The fault-rule guard: before every step's body, each rule of
//! [`super::FaultConfig::rules`] is asked whether it matches the call
//! (operation kind and path, Pebble's `MaybeError(Op{Kind, Path})`), its
//! match counted, and the first rule that injects fails the call. Counts are
//! per filesystem (per run: a crash image starts from zero), so a run is a
//! pure function of its calls: rules never look at time or chance.

use std::io::{self, ErrorKind};

use crashproof_core::fs::FsOp;
use crashproof_fault::{FaultRule, RuleError};

use super::error::InjectedFault;
use super::state::State;
use super::trace::StepInfo;

/// How one fault rule fared on one filesystem: the calls it matched and
/// the ones it failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleCount {
    /// The rule.
    pub rule: FaultRule,
    /// Calls of its operation on a path its glob matches.
    pub matched: u64,
    /// Of those, the calls it failed (all of them, or the `n`-th only).
    pub injected: u64,
    /// The step of the first call it failed.
    pub first_injected_step: Option<u64>,
}

impl RuleCount {
    /// A rule that has matched nothing yet.
    pub fn new(rule: FaultRule) -> Self {
        Self {
            rule,
            matched: 0,
            injected: 0,
            first_injected_step: None,
        }
    }
}

impl std::fmt::Display for RuleCount {
    /// `` `eio:fsync:*.wal` failed 2 of 2 matching calls (first at step 14) ``
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "`{}` failed {} of {} matching calls",
            self.rule, self.injected, self.matched
        )?;
        if let Some(step) = self.first_injected_step {
            write!(f, " (first at step {step})")?;
        }
        Ok(())
    }
}

/// A counter for each rule.
pub(crate) fn counts_for(rules: &[FaultRule]) -> Vec<RuleCount> {
    rules.iter().cloned().map(RuleCount::new).collect()
}

impl State {
    /// The guard of step `info` (`handle`: the raw handle of a handle
    /// operation): counts every rule that matches it, and fails it with the
    /// first one that injects, applying that error's effect (a failed fsync
    /// drops the file's unsynced data, as Linux does; any other call changes
    /// nothing). `None`: the step runs.
    pub(crate) fn rule_fault(&mut self, info: &StepInfo, handle: Option<u64>) -> Option<io::Error> {
        let mut fired: Option<(FaultRule, u64)> = None;
        for count in &mut self.rule_counts {
            if !count.rule.matches(info.op, &info.path, info.to.as_deref()) {
                continue;
            }
            count.matched += 1;
            if fired.is_none() && count.rule.injects_at(count.matched) {
                count.injected += 1;
                count.first_injected_step.get_or_insert(info.index);
                fired = Some((count.rule.clone(), count.matched));
            }
        }
        let (rule, matched) = fired?;
        let (kind, errno) = match rule.error {
            RuleError::Eio => (ErrorKind::Other, "EIO"),
            RuleError::Enospc => (ErrorKind::StorageFull, "ENOSPC"),
        };
        let is_sync = matches!(info.op, FsOp::Sync | FsOp::SyncData);
        let effect = match handle.filter(|_| is_sync).map(|id| self.fail_sync(id)) {
            Some(Ok(dropped)) => {
                format!("{dropped} unsynced op(s) dropped, lost on a crash")
            }
            // An unknown handle: the call fails as it would have anyway.
            Some(Err(e)) => return Some(e),
            None => "nothing changed".to_string(),
        };
        self.step_faults.push(format!(
            "{errno} by fault rule `{rule}` (match {matched}): {effect}"
        ));
        Some(io::Error::new(
            kind,
            InjectedFault::Rule {
                rule: rule.to_string(),
                errno,
                lost_on_crash: is_sync,
            },
        ))
    }
}
