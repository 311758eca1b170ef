//! What a crash test reads from its environment, as a value: read once from
//! the process by default, given directly in tests of the helper itself (so
//! no test sets a process-global variable).

use std::path::Path;

use crate::explore::{REPLAY_VAR, SEED_VAR, TestTarget};

/// The variable proptest reads for its case count; a crash test's random
/// mode honours it too.
pub const CASES_VAR: &str = "PROPTEST_CASES";

/// The variable cargo sets to the package whose tests run.
const PACKAGE_VAR: &str = "CARGO_PKG_NAME";

/// The variable cargo sets to that package's directory.
const MANIFEST_DIR_VAR: &str = "CARGO_MANIFEST_DIR";

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
    /// The cargo target the test is in, for the replay line: from the test
    /// binary's name (`deps/<target>-<hash>`) and the package's files.
    pub target: Option<TestTarget>,
    /// Whether the test runs in the release profile, for the replay line
    /// (`--release`). Read as `!cfg!(debug_assertions)` of this crate, the
    /// usual proxy: a profile that turns debug assertions on in release
    /// (or off in dev) makes it wrong.
    pub release: bool,
}

impl TestEnv {
    /// The environment of this process and thread.
    pub fn from_process() -> Self {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let test = std::thread::current()
            .name()
            .filter(|name| *name != "main")
            .map(str::to_string);
        let package = var(PACKAGE_VAR);
        let target = std::env::current_exe().ok().and_then(|exe| {
            let manifest_dir = var(MANIFEST_DIR_VAR);
            test_target(
                &exe,
                package.as_deref(),
                manifest_dir.as_deref().map(Path::new),
            )
        });
        Self {
            seed: var(SEED_VAR),
            replay: var(REPLAY_VAR),
            cases: var(CASES_VAR),
            package,
            test,
            target,
            release: !cfg!(debug_assertions),
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

/// The cargo target of the test binary `exe` (`target/debug/deps/<name>-<16
/// hex digits>`) of `package`: its library's tests when the name is the
/// package's crate name and the package has `src/lib.rs` (a binary's when
/// it has only `src/main.rs`), else the integration test `tests/<name>.rs`
/// (cargo writes `-` as `_` in the binary's name; the file tells which).
/// `None` when the binary is not one cargo names that way.
pub(crate) fn test_target(
    exe: &Path,
    package: Option<&str>,
    manifest_dir: Option<&Path>,
) -> Option<TestTarget> {
    let stem = exe.file_stem()?.to_str()?;
    let (name, hash) = stem.rsplit_once('-')?;
    if hash.len() != 16 || !hash.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let has = |file: String| manifest_dir.is_some_and(|dir| dir.join(file).is_file());
    if package.is_some_and(|p| p.replace('-', "_") == name) {
        if has("src/lib.rs".to_string()) || manifest_dir.is_none() {
            return Some(TestTarget::Lib);
        }
        if has("src/main.rs".to_string()) {
            return Some(TestTarget::Bin(package.unwrap_or(name).to_string()));
        }
    }
    let hyphenated = name.replace('_', "-");
    for candidate in [name, hyphenated.as_str()] {
        if has(format!("tests/{candidate}.rs")) || has(format!("tests/{candidate}/main.rs")) {
            return Some(TestTarget::Test(candidate.to_string()));
        }
    }
    Some(TestTarget::Test(name.to_string()))
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

    #[test]
    fn the_target_comes_from_the_test_binarys_name() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
        let exe = |name: &str| Path::new("/t/debug/deps").join(name);
        assert_eq!(
            test_target(
                &exe("crash_test-0123456789abcdef"),
                Some("crashproof-sim"),
                Some(dir)
            ),
            Some(TestTarget::Test("crash_test".into()))
        );
        assert_eq!(
            test_target(
                &exe("crashproof_sim-0123456789abcdef"),
                Some("crashproof-sim"),
                Some(dir)
            ),
            Some(TestTarget::Lib)
        );
        assert_eq!(
            test_target(&exe("crashproof"), Some("crashproof-sim"), Some(dir)),
            None
        );
        assert_eq!(
            test_target(&exe("my_test-0123456789abcdef"), None, None),
            Some(TestTarget::Test("my_test".into()))
        );
    }
}
