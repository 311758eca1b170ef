//! The `--sector-size` argument: a number of bytes the simulator accepts,
//! checked by the library's own rule so a bad size is a usage error (exit 2)
//! with the library's message.

use crashproof_sim::explore::validate_sector_size_bytes;

/// Parses and checks a sector size in bytes.
pub fn parse(text: &str) -> Result<usize, String> {
    let bytes: usize = text
        .parse()
        .map_err(|e| format!("`{text}` is not a number of bytes ({e})"))?;
    validate_sector_size_bytes(bytes).map_err(|e| e.to_string())?;
    Ok(bytes)
}
