//! What the model has no rule for, counted by operation name, so a report
//! says what a program did that was refused or not kept instead of passing
//! it over in silence.

use std::collections::BTreeMap;
use std::fmt;

use fuser::Errno;
use serde::{Deserialize, Serialize};

/// Operations refused with an errno and attribute changes accepted but not
/// kept, by operation name, summed over runs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unmodelled {
    /// Refused (the program got an errno): name -> count and errno.
    pub refused: BTreeMap<String, Refusal>,
    /// Accepted and answered but not kept (no durability rule applies to
    /// them, and the mount reports fixed values): name -> count.
    pub ignored: BTreeMap<String, u64>,
}

/// How often an operation was refused, and with what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    /// Requests refused.
    pub count: u64,
    /// The errno's name (`EPERM`, `EOPNOTSUPP`, ...).
    pub errno: String,
}

impl Unmodelled {
    /// Counts one refusal of `op` with `errno`.
    pub fn refuse(&mut self, op: &str, errno: Errno) {
        let entry = self.refused.entry(op.to_string()).or_insert(Refusal {
            count: 0,
            errno: errno_name(errno),
        });
        entry.count += 1;
    }

    /// Counts one ignored `op`.
    pub fn ignore(&mut self, op: &str) {
        *self.ignored.entry(op.to_string()).or_insert(0) += 1;
    }

    /// Adds `other`'s counts.
    pub fn add(&mut self, other: &Unmodelled) {
        for (op, r) in &other.refused {
            let entry = self.refused.entry(op.clone()).or_insert(Refusal {
                count: 0,
                errno: r.errno.clone(),
            });
            entry.count += r.count;
        }
        for (op, n) in &other.ignored {
            *self.ignored.entry(op.clone()).or_insert(0) += n;
        }
    }

    /// Whether nothing was refused or ignored.
    pub fn is_empty(&self) -> bool {
        self.refused.is_empty() && self.ignored.is_empty()
    }
}

impl fmt::Display for Unmodelled {
    /// `refused: symlink x2 (EPERM); ignored: setattr (mode, owner or
    /// times) x3`, or `none`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("none");
        }
        let refused: Vec<String> = self
            .refused
            .iter()
            .map(|(op, r)| format!("{op} x{} ({})", r.count, r.errno))
            .collect();
        let ignored: Vec<String> = self
            .ignored
            .iter()
            .map(|(op, n)| format!("{op} x{n}"))
            .collect();
        let mut parts = Vec::new();
        if !refused.is_empty() {
            parts.push(format!("refused: {}", refused.join(", ")));
        }
        if !ignored.is_empty() {
            parts.push(format!("accepted but not kept: {}", ignored.join(", ")));
        }
        f.write_str(&parts.join("; "))
    }
}

/// The symbolic name of an errno the mount gives.
fn errno_name(errno: Errno) -> String {
    let name = match errno.code() {
        libc::EPERM => "EPERM",
        libc::EINVAL => "EINVAL",
        libc::EOPNOTSUPP => "EOPNOTSUPP",
        libc::ENOTTY => "ENOTTY",
        libc::EIO => "EIO",
        code => return format!("errno {code}"),
    };
    name.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_add_up_and_print_by_name() {
        let mut a = Unmodelled::default();
        assert_eq!(a.to_string(), "none");
        a.refuse("symlink", Errno::EPERM);
        a.refuse("symlink", Errno::EPERM);
        let mut b = Unmodelled::default();
        b.refuse("symlink", Errno::EPERM);
        b.ignore("setattr (mode, owner or times)");
        a.add(&b);
        assert_eq!(
            a.to_string(),
            "refused: symlink x3 (EPERM); accepted but not kept: setattr (mode, owner or times) x1"
        );
    }
}
