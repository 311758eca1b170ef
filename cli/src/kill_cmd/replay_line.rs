//! The one command that replays a failing case: this binary (its path, so
//! the line works without `crashproof` on PATH), the same program, checks
//! and directory flags, with `--plan` set to the case's kill points, and
//! `--repeat` when the plan holds `time:` or `progress:` points, which land
//! near, not exactly at, the recorded instants.

use crashproof_kill::Plan;

use super::KillArgs;
use crate::self_invocation::self_command;

/// Tries a replay line asks for when its plan is approximate: enough that
/// a failure reproduced in about half the tries reappears almost surely.
pub const REPLAY_TRIES: u32 = 20;

/// `<this binary> kill --plan '<plan>' ...` for a case of the run `args`
/// describes, shell-quoted so it can be pasted.
pub fn replay_command(args: &KillArgs, plan: &str) -> String {
    let mut words = self_command();
    words.push("kill".into());
    let exact = plan.parse::<Plan>().is_ok_and(|p| p.is_exact());
    let mut flag = |name: &str, value: Option<String>| {
        if let Some(value) = value {
            words.push(name.to_string());
            words.push(value);
        }
    };
    flag("--plan", Some(plan.to_string()));
    flag("--repeat", (!exact).then(|| REPLAY_TRIES.to_string()));
    flag(
        "--dir",
        args.dir.as_ref().map(|d| d.to_string_lossy().into_owned()),
    );
    flag(
        "--run-timeout-ms",
        args.run_timeout_ms.map(|t| t.to_string()),
    );
    flag("--check", args.check.clone());
    flag(
        "--variant",
        args.variant
            .and_then(|v| clap::ValueEnum::to_possible_value(&v).map(|p| p.get_name().to_string())),
    );
    flag("--items", args.items.map(|n| n.to_string()));
    flag(
        "--checkpoint-every",
        args.checkpoint_every.map(|k| k.to_string()),
    );
    if args.ignore_stdout {
        words.push("--ignore-stdout".into());
    }
    if args.items_log {
        words.push("--items-log".into());
    }
    if !args.program.is_empty() {
        words.push("--".into());
        words.extend(args.program.iter().cloned());
    }
    shlex::try_join(words.iter().map(String::as_str))
        // Only a NUL byte cannot be quoted; arguments never hold one.
        .unwrap_or_else(|_| words.join(" "))
}
