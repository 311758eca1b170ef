//! Program output shown in a report: the tail, clipped to a bound.
//!
//! The lowest layer of the crate: checks, cases and the summary all clip
//! what they show, and this module imports none of them.

/// Most bytes of a program's output a report shows (the tail is kept: the
/// error is usually last).
pub const CLIP_BYTES: usize = 2000;

/// The last [`CLIP_BYTES`] of `bytes` as text, marked when clipped, made
/// readable: see [`printable`].
pub fn clip(bytes: &[u8]) -> String {
    if bytes.len() <= CLIP_BYTES {
        return printable(bytes);
    }
    let cut = bytes.len() - CLIP_BYTES;
    format!("[... {cut} bytes clipped] {}", printable(&bytes[cut..]))
}

/// `bytes` as text a terminal shows as is: UTF-8 kept, line breaks kept,
/// every byte that is not valid UTF-8 and every other control character
/// written `\xNN` (a program killed mid-write may print garbage).
pub fn printable(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if c.is_control() && c != '\n' {
                // Writing to a String cannot fail.
                let _ = write!(out, "\\x{:02x}", u32::from(c));
            } else {
                out.push(c);
            }
        }
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    out
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

    #[test]
    fn garbage_bytes_are_escaped_and_text_kept() {
        assert_eq!(printable(b"ok\nnext"), "ok\nnext");
        assert_eq!(printable("é".as_bytes()), "é");
        assert_eq!(printable(b"a\xff\x00b\x1b"), "a\\xff\\x00b\\x1b");
        assert_eq!(clip(b"\x01"), "\\x01");
    }
}
