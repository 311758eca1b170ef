//! The `--workload` argument: the registry's names as clap's possible
//! values, so `--help` lists them and a typo is a usage error (exit 2).

use clap::builder::PossibleValuesParser;
use crashproof_catalog::workload_names;

/// A parser accepting exactly the registered workload names.
pub fn workload_parser() -> PossibleValuesParser {
    // clap needs `'static` names; the registry builds them once per process
    // start, so leaking this handful of short strings is bounded.
    let names: Vec<&'static str> = workload_names()
        .into_iter()
        .map(|n| &*Box::leak(n.into_boxed_str()))
        .collect();
    PossibleValuesParser::new(names)
}
