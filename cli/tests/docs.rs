//! Documentation that cannot go stale: every command output quoted in
//! README.md and docs/*.md is produced again here and compared, so a
//! change of output fails this test until the docs are regenerated. The
//! rule, for whoever adds output to the docs, is in docs/README.md
//! ("Quoted output is checked"):
//!
//! - A fenced block without a language (or tagged `text` or `console`) is
//!   output. The line before it is a
//!   marker comment saying where it comes from:
//!   - `<!-- check: crashproof ARGS -->`: this test runs the command (the
//!     `crashproof` binary of this build, in the workspace root) and
//!     compares its standard output with the block;
//!   - `<!-- check: cargo test ... -->`: one of the library outputs in
//!     [`GENERATED`], computed here the way that test computes it;
//!   - `<!-- measured: YYYY-MM-DD, MACHINE, load L -->`: numbers of a bench
//!     or a timed run, which CI cannot reproduce: not rerun, but the marker
//!     must name the date, the machine and its load;
//!   - `<!-- static: WHY -->`: text that is no command's output (a file
//!     layout, a grammar), or a table whose numbers are no measurement
//!     (an option's default, a size a test pins).
//! - A table with measured numbers (times, rates, percentages, ratios)
//!   carries a `measured:` marker too, and so does a paragraph that quotes
//!   them (this test cannot find those: reviewers do).
//!
//! Comparison: the block may elide text in a line with `[..]` and whole
//! lines with a line `...` (snapbox's syntax); times, rates, sizes and
//! temporary paths are redacted on both sides, so a block keeps a
//! realistic sample (`0.033 s`) and still matches every run.

// This file is a test crate: its helpers are test code too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

use regex::Regex;

/// The workspace root (this crate is `cli/`).
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Every Markdown file whose quoted output is checked.
fn documents() -> Vec<PathBuf> {
    let mut docs = vec![root().join("README.md")];
    let mut pages: Vec<PathBuf> = std::fs::read_dir(root().join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    pages.sort();
    docs.extend(pages);
    docs
}

/// Where a quoted block or table comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Marker {
    Check(String),
    Measured(String),
    Static(String),
}

impl Marker {
    /// The marker on `line`, if it is one (`<!-- kind: text -->`).
    fn parse(line: &str) -> Option<Result<Marker, String>> {
        let inner = line
            .trim()
            .strip_prefix("<!--")?
            .strip_suffix("-->")?
            .trim();
        let (kind, text) = inner.split_once(':')?;
        let text = text.trim().to_string();
        Some(match kind.trim() {
            "check" => Ok(Marker::Check(text)),
            "measured" => Ok(Marker::Measured(text)),
            "static" => Ok(Marker::Static(text)),
            _ => return None,
        })
    }
}

/// One quoted output block or measured table of a document.
#[derive(Debug)]
struct Quote {
    /// `file:line` of its first line.
    at: String,
    /// The marker on the line before it, if any.
    marker: Option<Result<Marker, String>>,
    /// A fenced block (its text) or a table (`None`).
    block: Option<String>,
}

/// The output blocks (fenced, no language, `text` or `console`) and the
/// tables with measured
/// numbers of `text`.
fn quotes(name: &str, text: &str) -> Vec<Quote> {
    let measure = measure_pattern();
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let marker_before = |i: usize| -> Option<Result<Marker, String>> {
        let prev = lines[..i].iter().rev().find(|l| !l.trim().is_empty())?;
        Marker::parse(prev)
    };
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if let Some(info) = line.strip_prefix("```") {
            let end = (i + 1..lines.len())
                .find(|&j| lines[j].starts_with("```"))
                .unwrap_or(lines.len());
            if matches!(info.trim(), "" | "text" | "console") {
                out.push(Quote {
                    at: format!("{name}:{}", i + 1),
                    marker: marker_before(i),
                    block: Some(lines[i + 1..end].join("\n") + "\n"),
                });
            }
            i = end + 1;
            continue;
        }
        if line.starts_with('|') {
            let end = (i..lines.len())
                .find(|&j| !lines[j].starts_with('|'))
                .unwrap_or(lines.len());
            let table = lines[i..end].join("\n");
            if measure.is_match(&table) {
                out.push(Quote {
                    at: format!("{name}:{}", i + 1),
                    marker: marker_before(i),
                    block: None,
                });
            }
            i = end;
            continue;
        }
        i += 1;
    }
    out
}

/// A measured number: a time, a rate, a percentage or a ratio.
fn measure_pattern() -> Regex {
    Regex::new(r"\b\d+(\.\d+)?\s?(ns|µs|us|ms|s|min)\b|\d\s?%|\b\d+(\.\d+)?x\b|/s\b").unwrap()
}

/// The redactions applied to both the output and the block.
fn redactions() -> snapbox::Redactions {
    let mut r = snapbox::Redactions::new();
    let add = |r: &mut snapbox::Redactions, name: &'static str, pattern: &str| {
        r.insert(name, Regex::new(pattern).unwrap()).unwrap();
    };
    // Each takes the spaces before the number too: a column of numbers is
    // padded to their width, which changes with the number.
    add(
        &mut r,
        "[RATE]",
        r" *\b\d+(\.\d+)? (states|cases|killed cases|items)/s",
    );
    add(&mut r, "[TIME]", r" *\b\d+(\.\d+)? ?(ns|µs|us|ms|s)\b");
    add(
        &mut r,
        "[SIZE]",
        r" *\b\d+(\.\d+)? ?(B|KiB|MiB|GiB|kB|KB|MB|GB)\b",
    );
    add(&mut r, "[TMP]", r"/tmp/[^\s'`]+");
    r
}

/// A library output a doc quotes, by the command that prints it.
type Generator = fn() -> String;

/// Outputs of `cargo test` commands, computed here as the test does.
const GENERATED: &[(&str, Generator)] = &[(
    "cargo test -p crashproof-examples --test word_count -- --exact \
     a_counter_outside_the_checkpoint_is_caught --nocapture",
    leaky_word_count_report,
)];

/// What `examples/tests/word_count.rs`'s planted-bug test prints.
fn leaky_word_count_report() -> String {
    use crashproof_core::RunnerConfig;
    use crashproof_examples::planted::LeakyWordCount;
    use crashproof_sim::{CrashTest, JobWorkload};
    let workload = JobWorkload::new(LeakyWordCount::new, RunnerConfig::every(3));
    // This process's environment aside (no seed or replay variable).
    let failure = CrashTest::new(&workload)
        .env(crashproof_sim::check::TestEnv::default())
        .test_name("a_counter_outside_the_checkpoint_is_caught")
        .package("crashproof-examples")
        .check()
        .expect_err("the planted bug is caught");
    format!("{failure}\n")
}

/// The output `command` gives now.
fn produce(command: &str) -> Result<String, String> {
    if let Some((_, generate)) = GENERATED.iter().find(|(c, _)| *c == command) {
        return Ok(generate());
    }
    let words = shlex::split(command).ok_or_else(|| format!("cannot split `{command}`"))?;
    let Some(("crashproof", args)) = words.split_first().map(|(c, a)| (c.as_str(), a)) else {
        return Err(format!(
            "no way to run `{command}` here: a check marker runs `crashproof ARGS`, or one of \
             the library outputs in GENERATED (cli/tests/docs.rs)"
        ));
    };
    let output = Command::new(env!("CARGO_BIN_EXE_crashproof"))
        .args(args)
        .current_dir(root())
        .env_remove("CRASHPROOF_SEED")
        .env_remove("CI")
        .output()
        .map_err(|e| format!("cannot run `{command}`: {e}"))?;
    if !matches!(output.status.code(), Some(0 | 1)) {
        return Err(format!(
            "`{command}` exited {:?}: {}",
            output.status.code(),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Whether `text` (after `measured:`) names a date, a machine and a load.
fn dated(text: &str) -> bool {
    let date = Regex::new(r"^\d{4}-\d{2}-\d{2}, \S.*, load \S+").unwrap();
    date.is_match(text)
}

/// Checks one quote; `Err` says what is wrong and what to do.
fn check(quote: &Quote) -> Result<(), String> {
    let marker = match &quote.marker {
        None => {
            return Err(if quote.block.is_some() {
                "an output block without a marker: put `<!-- check: crashproof ... -->` (or \
                 `measured:`/`static:`, see docs/README.md) on the line before it"
                    .to_string()
            } else {
                "a table of measured numbers without `<!-- measured: YYYY-MM-DD, MACHINE, load \
                 L -->` on the line before it"
                    .to_string()
            });
        }
        Some(Err(e)) => return Err(e.clone()),
        Some(Ok(m)) => m,
    };
    match (marker, &quote.block) {
        (Marker::Measured(text), _) if dated(text) => Ok(()),
        (Marker::Measured(text), _) => Err(format!(
            "`measured: {text}` must read `measured: YYYY-MM-DD, MACHINE, load L`"
        )),
        (Marker::Static(why), _) if !why.is_empty() => Ok(()),
        (Marker::Static(_), _) => Err("`static:` says why the quote is no output".into()),
        (Marker::Check(_), None) => Err("a table is not rerun: mark it `measured:` (or \
             `static:` if its numbers are no measurement)"
            .into()),
        (Marker::Check(command), Some(block)) => {
            let actual = produce(command)?;
            let r = redactions();
            let (actual, expected) = (r.redact(&actual), r.redact(block));
            snapbox::Assert::new()
                .redact_with(r)
                .try_eq(
                    Some(&command.as_str()),
                    snapbox::Data::text(actual),
                    snapbox::Data::text(expected),
                )
                .map_err(|e| format!("`{command}` prints something else now:\n{e}"))
        }
    }
}

/// Every quoted output in README.md and docs/*.md matches what its
/// command prints now; every measured table is dated.
#[test]
fn every_quoted_output_is_what_its_command_prints_now() {
    let mut failures = Vec::new();
    let mut checked = 0;
    for doc in documents() {
        let name = doc.strip_prefix(root()).unwrap().display().to_string();
        let text = std::fs::read_to_string(&doc).unwrap();
        for quote in quotes(&name, &text) {
            checked += 1;
            if let Err(e) = check(&quote) {
                failures.push(format!("{}: {e}", quote.at));
            }
        }
    }
    assert!(
        checked >= 5,
        "found only {checked} quoted outputs: is the parser broken?"
    );
    assert!(
        failures.is_empty(),
        "{} of {checked} quoted outputs are stale or unmarked (rules: docs/README.md):\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// The check can fail: an unmarked block, an undated measurement, a stale
/// output and a command it cannot run are each refused; a block that
/// matches (with elisions and redacted numbers) passes.
#[test]
fn stale_unmarked_and_undated_quotes_are_refused() {
    let doc = "\
intro

```
unmarked output
```

<!-- measured: last week -->
| run | time |
|---|---|
| 1 | 0.5 s |

<!-- check: crashproof explore --model drop-unsynced -->
```
crashproof exploration of workload `core-runner` (seed 0)
clean run: 999 filesystem steps
...
```

<!-- check: crashproof explore --model drop-unsynced -->
```
crashproof exploration of workload `core-runner` (seed 0)
clean run: [..] filesystem steps
...
total: [..] post-crash states checked ([..] distinct) in 0.001 s (1 states/s), peak memory 8.8 MB
result: OK, zero violations
```

<!-- check: ls -l -->
```
total 0
```

<!-- measured: 2026-12-05, 2-core shared VM, load 6 -->
| run | time |
|---|---|
| 1 | 0.5 s |

<!-- static: the grammar -->
```
step:N@MODEL#STATE
```
";
    let results: Vec<Result<(), String>> = quotes("doc.md", doc).iter().map(check).collect();
    assert_eq!(results.len(), 7, "{results:#?}");
    assert!(
        results[0]
            .as_ref()
            .is_err_and(|e| e.contains("without a marker"))
    );
    assert!(results[1].as_ref().is_err_and(|e| e.contains("YYYY-MM-DD")));
    assert!(
        results[2]
            .as_ref()
            .is_err_and(|e| e.contains("prints something else")),
        "{:?}",
        results[2]
    );
    assert_eq!(results[3], Ok(()));
    assert!(
        results[4]
            .as_ref()
            .is_err_and(|e| e.contains("no way to run"))
    );
    assert_eq!(results[5], Ok(()));
    assert_eq!(results[6], Ok(()));
}
