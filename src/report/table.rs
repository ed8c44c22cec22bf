//! Plain-text tables for the terminal: one renderer for every command that prints columns.
//!
//! A [`Table`] has [`Column`]s (a header, an alignment, an optional minimum width and the
//! spaces before it), rows of cells and optional notes, bulleted and wrapped under the rows.
//! Each column is as wide as its widest cell or header, and at least its minimum width, so a
//! table keeps a familiar layout for short content and still lines up when a cell is long.
//! [`Table::render`] returns the text; the caller decides where it goes.
//!
//! ```
//! use parlab::report::table::{Column, Table};
//!
//! let mut t = Table::new([Column::left("backend"), Column::right("wall s")]);
//! t.row(["threads", "0.012"]).row(["processes", "0.150"]);
//! t.note("processes include their start-up.");
//! assert_eq!(
//!     t.render(),
//!     "backend   wall s\n\
//!      threads    0.012\n\
//!      processes  0.150\n\
//!      \n  - processes include their start-up.\n"
//! );
//! ```

/// `text` with its control characters escaped: cells and notes carry text from elsewhere (an
/// error of the user's code, a file's name) that must not move the cursor or break a line.
fn printable(text: String) -> String {
    match crate::escape::controls(&text) {
        std::borrow::Cow::Borrowed(_) => text,
        std::borrow::Cow::Owned(escaped) => escaped,
    }
}

/// Which side of its column a cell keeps to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// Text: padded on the right.
    Left,
    /// Figures: padded on the left, so digits line up.
    Right,
}

/// One column: its header, alignment and spacing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    header: String,
    align: Align,
    min_width: usize,
    gap: usize,
}

impl Column {
    /// A left-aligned column.
    pub fn left(header: impl Into<String>) -> Column {
        Column::new(header, Align::Left)
    }

    /// A right-aligned column.
    pub fn right(header: impl Into<String>) -> Column {
        Column::new(header, Align::Right)
    }

    /// A column with the given alignment, at least as wide as its header, one space after the
    /// column before it.
    pub fn new(header: impl Into<String>, align: Align) -> Column {
        Column {
            header: header.into(),
            align,
            min_width: 0,
            gap: 1,
        }
    }

    /// The column is at least `width` characters wide, however short its cells.
    pub fn min_width(mut self, width: usize) -> Column {
        self.min_width = width;
        self
    }

    /// `spaces` spaces separate this column from the one before it (1 unless set; ignored for
    /// the first column).
    pub fn gap(mut self, spaces: usize) -> Column {
        self.gap = spaces;
        self
    }
}

/// Width of the lines notes are wrapped to, bullet included, unless [`Table::wrap_at`] says
/// otherwise.
pub const NOTE_WIDTH: usize = 96;

/// A text table: columns, rows of cells, and notes under them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    columns: Vec<Column>,
    rows: Vec<Vec<String>>,
    notes: Vec<String>,
    note_width: usize,
}

impl Table {
    /// An empty table with these columns.
    pub fn new(columns: impl IntoIterator<Item = Column>) -> Table {
        Table {
            columns: columns.into_iter().collect(),
            rows: Vec::new(),
            notes: Vec::new(),
            note_width: NOTE_WIDTH,
        }
    }

    /// Adds a row. Missing cells at its end are empty; cells beyond the last column are kept
    /// and separated by one space, unaligned.
    pub fn row<S: Into<String>>(&mut self, cells: impl IntoIterator<Item = S>) -> &mut Table {
        self.rows
            .push(cells.into_iter().map(|c| printable(c.into())).collect());
        self
    }

    /// Adds a note: a paragraph printed under the rows after a blank line, as a bulleted item
    /// wrapped at word boundaries.
    pub fn note(&mut self, text: impl Into<String>) -> &mut Table {
        self.notes.push(printable(text.into()));
        self
    }

    /// Adds each of `texts` as a note, in order.
    pub fn notes<S: Into<String>>(&mut self, texts: impl IntoIterator<Item = S>) -> &mut Table {
        self.notes
            .extend(texts.into_iter().map(|t| printable(t.into())));
        self
    }

    /// Wraps notes to lines of at most `width` characters, bullet and indent included (a word
    /// longer than that keeps a line of its own).
    pub fn wrap_at(&mut self, width: usize) -> &mut Table {
        self.note_width = width;
        self
    }

    /// The table as text: the header line, one line per row, then the notes; every line ends
    /// with a newline and has no trailing spaces.
    pub fn render(&self) -> String {
        let widths = self.widths();
        let header: Vec<&str> = self.columns.iter().map(|c| c.header.as_str()).collect();
        let mut out = self.line(&header, &widths);
        for row in &self.rows {
            let cells: Vec<&str> = row.iter().map(String::as_str).collect();
            out.push_str(&self.line(&cells, &widths));
        }
        if !self.notes.is_empty() {
            out.push('\n');
            for note in &self.notes {
                out.push_str(&bulleted(note, self.note_width));
            }
        }
        out
    }

    /// The header line alone, for a table printed row by row as its rows arrive (`verify`):
    /// each column is then as wide as its minimum or its header, since the rows to come are
    /// not known yet; a longer cell pushes the rest of its line to the right.
    pub fn header_line(&self) -> String {
        let header: Vec<&str> = self.columns.iter().map(|c| c.header.as_str()).collect();
        self.line(&header, &self.fixed_widths())
    }

    /// One row in the widths of [`Table::header_line`].
    pub fn row_line<S: AsRef<str>>(&self, cells: &[S]) -> String {
        let cells: Vec<&str> = cells.iter().map(AsRef::as_ref).collect();
        self.line(&cells, &self.fixed_widths())
    }

    fn fixed_widths(&self) -> Vec<usize> {
        self.columns
            .iter()
            .map(|c| width(&c.header).max(c.min_width))
            .collect()
    }

    /// Each column's width: its widest cell or header, at least its minimum.
    fn widths(&self) -> Vec<usize> {
        self.columns
            .iter()
            .enumerate()
            .map(|(i, c)| {
                self.rows
                    .iter()
                    .filter_map(|r| r.get(i))
                    .map(|cell| width(cell))
                    .chain([width(&c.header), c.min_width])
                    .max()
                    .unwrap_or(0)
            })
            .collect()
    }

    fn line(&self, cells: &[&str], widths: &[usize]) -> String {
        let mut line = String::new();
        for (i, cell) in cells.iter().enumerate() {
            let Some((column, &w)) = self.columns.get(i).zip(widths.get(i)) else {
                line.push(' ');
                line.push_str(cell);
                continue;
            };
            if i > 0 {
                line.push_str(&" ".repeat(column.gap));
            }
            let pad = " ".repeat(w.saturating_sub(width(cell)));
            match column.align {
                Align::Left => {
                    line.push_str(cell);
                    line.push_str(&pad);
                }
                Align::Right => {
                    line.push_str(&pad);
                    line.push_str(cell);
                }
            }
        }
        let mut line = line.trim_end().to_string();
        line.push('\n');
        line
    }
}

/// Characters, not bytes: what a terminal shows.
fn width(text: &str) -> usize {
    text.chars().count()
}

const BULLET: &str = "  - ";
const INDENT: &str = "    ";

/// `text` as a bulleted item wrapped to lines of at most `line_width` characters.
fn bulleted(text: &str, line_width: usize) -> String {
    let mut out = String::new();
    for (i, chunk) in wrap(text, line_width.saturating_sub(BULLET.len()))
        .iter()
        .enumerate()
    {
        out.push_str(if i == 0 { BULLET } else { INDENT });
        out.push_str(chunk);
        out.push('\n');
    }
    out
}

/// Words of `text` filled into lines of at most `width` characters (a longer word keeps a line
/// of its own).
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && self::width(&line) + 1 + self::width(word) > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streamed_rows_line_up_under_the_header_in_fixed_widths() {
        let t = Table::new([
            Column::left("kernel").min_width(8),
            Column::right("n").min_width(4).gap(2),
            Column::left("status").gap(2),
        ]);
        assert_eq!(t.header_line(), "kernel       n  status\n");
        assert_eq!(t.row_line(&["count", "12", "ok"]), "count       12  ok\n");
        // A cell longer than its column pushes the rest of the line, and nothing is cut.
        assert_eq!(
            t.row_line(&["collatz-long", "1", "ok"]),
            "collatz-long     1  ok\n"
        );
    }

    #[test]
    fn columns_are_as_wide_as_their_widest_cell_and_aligned() {
        let mut t = Table::new([Column::left("name"), Column::right("n")]);
        t.row(["a", "1"]).row(["longer", "12345"]);
        assert_eq!(
            t.render(),
            "name       n\n\
             a          1\n\
             longer 12345\n"
        );
    }

    #[test]
    fn minimum_widths_and_gaps_hold_for_short_content() {
        let mut t = Table::new([
            Column::left("who").min_width(6),
            Column::right("s").min_width(4),
            Column::left("note").gap(2),
        ]);
        t.row(["x", "1.5", "fine"]);
        assert_eq!(t.render(), "who       s  note\nx       1.5  fine\n");
    }

    #[test]
    fn lines_lose_trailing_spaces_and_short_rows_end_early() {
        let mut t = Table::new([Column::left("a").min_width(5), Column::left("b")]);
        t.row(["x", ""]).row(["y"]);
        assert_eq!(t.render(), "a     b\nx\ny\n");
    }

    #[test]
    fn width_counts_characters_not_bytes() {
        let mut t = Table::new([Column::left("unit"), Column::right("v")]);
        t.row(["µs", "1"]);
        assert_eq!(t.render(), "unit v\nµs   1\n");
    }

    #[test]
    fn cells_beyond_the_columns_are_kept() {
        let mut t = Table::new([Column::left("a")]);
        t.row(["x", "extra"]);
        assert_eq!(t.render(), "a\nx extra\n");
    }

    #[test]
    fn notes_are_bulleted_and_wrapped_under_a_blank_line() {
        let mut t = Table::new([Column::left("a")]);
        t.note("one two three four five six")
            .notes(["short"])
            .wrap_at(BULLET.len() + 13);
        assert_eq!(
            t.render(),
            "a\n\n  - one two three\n    four five six\n  - short\n"
        );
    }

    #[test]
    fn a_word_longer_than_the_line_keeps_a_line_of_its_own() {
        assert_eq!(wrap("a abcdefgh b", 4), ["a", "abcdefgh", "b"]);
        assert!(wrap("   ", 10).is_empty());
    }

    #[test]
    fn a_table_without_notes_ends_at_its_last_row() {
        let mut t = Table::new([Column::left("a")]);
        t.row(["x"]);
        assert!(!t.render().ends_with("\n\n"));
    }
}
