//! Parsing the text form of a [`KillSchedule`] (see its docs for the grammar).

use std::fmt::Display;
use std::num::{IntErrorKind, ParseIntError};
use std::str::FromStr;

use crate::rule::FaultRule;
use crate::schedule::{
    CrashAt, CrashModel, CrashPoint, Fault, KillSchedule, StateSelector, is_valid_failpoint_name,
};

/// Why a schedule's text form did not parse. The message quotes the bad item
/// and says what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseScheduleError {
    /// The text holds no item.
    #[error(
        "empty kill schedule: expected items like `step:37@drop-unsynced#seed=0`, separated by `;`"
    )]
    Empty,
    /// One item is malformed.
    #[error("bad kill schedule item {item:?}: {reason}")]
    Item {
        /// The item as written.
        item: String,
        /// What was expected.
        reason: String,
    },
}

fn bad(item: &str, reason: impl Into<String>) -> ParseScheduleError {
    ParseScheduleError::Item {
        item: item.to_string(),
        reason: reason.into(),
    }
}

/// The number `digits` of `item`, whose form is `form`; `max` is the largest
/// value the field holds, named when `digits` is a number past it, so a too
/// large number is not reported as a malformed one.
fn number<T>(item: &str, digits: &str, form: &str, max: T) -> Result<T, ParseScheduleError>
where
    T: FromStr<Err = ParseIntError> + Display,
{
    digits.parse().map_err(|e: ParseIntError| match e.kind() {
        IntErrorKind::PosOverflow => bad(
            item,
            format!("the number {digits} in `{form}` is too large: at most {max}"),
        ),
        _ => bad(item, format!("expected `{form}`")),
    })
}

impl FromStr for KillSchedule {
    type Err = ParseScheduleError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut schedule = KillSchedule {
            points: Vec::new(),
            faults: Vec::new(),
        };
        for item in text.split(';').map(str::trim).filter(|i| !i.is_empty()) {
            if let Some(rest) = item.strip_prefix("eio:")
                && !rest.contains(':')
            {
                let step = number(item, rest, "eio:<step number>", u64::MAX)?;
                schedule.faults.push(Fault::SyncEio(step));
            } else if item.starts_with("eio:") || item.starts_with("enospc:") {
                let rule = item
                    .parse::<FaultRule>()
                    .map_err(|e| bad(item, e.to_string()))?;
                schedule.faults.push(Fault::Rule(rule));
            } else {
                schedule.points.push(parse_point(item)?);
            }
        }
        if schedule.points.is_empty() && schedule.faults.is_empty() {
            return Err(ParseScheduleError::Empty);
        }
        Ok(schedule)
    }
}

impl FromStr for CrashPoint {
    type Err = ParseScheduleError;

    fn from_str(item: &str) -> Result<Self, Self::Err> {
        parse_point(item.trim())
    }
}

fn parse_point(item: &str) -> Result<CrashPoint, ParseScheduleError> {
    let (at, rest) = item.split_once('@').ok_or_else(|| {
        bad(
            item,
            "expected `<where>@<model>#<state>`, e.g. `step:3@prefix#idx=0`",
        )
    })?;
    let (model, state) = rest
        .split_once('#')
        .ok_or_else(|| bad(item, "expected `#seed=<n>` or `#idx=<n>` after the model"))?;
    let model = CrashModel::from_name(model).ok_or_else(|| {
        bad(
            item,
            format!("unknown model {model:?}: use drop-unsynced, prefix, subset or eager-dirs"),
        )
    })?;
    Ok(CrashPoint {
        at: parse_at(item, at)?,
        model,
        state: parse_state(item, state)?,
    })
}

fn parse_at(item: &str, at: &str) -> Result<CrashAt, ParseScheduleError> {
    if let Some(step) = at.strip_prefix("step:") {
        let step = number(item, step, "step:<number>", u64::MAX)?;
        return Ok(CrashAt::Step(step));
    }
    if let Some(fp) = at.strip_prefix("fp:") {
        let (name, hit) = match fp.split_once('*') {
            Some((name, hit)) => {
                let hit = number(item, hit, "fp:<name>*<hit number>", u32::MAX)?;
                (name, hit)
            }
            None => (fp, 1),
        };
        if hit == 0 {
            return Err(bad(item, "failpoint hits count from 1"));
        }
        if !is_valid_failpoint_name(name) {
            return Err(bad(
                item,
                "a failpoint name is made of letters, digits, `.`, `_` and `-`",
            ));
        }
        return Ok(CrashAt::Failpoint {
            name: name.to_string(),
            hit,
        });
    }
    Err(bad(
        item,
        "expected `step:<n>` or `fp:<name>[*<hit>]` before `@`",
    ))
}

fn parse_state(item: &str, state: &str) -> Result<StateSelector, ParseScheduleError> {
    if let Some(seed) = state.strip_prefix("seed=") {
        let seed = number(item, seed, "seed=<u64>", u64::MAX)?;
        return Ok(StateSelector::Seed(seed));
    }
    if let Some(idx) = state.strip_prefix("idx=") {
        let idx = number(item, idx, "idx=<number>", usize::MAX)?;
        return Ok(StateSelector::Index(idx));
    }
    Err(bad(item, "expected `seed=<n>` or `idx=<n>` after `#`"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategy::{ScheduleStrategy, schedules};
    use proptest::prelude::*;

    fn check(text: &str, expect: &KillSchedule) {
        let parsed: KillSchedule = text.parse().unwrap();
        assert_eq!(&parsed, expect);
        assert_eq!(parsed.to_string(), text);
    }

    #[test]
    fn parses_the_documented_example() {
        check(
            "step:37@subset#seed=9;fp:replace.after_sync_before_rename*2@prefix#idx=3;eio:12",
            &KillSchedule {
                points: vec![
                    CrashPoint {
                        at: CrashAt::Step(37),
                        model: CrashModel::Subset,
                        state: StateSelector::Seed(9),
                    },
                    CrashPoint {
                        at: CrashAt::Failpoint {
                            name: "replace.after_sync_before_rename".into(),
                            hit: 2,
                        },
                        model: CrashModel::Prefix,
                        state: StateSelector::Index(3),
                    },
                ],
                faults: vec![Fault::SyncEio(12)],
            },
        );
    }

    #[test]
    fn fault_rules_are_items_of_a_schedule_and_round_trip() {
        let text = "step:4@prefix#idx=1;eio:3;eio:fsync*1:*.wal;enospc:write:data/*";
        let s: KillSchedule = text.parse().unwrap();
        assert_eq!(s.to_string(), text);
        assert_eq!(s.sync_eio_steps().collect::<Vec<_>>(), [3]);
        let rules: Vec<String> = s.rules().map(ToString::to_string).collect();
        assert_eq!(rules, ["eio:fsync*1:*.wal", "enospc:write:data/*"]);
        let err = "step:1@prefix#idx=0;eio:sync:*"
            .parse::<KillSchedule>()
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown operation"), "{err}");
    }

    #[test]
    fn first_hit_prints_without_count_and_parses_with_it() {
        let s: KillSchedule = "fp:a.b*1@eager-dirs#seed=0".parse().unwrap();
        assert_eq!(s.to_string(), "fp:a.b@eager-dirs#seed=0");
    }

    #[test]
    fn rejects_malformed_items_with_a_reason() {
        for (text, needle) in [
            ("", "empty"),
            ("step:x@prefix#seed=1", "step:<number>"),
            ("step:1@ext4#seed=1", "unknown model"),
            ("step:1@prefix", "#seed"),
            ("step:1@prefix#idx=-1", "idx=<number>"),
            ("fp:a*0@prefix#idx=1", "count from 1"),
            ("fp:a b@prefix#idx=1", "letters"),
            ("kill:1@prefix#idx=1", "step:<n>"),
            ("eio:x", "eio:<step"),
            ("fp:a*x@prefix#idx=1", "*<hit number>"),
            ("step:1@prefix#seed=x", "seed=<u64>"),
        ] {
            let err = text.parse::<KillSchedule>().unwrap_err().to_string();
            assert!(err.contains(needle), "{text:?}: {err}");
        }
    }

    #[test]
    fn a_number_too_large_for_its_field_says_so() {
        for (text, needle) in [
            (
                "step:99999999999999999999@subset#idx=0",
                "99999999999999999999 in `step:<number>` is too large: at most 18446744073709551615",
            ),
            ("eio:18446744073709551616", "at most 18446744073709551615"),
            ("fp:a*4294967296@prefix#idx=0", "at most 4294967295"),
            (
                "step:1@prefix#seed=18446744073709551616",
                "seed=<u64>` is too large",
            ),
            (
                "step:1@prefix#idx=99999999999999999999",
                "idx=<number>` is too large",
            ),
        ] {
            let err = text.parse::<KillSchedule>().unwrap_err().to_string();
            assert!(err.contains(needle), "{text:?}: {err}");
        }
        // The largest value of each field still parses.
        let max: KillSchedule = "step:18446744073709551615@subset#seed=18446744073709551615"
            .parse()
            .unwrap();
        assert_eq!(max.points[0].at, CrashAt::Step(u64::MAX));
    }

    proptest! {
        #[test]
        fn text_form_round_trips(s in schedules(ScheduleStrategy {
            failpoints: vec!["replace.after_sync_before_rename".into(), "x-y_z.1".into()],
            with_faults: true,
            ..ScheduleStrategy::default()
        })) {
            let text = s.to_string();
            let back: KillSchedule = text.parse().unwrap();
            prop_assert_eq!(&back, &s);
            prop_assert_eq!(back.to_string(), text);
        }
    }
}
