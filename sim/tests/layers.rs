//! The explorer's layers, enforced: every file under `sim/src/explore/`
//! names only items of its own layer or of the layers below it, never one
//! above (ARCHITECTURE.md, "`explore/`: layers, one way").
//!
//! The check reads the source: every path that starts with
//! `crate::explore::` or `super::` in code (comments are skipped; `use`
//! lines, inline paths and `#[serde(with = "...")]` strings all count) is
//! resolved against the file's own module and sorted into the layer it
//! points at. A path to the `explore` root itself (its re-exports such as
//! `crate::explore::Workload`) belongs to the top: lower layers import from
//! the layer that defines an item, so the check sees the real edge.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// The layer folders of `sim/src/explore/`, bottom first. A file may name
/// its own layer and the ones before it in this list. Every file directly
/// in `explore/` (`mod.rs`, `explorer.rs`, their tests) is the top, above
/// all of them.
const LAYERS: &[&str] = &["vocabulary", "report", "engine", "modes"];

/// The layer of the files directly in `explore/`.
const TOP: usize = LAYERS.len();

fn layer_name(layer: usize) -> &'static str {
    LAYERS
        .get(layer)
        .copied()
        .unwrap_or("the top (explore/*.rs: the Explorer facade and the re-exports)")
}

/// One source file: its path under `explore/` and its text.
struct Source {
    path: PathBuf,
    text: String,
}

/// A path in `from` that names a higher layer than its own.
#[derive(Debug, PartialEq, Eq)]
struct Upward {
    from: String,
    line: usize,
    path: String,
    from_layer: &'static str,
    to_layer: &'static str,
}

impl fmt::Display for Upward {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: `{}` points up, from layer {} to layer {}",
            self.from, self.line, self.path, self.from_layer, self.to_layer
        )
    }
}

/// What the check saw: the upward paths, and how many paths it resolved
/// into each layer (so a check that resolved nothing cannot pass).
#[derive(Debug, Default)]
struct Checked {
    upward: Vec<Upward>,
    /// `resolved[from][to]`: paths from a file of layer `from` to layer `to`.
    resolved: Vec<Vec<usize>>,
}

/// The module path of a file under `explore/`, relative to `explore`
/// (`engine/case.rs` -> `["engine", "case"]`, `engine/mod.rs` ->
/// `["engine"]`, `mod.rs` -> `[]`).
fn module_of(path: &Path) -> Vec<String> {
    let mut parts: Vec<String> = path
        .iter()
        .map(|c| c.to_string_lossy().into_owned())
        .collect();
    if let Some(last) = parts.pop() {
        let stem = last.trim_end_matches(".rs");
        if stem != "mod" {
            parts.push(stem.to_string());
        }
    }
    parts
}

/// The layer a module path under `explore` belongs to.
fn layer_of(module: &[String]) -> usize {
    module
        .first()
        .and_then(|first| LAYERS.iter().position(|l| l == first))
        .unwrap_or(TOP)
}

/// The text with every `//` comment blanked out (strings kept: a path in a
/// `#[serde(with = "...")]` string is a real dependency), same length and
/// lines, so offsets still give line numbers.
fn without_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_string = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            if c == '\\' {
                if let Some(escaped) = chars.next() {
                    out.push(escaped);
                }
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
            out.push(c);
        } else if c == '/' && chars.peek() == Some(&'/') {
            for rest in chars.by_ref() {
                if rest == '\n' {
                    out.push('\n');
                    break;
                }
                out.push(' ');
            }
            out.push(' ');
        } else {
            out.push(c);
        }
    }
    out
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The identifier at the start of `s`.
fn ident(s: &str) -> &str {
    let end = s.find(|c: char| !is_ident(c)).unwrap_or(s.len());
    &s[..end]
}

/// The module paths (relative to `explore`) that the path starting at
/// `code[start..]` names, seen from `module`, with the text of the path;
/// empty if it names nothing inside `explore`. A group (`{a::x, b}`) after
/// a prefix that names no layer yet names each of its items' first
/// segments.
fn targets(code: &str, start: usize, module: &[String]) -> (String, Vec<Vec<String>>) {
    let mut rest = &code[start..];
    let mut base: Vec<String>;
    if let Some(after) = rest.strip_prefix("crate::") {
        if ident(after) != "explore" || !after["explore".len()..].starts_with("::") {
            return (String::new(), Vec::new());
        }
        rest = &after["explore::".len()..];
        base = Vec::new();
    } else {
        base = module.to_vec();
        while let Some(after) = rest.strip_prefix("super::") {
            if base.pop().is_none() {
                // Above `explore`: the rest of the crate.
                return (String::new(), Vec::new());
            }
            rest = after;
        }
    }
    let text_end = start + (code[start..].len() - rest.len());
    let mut shown = code[start..text_end].to_string();
    // The named segments, up to a group or the end of the path.
    loop {
        let name = ident(rest);
        if name.is_empty() {
            break;
        }
        shown.push_str(name);
        base.push(name.to_string());
        rest = &rest[name.len()..];
        match rest.strip_prefix("::") {
            Some(after) => {
                shown.push_str("::");
                rest = after;
            }
            None => return (shown, vec![base]),
        }
    }
    if !base.is_empty() || !rest.starts_with('{') {
        return (shown, vec![base]);
    }
    // `crate::explore::{...}` or `super::{...}` at the explore root: each
    // item of the group names its own layer.
    let mut depth = 0usize;
    let mut items = Vec::new();
    let mut item_start = true;
    for (i, c) in rest.char_indices() {
        match c {
            '{' => {
                depth += 1;
                item_start = depth == 1;
            }
            '}' => {
                depth -= 1;
                if depth == 0 {
                    shown.push_str(&rest[..=i]);
                    break;
                }
            }
            ',' if depth == 1 => item_start = true,
            c if item_start && is_ident(c) => {
                items.push(vec![ident(&rest[i..]).to_string()]);
                item_start = false;
            }
            _ => {}
        }
    }
    (shown, items)
}

/// Checks every file: no path names a layer above the file's own.
fn check(sources: &[Source]) -> Checked {
    let mut checked = Checked {
        upward: Vec::new(),
        resolved: vec![vec![0; TOP + 1]; TOP + 1],
    };
    for source in sources {
        let module = module_of(&source.path);
        let from = layer_of(&module);
        let code = without_comments(&source.text);
        let mut i = 0;
        while i < code.len() {
            let rest = &code[i..];
            let starts_path = (rest.starts_with("crate::") || rest.starts_with("super::"))
                && !code[..i].ends_with(|c: char| is_ident(c) || c == ':');
            if !starts_path {
                i += rest.chars().next().map_or(1, char::len_utf8);
                continue;
            }
            let (shown, named) = targets(&code, i, &module);
            for target in named {
                let to = layer_of(&target);
                checked.resolved[from][to] += 1;
                if to > from {
                    checked.upward.push(Upward {
                        from: source.path.display().to_string(),
                        line: code[..i].matches('\n').count() + 1,
                        path: shown.clone(),
                        from_layer: layer_name(from),
                        to_layer: layer_name(to),
                    });
                }
            }
            i += shown.len().max(1);
        }
    }
    checked
}

/// Every `.rs` file under `dir`, with its path relative to `root`.
fn read_tree(root: &Path, dir: &Path, out: &mut Vec<Source>) -> io::Result<()> {
    let mut entries = std::fs::read_dir(dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<io::Result<Vec<PathBuf>>>()?;
    entries.sort();
    for path in entries {
        if path.is_dir() {
            read_tree(root, &path, out)?;
        } else if path.extension().is_some_and(|x| x == "rs") {
            let text = std::fs::read_to_string(&path)?;
            let rel = path.strip_prefix(root).map_err(io::Error::other)?;
            out.push(Source {
                path: rel.to_path_buf(),
                text,
            });
        }
    }
    Ok(())
}

fn explore_sources() -> io::Result<Vec<Source>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/explore");
    let mut sources = Vec::new();
    read_tree(&root, &root, &mut sources)?;
    Ok(sources)
}

#[test]
fn explore_imports_run_one_way_down_the_layers() {
    let sources = explore_sources().expect("sim/src/explore is readable");
    // Every folder is a listed layer: a new one must be placed in the order.
    for source in &sources {
        let module = module_of(&source.path);
        if source.path.components().count() > 1 {
            assert!(
                layer_of(&module) < TOP,
                "{} is in a folder that is not a layer: add the folder to LAYERS in \
                 sim/tests/layers.rs, in its place bottom first, and to ARCHITECTURE.md",
                source.path.display()
            );
        }
    }
    let checked = check(&sources);
    let report: Vec<String> = checked.upward.iter().map(ToString::to_string).collect();
    assert!(
        report.is_empty(),
        "imports must run down the layers ({}, then the top): a lower layer may not name a \
         higher one; move the item down, or hand the lower layer a function or a trait (as the \
         engine hands the tally its confirmation replay):\n{}",
        LAYERS.join(" < "),
        report.join("\n")
    );
    // Nothing vouches for nothing: each layer above the bottom was seen
    // naming the layers below it, so the parser really read the imports.
    for (from, name) in LAYERS.iter().enumerate().skip(1) {
        let below: usize = checked.resolved[from][..from].iter().sum();
        assert!(
            below > 0,
            "no path from layer {name} to a lower layer was found"
        );
    }
    let from_top: usize = checked.resolved[TOP][..TOP].iter().sum();
    assert!(from_top > 0, "no path from the top to a layer was found");
    assert!(
        sources.len() >= 30,
        "only {} files found under sim/src/explore",
        sources.len()
    );
}

/// The check itself catches what it must, and nothing else.
#[test]
fn an_upward_path_is_caught_and_comments_are_not_paths() {
    let source = |path: &str, text: &str| Source {
        path: PathBuf::from(path),
        text: text.to_string(),
    };
    let sources = [
        source(
            "vocabulary/workload.rs",
            "//! Docs may name [`crate::explore::Explorer`] and `super::engine`.\n\
             use super::checks::Checks;\n\
             use crate::explore::engine::case::Case;\n",
        ),
        source(
            "report/tally.rs",
            "use super::summary::Report;\n\
             use crate::explore::vocabulary::plan::Pass;\n\
             fn f() { super::super::modes::units::check_units(); }\n\
             #[serde(with = \"crate::explore::engine::json\")]\n",
        ),
        source(
            "engine/mod.rs",
            "use super::{\n    report::tally::Tally,\n    modes::units,\n};\n\
             use crate::explore::Workload; // a root re-export is the top\n\
             let s = \"// not a comment\"; use crate::SimFs;\n",
        ),
        source(
            "modes/units.rs",
            "use crate::explore::engine::start::Engine;\nmod tests { use super::*; }\n",
        ),
        source(
            "explorer.rs",
            "use super::modes::exhaustive;\nuse super::engine::start::Engine;\n",
        ),
    ];
    let checked = check(&sources);
    let found: Vec<(String, usize, String)> = checked
        .upward
        .iter()
        .map(|u| (u.from.clone(), u.line, u.path.clone()))
        .collect();
    assert_eq!(
        found,
        vec![
            (
                "vocabulary/workload.rs".to_string(),
                3,
                "crate::explore::engine::case::Case".to_string()
            ),
            (
                "report/tally.rs".to_string(),
                3,
                "super::super::modes::units::check_units".to_string()
            ),
            (
                "report/tally.rs".to_string(),
                4,
                "crate::explore::engine::json".to_string()
            ),
            (
                "engine/mod.rs".to_string(),
                1,
                "super::{\n    report::tally::Tally,\n    modes::units,\n}".to_string()
            ),
            (
                "engine/mod.rs".to_string(),
                5,
                "crate::explore::Workload".to_string()
            ),
        ]
    );
    // Downward and same-layer paths were resolved, not skipped.
    assert_eq!(checked.resolved[1][0], 1, "report -> vocabulary");
    assert_eq!(checked.resolved[3][2], 1, "modes -> engine");
    assert_eq!(checked.resolved[TOP][3], 1, "top -> modes");
}
