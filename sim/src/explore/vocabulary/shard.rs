//! Splitting a pass's crash points over machines (the parts merge back in
//! `report/merge.rs`).
//!
//! A pass's **units** are what it visits in order: the crash points of the
//! clean run (exhaustive), the first crash points (two crashes, each with
//! every crash of its recovery run), the syncs that fail (sync-EIO). Shard
//! `i` of `n` takes the contiguous run of units `[u*(i-1)/n, u*i/n)`:
//! contiguous, so nearby crash points (which share post-crash states and
//! violation groups) stay together, and so the shards' reports concatenate
//! in order. Every shard runs the clean run; the determinism sample (with
//! `check_determinism`) runs in the last shard only, where a whole run adds
//! it too (at the end of the pass).
//!
//! [`crate::explore::Report::merge_shards`] puts the parts back together.

use std::fmt;
use std::ops::Range;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::options::InvalidOptions;

/// One part of a split exploration: shard `index + 1` of `count`
/// (printed and parsed 1-based, `2/4`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct Shard {
    /// 0-based index, below `count`.
    pub index: u64,
    /// How many shards the exploration is split into, at least 1.
    pub count: u64,
}

impl Shard {
    /// The whole exploration: shard 1 of 1.
    pub const WHOLE: Shard = Shard { index: 0, count: 1 };

    /// Whether this is the whole exploration.
    pub fn is_whole(&self) -> bool {
        self.count == 1
    }

    /// Whether this shard runs the last units (and the determinism sample).
    pub fn is_last(&self) -> bool {
        self.index + 1 == self.count
    }

    /// The units this shard takes out of `units`.
    pub fn range(&self, units: usize) -> Range<usize> {
        let units = units as u128;
        let (i, n) = (u128::from(self.index), u128::from(self.count.max(1)));
        let start = units * i / n;
        let end = units * (i + 1) / n;
        start as usize..end as usize
    }

    /// Checks the index is below the count and the count is at least 1.
    pub fn validate(&self) -> Result<(), InvalidOptions> {
        if self.count == 0 || self.index >= self.count {
            return Err(InvalidOptions::ShardOutOfRange {
                index: self.index.saturating_add(1),
                count: self.count,
            });
        }
        Ok(())
    }
}

impl Default for Shard {
    fn default() -> Self {
        Shard::WHOLE
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index.saturating_add(1), self.count)
    }
}

/// A shard that is not `i/n` with `1 <= i <= n`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a shard: write i/n with 1 <= i <= n, e.g. 2/4")]
pub struct ParseShardError(String);

impl FromStr for Shard {
    type Err = ParseShardError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || ParseShardError(s.to_string());
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let index: u64 = i.trim().parse().map_err(|_| bad())?;
        let count: u64 = n.trim().parse().map_err(|_| bad())?;
        if index == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard {
            index: index - 1,
            count,
        })
    }
}

impl From<Shard> for String {
    fn from(shard: Shard) -> String {
        shard.to_string()
    }
}

impl TryFrom<String> for Shard {
    type Error = ParseShardError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn ranges_cover_every_unit_once_in_order() {
        for units in [0usize, 1, 2, 7, 245, 1000] {
            for count in 1..=9u64 {
                let mut next = 0;
                for index in 0..count {
                    let r = Shard { index, count }.range(units);
                    assert_eq!(r.start, next, "{units} units, shard {index}/{count}");
                    next = r.end;
                }
                assert_eq!(next, units);
            }
        }
    }

    #[test]
    fn text_form_is_one_based_and_round_trips() {
        let s: Shard = "2/4".parse().unwrap();
        assert_eq!(s, Shard { index: 1, count: 4 });
        assert_eq!(s.to_string(), "2/4");
        for bad in ["0/4", "5/4", "1/0", "1", "a/b", "", "/"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
        assert!(Shard { index: 4, count: 4 }.validate().is_err());
        assert!(Shard { index: 0, count: 0 }.validate().is_err());
        assert!(Shard::WHOLE.validate().is_ok());
    }
}
