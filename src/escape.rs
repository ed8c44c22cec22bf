//! Text parlab did not write itself (a baseline's CPU model or version, a file name, a value
//! the user typed) made safe to print: every control character is shown as its escape, so
//! that no such text can move the cursor, recolour the terminal, rewrite a line or reorder it.

use std::borrow::Cow;

/// True for a character that must not reach a terminal raw: the C0 and C1 controls and DEL
/// (`\n` and `\t` included: parlab's lines and cells are its own), and the bidirectional
/// overrides and isolates, which reorder what follows them.
fn hostile(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `text` with every control character written as its Rust escape (`\u{1b}`, `\n`, `\u{9b}`);
/// borrowed when there is none, as for nearly all text.
///
/// ```
/// use parlab::escape::controls;
/// assert_eq!(controls("Xeon\u{1b}[2J"), "Xeon\\u{1b}[2J");
/// assert_eq!(controls("12.3 µs ± 1"), "12.3 µs ± 1");
/// ```
pub fn controls(text: &str) -> Cow<'_, str> {
    if !text.chars().any(hostile) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if hostile(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_control_is_escaped_and_nothing_else() {
        assert!(matches!(controls("plain ± µ text"), Cow::Borrowed(_)));
        for (raw, shown) in [
            ("\u{1b}[31mred", "\\u{1b}[31mred"),
            ("a\nb\tc\r", "a\\nb\\tc\\r"),
            ("\u{7f}\u{9b}2J", "\\u{7f}\\u{9b}2J"),
            ("\u{202e}txt.exe", "\\u{202e}txt.exe"),
            ("nul\0", "nul\\u{0}"),
        ] {
            let out = controls(raw);
            assert_eq!(out, shown);
            assert!(!out.chars().any(hostile), "{out:?}");
        }
    }
}
