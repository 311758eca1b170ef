//! The named failpoints of the core, re-exported with a doc line each.
//!
//! The constants are defined in `crashproof_core::failpoint` (the core cannot
//! depend on this crate); [`CATALOGUE`] documents every one of them, and a
//! unit test reads the core's source to keep the two in sync.

pub use crashproof_core::failpoint::*;

/// One named failpoint and what a crash there means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailpointDoc {
    /// The name passed to `Fs::failpoint` (and used in `FAILPOINTS`).
    pub name: &'static str,
    /// One line: where in the protocol it sits and what is durable there.
    pub doc: &'static str,
}

/// Every failpoint the core calls, in protocol order.
pub const CATALOGUE: &[FailpointDoc] = &[
    FailpointDoc {
        name: REPLACE_AFTER_SYNC_BEFORE_RENAME,
        doc: "replace: temp file written and fsynced, not yet renamed; the old target is still the durable one",
    },
    FailpointDoc {
        name: REPLACE_AFTER_RENAME_BEFORE_SYNC_DIR,
        doc: "replace: renamed over the target, parent directory not yet fsynced; the new name may not survive a crash",
    },
    FailpointDoc {
        name: STORE_AFTER_WRITE_BEFORE_GC,
        doc: "store commit: the new generation is durable, older generations not yet collected; a crash leaves extra generations for startup GC",
    },
    FailpointDoc {
        name: RUNNER_AFTER_FINAL_COMMIT_BEFORE_FINALIZE,
        doc: "runner: the final checkpoint (cursor == item_count) is durable, finalize not yet called; recovery must resume straight into finalize",
    },
];

/// The documentation line of `name`, if it is in the catalogue.
pub fn doc_of(name: &str) -> Option<&'static str> {
    CATALOGUE.iter().find(|d| d.name == name).map(|d| d.doc)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `pub const NAME: &str = "..."` in the core's failpoint module
    /// must be documented here, so a new core failpoint cannot be forgotten.
    #[test]
    fn every_core_failpoint_is_in_the_catalogue() {
        let source = include_str!("../../core/src/failpoint.rs");
        // rustfmt may wrap a long constant over two lines: read up to the `;`.
        let names: Vec<&str> = source
            .split("pub const ")
            .skip(1)
            .filter_map(|item| item.split(';').next())
            .filter(|decl| decl.contains("&str"))
            .filter_map(|decl| decl.split('"').nth(1))
            .collect();
        assert!(
            !names.is_empty(),
            "no constants found in core/src/failpoint.rs"
        );
        for name in &names {
            assert!(
                doc_of(name).is_some(),
                "core failpoint {name:?} missing from CATALOGUE"
            );
        }
        assert_eq!(
            names.len(),
            CATALOGUE.len(),
            "CATALOGUE lists a name the core does not define"
        );
    }

    #[test]
    fn catalogue_names_are_unique_and_parseable() {
        let mut seen = std::collections::BTreeSet::new();
        for d in CATALOGUE {
            assert!(seen.insert(d.name), "duplicate {}", d.name);
            assert!(
                crate::schedule::is_valid_failpoint_name(d.name),
                "{}",
                d.name
            );
            assert!(!d.doc.is_empty());
        }
    }
}
