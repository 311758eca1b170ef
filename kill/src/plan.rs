//! Where a case kills its program: one [`KillPoint`] per run, in order, in
//! a compact text form that parses back (`fp:NAME*HIT;progress:17;time:2500us`),
//! so a failing case prints one `--plan` that replays it.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// Where one run is killed with SIGKILL.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum KillPoint {
    /// This long after the run started (`time:<n>us`). Replays land near,
    /// not exactly at, the same instruction: timing is the OS's.
    Time(Duration),
    /// When the harness has read the `n`th line (from 1) the run wrote on
    /// its progress descriptor (`progress:<n>`). The program keeps running
    /// until the signal arrives, so the kill lands at or shortly after it.
    Progress(u64),
    /// Exactly at the `hit`th (from 1) call of the named failpoint: the
    /// program raises SIGKILL on itself there (`fp:<name>[*<hit>]`, the same
    /// spelling as a simulator kill schedule's failpoint).
    Failpoint {
        /// The failpoint's name (see `crashproof_core::failpoint::CATALOGUE`).
        name: String,
        /// Which call, from 1.
        hit: u64,
    },
}

impl KillPoint {
    /// The `FAILPOINTS` value that kills the process at this point, for a
    /// failpoint kill: `hit - 1` calls pass (`off`), the next one raises
    /// SIGKILL (`return(sigkill)`, interpreted by the core's `failpoints`
    /// feature).
    pub fn failpoints_env(&self) -> Option<String> {
        let KillPoint::Failpoint { name, hit } = self else {
            return None;
        };
        let kill = format!("return({})", crashproof_core::failpoint::KILL_ACTION_ARG);
        Some(match hit.saturating_sub(1) {
            0 => format!("{name}={kill}"),
            pass => format!("{name}={pass}*off->{kill}"),
        })
    }
}

impl fmt::Display for KillPoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KillPoint::Time(after) => write!(f, "time:{}us", after.as_micros()),
            KillPoint::Progress(line) => write!(f, "progress:{line}"),
            KillPoint::Failpoint { name, hit: 1 } => write!(f, "fp:{name}"),
            KillPoint::Failpoint { name, hit } => write!(f, "fp:{name}*{hit}"),
        }
    }
}

/// A kill point or plan that does not parse; the message says what was
/// expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "bad kill point `{text}`: {reason} (expected `time:<n>us`, `progress:<n>` or `fp:<name>[*<hit>]`, separated by `;`)"
)]
pub struct ParsePlanError {
    /// The offending point's text.
    pub text: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl FromStr for KillPoint {
    type Err = ParsePlanError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = |reason| ParsePlanError {
            text: s.to_string(),
            reason,
        };
        let count = |digits: &str| digits.parse::<u64>().map_err(|_| bad("not a number"));
        if let Some(micros) = s.strip_prefix("time:") {
            let micros = micros
                .strip_suffix("us")
                .ok_or_else(|| bad("missing `us`"))?;
            return Ok(KillPoint::Time(Duration::from_micros(count(micros)?)));
        }
        if let Some(line) = s.strip_prefix("progress:") {
            return match count(line)? {
                0 => Err(bad("progress lines count from 1")),
                n => Ok(KillPoint::Progress(n)),
            };
        }
        if let Some(fp) = s.strip_prefix("fp:") {
            let (name, hit) = match fp.split_once('*') {
                Some((name, hit)) => (name, count(hit)?),
                None => (fp, 1),
            };
            if hit == 0 {
                return Err(bad("failpoint hits count from 1"));
            }
            // The `fail` crate's FAILPOINTS grammar splits on `;` and `=`.
            if name.is_empty()
                || !name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
            {
                return Err(bad("a failpoint name is letters, digits, `.`, `_`, `-`"));
            }
            return Ok(KillPoint::Failpoint {
                name: name.to_string(),
                hit,
            });
        }
        Err(bad("unknown kind"))
    }
}

/// The kill points of one case, one per run in order; after the last one
/// the program runs unkilled to completion.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan(pub Vec<KillPoint>);

impl Plan {
    /// Whether a replay kills at exactly the same points: only failpoint
    /// kills are exact; `time:` and `progress:` kills land near, not at,
    /// the recorded instants, so a replay may need several tries.
    pub fn is_exact(&self) -> bool {
        self.0
            .iter()
            .all(|p| matches!(p, KillPoint::Failpoint { .. }))
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, point) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(";")?;
            }
            write!(f, "{point}")?;
        }
        Ok(())
    }
}

impl FromStr for Plan {
    type Err = ParsePlanError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.trim().is_empty() {
            return Err(ParsePlanError {
                text: s.to_string(),
                reason: "a plan needs at least one point",
            });
        }
        s.split(';')
            .map(|p| p.trim().parse())
            .collect::<Result<_, _>>()
            .map(Plan)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn plans_round_trip() {
        for text in [
            "time:0us",
            "progress:17;time:2500us",
            "fp:replace.after_sync_before_rename;fp:store.after_write_before_gc*3",
        ] {
            assert_eq!(text.parse::<Plan>().unwrap().to_string(), text);
        }
        assert_eq!(
            "fp:a*1".parse::<KillPoint>().unwrap().to_string(),
            "fp:a",
            "hit 1 is the default spelling"
        );
    }

    #[test]
    fn only_failpoint_plans_are_exact() {
        let exact = |text: &str| text.parse::<Plan>().unwrap().is_exact();
        assert!(exact("fp:a;fp:b*3"));
        assert!(!exact("fp:a;progress:3"));
        assert!(!exact("time:10us"));
    }

    #[test]
    fn bad_points_say_what_is_wrong() {
        for (text, reason) in [
            ("", "at least one point"),
            ("time:5", "missing `us`"),
            ("progress:0", "from 1"),
            ("fp:a*0", "from 1"),
            ("fp:a=b", "letters"),
            ("step:3", "unknown kind"),
            ("progress:x", "not a number"),
        ] {
            let e = text.parse::<Plan>().unwrap_err();
            assert!(e.to_string().contains(reason), "{text}: {e}");
        }
    }

    #[test]
    fn failpoint_kills_become_fail_crate_actions() {
        let at = |hit| KillPoint::Failpoint {
            name: "x.y".into(),
            hit,
        };
        assert_eq!(at(1).failpoints_env().unwrap(), "x.y=return(sigkill)");
        assert_eq!(
            at(3).failpoints_env().unwrap(),
            "x.y=2*off->return(sigkill)"
        );
        assert_eq!(KillPoint::Progress(3).failpoints_env(), None);
    }
}
