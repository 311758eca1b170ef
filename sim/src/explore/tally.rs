//! Running totals of one pass: crash points, states, violations grouped by
//! bug, the first groups replayed in full, and the refusal to call a pass
//! that checked nothing a pass.
//!
//! Cases are added in the order the pass visits them (crash step order),
//! which is what "adjacent" means for grouping; each case's result is a
//! pure function of the clean run, its crash point and state, so the totals
//! do not depend on how the per-point work was scheduled.

use crashproof_fault::{CrashAt, KillSchedule, StateSelector};

use super::error::HarnessError;
use super::explorer::{CleanRun, Explorer};
use super::oracle::Finding;
use super::plan::Pass;
use super::points::PointStates;
use super::report::{PassReport, Report, ViolationGroup};
use super::violation::{Oracle, Violation};

/// What makes two violations "the same way for the same reason": the
/// oracle, the message with its numbers masked, and the schedule with the
/// first crash step and every state selector masked.
#[derive(Debug, PartialEq, Eq)]
struct GroupKey {
    oracle: Oracle,
    message_shape: String,
    schedule_shape: String,
}

impl GroupKey {
    fn of(oracle: Oracle, message: &str, schedule: &KillSchedule) -> Self {
        let mut shape = schedule.clone();
        for (i, point) in shape.points.iter_mut().enumerate() {
            point.state = StateSelector::Index(0);
            if i == 0 && matches!(point.at, CrashAt::Step(_)) {
                point.at = CrashAt::Step(0);
            }
        }
        Self {
            oracle,
            message_shape: mask_numbers(message),
            schedule_shape: shape.to_string(),
        }
    }
}

/// `message` with every run of digits replaced by `#`.
fn mask_numbers(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut in_number = false;
    for c in message.chars() {
        if c.is_ascii_digit() {
            if !in_number {
                out.push('#');
            }
            in_number = true;
        } else {
            out.push(c);
            in_number = false;
        }
    }
    out
}

/// The step of a schedule's first crash point, if it is a step.
fn first_step(schedule: &KillSchedule) -> Option<u64> {
    match schedule.points.first().map(|p| &p.at) {
        Some(CrashAt::Step(n)) => Some(*n),
        _ => None,
    }
}

/// Running totals of one pass.
pub(crate) struct Tally<'a, 'w> {
    explorer: &'a Explorer<'w>,
    clean: &'a CleanRun,
    pub(crate) report: PassReport,
    groups: Vec<ViolationGroup>,
    /// The key of each group, by index.
    keys: Vec<GroupKey>,
    notes: Vec<String>,
}

impl<'a, 'w> Tally<'a, 'w> {
    pub(crate) fn new(explorer: &'a Explorer<'w>, clean: &'a CleanRun, pass: Pass) -> Self {
        let picks = explorer.options().picks_per_capped_point as u64;
        Self {
            explorer,
            clean,
            report: PassReport::new(pass, picks),
            groups: Vec::new(),
            keys: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// A crash point and how many of its states are about to be checked.
    pub(crate) fn point(&mut self, point: &PointStates) {
        self.report.crash_points += 1;
        self.report.capped_points += u64::from(point.capped);
        self.report.states_per_point.push(point.states.len() as u64);
        self.report.states_possible_per_point.push(point.possible);
    }

    /// A crash point with exactly one state, all the model allows there (a
    /// power loss after a run failed on an injected fault).
    pub(crate) fn single_state_point(&mut self) {
        self.report.crash_points += 1;
        self.report.states_per_point.push(1);
        self.report.states_possible_per_point.push(1);
    }

    /// Post-crash states checked, by content digest.
    pub(crate) fn states(&mut self, digests: &[u64]) {
        self.report.states_checked += digests.len() as u64;
        self.report.state_digests.extend(digests);
    }

    /// A case that checked `digests` and ended with `finding`; `schedule`
    /// names it (built only if there is a finding). The first case of each
    /// group is replayed from scratch for its trace while the report keeps
    /// fewer than `violations_in_full_max` groups in full.
    pub(crate) fn case(
        &mut self,
        digests: &[u64],
        finding: Option<Finding>,
        schedule: impl FnOnce() -> KillSchedule,
    ) -> Result<(), HarnessError> {
        self.states(digests);
        let Some(finding) = finding else {
            return Ok(());
        };
        let schedule = schedule();
        let key = GroupKey::of(finding.oracle, &finding.message, &schedule);
        if self.join_group(finding.oracle, &key, first_step(&schedule)) {
            return Ok(());
        }
        let violation = if self.has_room_in_full() {
            Some(self.explorer.confirm(self.clean, &schedule, &finding)?)
        } else {
            None
        };
        self.open_group(key, finding.oracle, finding.message, schedule, violation);
        Ok(())
    }

    /// A violation found in full already (by a determinism check, or the
    /// random mode's shrunk schedule).
    pub(crate) fn violation(&mut self, v: Violation) {
        let key = GroupKey::of(v.oracle, &v.message, &v.schedule);
        if self.join_group(v.oracle, &key, first_step(&v.schedule)) {
            return;
        }
        let (oracle, message, schedule) = (v.oracle, v.message.clone(), v.schedule.clone());
        let full = self.has_room_in_full().then_some(v);
        self.open_group(key, oracle, message, schedule, full);
    }

    /// A remark the report must show.
    pub(crate) fn note(&mut self, note: String) {
        self.notes.push(note);
    }

    fn has_room_in_full(&self) -> bool {
        let in_full = self.groups.iter().filter(|g| g.violation.is_some()).count();
        in_full < self.explorer.options().violations_in_full_max
    }

    /// Counts a violation and adds it to the group it extends, if any: same
    /// key, and a first crash step at or next to the group's steps.
    fn join_group(&mut self, oracle: Oracle, key: &GroupKey, step: Option<u64>) -> bool {
        self.report.violations += 1;
        *self.report.violations_per_oracle.entry(oracle).or_insert(0) += 1;
        let found = self.keys.iter().zip(&self.groups).rposition(|(k, g)| {
            k == key
                && match (&g.crash_steps, step) {
                    (Some(r), Some(s)) => {
                        s.saturating_add(1) >= *r.start() && s <= r.end().saturating_add(1)
                    }
                    (None, None) => true,
                    _ => false,
                }
        });
        let Some(i) = found else {
            return false;
        };
        let group = &mut self.groups[i];
        group.count += 1;
        if let (Some(r), Some(s)) = (&group.crash_steps, step) {
            group.crash_steps = Some((*r.start()).min(s)..=(*r.end()).max(s));
        }
        true
    }

    fn open_group(
        &mut self,
        key: GroupKey,
        oracle: Oracle,
        message: String,
        schedule: KillSchedule,
        violation: Option<Violation>,
    ) {
        let step = first_step(&schedule);
        self.groups.push(ViolationGroup {
            pass: self.report.pass.clone(),
            oracle,
            message,
            schedule,
            crash_steps: step.map(|s| s..=s),
            count: 1,
            violation,
        });
        self.keys.push(key);
    }

    /// The pass's report. A pass that checked no post-crash state and found
    /// no violation vouches for nothing: [`HarnessError::NothingChecked`],
    /// with what to change.
    pub(crate) fn finish(mut self) -> Result<Report, HarnessError> {
        let options = self.explorer.options();
        let workload = self.explorer.workload().name();
        if self.report.states_checked == 0 && self.report.violations == 0 {
            return Err(HarnessError::NothingChecked {
                workload,
                pass: self.report.pass.to_string(),
                hint: self.nothing_checked_hint(),
            });
        }
        if self.report.capped_points > 0 {
            self.notes.insert(
                0,
                format!(
                    "{}: {} of {} crash points had more than {} post-crash states; {} seeded \
                     picks were checked at each of those instead of every state (raise --cap / \
                     states_per_point_max to enumerate)",
                    self.report.pass,
                    self.report.capped_points,
                    self.report.crash_points,
                    options.states_enumerated_max(),
                    options.picks_per_capped_point
                ),
            );
        }
        debug_assert_eq!(
            self.report.violations,
            self.groups.iter().map(|g| g.count).sum::<u64>(),
            "every violation is in exactly one group"
        );
        let checked = self.explorer.workload();
        Ok(Report {
            workload,
            seed: options.seed,
            clean_steps: self.clean.steps,
            passes: vec![self.report],
            groups: self.groups,
            notes: self.notes,
            elapsed: None,
            oracles: checked.checks().describe(checked),
        })
    }

    fn nothing_checked_hint(&self) -> String {
        match &self.report.pass {
            Pass::Random { config, .. } if config.cases == 0 => {
                "it ran 0 cases: run at least one (--cases, RandomConfig::cases)".to_string()
            }
            Pass::Random { .. } => format!(
                "none of its {} cases reached a crash point: run more cases",
                self.report.cases.unwrap_or(0)
            ),
            Pass::SyncEio(_) if self.clean.sync_steps().is_empty() => {
                "the clean run makes no `sync`, so there is no sync to fail: leave this mode out \
                 for this workload"
                    .to_string()
            }
            _ => "no crash point was reached: check that the workload's run makes filesystem calls"
                .to_string(),
        }
    }
}
