//! Which checks apply to a workload: a check that needs a fact the workload
//! never reports could only fail falsely, so it is skipped, and the report
//! lists the checks that ran, so nothing is skipped silently.

use super::workload::Workload;

/// What a workload reports to [`crate::explore::Progress`] and provides, so the
/// oracles hold it to exactly that ([`Workload::checks`]).
///
/// Whatever it reports, every post-crash state is checked: recovery must
/// not panic there, and the run resumed from it must complete (so recovery
/// does not fail) with the clean run's output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checks {
    /// The workload calls [`crate::explore::Progress::attempt`] before each
    /// checkpoint write: the state oracle then requires that recovery loads
    /// only content the program attempted (no garbage, no torn file that
    /// happens to parse).
    pub attempts: bool,
    /// The workload calls [`crate::explore::Progress::acknowledge`] when it is
    /// told a checkpoint is durable, and [`Workload::inspect`] reports the
    /// checkpoint (or the committed value) recovery would resume from: the
    /// state oracle then requires that recovery never goes back past the last
    /// acknowledgement, and fails or starts over only if nothing was
    /// acknowledged.
    pub acknowledgements: bool,
    /// [`Workload::inspect`] (and [`Workload::completed`]) may not return an
    /// error on any post-crash state, acknowledged or not: for a program
    /// whose start-up refuses to run when its recovery fails.
    pub recovery_never_fails: bool,
    /// [`crate::explore::Completion::resumed_from`] says where a resumed run
    /// really started: the result oracle then requires that it is where
    /// [`Workload::inspect`] said recovery would resume.
    pub resume_cursor: bool,
    /// The workload calls [`crate::explore::Progress::processed`] per item and
    /// [`Workload::redo_bound`] is its promise: the result oracle then
    /// bounds the items redone after every crash.
    pub redo_bound: bool,
    /// [`Workload::leftovers`] lists what a finished run must not leave
    /// behind: the result oracle then requires that it lists nothing.
    pub leftovers: bool,
    /// What [`Workload::state_predicate`] checks on every post-crash state,
    /// in a few words; `None` when it checks nothing.
    pub state_predicate: Option<String>,
}

impl Default for Checks {
    /// Everything reported, no extra predicate: what a hand-written
    /// [`Workload`] over the core's observer does.
    fn default() -> Self {
        Self {
            attempts: true,
            acknowledgements: true,
            recovery_never_fails: false,
            resume_cursor: true,
            redo_bound: true,
            leftovers: true,
            state_predicate: None,
        }
    }
}

impl Checks {
    /// The checks that run on `workload`, one phrase each, state oracle
    /// first (what a report prints under "oracles").
    pub fn describe(&self, workload: &dyn Workload) -> Vec<String> {
        let mut ran = vec!["state: recovery does not panic".to_string()];
        if self.recovery_never_fails {
            ran.push("state: recovery never fails".to_string());
        }
        if self.acknowledgements {
            ran.push(
                "state: never resumes before the last acknowledged checkpoint or value".to_string(),
            );
        }
        if self.attempts {
            ran.push("state: loads only checkpoints the program attempted".to_string());
        }
        if let Some(predicate) = &self.state_predicate {
            ran.push(format!("state: {predicate}"));
        }
        ran.push(
            "result: the run resumed from every post-crash state completes with the clean run's \
             output"
                .to_string(),
        );
        if self.leftovers {
            ran.push("result: no leftovers".to_string());
        }
        if self.resume_cursor {
            ran.push("result: resumes where inspection said".to_string());
        }
        if self.redo_bound {
            ran.push(format!(
                "result: at most {} items redone per crash",
                workload.redo_bound()
            ));
        }
        ran
    }
}
