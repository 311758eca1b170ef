//! The argument parsers of `crashproof tune-k`: a percentage, a duration, a
//! byte size. A value out of range is a usage error (exit 2).

use std::time::Duration;

/// The largest `--state-size`: a bigger state is not a checkpoint this tool
/// should hold in memory several times over.
pub const STATE_SIZE_BYTES_MAX: u64 = 256 << 20;

/// Parses `1%`, `0.5 %` or `1` (percent either way) into a fraction in
/// (0, 1) exclusive.
pub fn overhead_fraction(text: &str) -> Result<f64, String> {
    let number = text.trim().trim_end_matches('%').trim();
    let percent: f64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a percentage (write it like 1% or 0.5%)"))?;
    if !(percent > 0.0 && percent < 100.0) {
        return Err(format!(
            "{text:?} is outside (0%, 100%): the overhead target must be more than 0% and less than 100%"
        ));
    }
    Ok(percent / 100.0)
}

/// Parses a positive duration like `20us`, `1.5ms`, `2s` (humantime's units).
pub fn item_cost(text: &str) -> Result<Duration, String> {
    let duration = humantime::parse_duration(text.trim())
        .map_err(|e| format!("{text:?} is not a duration like 20us, 1.5ms or 2s: {e}"))?;
    if duration.is_zero() {
        return Err(format!(
            "{text:?} is zero: an item must cost some time to tune against"
        ));
    }
    Ok(duration)
}

/// Parses a positive duration like `20ms` (the work between two measured
/// commits).
pub fn spacing(text: &str) -> Result<Duration, String> {
    let duration = humantime::parse_duration(text.trim())
        .map_err(|e| format!("{text:?} is not a duration like 20ms or 1s: {e}"))?;
    if duration.is_zero() {
        return Err(format!(
            "{text:?} is zero: commits back to back are not what a job sees; give the work between two commits, e.g. 20ms"
        ));
    }
    Ok(duration)
}

/// Parses a byte size like `4096`, `4KiB`, `1 MiB` (at most
/// [`STATE_SIZE_BYTES_MAX`]).
pub fn state_size_bytes(text: &str) -> Result<u64, String> {
    let size: bytesize::ByteSize = text
        .trim()
        .parse()
        .map_err(|e| format!("{text:?} is not a size like 4096, 4KiB or 1MiB: {e}"))?;
    if size.as_u64() > STATE_SIZE_BYTES_MAX {
        return Err(format!(
            "{text:?} is more than {} bytes; measure with a smaller state",
            STATE_SIZE_BYTES_MAX
        ));
    }
    Ok(size.as_u64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_in_range_parse_and_the_rest_is_refused() {
        for (text, fraction) in [
            ("1%", 0.01),
            ("0.5 %", 0.005),
            ("25", 0.25),
            ("99.9%", 0.999),
        ] {
            let got = overhead_fraction(text).unwrap();
            assert!((got - fraction).abs() < 1e-12, "{text}: {got}");
        }
        for text in ["0%", "100%", "150", "-1%", "abc", "", "NaN%", "inf"] {
            assert!(overhead_fraction(text).is_err(), "{text} accepted");
        }
    }

    #[test]
    fn durations_parse_and_zero_is_refused() {
        assert_eq!(item_cost("20us"), Ok(Duration::from_micros(20)));
        assert_eq!(item_cost("20µs"), Ok(Duration::from_micros(20)));
        assert_eq!(item_cost("2ms"), Ok(Duration::from_millis(2)));
        for text in ["0us", "20", "fast", ""] {
            assert!(item_cost(text).is_err(), "{text} accepted");
        }
    }

    #[test]
    fn spacings_parse_and_zero_is_refused() {
        assert_eq!(spacing("20ms"), Ok(Duration::from_millis(20)));
        assert!(spacing("0s").unwrap_err().contains("back to back"));
        assert!(spacing("soon").is_err());
    }

    #[test]
    fn sizes_parse_up_to_the_cap() {
        assert_eq!(state_size_bytes("4096"), Ok(4096));
        assert_eq!(state_size_bytes("4KiB"), Ok(4096));
        assert_eq!(state_size_bytes("0"), Ok(0));
        assert!(state_size_bytes("1GiB").is_err());
        assert!(state_size_bytes("lots").is_err());
    }
}
