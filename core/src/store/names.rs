//! The file names the store owns in its directory.

use crate::replace;

const PREFIX: &str = "ckpt-";
const SUFFIX: &str = ".bin";
const DIGITS: usize = 20;

/// The file name of generation `generation`: `ckpt-` + 20 zero-padded
/// decimal digits + `.bin`, so names sort in generation order.
pub fn generation_file_name(generation: u64) -> String {
    format!("{PREFIX}{generation:0DIGITS$}{SUFFIX}")
}

/// The generation a file name denotes, if it is exactly a name
/// [`generation_file_name`] produces (anything else is not the store's).
pub fn parse_generation_file_name(name: &str) -> Option<u64> {
    let digits = name.strip_prefix(PREFIX)?.strip_suffix(SUFFIX)?;
    if digits.len() != DIGITS || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// The file [`crate::Runner::open`] creates and removes in the job
/// directory to find out, before any work, whether it can write there. A
/// crash can leave it behind; startup GC removes it like a temp file.
pub const WRITE_PROBE_FILE_NAME: &str = ".crashproof-write-probe";

/// Whether `name` is a temp file the store owns: one `replace` left for one
/// of the store's generation files, or the runner's write probe
/// ([`WRITE_PROBE_FILE_NAME`]).
pub fn is_store_temp_name(name: &str) -> bool {
    name == WRITE_PROBE_FILE_NAME
        || replace::is_temp_name(name)
            .is_some_and(|target| parse_generation_file_name(target).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_reject_lookalikes() {
        for g in [0, 1, 42, u64::MAX] {
            assert_eq!(
                parse_generation_file_name(&generation_file_name(g)),
                Some(g)
            );
        }
        assert_eq!(generation_file_name(42), "ckpt-00000000000000000042.bin");
        for bad in [
            "ckpt-42.bin",
            "ckpt-0000000000000000004a.bin",
            "ckpt-00000000000000000042.bin.bak",
            "ckpt-+0000000000000000042.bin",
            "ckpt-99999999999999999999.bin",
            "notes.txt",
        ] {
            assert_eq!(parse_generation_file_name(bad), None, "{bad}");
        }
        assert!(is_store_temp_name(
            ".ckpt-00000000000000000042.bin.crashproof-tmp"
        ));
        assert!(!is_store_temp_name(".notes.txt.crashproof-tmp"));
        assert!(!is_store_temp_name("ckpt-00000000000000000042.bin"));
        assert!(is_store_temp_name(WRITE_PROBE_FILE_NAME));
        assert!(!is_store_temp_name(".crashproof-write-probe.bak"));
    }
}
