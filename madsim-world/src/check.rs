//! The world's properties, each over a [`Report`]. A check that had nothing
//! to check (no short operation completed, no power loss hit the job) is a
//! violation, never a pass.

use std::fmt;

use crate::world::Report;

/// A property a world broke, with the seed that replays it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The property's name.
    pub property: &'static str,
    /// What happened.
    pub detail: String,
    /// The world's seed.
    pub seed: u64,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} (replay: MADSIM_TEST_SEED={} {})",
            self.property,
            self.detail,
            self.seed,
            crate::RUN_COMMAND
        )
    }
}

fn violation(report: &Report, property: &'static str, detail: String) -> Violation {
    Violation {
        property,
        detail,
        seed: report.seed,
    }
}

/// Every short operation held the job lock at most one batch (plus one
/// poll of the lock) after creating the sentinel.
pub fn wait_within_one_batch(report: &Report) -> Result<(), Violation> {
    const NAME: &str = "short op waits at most one batch";
    if report.waits.is_empty() {
        return Err(violation(
            report,
            NAME,
            "no short operation completed".into(),
        ));
    }
    let bound = report.config.batch_time_max() + report.config.poll_interval;
    match report.waits.iter().max() {
        Some(longest) if *longest > bound => Err(violation(
            report,
            NAME,
            format!(
                "a short operation waited {longest:?} for the lock, more than one batch ({:?}) \
                 plus one poll ({:?}); waits: {:?}",
                report.config.batch_time_max(),
                report.config.poll_interval,
                report.waits
            ),
        )),
        _ => Ok(()),
    }
}

/// Every runner opening resumed at or after the highest cursor the job had
/// acknowledged, and some opening followed a power loss.
pub fn no_acknowledged_progress_lost(report: &Report) -> Result<(), Violation> {
    const NAME: &str = "no acknowledged progress lost";
    if !report.kills.iter().any(|k| k.resumed_cursor.is_some()) {
        return Err(violation(
            report,
            NAME,
            "no power loss was followed by a resume".into(),
        ));
    }
    match report
        .opens
        .iter()
        .find(|o| o.resumed_cursor < o.acked_cursor)
    {
        Some(open) => Err(violation(
            report,
            NAME,
            format!(
                "the job resumed at cursor {} after acknowledging cursor {}",
                open.resumed_cursor, open.acked_cursor
            ),
        )),
        None => Ok(()),
    }
}

/// The job finished with the output of an uninterrupted run.
pub fn output_equals_clean(report: &Report) -> Result<(), Violation> {
    const NAME: &str = "final output equals a clean run";
    match report.output {
        Some(output) if output == report.clean_output => Ok(()),
        Some(output) => Err(violation(
            report,
            NAME,
            format!(
                "output {output:#x}, the clean run's {:#x}",
                report.clean_output
            ),
        )),
        None => Err(violation(report, NAME, "the job never finished".into())),
    }
}

/// Each power loss destroyed at most the checkpoint interval T of work
/// (items processed but not durable, times the item cost).
pub fn loss_within_interval(report: &Report) -> Result<(), Violation> {
    const NAME: &str = "a power loss loses at most T of work";
    let Some(interval) = report.config.checkpoint_interval else {
        return Err(violation(
            report,
            NAME,
            "the world has no checkpoint interval T".into(),
        ));
    };
    let mut checked = 0;
    for kill in &report.kills {
        let Some(resumed) = kill.resumed_cursor else {
            continue;
        };
        checked += 1;
        let lost_items = kill.done_cursor.saturating_sub(resumed);
        let lost = report.config.item_cost * u32::try_from(lost_items).unwrap_or(u32::MAX);
        if lost > interval {
            return Err(violation(
                report,
                NAME,
                format!(
                    "the power loss at {:?} lost {lost_items} items ({lost:?} of work), more than \
                     T = {interval:?}",
                    kill.at
                ),
            ));
        }
    }
    if checked == 0 {
        return Err(violation(
            report,
            NAME,
            "no power loss was followed by a resume".into(),
        ));
    }
    Ok(())
}

/// The harness ran cleanly, then every property the world exercises: the
/// wait bound if it had short operations, the two crash properties if it
/// had power losses, the loss bound if it has a T, and the output always.
pub fn check_all(report: &Report) -> Result<(), Violation> {
    if !report.errors.is_empty() {
        return Err(violation(report, "harness", report.errors.join("; ")));
    }
    if !report.op_times.is_empty() {
        wait_within_one_batch(report)?;
    }
    if !report.kill_times.is_empty() {
        no_acknowledged_progress_lost(report)?;
        if report.config.checkpoint_interval.is_some() {
            loss_within_interval(report)?;
        }
    }
    output_equals_clean(report)
}
