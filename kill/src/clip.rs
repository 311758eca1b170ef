//! Program output shown in a report: the tail, clipped to a bound.
//!
//! The lowest layer of the crate: checks, cases and the summary all clip
//! what they show, and this module imports none of them.

/// Most bytes of a program's output a report shows (the tail is kept: the
/// error is usually last).
pub const CLIP_BYTES: usize = 2000;

/// The last [`CLIP_BYTES`] of `bytes` as text, marked when clipped.
pub fn clip(bytes: &[u8]) -> String {
    if bytes.len() <= CLIP_BYTES {
        return String::from_utf8_lossy(bytes).into_owned();
    }
    let cut = bytes.len() - CLIP_BYTES;
    format!(
        "[... {cut} bytes clipped] {}",
        String::from_utf8_lossy(&bytes[cut..])
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clipping_keeps_the_tail_and_says_so() {
        assert_eq!(clip(b"short"), "short");
        let long = vec![b'x'; CLIP_BYTES + 10];
        let c = clip(&long);
        assert!(c.starts_with("[... 10 bytes clipped] "), "{c}");
        assert!(c.ends_with('x'));
    }
}
