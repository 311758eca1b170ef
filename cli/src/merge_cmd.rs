//! `crashproof merge`: the `--json` reports of `explore --shard 1/N ...
//! N/N` combined into the verdict of the whole exploration.
//!
//! Refuses (exit 2) reports of another format, of different explorations
//! (workload, sizes, passes, seed, options), a shard missing or given
//! twice, and a merged pass that checked nothing. Otherwise prints the
//! merged report (text, or JSON with `--json`) and exits like `explore`:
//! 0 clean, 1 violations.

use std::path::PathBuf;

use clap::Args;
use crashproof_sim::explore::{ExploreOptions, Report, Shard};

use crate::exit::{Exit, harness_error};
use crate::report_json::{FORMAT, ReportJson};

/// Arguments of `crashproof merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Every shard's report (`explore --shard I/N --json > shard-I.json`),
    /// in any order.
    #[arg(required = true)]
    reports: Vec<PathBuf>,
    /// Print the merged report as JSON on stdout (the text goes to stderr).
    #[arg(long)]
    json: bool,
}

/// Reads, checks and merges the reports; prints the verdict.
pub fn run(args: &MergeArgs) -> Exit {
    match merge(&args.reports) {
        Ok(merged) => print(&merged, args.json),
        Err(e) => harness_error(e),
    }
}

/// The merged document of the shard reports at `paths`.
fn merge(paths: &[PathBuf]) -> Result<ReportJson, String> {
    let mut docs: Vec<ReportJson> = Vec::new();
    for path in paths {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read shard report {}: {e}", path.display()))?;
        let doc: ReportJson = serde_json::from_str(&text).map_err(|e| {
            format!(
                "{} is not a crashproof explore --json report: {e}",
                path.display()
            )
        })?;
        if doc.format != FORMAT {
            return Err(format!(
                "{} has format `{}`; this crashproof reads `{FORMAT}`: rerun the shards with \
                 this version",
                path.display(),
                doc.format
            ));
        }
        if doc.report.interrupted {
            return Err(format!(
                "{} is the report of a run that was interrupted (Ctrl-C or SIGTERM) before its \
                 end: it covers only part of its shard; rerun that shard",
                path.display()
            ));
        }
        docs.push(doc);
    }
    let first = docs.first().ok_or("no shard report given")?;
    let (invocation, count) = (first.invocation.clone(), first.shard.count);
    for (doc, path) in docs.iter().zip(paths) {
        if doc.invocation != invocation {
            return Err(format!(
                "{} is a report of another exploration than {} ({}): merge the shards of one \
                 command",
                path.display(),
                paths[0].display(),
                invocation.differences(&doc.invocation).join("; ")
            ));
        }
        if doc.shard.count != count {
            return Err(format!(
                "{} is shard {} but {} is shard {}: every report must be a shard of the same \
                 split",
                path.display(),
                doc.shard,
                paths[0].display(),
                first.shard
            ));
        }
    }
    docs.sort_by_key(|d| d.shard.index);
    for (expected, doc) in (0..count).zip(&docs) {
        if doc.shard.index != expected {
            let want = Shard {
                index: expected,
                count,
            };
            return Err(format!(
                "shard {want} is missing or another shard is given twice: pass each of the {count} \
                 shards' reports once"
            ));
        }
    }
    if docs.len() as u64 != count {
        return Err(format!(
            "{} reports for {count} shards: pass each shard's report once",
            docs.len()
        ));
    }
    let execution = docs[0].execution.clone();
    let reports: Vec<Report> = docs.into_iter().map(|d| d.report).collect();
    let in_full_max = ExploreOptions::default().violations_in_full_max;
    let merged = Report::merge_shards(reports, in_full_max).map_err(|e| e.to_string())?;
    if let Some(p) = merged
        .passes
        .iter()
        .find(|p| p.states_checked == 0 && p.violations == 0)
    {
        return Err(format!(
            "the merged {} pass checked zero post-crash states, so it vouches for nothing: check \
             that the workload's run makes filesystem calls",
            p.pass
        ));
    }
    Ok(ReportJson::new(invocation, Shard::WHOLE, execution, merged))
}

fn print(merged: &ReportJson, json: bool) -> Exit {
    let exit = if merged.report.is_clean() {
        Exit::Clean
    } else {
        Exit::Violation
    };
    if !json {
        print!("{}", merged.report);
        return exit;
    }
    eprint!("{}", merged.report);
    if let Err(e) = merged.write_json(std::io::stdout().lock()) {
        return harness_error(format!("could not write the JSON report: {e}"));
    }
    exit
}
