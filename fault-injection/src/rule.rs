//! Fault rules: an error injected into every call (or the `n`-th call) of
//! one kind of filesystem operation on the paths a glob matches, the way
//! Pebble's `errorfs` and RocksDB's fault-injection filesystem inject by
//! operation and path instead of by step number.
//!
//! Text form (what [`fmt::Display`] prints and [`str::parse`] reads back):
//!
//! ```text
//! ERROR:OP[*N]:GLOB
//! eio:fsync:*.wal          every fsync of a file named *.wal fails with EIO
//! eio:fsync*1:*.wal        only the first such fsync does
//! enospc:write:data/*      every write to a file directly in data/ fails with ENOSPC
//! eio:rename:*             every rename fails with EIO
//! ```
//!
//! - `ERROR` is `eio` or `enospc`;
//! - `OP` is one of [`RuleOp::ALL`]'s names (`fsync` covers `fdatasync`;
//!   `any` is every operation);
//! - `*N` (N from 1) injects into the `N`-th matching call only; without it,
//!   every matching call fails;
//! - `GLOB` is matched like a `.gitignore` line: a glob without `/` is
//!   matched against the last component of the path (`*.wal` matches
//!   `/db/000001.wal`), one with `/` against the whole path from the root
//!   (`data/*` matches `/data/x` but not `/data/sub/x`; `data/**` matches
//!   both); `*` never crosses a `/`, `**` does. A rename or a link matches
//!   when either of its paths does. It may not hold `;` (the separator of a
//!   kill schedule's items).
//!
//! A rule is a value: matching is a pure function of the operation and its
//! path(s); counting matches (for `*N`) is the caller's, per run, so a
//! simulated run stays a pure function of its calls.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::path::Path;
use std::str::FromStr;

use crashproof_core::fs::FsOp;
use globset::{GlobBuilder, GlobMatcher};

/// The error a rule injects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RuleError {
    /// `EIO`. On an `fsync` it has Linux's semantics: the dirty data it
    /// covered is no longer pending (readers still see it, a later fsync
    /// returns success) and a crash loses it.
    Eio,
    /// `ENOSPC` (`io::ErrorKind::StorageFull`): the call changes nothing.
    /// On an `fsync` it fails as `EIO` does (the data is lost on a crash).
    Enospc,
}

impl RuleError {
    /// The name in the text form (`eio`, `enospc`).
    pub fn name(self) -> &'static str {
        match self {
            RuleError::Eio => "eio",
            RuleError::Enospc => "enospc",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        [RuleError::Eio, RuleError::Enospc]
            .into_iter()
            .find(|e| e.name() == name)
    }
}

/// The kind of operation a rule matches, named as the system calls a
/// program makes (each covers the `Fs` operations that implement them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RuleOp {
    /// `open` and `creat` (`Fs::open`, `Fs::try_lock`).
    Open,
    /// `read`, `pread` (`Fs::read_at`, `Fs::read`).
    Read,
    /// `write`, `pwrite`, appends (`Fs::write_all_at`, `Fs::append`).
    Write,
    /// `fsync` and `fdatasync` of a file (`Fs::sync`, `Fs::sync_data`).
    Fsync,
    /// `fsync` of a directory (`Fs::sync_dir`).
    Fsyncdir,
    /// `rename` (`Fs::rename`).
    Rename,
    /// `unlink` (`Fs::remove_file`).
    Unlink,
    /// `mkdir` (`Fs::create_dir`, `Fs::create_dir_all`).
    Mkdir,
    /// `rmdir` (`Fs::remove_dir`).
    Rmdir,
    /// `link` (`Fs::hard_link`).
    Link,
    /// `truncate`, `ftruncate` (`Fs::set_len`).
    Truncate,
    /// `stat`, `fstat` (`Fs::metadata`, `Fs::file_metadata`).
    Stat,
    /// `readdir` (`Fs::read_dir`).
    Readdir,
    /// `close` (`Fs::close`).
    Close,
    /// Every operation above (never a failpoint).
    Any,
}

impl RuleOp {
    /// Every kind, in the order of the docs.
    pub const ALL: [RuleOp; 15] = [
        RuleOp::Open,
        RuleOp::Read,
        RuleOp::Write,
        RuleOp::Fsync,
        RuleOp::Fsyncdir,
        RuleOp::Rename,
        RuleOp::Unlink,
        RuleOp::Mkdir,
        RuleOp::Rmdir,
        RuleOp::Link,
        RuleOp::Truncate,
        RuleOp::Stat,
        RuleOp::Readdir,
        RuleOp::Close,
        RuleOp::Any,
    ];

    /// The name in the text form (`fsync`).
    pub fn name(self) -> &'static str {
        match self {
            RuleOp::Open => "open",
            RuleOp::Read => "read",
            RuleOp::Write => "write",
            RuleOp::Fsync => "fsync",
            RuleOp::Fsyncdir => "fsyncdir",
            RuleOp::Rename => "rename",
            RuleOp::Unlink => "unlink",
            RuleOp::Mkdir => "mkdir",
            RuleOp::Rmdir => "rmdir",
            RuleOp::Link => "link",
            RuleOp::Truncate => "truncate",
            RuleOp::Stat => "stat",
            RuleOp::Readdir => "readdir",
            RuleOp::Close => "close",
            RuleOp::Any => "any",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        RuleOp::ALL.into_iter().find(|o| o.name() == name)
    }

    /// Whether the `Fs` operation `op` is one of this kind.
    pub fn covers(self, op: FsOp) -> bool {
        use FsOp as F;
        match self {
            RuleOp::Any => op != F::Failpoint,
            RuleOp::Open => matches!(op, F::Open | F::TryLock),
            RuleOp::Read => matches!(op, F::ReadAt | F::Read),
            RuleOp::Write => matches!(op, F::WriteAllAt | F::Append),
            RuleOp::Fsync => matches!(op, F::Sync | F::SyncData),
            RuleOp::Fsyncdir => op == F::SyncDir,
            RuleOp::Rename => op == F::Rename,
            RuleOp::Unlink => op == F::RemoveFile,
            RuleOp::Mkdir => matches!(op, F::CreateDir | F::CreateDirAll),
            RuleOp::Rmdir => op == F::RemoveDir,
            RuleOp::Link => op == F::HardLink,
            RuleOp::Truncate => op == F::SetLen,
            RuleOp::Stat => matches!(op, F::Metadata | F::FileMetadata),
            RuleOp::Readdir => op == F::ReadDir,
            RuleOp::Close => op == F::Close,
        }
    }

    /// Whether a real filesystem can fail this kind of call with ENOSPC
    /// (it allocates space or inodes): not reads, stats, listings, closes
    /// or removals.
    fn can_run_out_of_space(self) -> bool {
        !matches!(
            self,
            RuleOp::Read
                | RuleOp::Stat
                | RuleOp::Readdir
                | RuleOp::Close
                | RuleOp::Unlink
                | RuleOp::Rmdir
        )
    }
}

/// Which matching calls fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RuleHits {
    /// Every matching call.
    Every,
    /// Only the `n`-th matching call (from 1).
    Nth(u32),
}

/// One fault rule: `error` on `op` calls whose path matches `glob`, every
/// time or only the `n`-th time. See the [module docs](self) for the text
/// form and how the glob matches.
#[derive(Clone)]
pub struct FaultRule {
    /// The error injected.
    pub error: RuleError,
    /// The operations matched.
    pub op: RuleOp,
    /// Which matching calls fail.
    pub hits: RuleHits,
    glob: String,
    matcher: GlobMatcher,
}

/// Why a rule's text form did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "bad fault rule {text:?}: {reason} (the form is ERROR:OP[*N]:GLOB, e.g. `eio:fsync:*.wal`, \
     `eio:fsync*1:*.wal` for the first match only, `enospc:write:data/*`)"
)]
pub struct ParseRuleError {
    /// The rule as written.
    pub text: String,
    /// What was wrong.
    pub reason: String,
}

impl FaultRule {
    /// The rule `error` on `op` calls whose path matches `glob`.
    pub fn new(
        error: RuleError,
        op: RuleOp,
        hits: RuleHits,
        glob: &str,
    ) -> Result<Self, ParseRuleError> {
        let text = || format!("{}:{}:{glob}", error.name(), op.name());
        let bad = |reason: String| ParseRuleError {
            text: text(),
            reason,
        };
        if error == RuleError::Enospc && !op.can_run_out_of_space() {
            return Err(bad(format!(
                "`{}` never fails with ENOSPC on a real filesystem (it allocates nothing): use \
                 eio, or an operation that allocates (write, fsync, open, mkdir, link, rename, \
                 truncate, fsyncdir, any)",
                op.name()
            )));
        }
        if hits == RuleHits::Nth(0) {
            return Err(bad("matching calls count from 1 (`*1` is the first)".into()));
        }
        if glob.is_empty() {
            return Err(bad("the glob is empty: `*` matches every path".into()));
        }
        if glob.contains(';') {
            return Err(bad(
                "a glob may not hold `;`, which separates the items of a kill schedule".into(),
            ));
        }
        if glob.trim() != glob {
            return Err(bad("the glob starts or ends with white space".into()));
        }
        let pattern = glob.trim_start_matches('/');
        let matcher = GlobBuilder::new(if pattern.is_empty() { "/" } else { pattern })
            .literal_separator(true)
            .build()
            .map_err(|e| bad(format!("the glob does not parse: {}", e.kind())))?
            .compile_matcher();
        Ok(Self {
            error,
            op,
            hits,
            glob: glob.to_string(),
            matcher,
        })
    }

    /// The glob as written.
    pub fn glob(&self) -> &str {
        &self.glob
    }

    /// Whether a call of `op` on `path` (and `to`, for a rename or a link)
    /// is one this rule matches (whatever its `*N`).
    pub fn matches(&self, op: FsOp, path: &Path, to: Option<&Path>) -> bool {
        self.op.covers(op)
            && (self.matches_path(path) || to.is_some_and(|to| self.matches_path(to)))
    }

    /// Whether `path` matches the glob (see the module docs).
    pub fn matches_path(&self, path: &Path) -> bool {
        let relative = path.strip_prefix("/").unwrap_or(path);
        if self.glob.contains('/') {
            self.matcher.is_match(relative)
        } else {
            relative
                .file_name()
                .is_some_and(|name| self.matcher.is_match(name))
        }
    }

    /// Whether the `matched`-th matching call (from 1) fails.
    pub fn injects_at(&self, matched: u64) -> bool {
        match self.hits {
            RuleHits::Every => true,
            RuleHits::Nth(n) => matched == u64::from(n),
        }
    }

    fn key(&self) -> (RuleError, RuleOp, RuleHits, &str) {
        (self.error, self.op, self.hits, &self.glob)
    }
}

impl fmt::Debug for FaultRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FaultRule({self})")
    }
}

impl PartialEq for FaultRule {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}

impl Eq for FaultRule {}

impl PartialOrd for FaultRule {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for FaultRule {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key().cmp(&other.key())
    }
}

impl Hash for FaultRule {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.key().hash(state);
    }
}

impl fmt::Display for FaultRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.error.name(), self.op.name())?;
        if let RuleHits::Nth(n) = self.hits {
            write!(f, "*{n}")?;
        }
        write!(f, ":{}", self.glob)
    }
}

impl FromStr for FaultRule {
    type Err = ParseRuleError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = |reason: String| ParseRuleError {
            text: text.to_string(),
            reason,
        };
        let mut parts = text.splitn(3, ':');
        let (Some(error), Some(op), Some(glob)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad("expected three fields separated by `:`".into()));
        };
        let error = RuleError::from_name(error)
            .ok_or_else(|| bad(format!("unknown error {error:?}: use eio or enospc")))?;
        let (op, hits) = match op.split_once('*') {
            None => (op, RuleHits::Every),
            Some((op, n)) => {
                let n: u32 = n.parse().map_err(|_| {
                    bad(format!(
                        "`*{n}` after the operation must be a call number from 1 to {}",
                        u32::MAX
                    ))
                })?;
                (op, RuleHits::Nth(n))
            }
        };
        let op = RuleOp::from_name(op).ok_or_else(|| {
            let names: Vec<&str> = RuleOp::ALL.iter().map(|o| o.name()).collect();
            bad(format!(
                "unknown operation {op:?}: use one of {}",
                names.join(", ")
            ))
        })?;
        FaultRule::new(error, op, hits, glob).map_err(|e| bad(e.reason))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use proptest::prelude::*;

    fn rule(text: &str) -> FaultRule {
        text.parse().unwrap()
    }

    #[test]
    fn the_documented_rules_parse_and_print_back() {
        for text in [
            "eio:fsync:*.wal",
            "eio:fsync*1:*.wal",
            "enospc:write:data/*",
            "eio:rename:*",
            "eio:any*3:/db/**",
        ] {
            assert_eq!(rule(text).to_string(), text);
        }
        let r = rule("eio:fsync*2:*.wal");
        assert_eq!(
            (r.error, r.op, r.hits, r.glob()),
            (RuleError::Eio, RuleOp::Fsync, RuleHits::Nth(2), "*.wal")
        );
    }

    #[test]
    fn a_glob_without_a_slash_matches_the_file_name_and_one_with_a_slash_the_whole_path() {
        let wal = rule("eio:fsync:*.wal");
        assert!(wal.matches(FsOp::Sync, Path::new("/db/000001.wal"), None));
        assert!(wal.matches(FsOp::SyncData, Path::new("/x.wal"), None));
        assert!(!wal.matches(FsOp::Sync, Path::new("/db/x.wal.tmp"), None));
        assert!(!wal.matches(FsOp::WriteAllAt, Path::new("/x.wal"), None));
        let data = rule("enospc:write:data/*");
        assert!(data.matches(FsOp::Append, Path::new("/data/x"), None));
        assert!(!data.matches(FsOp::Append, Path::new("/data/sub/x"), None));
        assert!(!data.matches(FsOp::Append, Path::new("/other/data/x"), None));
        let deep = rule("enospc:write:/data/**");
        assert!(deep.matches(FsOp::WriteAllAt, Path::new("/data/sub/x"), None));
        let every = rule("eio:rename:*");
        assert!(every.matches(FsOp::Rename, Path::new("/a"), Some(Path::new("/b"))));
        assert!(!every.matches(FsOp::Failpoint, Path::new("a"), None));
        let to = rule("eio:rename:state.json");
        assert!(to.matches(
            FsOp::Rename,
            Path::new("/d/tmp"),
            Some(Path::new("/d/state.json"))
        ));
        assert!(!rule("eio:any:*").matches(FsOp::Failpoint, Path::new("fp"), None));
    }

    #[test]
    fn only_the_nth_match_injects_when_asked() {
        let first = rule("eio:fsync*1:*");
        assert!(first.injects_at(1) && !first.injects_at(2));
        let every = rule("eio:fsync:*");
        assert!(every.injects_at(1) && every.injects_at(7));
    }

    #[test]
    fn malformed_rules_are_refused_with_a_reason() {
        for (text, needle) in [
            ("eio:fsync", "three fields"),
            ("eperm:fsync:*", "unknown error"),
            (
                "eio:sync:*",
                "unknown operation \"sync\": use one of open, read",
            ),
            ("eio:fsync*0:*", "count from 1"),
            ("eio:fsync*x:*", "call number"),
            ("eio:fsync:", "glob is empty"),
            ("eio:fsync:a;b", "may not hold `;`"),
            ("eio:fsync:[a", "does not parse"),
            ("enospc:read:*", "never fails with ENOSPC"),
            ("eio:fsync: x", "white space"),
        ] {
            let err = text.parse::<FaultRule>().unwrap_err().to_string();
            assert!(err.contains(needle), "{text:?}: {err}");
            assert!(err.contains("ERROR:OP[*N]:GLOB"), "{err}");
        }
    }

    proptest! {
        #[test]
        fn text_form_round_trips(
            error in prop::sample::select(vec![RuleError::Eio, RuleError::Enospc]),
            op in prop::sample::select(RuleOp::ALL.to_vec()),
            nth in prop::option::of(1u32..),
            glob in "[a-z*?/.]{1,12}",
        ) {
            let hits = nth.map_or(RuleHits::Every, RuleHits::Nth);
            if let Ok(r) = FaultRule::new(error, op, hits, &glob) {
                let text = r.to_string();
                let back: FaultRule = text.parse().unwrap();
                prop_assert_eq!(&back, &r);
                prop_assert_eq!(back.to_string(), text);
            }
        }
    }
}
