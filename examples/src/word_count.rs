//! Counts words over a fixed corpus, one line per item, as a core `Job`:
//! what a user writes to run a job resumably with the core's `Runner`.

use std::collections::BTreeMap;

use crashproof_core::{Job, JobError, stable_digest};

/// The corpus: one item per line.
pub const CORPUS: &[&str] = &[
    "the quick brown fox jumps over the lazy dog",
    "a checkpoint is only as good as the fsync before it",
    "the dog sleeps and the fox runs",
    "rename is atomic but only durable after the directory fsync",
    "power fails at the worst moment",
    "the fox and the dog agree on nothing",
    "a torn write looks like garbage that almost parses",
    "resume from the newest checkpoint that is whole",
    "the lazy dog never checkpoints",
    "every crash point is a chance to lose work",
];

/// Word counts so far: the state the runner checkpoints. A `BTreeMap`, so
/// its JSON and the output are canonical.
pub type Counts = BTreeMap<String, u64>;

/// What a finished count reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Words counted.
    pub words: u64,
    /// Distinct words.
    pub distinct: usize,
    /// The three most frequent words, most frequent first (ties by word).
    pub top: Vec<(String, u64)>,
}

/// Counts the words of [`CORPUS`].
#[derive(Debug, Clone, Default)]
pub struct WordCount;

impl WordCount {
    /// The job over [`CORPUS`].
    pub fn new() -> Self {
        Self
    }
}

/// The summary of `counts`.
pub fn summary(counts: &Counts) -> Summary {
    let mut top: Vec<(String, u64)> = counts.iter().map(|(w, n)| (w.clone(), *n)).collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    top.truncate(3);
    Summary {
        words: counts.values().sum(),
        distinct: counts.len(),
        top,
    }
}

/// Adds the words of line `index` to `counts`.
pub fn count_line(index: u64, counts: &mut Counts) -> Result<(), JobError> {
    let line = usize::try_from(index)
        .ok()
        .and_then(|i| CORPUS.get(i))
        .ok_or_else(|| JobError::new(format!("no line {index} in a corpus of {}", CORPUS.len())))?;
    for word in line.split_whitespace() {
        *counts.entry(word.to_string()).or_insert(0) += 1;
    }
    Ok(())
}

impl Job for WordCount {
    type State = Counts;
    type Output = Summary;

    fn name(&self) -> &str {
        "word-count"
    }

    fn fingerprint(&self) -> u64 {
        stable_digest(CORPUS.join("\n").as_bytes())
    }

    fn item_count(&self) -> u64 {
        CORPUS.len() as u64
    }

    fn initial_state(&self) -> Counts {
        Counts::new()
    }

    fn process(&mut self, index: u64, counts: &mut Counts) -> Result<(), JobError> {
        count_line(index, counts)
    }

    fn finalize(&mut self, counts: &Counts) -> Result<Summary, JobError> {
        Ok(summary(counts))
    }
}
