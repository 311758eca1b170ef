//! Running totals of one pass: crash points, states, violations grouped by
//! bug, the first groups replayed in full, and the refusal to call a pass
//! that checked nothing a pass.
//!
//! Cases are added in the order the pass visits them (crash step order),
//! which is what "adjacent" means for grouping; each case's result is a
//! pure function of the clean run, its crash point and state, so the totals
//! do not depend on how the per-point work was scheduled.

use crashproof_fault::{CrashAt, KillSchedule, StateSelector};

use super::summary::{PassReport, Report, ViolationGroup, Work};
use super::violation::{Finding, Oracle, Violation};
use crate::explore::vocabulary::error::HarnessError;
use crate::explore::vocabulary::options::ExploreOptions;
use crate::explore::vocabulary::plan::Pass;
use crate::explore::vocabulary::sandbox::BypassDetection;
use crate::explore::vocabulary::workload::Workload;

/// What a unit tells the tally, in order.
#[derive(Debug)]
pub(crate) enum Record {
    /// A crash point, with its states' counts.
    Point(PointSummary),
    /// A crash point with its one state (a power loss after a run failed on
    /// an injected fault).
    SingleStatePoint,
    /// Cases that each checked one state and found nothing, in order: their
    /// digests and the runs they started.
    States { digests: Vec<u64>, work: Work },
    /// A case checked: its states' digests, the runs it started, and its
    /// finding with the schedule that names the case, if it failed.
    Case {
        digests: Digests,
        work: Work,
        found: Option<(Finding, KillSchedule)>,
    },
}

/// A unit's records, in order, kept small: consecutive cases that checked
/// one state each and found nothing are one [`Record::States`] (a digest
/// each), so what a unit hands back costs 8 bytes per state, not a record.
#[derive(Debug, Default)]
pub(crate) struct Records(Vec<Record>);

impl Records {
    /// Records starting with `first`.
    pub(crate) fn starting(first: Record) -> Self {
        Records(vec![first])
    }

    /// Adds `record` after the others.
    pub(crate) fn push(&mut self, record: Record) {
        if let Record::Case {
            digests: Digests::One(digest),
            work,
            found: None,
        } = &record
        {
            if let Some(Record::States { digests, work: all }) = self.0.last_mut() {
                digests.push(*digest);
                all.add(work);
                return;
            }
            self.0.push(Record::States {
                digests: vec![*digest],
                work: *work,
            });
            return;
        }
        self.0.push(record);
    }
}

impl IntoIterator for Records {
    type Item = Record;
    type IntoIter = std::vec::IntoIter<Record>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

/// The digests of the post-crash states one case checked: almost always
/// one (a record per state checked costs no allocation then).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Digests {
    /// The one state of a single crash.
    One(u64),
    /// Every state of a case that crashed more than once, or none.
    Many(Vec<u64>),
}

impl Digests {
    /// The digests, in the order checked.
    pub(crate) fn as_slice(&self) -> &[u64] {
        match self {
            Digests::One(d) => std::slice::from_ref(d),
            Digests::Many(ds) => ds,
        }
    }
}

/// How many states a crash point has, for the tally (without the images).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PointSummary {
    /// States about to be checked.
    pub(crate) states: u64,
    /// Whether they were sampled past the cap.
    pub(crate) capped: bool,
    /// How many the model allows here.
    pub(crate) possible: u64,
}

/// Replays a case found without its trace from scratch, for its full
/// violation (and to confirm it): the engine's confirmation replay, handed
/// to the tally so that the report layer imports nothing above it.
pub(crate) type Confirm<'a> =
    Box<dyn Fn(&KillSchedule, &Finding) -> Result<Violation, HarnessError> + 'a>;

/// What a tally needs of the exploration it counts, handed in by the engine
/// (`Engine::tally`).
pub(crate) struct Counted<'a> {
    /// The workload explored: its name and the checks it reports.
    pub(crate) workload: &'a dyn Workload,
    /// The options in force.
    pub(crate) options: &'a ExploreOptions,
    /// The clean run's length in filesystem steps.
    pub(crate) clean_steps: u64,
    /// Whether the clean run made a `sync` (what the sync-EIO pass fails).
    pub(crate) clean_syncs: bool,
    /// Replays the first case of each group in full.
    pub(crate) confirm: Confirm<'a>,
    /// Whether the runs were confined (the report says it once).
    pub(crate) bypass_detection: BypassDetection,
}

/// What makes two violations "the same way for the same reason": the
/// oracle, the message with its numbers masked, and the schedule with the
/// first crash step and every state selector masked.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct GroupKey {
    oracle: Oracle,
    message_shape: String,
    schedule_shape: String,
}

impl GroupKey {
    pub(crate) fn of(oracle: Oracle, message: &str, schedule: &KillSchedule) -> Self {
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

/// Whether a violation whose first crash step is `step` and whose key is
/// `key` belongs to `group` (same key, a first crash step at or next to the
/// group's steps; both without a step also join).
fn adjacent(group: &ViolationGroup, step: Option<u64>) -> bool {
    match (&group.crash_steps, step) {
        (Some(r), Some(s)) => s.saturating_add(1) >= *r.start() && s <= r.end().saturating_add(1),
        (None, None) => true,
        _ => false,
    }
}

/// Whether a violation (`oracle`, `message`, `schedule`, first crash step
/// `step`) would join `group`: the rule a pass groups by, used again to
/// merge shard reports.
pub(crate) fn joins(
    group: &ViolationGroup,
    oracle: Oracle,
    message: &str,
    schedule: &KillSchedule,
    step: Option<u64>,
) -> bool {
    GroupKey::of(group.oracle, &group.message, &group.schedule)
        == GroupKey::of(oracle, message, schedule)
        && adjacent(group, step)
}

/// Running totals of one pass.
pub(crate) struct Tally<'a> {
    of: Counted<'a>,
    pub(crate) report: PassReport,
    groups: Vec<ViolationGroup>,
    /// The key of each group, by index.
    keys: Vec<GroupKey>,
    notes: Vec<String>,
    /// Groups opened with their first violation in full that count toward
    /// `violations_in_full_max` (every one but the shard's join candidates).
    in_full: usize,
    /// In a shard after the first: the first crash step of its units. A
    /// group starting there may continue a group of the shard before, so it
    /// is kept in full besides the first `violations_in_full_max` (the
    /// merge then keeps exactly those a whole run keeps).
    join_candidate_step: Option<u64>,
    /// This shard has no unit of the pass: checking nothing is its share.
    empty_shard: bool,
}

impl<'a> Tally<'a> {
    pub(crate) fn new(of: Counted<'a>, pass: Pass) -> Self {
        let options = of.options;
        let picks = options.picks_per_capped_point as u64;
        let enumerated = options.states_enumerated_max() as u64;
        Self {
            of,
            report: PassReport::new(pass, picks, enumerated),
            groups: Vec::new(),
            keys: Vec::new(),
            notes: Vec::new(),
            in_full: 0,
            join_candidate_step: None,
            empty_shard: false,
        }
    }

    /// This tally is of the shard's `units` units of the pass, the first
    /// at crash step `first_step` if a group starting there may continue a
    /// group of the shard before (see `join_candidate_step`). A shard with
    /// no unit checks nothing, and that is its share, not an error.
    pub(crate) fn shard(&mut self, units: usize, first_step: Option<u64>) {
        let shard = self.of.options.shard;
        if shard.index > 0 {
            self.join_candidate_step = first_step;
        }
        self.empty_shard = units == 0 && !shard.is_whole();
    }

    /// A crash point and how many of its states are about to be checked.
    pub(crate) fn point(&mut self, point: &PointSummary) {
        self.report.crash_points += 1;
        self.report.capped_points += u64::from(point.capped);
        self.report.states_per_point.push(point.states);
        self.report.states_possible_per_point.push(point.possible);
    }

    /// Adds what a unit of the pass recorded, in its order.
    pub(crate) fn record(&mut self, record: Record) -> Result<(), HarnessError> {
        match record {
            Record::Point(point) => self.point(&point),
            Record::SingleStatePoint => self.single_state_point(),
            Record::States { digests, work } => {
                self.report.work.add(&work);
                self.states(&digests);
            }
            Record::Case {
                digests,
                work,
                found,
            } => {
                self.report.work.add(&work);
                self.case(digests.as_slice(), found)?;
            }
        }
        Ok(())
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

    /// A case that checked `digests` and ended with `found` (the finding and
    /// the schedule that names the case). The first case of each group is
    /// replayed from scratch for its trace while the report keeps fewer than
    /// `violations_in_full_max` groups in full.
    fn case(
        &mut self,
        digests: &[u64],
        found: Option<(Finding, KillSchedule)>,
    ) -> Result<(), HarnessError> {
        self.states(digests);
        let Some((finding, schedule)) = found else {
            return Ok(());
        };
        let key = GroupKey::of(finding.oracle, &finding.message, &schedule);
        let step = first_step(&schedule);
        if self.join_group(finding.oracle, &key, step) {
            return Ok(());
        }
        let candidate = self.is_join_candidate(step);
        let violation = if self.has_room_in_full(candidate) {
            Some((self.of.confirm)(&schedule, &finding)?)
        } else {
            None
        };
        self.open_group(key, finding.oracle, finding.message, schedule, violation);
        Ok(())
    }

    fn is_join_candidate(&self, step: Option<u64>) -> bool {
        self.join_candidate_step.is_some() && step == self.join_candidate_step
    }

    /// A violation found in full already (by a determinism check, or the
    /// random mode's shrunk schedule).
    pub(crate) fn violation(&mut self, v: Violation) {
        let key = GroupKey::of(v.oracle, &v.message, &v.schedule);
        if self.join_group(v.oracle, &key, first_step(&v.schedule)) {
            return;
        }
        let (oracle, message, schedule) = (v.oracle, v.message.clone(), v.schedule.clone());
        let candidate = self.is_join_candidate(first_step(&schedule));
        let full = self.has_room_in_full(candidate).then_some(v);
        self.open_group(key, oracle, message, schedule, full);
    }

    /// A remark the report must show.
    pub(crate) fn note(&mut self, note: String) {
        self.notes.push(note);
    }

    /// Whether a new group gets its first violation in full, and counts it
    /// (a shard's join candidate always does and does not count).
    fn has_room_in_full(&mut self, candidate: bool) -> bool {
        if candidate {
            return true;
        }
        let room = self.in_full < self.of.options.violations_in_full_max;
        self.in_full += usize::from(room);
        room
    }

    /// Counts a violation and adds it to the group it extends, if any: same
    /// key, and a first crash step at or next to the group's steps.
    fn join_group(&mut self, oracle: Oracle, key: &GroupKey, step: Option<u64>) -> bool {
        self.report.violations += 1;
        *self.report.violations_per_oracle.entry(oracle).or_insert(0) += 1;
        let found = self
            .keys
            .iter()
            .zip(&self.groups)
            .rposition(|(k, g)| k == key && adjacent(g, step));
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
    pub(crate) fn finish(self) -> Result<Report, HarnessError> {
        if self.report.states_checked == 0 && self.report.violations == 0 && !self.empty_shard {
            return Err(HarnessError::NothingChecked {
                workload: self.of.workload.name(),
                pass: self.report.pass.to_string(),
                hint: self.nothing_checked_hint(),
            });
        }
        Ok(self.into_report(false))
    }

    /// The report of a pass stopped before its end by the caller's cancel
    /// flag: what was counted so far, marked interrupted (never clean, and
    /// not refused for checking nothing: it was not allowed to finish).
    pub(crate) fn finish_interrupted(self) -> Report {
        self.into_report(true)
    }

    fn into_report(self, interrupted: bool) -> Report {
        let options = self.of.options;
        let workload = self.of.workload.name();
        debug_assert_eq!(
            self.report.violations,
            self.groups.iter().map(|g| g.count).sum::<u64>(),
            "every violation is in exactly one group"
        );
        let checked = self.of.workload;
        Report {
            workload,
            seed: options.seed,
            clean_steps: self.of.clean_steps,
            passes: vec![self.report],
            groups: self.groups,
            notes: self.notes,
            elapsed: None,
            peak_memory_bytes: None,
            oracles: checked.checks().describe(checked),
            bypass_detection: self.of.bypass_detection,
            interrupted,
        }
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
            Pass::SyncEio(_) if !self.of.clean_syncs => {
                "the clean run makes no `sync`, so there is no sync to fail: leave this mode out \
                 for this workload"
                    .to_string()
            }
            _ => "no crash point was reached: check that the workload's run makes filesystem calls"
                .to_string(),
        }
    }
}
