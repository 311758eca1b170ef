//! Text a person reads in a report: one line, nothing that moves the
//! terminal's cursor or rings its bell.
//!
//! Torn writes leave garbage bytes, and a program that reads them may put
//! them into its output or its error messages, which the report quotes.
//! Every report line (trace steps, violation messages, outputs) goes
//! through [`escape_line`] first.

use std::borrow::Cow;
use std::fmt::Write;

/// `text` made printable on one line: control characters (C0 such as NUL,
/// ESC or a newline, DEL, and the C1 range) become `\xNN`, and the
/// replacement character U+FFFD that a lossy UTF-8 decoding leaves for an
/// invalid byte becomes `\u{fffd}`; everything else, letters of any script
/// included, is kept. Borrowed when nothing needed escaping.
pub fn escape_line(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if !needs_escape(c) {
            out.push(c);
        } else if (c as u32) < 0x100 {
            // Writing to a String cannot fail.
            let _ = write!(out, "\\x{:02x}", c as u32);
        } else {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
    }
    Cow::Owned(out)
}

/// Every line of `text` escaped on its own (line breaks kept).
pub fn escape_lines(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| c != '\n' && needs_escape(c)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&escape_line(line));
    }
    Cow::Owned(out)
}

fn needs_escape(c: char) -> bool {
    c.is_control() || c == char::REPLACEMENT_CHARACTER
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_bytes_and_lost_bytes_are_escaped_and_the_rest_kept() {
        assert_eq!(escape_line("plain text, é, 日本"), "plain text, é, 日本");
        assert!(matches!(escape_line("plain"), Cow::Borrowed(_)));
        assert_eq!(escape_line("a\u{0}b\u{1b}[2Jc"), "a\\x00b\\x1b[2Jc");
        assert_eq!(escape_line("line\nnext\ttab"), "line\\x0anext\\x09tab");
        assert_eq!(escape_line("\u{7f}\u{85}"), "\\x7f\\x85");
        assert_eq!(
            escape_line(&String::from_utf8_lossy(b"ok\xff\xfe")),
            "ok\\u{fffd}\\u{fffd}"
        );
    }

    #[test]
    fn lines_are_escaped_one_by_one() {
        assert_eq!(escape_lines("a\u{1}\nb"), "a\\x01\nb");
        assert!(matches!(escape_lines("a\nb"), Cow::Borrowed(_)));
    }
}
