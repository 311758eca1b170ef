//! The fault-rule pass: one run with the rules in force (`eio:fsync:*.wal`
//! fails every fsync of a `.wal` file), a crash at every step of it under
//! one model, and that run's own end. Finds programs that go on as if a
//! failed call had succeeded, or that cannot recover from the state a
//! failed call leaves.

use crashproof_fault::{CrashModel, Fault, FaultRule};

use super::records;
use super::units::check_units;
use crate::explore::engine::case::Case;
use crate::explore::engine::dedup::{Checker, CrashedRun};
use crate::explore::engine::points::PointStates;
use crate::explore::engine::start::Engine;
use crate::explore::report::event::Event;
use crate::explore::report::summary::Report;
use crate::explore::report::tally::Records;
use crate::explore::vocabulary::error::HarnessError;
use crate::explore::vocabulary::plan::Pass;
use crate::{FaultConfig, RuleCount, SimView};

/// One unit of the pass: a crash point of the faulted run, or (last) the
/// faulted run's own end, concluded before the units run.
enum Unit {
    Point(PointStates),
    End(Records),
}

/// The run under `rules`, crashed at every step under `model`, and its end
/// ([`crate::explore::Explorer::explore_fault_rules`]), telling `observer`
/// how far it got. A rule that fails no call of the run is
/// [`HarnessError::FaultRuleNeverInjected`].
pub(crate) fn explore(
    engine: &Engine<'_>,
    model: CrashModel,
    rules: &[FaultRule],
    observer: &mut dyn FnMut(Event<'_>),
) -> Result<Report, HarnessError> {
    if rules.is_empty() {
        return Err(HarnessError::EmptyPlan {
            workload: engine.workload().name(),
            missing: "fault rule (the fault-rules mode)",
        });
    }
    let pass = Pass::FaultRules {
        model,
        rules: rules.to_vec(),
    };
    // The reference: the fault-free clean run, recording where it
    // converges; no states collected from it.
    let pass_clean = engine.pass_clean_run()?;
    let clean = &pass_clean.clean;
    let faults = FaultConfig {
        rules: rules.to_vec(),
        ..FaultConfig::default()
    };
    let (fs, progress) = engine.start(faults.clone())?;
    let mut faulted = Case::start(fs, progress, false);
    let (end, points) = faulted.run_collecting(engine, model, 0);
    let counts = faulted.fs.fault_rule_counts();
    let faulted_steps = faulted.fs.steps();
    refuse_unused(engine, &counts, faulted_steps, faults)?;
    let schedule_faults: Vec<Fault> = rules.iter().cloned().map(Fault::Rule).collect();
    // The run's own end is concluded here, once, and tallied last.
    let history = faulted.history.clone();
    let mut end_records = Records::default();
    records::faulted_end(
        (engine, clean),
        faulted,
        end,
        schedule_faults.clone(),
        &mut end_records,
    )?;

    let range = engine.options().shard.range(points.len());
    let mut units: Vec<Unit> = points
        .into_iter()
        .skip(range.start)
        .take(range.len())
        .map(Unit::Point)
        .collect();
    let first_step = units.first().and_then(|u| match u {
        Unit::Point(p) => Some(p.step),
        Unit::End(_) => None,
    });
    if engine.options().shard.is_last() {
        units.push(Unit::End(end_records));
    }
    let mut tally = engine.tally(clean, pass.clone());
    tally.shard(units.len(), first_step);
    let matched: Vec<String> = counts.iter().map(ToString::to_string).collect();
    tally.note(format!(
        "{pass}: the faulted run made {} filesystem steps; {}",
        faulted_steps,
        matched.join("; ")
    ));
    let checker = Checker::new(engine, clean);
    let run = CrashedRun::new(&history);
    let total = units.len() as u64;
    check_units(
        engine,
        (&pass, model, clean),
        tally,
        (&mut units.into_iter(), total),
        observer,
        |unit| match unit {
            Unit::Point(point) => point.len(),
            Unit::End(_) => 1,
        },
        |unit| {
            let point = match unit {
                Unit::End(records) => return Ok(records),
                Unit::Point(point) => point,
            };
            let mut tallied = Records::default();
            records::crash_point(
                &checker,
                &run,
                point,
                (model, &schedule_faults),
                &mut tallied,
            )?;
            Ok(tallied)
        },
    )
}

/// [`HarnessError::FaultRuleNeverInjected`] for the first rule that failed
/// no call of the run on `fs`.
/// The run's calls, for the hint, come from a traced re-run under the same
/// `faults` (the faulted run keeps no trace: it would grow with the run).
fn refuse_unused(
    engine: &Engine<'_>,
    counts: &[RuleCount],
    steps: u64,
    faults: FaultConfig,
) -> Result<(), HarnessError> {
    let Some(unused) = counts.iter().find(|c| c.injected == 0) else {
        return Ok(());
    };
    let (fs, mut progress) = engine.start(faults)?;
    fs.record_trace(true);
    // Only its calls are read: how it ended was seen in the faulted run.
    let _ = engine.run_workload(&fs, &mut progress);
    let trace = fs.trace();
    let mut paths: Vec<String> = trace
        .entries
        .iter()
        .filter(|e| e.step.failpoint.is_none())
        .map(|e| format!("{} {}", e.step.op, e.step.path.display()))
        .collect();
    paths.sort();
    paths.dedup();
    let hint = if paths.is_empty() {
        String::new()
    } else {
        let shown: Vec<&str> = paths.iter().take(12).map(String::as_str).collect();
        let more = paths.len().saturating_sub(shown.len());
        let more = if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        };
        format!(": the run's calls were {}{more}", shown.join(", "))
    };
    Err(HarnessError::FaultRuleNeverInjected {
        workload: engine.workload().name(),
        rule: unused.rule.to_string(),
        matched: unused.matched,
        steps,
        hint,
    })
}
