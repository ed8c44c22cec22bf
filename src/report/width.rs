//! How wide text may be, and prose wrapped to it: the one place every command's output takes its
//! width from.
//!
//! The width is the terminal's when the output goes to one, else `$COLUMNS`, else
//! [`DEFAULT`] (100). Tables use all of it ([`Table::fit`](super::table::Table::fit)); prose
//! (sentences, warnings, notes, `--help`) is wrapped to at most [`PROSE`] columns however wide
//! the terminal, since long lines are hard to read.
//!
//! ```
//! use parlab::report::width;
//!
//! assert_eq!(width::from_columns(Some("80")), 80);
//! assert_eq!(width::from_columns(None), width::DEFAULT);
//! assert_eq!(
//!     width::wrap("one two three four", 9),
//!     ["one two", "three", "four"]
//! );
//! ```

use std::io::IsTerminal;
use std::os::fd::AsFd;

/// The width when the output is no terminal and `$COLUMNS` is unset or not a number.
pub const DEFAULT: usize = 100;

/// The widest a line of prose gets, however wide the terminal.
pub const PROSE: usize = 100;

/// The narrowest width honoured: a smaller `$COLUMNS` or terminal is taken as this.
pub const NARROWEST: usize = 20;

/// The width of standard output: its terminal's, else `$COLUMNS`, else [`DEFAULT`].
pub fn of_stdout() -> usize {
    of(std::io::stdout())
}

/// The width of standard error, by the same rule.
pub fn of_stderr() -> usize {
    of(std::io::stderr())
}

/// The width of `stream`: its terminal's when it is one, else `$COLUMNS`, else [`DEFAULT`].
pub fn of(stream: impl AsFd + IsTerminal) -> usize {
    if stream.is_terminal()
        && let Some((terminal_size::Width(w), _)) = terminal_size::terminal_size_of(&stream)
        && w > 0
    {
        return usize::from(w).max(NARROWEST);
    }
    from_columns(std::env::var("COLUMNS").ok().as_deref())
}

/// The width `$COLUMNS` gives (`None` when unset): a positive number, at least [`NARROWEST`];
/// anything else gives [`DEFAULT`].
pub fn from_columns(columns: Option<&str>) -> usize {
    match columns.map(str::trim).and_then(|c| c.parse::<usize>().ok()) {
        Some(w) if w > 0 => w.max(NARROWEST),
        _ => DEFAULT,
    }
}

/// The width prose is wrapped to on an output of `width` columns.
pub fn prose(width: usize) -> usize {
    width.min(PROSE)
}

/// The options every wrap uses: words split at spaces only (never at the hyphen of an
/// interval such as `0.88-1.98`), and a word longer than the line kept whole on a line of its
/// own.
fn options(width: usize) -> textwrap::Options<'static> {
    textwrap::Options::new(width.max(1))
        .break_words(false)
        .word_splitter(textwrap::WordSplitter::NoHyphenation)
}

/// `text` filled into lines of at most `width` columns, each line of `text` a paragraph of its
/// own; no line ends with a space.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    hanging(text, width, "", "")
}

/// `text` wrapped to `width` columns with `first` before its first line and `rest` before the
/// others (a bullet and its indent, say), each line of `text` a paragraph of its own.
pub fn hanging(text: &str, width: usize, first: &str, rest: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (i, paragraph) in text.lines().enumerate() {
        let lead = if i == 0 { first } else { rest };
        if paragraph.trim().is_empty() {
            out.push(String::new());
            continue;
        }
        let opts = options(width).initial_indent(lead).subsequent_indent(rest);
        out.extend(
            textwrap::wrap(paragraph.trim(), opts)
                .into_iter()
                .map(|l| l.trim_end().to_string()),
        );
    }
    out
}

/// [`wrap`] as one string, every line ending with a newline: for `write!` of a paragraph.
pub fn paragraph(text: &str, width: usize) -> String {
    let mut s = String::new();
    for line in wrap(text, width) {
        s.push_str(&line);
        s.push('\n');
    }
    s
}

/// How many columns `text` takes on a terminal.
pub fn columns(text: &str) -> usize {
    textwrap::core::display_width(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_gives_a_number_of_at_least_the_narrowest_else_the_default() {
        assert_eq!(from_columns(Some("120")), 120);
        assert_eq!(from_columns(Some(" 80 ")), 80);
        assert_eq!(from_columns(Some("5")), NARROWEST);
        for bad in ["0", "-3", "wide", ""] {
            assert_eq!(from_columns(Some(bad)), DEFAULT, "{bad}");
        }
        assert_eq!(from_columns(None), DEFAULT);
    }

    #[test]
    fn prose_is_never_wider_than_its_limit() {
        assert_eq!(prose(80), 80);
        assert_eq!(prose(300), PROSE);
    }

    #[test]
    fn intervals_are_never_split_at_their_hyphen_and_long_words_stay_whole() {
        let lines = wrap("ran at 1.66x (0.88-1.98) here", 14);
        assert_eq!(lines, ["ran at 1.66x", "(0.88-1.98)", "here"]);
        assert_eq!(wrap("a abcdefgh b", 4), ["a", "abcdefgh", "b"]);
    }

    #[test]
    fn each_line_is_a_paragraph_and_indents_hang() {
        assert_eq!(
            hanging("one two three\nfour", 9, "- ", "  "),
            ["- one two", "  three", "  four"]
        );
        assert_eq!(paragraph("a b", 10), "a b\n");
        assert!(wrap("", 10).is_empty());
    }

    #[test]
    fn no_wrapped_line_is_wider_than_asked_unless_one_word_is() {
        let text = "The machine was busy when the run started (load 5.16 on 2 CPUs): the \
                    verdicts hold for this run (each round is paired), but speedups read lower";
        for width in [20, 40, 79, 100] {
            for line in wrap(text, width) {
                assert!(columns(&line) <= width, "{width}: {line}");
            }
        }
    }
}
