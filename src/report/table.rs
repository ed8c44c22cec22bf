//! Plain-text tables for the terminal: one renderer for every command that prints columns.
//!
//! A [`Table`] has [`Column`]s (a header, an alignment, an optional minimum width and the
//! spaces before it), rows of cells, headings between them, and notes, bulleted and wrapped
//! under the rows. Each column is as wide as its widest cell or header, and at least its
//! minimum width, so a table keeps a familiar layout for short content and still lines up when
//! a cell is long. [`Table::render`] returns the text; the caller decides where it goes.
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
//!
//! # Fitting a width
//!
//! [`Table::fit`] holds every line to a width (the terminal's, see [`super::width`]). The table
//! then takes the first of these layouts that fits: the columns as above; each only as wide as
//! its content; with a [spilling](Column::spill) last column's long cells on the lines under
//! their row; with the [short headers](Column::short) of columns narrower than their header;
//! with [wrapping](Column::wrap) columns narrowed, their cells on several lines. Failing all,
//! it leaves out columns one by one and tries each layout again: first the
//! [constant](Column::constant) ones that hold one cell throughout (nothing is lost), then the
//! [optional](Column::optional) ones, lowest rank first; a note under the table gives the
//! constant columns' cell and names the others. What fits nowhere is printed anyway: a table
//! never loses a cell it shows.
//!
//! ```
//! use parlab::report::table::{Column, Table};
//!
//! let mut t = Table::new([
//!     Column::left("backend"),
//!     Column::right("median wall").short("wall"),
//!     Column::right("serial fraction").optional(1),
//!     Column::left("status").gap(2).spill(4),
//! ]);
//! t.row(["threads", "1.2 ms", "0.010", "ok"]);
//! t.row(["pool", "1.3 ms", "0.020", "error: the pool could not start"]);
//! t.fit(24).when_cut("--wide shows them.");
//! assert_eq!(
//!     t.render(),
//!     "backend   wall  status\n\
//!      threads 1.2 ms  ok\n\
//!      pool    1.3 ms\n    error: the pool\n    could not start\n\
//!      \n  - Left out to fit 24\n    columns: serial\n    fraction; --wide\n    shows them.\n"
//! );
//! ```

use super::width::{self, columns};

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

/// One column: its header, alignment and spacing, and how it gives way when the table must
/// fit a width.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    header: String,
    short: Option<String>,
    align: Align,
    min_width: usize,
    gap: usize,
    rank: Option<u32>,
    constant: bool,
    wrap: Option<usize>,
    spill: Option<usize>,
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
            short: None,
            align,
            min_width: 0,
            gap: 1,
            rank: None,
            constant: false,
            wrap: None,
            spill: None,
        }
    }

    /// The column is at least `width` characters wide, however short its cells (unless the
    /// table must fit a narrower width).
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

    /// A shorter header, used when the table does not fit its width with the full one.
    pub fn short(mut self, header: impl Into<String>) -> Column {
        self.short = Some(header.into());
        self
    }

    /// The column may be left out when the table does not fit its width; columns of lower
    /// `rank` go first.
    pub fn optional(mut self, rank: u32) -> Column {
        self.rank = Some(rank);
        self
    }

    /// The column may be left out when the table does not fit its width and every row holds
    /// the same cell in it, before any [optional](Column::optional) column (nothing is lost):
    /// the note under the table then gives that cell.
    pub fn constant(mut self) -> Column {
        self.constant = true;
        self
    }

    /// When the table does not fit its width, the column may narrow to `narrowest`
    /// characters (or its longest word), its cells wrapped at spaces onto several lines.
    pub fn wrap(mut self, narrowest: usize) -> Column {
        self.wrap = Some(narrowest);
        self
    }

    /// For the last column: when the table does not fit its width, and at least `narrowest`
    /// characters are left for this column, a cell longer than the room left goes on the
    /// lines under its row, indented and wrapped to the width.
    pub fn spill(mut self, narrowest: usize) -> Column {
        self.spill = Some(narrowest);
        self
    }
}

/// Width of the lines notes are wrapped to, bullet included, unless the table fits a width
/// ([`Table::fit`]) or [`Table::wrap_at`] says otherwise.
pub const NOTE_WIDTH: usize = 96;

const BULLET: &str = "  - ";
const INDENT: &str = "    ";

/// What a table holds between its header and its notes.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Line {
    Row(Vec<String>),
    Heading(String),
}

/// A text table: columns, rows of cells, and notes under them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    columns: Vec<Column>,
    lines: Vec<Line>,
    sizing: Vec<Vec<String>>,
    notes: Vec<String>,
    note_width: Option<usize>,
    width: Option<usize>,
    when_cut: Option<String>,
}

impl Table {
    /// An empty table with these columns.
    pub fn new(columns: impl IntoIterator<Item = Column>) -> Table {
        Table {
            columns: columns.into_iter().collect(),
            lines: Vec::new(),
            sizing: Vec::new(),
            notes: Vec::new(),
            note_width: None,
            width: None,
            when_cut: None,
        }
    }

    /// Adds a row. Missing cells at its end are empty; cells beyond the last column are kept
    /// and separated by one space, unaligned.
    pub fn row<S: Into<String>>(&mut self, cells: impl IntoIterator<Item = S>) -> &mut Table {
        self.lines.push(Line::Row(
            cells.into_iter().map(|c| printable(c.into())).collect(),
        ));
        self
    }

    /// Adds a heading: a line of its own between rows (the name of the group of rows under
    /// it), which no column's width counts.
    pub fn heading(&mut self, text: impl Into<String>) -> &mut Table {
        self.lines.push(Line::Heading(printable(text.into())));
        self
    }

    /// Adds a row that sizes the columns but is never printed: for a table printed row by row
    /// as its rows arrive ([`Table::header_line`], [`Table::row_line`]), the widest cells
    /// expected.
    pub fn sizing_row<S: Into<String>>(
        &mut self,
        cells: impl IntoIterator<Item = S>,
    ) -> &mut Table {
        self.sizing
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
        self.note_width = Some(width);
        self
    }

    /// Holds every line to `width` columns, as the module doc describes; notes are then
    /// wrapped to the [prose width](width::prose) of `width`.
    pub fn fit(&mut self, width: usize) -> &mut Table {
        self.width = Some(width);
        self
    }

    /// What the note on columns left out to fit the width ends with: how to see them.
    pub fn when_cut(&mut self, hint: impl Into<String>) -> &mut Table {
        self.when_cut = Some(hint.into());
        self
    }

    /// The table as text: the header line, the rows and headings, then the notes; every line
    /// ends with a newline and has no trailing spaces.
    pub fn render(&self) -> String {
        let layout = self.layout();
        let mut out = self.header_of(&layout);
        for line in &self.lines {
            match line {
                Line::Row(cells) => out.push_str(&self.row_of(&layout, cells)),
                Line::Heading(text) => out.push_str(&self.heading_of(text)),
            }
        }
        let notes: Vec<String> = self
            .cut_notes(&layout)
            .into_iter()
            .chain(self.notes.iter().cloned())
            .collect();
        if !notes.is_empty() {
            out.push('\n');
            let width = self
                .note_width
                .unwrap_or(self.width.map_or(NOTE_WIDTH, width::prose));
            for note in &notes {
                for line in width::hanging(note, width, BULLET, INDENT) {
                    out.push_str(&line);
                    out.push('\n');
                }
            }
        }
        out
    }

    /// The header line alone, for a table printed row by row as its rows arrive (`verify`):
    /// the columns are as wide as their header, their minimum and the [sizing
    /// rows](Table::sizing_row), within the table's width if it has one; a longer cell pushes
    /// the rest of its line to the right.
    pub fn header_line(&self) -> String {
        self.header_of(&self.layout())
    }

    /// One row in the layout of [`Table::header_line`]: one line, or several where a cell
    /// wraps or spills.
    pub fn row_line<S: AsRef<str>>(&self, cells: &[S]) -> String {
        let cells: Vec<String> = cells.iter().map(|c| c.as_ref().to_string()).collect();
        self.row_of(&self.layout(), &cells)
    }

    /// The note [`Table::render`] puts first under the rows when [`Table::fit`] left columns
    /// out, for a table printed row by row, which has no notes of its own.
    pub fn left_out(&self) -> Option<String> {
        let notes = self.cut_notes(&self.layout());
        (!notes.is_empty()).then(|| notes.join(" "))
    }

    /// The notes on the columns [`Table::fit`] left out, if it left any: those that held one
    /// cell throughout, with it, and the others.
    fn cut_notes(&self, layout: &Layout) -> Vec<String> {
        let mut notes = Vec::new();
        let (same, cut): (Vec<usize>, Vec<usize>) = layout
            .dropped
            .iter()
            .partition(|&&i| self.columns[i].constant && self.same(i).is_some());
        if !same.is_empty() {
            let cells: Vec<String> = same
                .iter()
                .map(|&i| format!("{} {}", self.columns[i].header, self.same(i).unwrap_or("")))
                .collect();
            notes.push(format!("The same in every row: {}.", cells.join(", ")));
        }
        if !cut.is_empty() {
            let names: Vec<&str> = cut
                .iter()
                .map(|&i| self.columns[i].header.as_str())
                .collect();
            notes.push(format!(
                "Left out to fit {} columns: {}{}",
                self.width.unwrap_or_default(),
                names.join(", "),
                self.when_cut
                    .as_ref()
                    .map_or(".".to_string(), |h| format!("; {h}"))
            ));
        }
        notes
    }

    /// The cell every row holds in column `i`, for a [constant](Column::constant) column
    /// with at least one row.
    fn same(&self, i: usize) -> Option<&str> {
        if !self.columns[i].constant {
            return None;
        }
        let mut cells = self
            .lines
            .iter()
            .filter_map(|l| match l {
                Line::Row(cells) => Some(cells),
                Line::Heading(_) => None,
            })
            .chain(&self.sizing)
            .map(|r| r.get(i).map_or("", String::as_str));
        let first = cells.next()?;
        cells.all(|c| c == first).then_some(first)
    }

    fn header_of(&self, layout: &Layout) -> String {
        let headers: Vec<String> = layout.headers.clone();
        self.lines_of(layout, &headers, true)
    }

    fn row_of(&self, layout: &Layout, cells: &[String]) -> String {
        let shown: Vec<String> = layout
            .shown
            .iter()
            .map(|&i| cells.get(i).cloned().unwrap_or_default())
            .collect();
        let mut text = self.lines_of(layout, &shown, false);
        let extra: Vec<&str> = cells
            .iter()
            .skip(self.columns.len())
            .map(String::as_str)
            .collect();
        if !extra.is_empty() {
            // Cells beyond the columns follow the first line, one space apart.
            let end = text.find('\n').unwrap_or(text.len());
            let mut first = text[..end].to_string();
            for cell in extra {
                first.push(' ');
                first.push_str(cell);
            }
            text = format!("{first}{}", &text[end..]);
        }
        text
    }

    fn heading_of(&self, text: &str) -> String {
        match self.width {
            Some(w) => width::paragraph(text, w),
            None => format!("{text}\n"),
        }
    }

    /// The lines of one row (or of the header) in `layout`: wrapped cells on several lines,
    /// a spilled cell under them.
    fn lines_of(&self, layout: &Layout, cells: &[String], header: bool) -> String {
        let n = layout.shown.len();
        let mut spilled = None;
        let parts: Vec<Vec<String>> = (0..n)
            .map(|k| {
                let column = &self.columns[layout.shown[k]];
                let cell = &cells[k];
                let w = layout.widths[k];
                if columns(cell) <= w {
                    return vec![cell.clone()];
                }
                if !header && k + 1 == n && layout.spills {
                    spilled = Some(cell.clone());
                    return vec![String::new()];
                }
                if column.wrap.is_some() && layout.fitted {
                    // A cell's own indent (a row under a heading) stays, and its continuation
                    // lines are indented two more.
                    let lead: String = cell.chars().take_while(|c| *c == ' ').collect();
                    let rest = format!("{lead}  ");
                    return width::hanging(cell.trim_start(), w, &lead, &rest);
                }
                vec![cell.clone()]
            })
            .collect();
        let height = parts.iter().map(Vec::len).max().unwrap_or(1).max(1);
        let mut out = String::new();
        for row in 0..height {
            let mut line = String::new();
            for (k, part) in parts.iter().enumerate() {
                let column = &self.columns[layout.shown[k]];
                let cell = part.get(row).map_or("", String::as_str);
                if k > 0 {
                    line.push_str(&" ".repeat(column.gap));
                }
                let pad = " ".repeat(layout.widths[k].saturating_sub(columns(cell)));
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
            out.push_str(line.trim_end());
            out.push('\n');
        }
        if let Some(cell) = spilled {
            let w = self.width.map_or(NOTE_WIDTH, width::prose);
            for line in width::hanging(&cell, w, INDENT, INDENT) {
                out.push_str(&line);
                out.push('\n');
            }
        }
        out
    }

    /// The widest cell of column `i` (sizing rows included) and its longest word.
    fn content(&self, i: usize) -> (usize, usize) {
        let rows = self.lines.iter().filter_map(|l| match l {
            Line::Row(cells) => Some(cells),
            Line::Heading(_) => None,
        });
        rows.chain(&self.sizing)
            .filter_map(|r| r.get(i))
            .map(|cell| {
                let word = cell.split_whitespace().map(columns).max().unwrap_or(0);
                (columns(cell), word)
            })
            .fold((0, 0), |(a, b), (c, d)| (a.max(c), b.max(d)))
    }

    /// The layout: which columns show, their headers and widths (see the module doc).
    fn layout(&self) -> Layout {
        let all: Vec<usize> = (0..self.columns.len()).collect();
        let Some(width) = self.width else {
            return self.build(&all, Stage::MINIMUM);
        };
        // Columns that hold one cell throughout go first, then the optional ones by rank.
        let mut optional: Vec<usize> = all
            .iter()
            .copied()
            .filter(|&i| self.columns[i].rank.is_some() && self.same(i).is_none())
            .collect();
        optional.sort_by_key(|&i| self.columns[i].rank);
        let constants = all.iter().copied().filter(|&i| self.same(i).is_some());
        let optional: Vec<usize> = constants.chain(optional).collect();
        let mut last = None;
        for cut in 0..=optional.len() {
            let shown: Vec<usize> = all
                .iter()
                .copied()
                .filter(|i| !optional[..cut].contains(i))
                .collect();
            for stage in Stage::ORDER {
                let mut layout = self.build(&shown, stage);
                layout.dropped = optional[..cut].to_vec();
                if layout.fits(width) {
                    return layout;
                }
                last = Some(layout);
            }
        }
        last.expect("at least one layout was tried")
    }

    /// The layout of the `shown` columns at `stage`, unchecked against the width.
    fn build(&self, shown: &[usize], stage: Stage) -> Layout {
        let mut layout = Layout {
            shown: shown.to_vec(),
            headers: Vec::new(),
            widths: Vec::new(),
            gaps: Vec::new(),
            dropped: Vec::new(),
            spills: false,
            fitted: self.width.is_some(),
        };
        let mut floors = Vec::new();
        for (k, &i) in shown.iter().enumerate() {
            let c = &self.columns[i];
            let (widest, word) = self.content(i);
            // A short header only where the full one is wider than the column's cells.
            let header = match &c.short {
                Some(s) if stage.short && columns(&c.header) > widest => s.clone(),
                _ => c.header.clone(),
            };
            let mut w = widest.max(columns(&header));
            if stage.minimum {
                w = w.max(c.min_width);
            }
            // How narrow the column may go at the wrapped stage.
            let floor = match c.wrap {
                Some(n) if stage.wrap => n
                    .max(word)
                    .max(header.split_whitespace().map(columns).max().unwrap_or(0)),
                _ => w,
            };
            floors.push(floor.min(w));
            layout.gaps.push(if k == 0 { 0 } else { c.gap });
            layout.headers.push(header);
            layout.widths.push(w);
        }
        let Some(width) = self.width else {
            return layout;
        };
        // Narrow the wrapping columns, widest first, until the table fits or none can give.
        if stage.wrap {
            let mut excess = layout.total().saturating_sub(width);
            let mut order: Vec<usize> = (0..shown.len()).collect();
            order.sort_by_key(|&k| std::cmp::Reverse(layout.widths[k]));
            for k in order {
                let give = (layout.widths[k] - floors[k]).min(excess);
                layout.widths[k] -= give;
                excess -= give;
            }
        }
        // The last column spills: it takes the room left, if that is enough.
        if stage.spill
            && let Some(&last) = shown.last()
            && let Some(narrowest) = self.columns[last].spill
        {
            let k = shown.len() - 1;
            let before = layout.total() - layout.widths[k];
            let room = width.saturating_sub(before);
            let needs = columns(&layout.headers[k]).max(narrowest);
            // Too little room leaves the column too wide, and the layout does not fit.
            layout.widths[k] = if room >= needs {
                layout.widths[k].min(room)
            } else {
                needs
            };
            layout.spills = true;
        }
        layout
    }
}

/// How far a layout gives way to fit its width.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stage {
    /// Columns at least their minimum width (else as wide as their content).
    minimum: bool,
    /// A spilling last column's long cells go under their row.
    spill: bool,
    /// Short headers.
    short: bool,
    /// Wrapping columns narrowed.
    wrap: bool,
}

impl Stage {
    /// The layout without a width to fit.
    const MINIMUM: Stage = Stage {
        minimum: true,
        spill: false,
        short: false,
        wrap: false,
    };

    /// The layouts tried, the one that gives least way first.
    const ORDER: [Stage; 5] = [
        Stage::MINIMUM,
        Stage {
            minimum: false,
            ..Stage::MINIMUM
        },
        Stage {
            minimum: false,
            spill: true,
            ..Stage::MINIMUM
        },
        Stage {
            minimum: false,
            spill: true,
            short: true,
            wrap: false,
        },
        Stage {
            minimum: false,
            spill: true,
            short: true,
            wrap: true,
        },
    ];
}

/// Which columns show, with their headers, widths and gaps.
#[derive(Debug, Clone)]
struct Layout {
    shown: Vec<usize>,
    headers: Vec<String>,
    widths: Vec<usize>,
    gaps: Vec<usize>,
    dropped: Vec<usize>,
    /// The last column's long cells go under their row.
    spills: bool,
    /// The table fits a width: wrapping columns wrap.
    fitted: bool,
}

impl Layout {
    fn total(&self) -> usize {
        self.widths.iter().sum::<usize>() + self.gaps.iter().sum::<usize>()
    }

    fn fits(&self, width: usize) -> bool {
        self.total() <= width
    }
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
    fn sizing_rows_set_the_widths_of_streamed_rows_and_are_never_printed() {
        let mut t = Table::new([Column::left("kernel"), Column::right("result")]);
        t.sizing_row(["collatz", "49999995000000"]);
        assert_eq!(t.header_line(), "kernel          result\n");
        assert_eq!(t.row_line(&["count", "10"]), "count               10\n");
        assert_eq!(t.render(), "kernel          result\n");
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
    fn a_table_without_notes_ends_at_its_last_row() {
        let mut t = Table::new([Column::left("a")]);
        t.row(["x"]);
        assert!(!t.render().ends_with("\n\n"));
    }

    #[test]
    fn headings_sit_between_rows_and_widen_no_column() {
        let mut t = Table::new([Column::left("variant"), Column::right("s")]);
        t.heading("a long family name").row(["1 thread", "1.0"]);
        assert_eq!(
            t.render(),
            "variant    s\na long family name\n1 thread 1.0\n"
        );
    }

    /// A table of four columns and a long status.
    fn wide() -> Table {
        let mut t = Table::new([
            Column::left("backend").min_width(12),
            Column::right("speedup (95% CI)").short("speedup"),
            Column::right("serial fraction").short("serial").optional(1),
            Column::left("status").gap(2).spill(6),
        ]);
        t.row(["threads", "1.98x (1.90-2.02)", "0.010", "ok"]);
        t.row([
            "pool",
            "0.30x (0.29-0.36)",
            "5.619",
            "ok, 3 outliers, slower",
        ]);
        t
    }

    #[test]
    fn a_table_that_fits_its_width_keeps_its_minimum_widths() {
        let text = wide().fit(100).render();
        assert!(text.starts_with("backend       speedup (95% CI)"), "{text}");
        assert!(!text.contains("Left out"), "{text}");
    }

    #[test]
    fn a_narrow_width_gives_content_widths_then_spills_then_short_headers() {
        let fits = |w: usize, text: &str| {
            assert!(text.lines().all(|l| columns(l) <= w), "{w}:\n{text}");
        };
        let text = wide().fit(66).render();
        fits(66, &text);
        assert!(text.starts_with("backend  speedup (95% CI) serial fraction  status\n"));
        assert!(text.contains("5.619  ok, 3 outliers, slower\n"), "{text}");
        let text = wide().fit(50).render();
        fits(50, &text);
        assert_eq!(
            text,
            "backend  speedup (95% CI) serial fraction  status\n\
             threads 1.98x (1.90-2.02)           0.010  ok\n\
             pool    0.30x (0.29-0.36)           5.619\n    ok, 3 outliers, slower\n"
        );
        // The speedup's cells are wider than its header: only the serial fraction's shortens.
        let text = wide().fit(40).render();
        fits(40, &text);
        assert!(
            text.starts_with("backend  speedup (95% CI) serial  status\n"),
            "{text}"
        );
    }

    #[test]
    fn optional_columns_go_when_nothing_else_fits_and_the_cut_is_said() {
        let mut t = wide();
        let text = t.fit(36).when_cut("--wide shows them.").render();
        assert_eq!(
            t.left_out().as_deref(),
            Some("Left out to fit 36 columns: serial fraction; --wide shows them.")
        );
        assert!(
            !text.contains("serial fraction\n") && !text.contains("0.010"),
            "{text}"
        );
        let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            flat.contains("- Left out to fit 36 columns: serial fraction; --wide shows them."),
            "{text}"
        );
        for line in text.lines() {
            assert!(columns(line) <= 36, "{line}");
        }
    }

    #[test]
    fn wrapping_columns_wrap_their_cells_and_headers_onto_lines_of_their_own() {
        let mut t = Table::new([Column::left("measure").wrap(10), Column::right("value")]);
        t.row(["GIL hold per turn, median", "6.19"]);
        t.row(["  hold p90", "9.12"]);
        assert_eq!(
            t.fit(20).render(),
            "measure        value\n\
             GIL hold per    6.19\n\
             \x20 turn, median\n\
             \x20 hold p90      9.12\n"
        );
    }

    #[test]
    fn a_column_of_one_cell_goes_first_and_the_note_gives_the_cell() {
        let mut t = Table::new([
            Column::left("kernel").constant(),
            Column::left("backend"),
            Column::right("peak RSS").optional(1),
            Column::right("speedup"),
        ]);
        t.row(["count", "threads", "4.0 MiB", "1.98x"]);
        t.row(["count", "pool", "4.1 MiB", "1.90x"]);
        assert_eq!(
            t.fit(26).render(),
            "backend peak RSS speedup\n\
             threads  4.0 MiB   1.98x\n\
             pool     4.1 MiB   1.90x\n\
             \n  - The same in every row:\n    kernel count.\n"
        );
        // A kernel that differs between rows is no constant: it stays, and the optional goes.
        t.row(["sum", "pool", "4.1 MiB", "1.90x"]);
        let text = t.fit(26).render();
        assert!(text.starts_with("kernel backend speedup\n"), "{text}");
        assert!(text.contains("Left out to fit 26"), "{text}");
    }

    #[test]
    fn what_fits_nowhere_is_printed_whole() {
        let mut t = Table::new([Column::left("a"), Column::left("b")]);
        t.row(["abcdefghij", "klmnopqrst"]);
        assert_eq!(t.fit(8).render(), "a          b\nabcdefghij klmnopqrst\n");
    }

    #[test]
    fn notes_of_a_fitted_table_wrap_to_its_prose_width() {
        let mut t = Table::new([Column::left("a")]);
        t.note("one two three four five six seven").fit(20);
        assert_eq!(
            t.render(),
            "a\n\n  - one two three\n    four five six\n    seven\n"
        );
    }
}
