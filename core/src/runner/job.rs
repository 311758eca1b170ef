//! What a user implements to be run resumably.

use std::error::Error;
use std::fmt;

use serde::Serialize;
use serde::de::DeserializeOwned;

/// A job over items `0..item_count()` whose progress is one serializable
/// state. The runner calls [`Job::process`] for each item in order, commits
/// `{cursor, state}` every K items, and calls [`Job::finalize`] once at the
/// end.
///
/// # Contract the runner relies on
///
/// - Determinism: processing items `c..n` from the state committed at cursor
///   `c` gives the same state as a clean run does at `n`. Then a resumed run
///   produces the same output as a clean one.
/// - [`Job::fingerprint`] changes whenever a checkpoint of the old job must
///   not be resumed by the new one (other inputs, other item list, another
///   `State` schema). The runner refuses a checkpoint with another
///   fingerprint.
/// - Side effects of `process` outside the state may be redone after a
///   crash (at most K items, see [`crate::Outcome`]); make them idempotent.
///
/// # Example
///
/// Counting words of a list of lines; the state is any serde type.
///
/// ```
/// use crashproof_core::{Job, JobError, stable_digest};
/// use serde::{Deserialize, Serialize};
///
/// struct WordCount {
///     lines: Vec<String>,
/// }
///
/// #[derive(Serialize, Deserialize, Default)]
/// struct Counted {
///     words: u64,
///     longest: usize,
/// }
///
/// impl Job for WordCount {
///     type State = Counted;
///     type Output = (u64, usize);
///     fn name(&self) -> &str { "word-count" }
///     // Another input is another job: its checkpoints must not be resumed.
///     fn fingerprint(&self) -> u64 { stable_digest(self.lines.join("\n").as_bytes()) }
///     fn item_count(&self) -> u64 { self.lines.len() as u64 }
///     fn initial_state(&self) -> Counted { Counted::default() }
///     fn process(&mut self, i: u64, state: &mut Counted) -> Result<(), JobError> {
///         let line = self.lines.get(i as usize).ok_or_else(|| JobError::new("no such line"))?;
///         for word in line.split_whitespace() {
///             state.words += 1;
///             state.longest = state.longest.max(word.len());
///         }
///         Ok(())
///     }
///     fn finalize(&mut self, state: &Counted) -> Result<(u64, usize), JobError> {
///         Ok((state.words, state.longest))
///     }
/// }
///
/// let mut job = WordCount { lines: vec!["a crash test".into(), "for every step".into()] };
/// let mut state = job.initial_state();
/// for i in 0..job.item_count() {
///     job.process(i, &mut state)?;
/// }
/// assert_eq!(job.finalize(&state)?, (6, 5));
/// # Ok::<(), JobError>(())
/// ```
///
/// Run it with a [`crate::Runner`] to make it resumable.
pub trait Job {
    /// The progress carried from item to item and checkpointed.
    type State: Serialize + DeserializeOwned;
    /// What [`Job::finalize`] returns.
    type Output;

    /// A short stable name: used in messages, logs, the default yield
    /// sentinel file name (`<name>.yield`) and recorded in every checkpoint.
    /// One path component: not empty, no `/`, not `.` or `..`.
    fn name(&self) -> &str;

    /// A stable identity of the job's definition and inputs (see
    /// [`crate::stable_digest`] to make one). Checkpoints written under
    /// another fingerprint are refused.
    fn fingerprint(&self) -> u64;

    /// How many items there are. Read once when the runner opens.
    fn item_count(&self) -> u64;

    /// The state before item 0.
    fn initial_state(&self) -> Self::State;

    /// Processes item `index` into `state`. On an error the runner stops
    /// without committing `state` (it may be half-updated); the last
    /// committed checkpoint stays the resume point.
    fn process(&mut self, index: u64, state: &mut Self::State) -> Result<(), JobError>;

    /// Turns the state after the last item into the output. Called once per
    /// completing run, after the final checkpoint (cursor == item_count) is
    /// durable, so a crash here resumes straight into `finalize`.
    fn finalize(&mut self, state: &Self::State) -> Result<Self::Output, JobError>;
}

/// A failure reported by a [`Job`]: a message, optionally with its cause.
#[derive(Debug)]
pub struct JobError {
    message: String,
    source: Option<Box<dyn Error + Send + Sync + 'static>>,
}

impl JobError {
    /// A job error with a message only.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            source: None,
        }
    }

    /// A job error with a message and the error that caused it.
    pub fn with_source(
        message: impl Into<String>,
        source: impl Into<Box<dyn Error + Send + Sync + 'static>>,
    ) -> Self {
        Self {
            message: message.into(),
            source: Some(source.into()),
        }
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for JobError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.source {
            Some(source) => write!(f, "{}: {source}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl Error for JobError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.source.as_deref().map(|e| e as &(dyn Error + 'static))
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::JobError;

    #[test]
    fn message_is_the_jobs_words_and_display_adds_the_cause() {
        let plain = JobError::new("item 7 is malformed");
        assert_eq!(plain.message(), "item 7 is malformed");
        assert_eq!(plain.to_string(), "item 7 is malformed");
        assert!(plain.source().is_none());
        let caused = JobError::with_source("parse item 7", "unexpected end of input");
        assert_eq!(caused.message(), "parse item 7");
        assert_eq!(caused.to_string(), "parse item 7: unexpected end of input");
        assert_eq!(
            caused.source().map(ToString::to_string).as_deref(),
            Some("unexpected end of input")
        );
    }
}
