//! What a crash test reads from its environment, as a value: read once from
//! the process by default, given directly in tests of the helper itself (so
//! no test sets a process-global variable).

use crate::explore::{REPLAY_VAR, SEED_VAR};

/// The variable proptest reads for its case count; a crash test's random
/// mode honours it too.
pub const CASES_VAR: &str = "PROPTEST_CASES";

/// The variable cargo sets to the package whose tests run.
const PACKAGE_VAR: &str = "CARGO_PKG_NAME";

/// A crash test's environment ([`super::CrashTest::env`]). An empty value
/// counts as unset (CI files often export empty variables).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TestEnv {
    /// `CRASHPROOF_SEED`: the seed of the exploration (a `u64`).
    pub seed: Option<String>,
    /// `CRASHPROOF_REPLAY`: a kill schedule to replay instead of exploring.
    pub replay: Option<String>,
    /// `PROPTEST_CASES`: random schedules to run (a `u32`).
    pub cases: Option<String>,
    /// `CARGO_PKG_NAME`: the package of the test, for the replay line.
    pub package: Option<String>,
    /// The test's full name, for the replay line: the test harness names
    /// each test's thread after it.
    pub test: Option<String>,
}

impl TestEnv {
    /// The environment of this process and thread.
    pub fn from_process() -> Self {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let test = std::thread::current()
            .name()
            .filter(|name| *name != "main")
            .map(str::to_string);
        Self {
            seed: var(SEED_VAR),
            replay: var(REPLAY_VAR),
            cases: var(CASES_VAR),
            package: var(PACKAGE_VAR),
            test,
        }
    }

    /// The seed, if one is set.
    pub(crate) fn seed(&self) -> Result<Option<u64>, EnvError> {
        parse(SEED_VAR, self.seed.as_deref(), "an unsigned 64-bit number")
    }

    /// The random case count, if one is set.
    pub(crate) fn cases(&self) -> Result<Option<u32>, EnvError> {
        parse(
            CASES_VAR,
            self.cases.as_deref(),
            "an unsigned 32-bit number",
        )
    }
}

fn parse<T: std::str::FromStr>(
    var: &'static str,
    value: Option<&str>,
    expected: &'static str,
) -> Result<Option<T>, EnvError>
where
    T::Err: std::fmt::Display,
{
    let Some(value) = value else {
        return Ok(None);
    };
    value
        .trim()
        .parse()
        .map(Some)
        .map_err(|e: T::Err| EnvError {
            var,
            value: value.to_string(),
            reason: format!("is not {expected} ({e})"),
        })
}

/// A variable of the environment a crash test cannot use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{var}={value:?} {reason}: fix or unset it")]
pub struct EnvError {
    /// The variable.
    pub var: &'static str,
    /// Its value.
    pub value: String,
    /// What is wrong with it.
    pub reason: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_parse_and_bad_ones_say_which_variable() {
        let env = TestEnv {
            seed: Some(" 42".into()),
            cases: Some("7".into()),
            ..TestEnv::default()
        };
        assert_eq!(env.seed(), Ok(Some(42)));
        assert_eq!(env.cases(), Ok(Some(7)));
        assert_eq!(TestEnv::default().seed(), Ok(None));
        let bad = TestEnv {
            seed: Some("0x10".into()),
            cases: Some("-1".into()),
            ..TestEnv::default()
        };
        let e = bad.seed().unwrap_err();
        assert_eq!(e.var, SEED_VAR);
        assert!(
            e.to_string()
                .starts_with("CRASHPROOF_SEED=\"0x10\" is not an unsigned 64-bit number"),
            "{e}"
        );
        assert_eq!(bad.cases().unwrap_err().var, CASES_VAR);
    }
}
