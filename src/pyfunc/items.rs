//! Map mode's SOURCE, `--items`: where FUNCTION(item)'s items come from.
//!
//! - `START..END`: the ints of the range;
//! - `FILE:ITEMS`: `ITEMS` in the Python file `FILE`, an iterable (a list, a tuple, a
//!   generator...) or a function of no argument returning one;
//! - a path: a UTF-8 text file, one str item a line (without its `\n` or `\r\n`).
//!
//! Parsing checks only what can be seen without Python (the range, the file); an interpreter
//! then loads the items (`check.rs`) and says what is wrong with them: missing, empty, not
//! iterable, raising half way, or more than `--max-items` (an endless iterator).

use std::path::PathBuf;

use super::target::{is_identifier, regular_file};
use crate::error::{Error, Result};
use crate::span::Span;

/// The most items taken from SOURCE unless `--max-items` says otherwise.
pub const DEFAULT_MAX_ITEMS: u64 = 1_000_000;

/// The largest text file of items parlab hands an interpreter to read (it reads it whole).
const MAX_LINES_BYTES: u64 = 1 << 30;

/// Where the items come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemSource {
    /// The ints of a range.
    Range(Span),
    /// `NAME` in the Python file `FILE`: an iterable, or a function returning one.
    Attr {
        /// The Python file.
        file: PathBuf,
        /// The name in it.
        name: String,
    },
    /// The lines of a text file, as str items.
    Lines(PathBuf),
}

impl ItemSource {
    /// SOURCE as the worker script reads it after FILE FUNCTION, led by the most items to take.
    pub(crate) fn words(&self, max_items: u64) -> Vec<String> {
        let path = |p: &PathBuf| p.to_string_lossy().into_owned();
        let mut words = vec![max_items.to_string()];
        match self {
            ItemSource::Range(span) => {
                words.extend(["range".into(), span.start.to_string(), span.end.to_string()])
            }
            ItemSource::Attr { file, name } => {
                words.extend(["attr".into(), path(file), name.clone()])
            }
            ItemSource::Lines(file) => words.extend(["lines".into(), path(file)]),
        }
        words
    }
}

impl std::str::FromStr for ItemSource {
    type Err = Error;

    /// Reads `START..END`, `FILE:ITEMS` or a text file's path; an empty range, a missing or
    /// special file, and a Python file named without `:ITEMS` are bad input.
    fn from_str(s: &str) -> Result<ItemSource> {
        let bad = |why: String| Error::invalid("items", s, why);
        let forms = "a range START..END, FILE:ITEMS (a list, or a function returning an \
                     iterable, in a Python file) or a text file of one item a line";
        if s.is_empty() {
            return Err(bad(forms.to_string()));
        }
        let range = s.parse::<Span>();
        if let Ok(span) = range {
            if span.is_empty() {
                return Err(bad(format!("the range {span} holds no items")));
            }
            return Ok(ItemSource::Range(span));
        }
        if let Some((file, name)) = s.rsplit_once(':')
            && is_identifier(name)
            && !file.is_empty()
        {
            let file = regular_file(file, "Python source", 64 << 20).map_err(bad)?;
            return Ok(ItemSource::Attr {
                file,
                name: name.to_string(),
            });
        }
        let looks_like_range = s.contains("..") && !s.contains('/');
        match regular_file(s, "a text file of one item a line", MAX_LINES_BYTES) {
            Ok(file) if s.ends_with(".py") => Err(bad(format!(
                "{} is Python source: name the list or function in it, {s}:ITEMS",
                file.display()
            ))),
            Ok(file) => Ok(ItemSource::Lines(file)),
            // A range with a wrong side says what is wrong with it.
            Err(_) if looks_like_range => Err(range.expect_err("not a range")),
            Err(why) => Err(bad(format!("{forms}; {why}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_are_ranges_python_names_or_text_files() {
        let dir = std::env::temp_dir().join(format!("parlab-items-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let py = dir.join("data.py");
        let txt = dir.join("lines.txt");
        std::fs::write(&py, "ITEMS = [1]\n").unwrap();
        std::fs::write(&txt, "a\nb\n").unwrap();
        assert_eq!(
            "0..1e3".parse::<ItemSource>().unwrap(),
            ItemSource::Range(Span::new(0, 1000).unwrap())
        );
        let attr: ItemSource = format!("{}:ITEMS", py.display()).parse().unwrap();
        assert_eq!(
            attr,
            ItemSource::Attr {
                file: py.clone(),
                name: "ITEMS".into()
            }
        );
        assert_eq!(attr.words(7), ["7", "attr", &py.to_string_lossy(), "ITEMS"]);
        let lines: ItemSource = txt.to_string_lossy().parse().unwrap();
        assert_eq!(lines, ItemSource::Lines(txt.clone()));
        for (bad, why) in [
            ("5..5".to_string(), "holds no items"),
            ("5..2".to_string(), "start must not be greater"),
            ("0..x".to_string(), "range end"),
            (py.to_string_lossy().into_owned(), ":ITEMS"),
            (
                format!("{}:ITEMS", dir.join("gone.py").display()),
                "no such file",
            ),
            (dir.to_string_lossy().into_owned(), "a directory"),
            ("nothing-here.txt".to_string(), "no such file"),
            (String::new(), "a range START..END"),
        ] {
            let e = bad.parse::<ItemSource>().unwrap_err();
            assert!(e.is_usage(), "{bad}: {e}");
            assert!(e.to_string().contains(why), "{bad}: {e}");
        }
        std::fs::remove_dir_all(dir).unwrap();
    }
}
