//! Determinism checked, not hoped: run a case twice and compare.

use crashproof_fault::KillSchedule;

use super::case::{CleanRun, Explorer};
use super::error::HarnessError;
use super::oracle::Finding;
use super::violation::{Oracle, Violation};

impl Explorer<'_> {
    /// Runs `schedule` twice (madsim's `MADSIM_TEST_CHECK_DETERMINISM`) and
    /// compares the two traces, outputs and verdicts. `Some` violation of
    /// [`Oracle::NonDeterminism`] if they differ, with the first differing
    /// trace line.
    pub fn check_determinism(
        &self,
        clean: &CleanRun,
        schedule: &KillSchedule,
    ) -> Result<Option<Violation>, HarnessError> {
        let first = self.run_case(clean, schedule)?;
        let second = self.run_case(clean, schedule)?;
        let (a, b) = (first.trace.to_string(), second.trace.to_string());
        let verdict = |o: &super::case::CaseOutcome| o.violation.as_ref().map(|v| v.summary());
        let difference = if a != b {
            let (line, (x, y)) = a
                .lines()
                .chain(std::iter::repeat(""))
                .zip(b.lines().chain(std::iter::repeat("")))
                .enumerate()
                .find(|(_, (x, y))| x != y)
                .unwrap_or((0, ("", "")));
            Some(format!(
                "traces differ at line {}: `{}` then `{}`",
                line + 1,
                x.trim(),
                y.trim()
            ))
        } else if first.output != second.output {
            Some(format!(
                "outputs differ: {:?} then {:?}",
                first.output, second.output
            ))
        } else if verdict(&first) != verdict(&second) {
            Some(format!(
                "verdicts differ: {:?} then {:?}",
                verdict(&first),
                verdict(&second)
            ))
        } else {
            None
        };
        Ok(difference.map(|d| {
            let finding = Finding::new(
                Oracle::NonDeterminism,
                format!("two runs of the same case differ: {d}"),
            );
            self.violation(finding, schedule, second.trace)
        }))
    }
}
