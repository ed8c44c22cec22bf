//! The code to paste: a few lines of plain Python that run FUNCTION over the items (or the
//! parts of the range) the way the recommended row ran them, for the interpreter it ran on.
//!
//! The code is what was measured: an executor row runs `pool.map` with the same executor,
//! `max_workers`, `chunksize` and start method in the interpreter parlab supervises, over the
//! same items in the same order; the sequential row runs the plain loop. The only differences
//! are around the timing: parlab makes the pool once and times each `map` apart from it, and
//! reports the results as they come in.
//!
//! It imports only the standard library and the user's file (and the file of `FILE:ITEMS`),
//! found by putting their folders first on `sys.path`, as parlab's interpreters do. `run()`
//! returns the answer (range mode: the exact sum of the parts' ints; map mode: every item's
//! result, in item order); run as a script, it prints it (map mode: how many results).

use std::path::Path;

use super::{Calls, ItemSource, Road, Target};
use crate::split::Plan;

/// What the code is made from: the recommended row and what it ran over.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Recipe<'a> {
    /// `FILE:FUNCTION`.
    pub target: &'a Target,
    /// Range or map mode, and the items.
    pub calls: &'a Calls,
    /// The interpreter's label, `3.14.10`.
    pub python: &'a str,
    /// The road: sequential or an executor.
    pub road: Road,
    /// `max_workers`.
    pub workers: usize,
    /// Map mode's `executor:process`: items a task.
    pub chunksize: Option<u64>,
    /// `executor:process`: the start method its pool used.
    pub start_method: Option<&'a str>,
    /// Range mode: the parts.
    pub plan: Option<Plan>,
}

/// A Python str literal of `text`: double-quoted, with backslashes, quotes and characters that
/// are not printable escaped.
pub(crate) fn literal(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() || c == '\u{2028}' || c == '\u{2029}' => {
                let n = c as u32;
                if n <= 0xff {
                    out.push_str(&format!("\\x{n:02x}"));
                } else {
                    out.push_str(&format!("\\u{n:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The folder to put on `sys.path` for `file`, as given (`.` for a bare name).
fn folder(file: &Path) -> String {
    match file.parent().map(|p| p.to_string_lossy().into_owned()) {
        Some(p) if !p.is_empty() => p,
        _ => ".".to_string(),
    }
}

/// The module name of `file`: its stem.
fn stem(file: &Path) -> String {
    file.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Lines importing `names` from the module of `file`: `from stem import a, b`, or through
/// `importlib` where the stem is not a Python name.
fn import(file: &Path, names: &[&str]) -> Vec<String> {
    let module = stem(file);
    if super::target::is_identifier(&module) && !is_keyword(&module) {
        return vec![format!("from {module} import {}", names.join(", "))];
    }
    let mut lines = vec![format!(
        "_module = importlib.import_module({})",
        literal(&module)
    )];
    lines.extend(names.iter().map(|n| format!("{n} = _module.{n}")));
    lines
}

/// Whether `word` is a Python keyword, which no module named by it can be imported as.
fn is_keyword(word: &str) -> bool {
    const KEYWORDS: [&str; 35] = [
        "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class",
        "continue", "def", "del", "elif", "else", "except", "finally", "for", "from", "global",
        "if", "import", "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return",
        "try", "while", "with", "yield",
    ];
    KEYWORDS.contains(&word)
}

/// The interpreter's version as `(major, minor)`, from its label (`3.13.5t (GIL on)`).
pub(crate) fn version(label: &str) -> Option<(u32, u32)> {
    let mut it = label.split(|c: char| !c.is_ascii_digit());
    Some((it.next()?.parse().ok()?, it.next()?.parse().ok()?))
}

/// The parts of a range-mode plan as Python: a comprehension where they are chunks of one size,
/// else a literal list.
fn parts(plan: &Plan) -> String {
    let all: Vec<(u64, u64)> = plan.parts().map(|p| (p.start, p.end)).collect();
    let range = plan.range();
    if all.len() > 4
        && let Some(&(a, b)) = all.first()
    {
        let size = b - a;
        let chunked: Vec<(u64, u64)> = (range.start..range.end)
            .step_by(size as usize)
            .map(|s| (s, (s + size).min(range.end)))
            .collect();
        if chunked == all {
            return format!(
                "[(a, min(a + {size}, {end})) for a in range({start}, {end}, {size})]",
                start = range.start,
                end = range.end
            );
        }
    }
    let shown: Vec<String> = all.iter().map(|(a, b)| format!("({a}, {b})")).collect();
    format!("[{}]", shown.join(", "))
}

/// The code for `r`.
pub(crate) fn code(r: &Recipe) -> String {
    let function = r.target.function.as_str();
    let file = r.target.file.as_path();
    let class = r.road.executor_class();
    let start = r
        .start_method
        .filter(|_| version(r.python).is_none_or(|v| v >= (3, 7)));
    // The header: what this is, and what it was measured on.
    let how = match (class, r.road) {
        (Some(c), _) => format!("{c} with {} workers", r.workers),
        _ => "the plain loop".to_string(),
    };
    let chunks = match r.chunksize {
        Some(c) if r.road == Road::ExecutorProcess && c > 1 => format!(" (chunks of {c})"),
        _ => String::new(),
    };
    let mut out = vec![
        format!(
            "# {function} over its {} by {how}{chunks},",
            if matches!(r.calls, Calls::Range) {
                "parts"
            } else {
                "items"
            },
        ),
        format!("# as parlab measured it on CPython {}.", r.python),
    ];
    // Imports: the standard library first, then the user's files.
    let mut std = vec!["import sys".to_string()];
    let attr = match r.calls {
        Calls::Map {
            source: ItemSource::Attr { file, name },
            ..
        } => Some((file.as_path(), name.as_str())),
        _ => None,
    };
    let needs_importlib = [Some(file), attr.map(|(f, _)| f)]
        .into_iter()
        .flatten()
        .any(|f| import(f, &["x"]).len() > 1);
    if needs_importlib {
        std.push("import importlib".to_string());
    }
    if start.is_some() {
        std.push("import multiprocessing".to_string());
    }
    if r.road == Road::ExecutorInterpreter {
        std.push("import site".to_string());
    }
    if let Some(c) = class {
        std.push(format!("from concurrent.futures import {c}"));
    }
    // `import` lines first, then `from` lines, each sorted.
    std.sort_by_key(|l| (l.starts_with("from"), l.clone()));
    out.push(String::new());
    out.extend(std);
    out.push(String::new());
    let mut folders = vec![folder(file)];
    if let Some((f, _)) = attr
        && !folders.contains(&folder(f))
    {
        folders.push(folder(f));
    }
    for f in folders.iter().rev() {
        out.push(format!("sys.path.insert(0, {})", literal(f)));
    }
    match attr {
        Some((f, name)) if stem(f) == stem(file) && folder(f) == folder(file) => {
            out.extend(import(file, &[function, name]));
        }
        Some((f, name)) => {
            out.extend(import(file, &[function]));
            out.extend(import(f, &[name]));
        }
        None => out.extend(import(file, &[function])),
    }
    out.push(String::new());
    out.push(String::new());
    out.push("def run():".to_string());
    let body = &mut out;
    // What it runs over.
    match r.calls {
        Calls::Range => {
            let plan = r.plan.expect("range mode has a plan");
            body.push(format!("    parts = {}", parts(&plan)));
        }
        Calls::Map { source, .. } => match source {
            ItemSource::Range(span) => {
                body.push(format!("    items = range({}, {})", span.start, span.end))
            }
            ItemSource::Lines(path) => {
                body.push(format!(
                    "    with open({}, encoding=\"utf-8\", newline=\"\") as f:",
                    literal(&path.to_string_lossy())
                ));
                body.push("        items = f.read().split(\"\\n\")".to_string());
                body.push("    if items[-1] == \"\":".to_string());
                body.push("        items.pop()".to_string());
                body.push(
                    "    items = [line[:-1] if line.endswith(\"\\r\") else line for line in items]"
                        .to_string(),
                );
            }
            ItemSource::Attr { name, .. } => {
                body.push(format!(
                    "    items = {name}() if callable({name}) else {name}"
                ));
            }
        },
    }
    let range = matches!(r.calls, Calls::Range);
    match class {
        None if range => body.push(format!(
            "    return sum({function}(start, end) for start, end in parts)"
        )),
        None => body.push(format!("    return [{function}(item) for item in items]")),
        Some(c) => {
            let mut args = vec![format!("max_workers={}", r.workers)];
            if r.road == Road::ExecutorInterpreter {
                // A subinterpreter's sys.path is made from the start-up settings, without the
                // folder added above.
                args.push("initializer=site.addsitedir".to_string());
                args.push(format!("initargs=({},)", literal(&folder(file))));
            }
            if let Some(m) = start {
                args.push(format!(
                    "mp_context=multiprocessing.get_context({})",
                    literal(m)
                ));
            }
            let made = format!("    pool = {c}({})", args.join(", "));
            let inner = format!("        {},", args.join(", "));
            if made.len() <= 88 {
                body.push(made);
            } else if inner.len() <= 88 {
                body.push(format!("    pool = {c}("));
                body.push(inner);
                body.push("    )".to_string());
            } else {
                body.push(format!("    pool = {c}("));
                body.extend(args.iter().map(|a| format!("        {a},")));
                body.push("    )".to_string());
            }
            body.push("    with pool:".to_string());
            if range {
                body.push("        starts = [start for start, _ in parts]".to_string());
                body.push("        ends = [end for _, end in parts]".to_string());
                body.push(format!(
                    "        return sum(pool.map({function}, starts, ends))"
                ));
            } else {
                let chunks = match r.chunksize {
                    Some(c) if r.road == Road::ExecutorProcess && c > 1 => {
                        format!(", chunksize={c}")
                    }
                    _ => String::new(),
                };
                body.push(format!(
                    "        return list(pool.map({function}, items{chunks}))"
                ));
            }
        }
    }
    out.push(String::new());
    out.push(String::new());
    out.push("if __name__ == \"__main__\":".to_string());
    if range {
        out.push("    print(run())".to_string());
    } else {
        out.push("    results = run()".to_string());
        out.push("    print(len(results), \"results\")".to_string());
    }
    out.join("\n") + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::span::Span;
    use std::path::PathBuf;

    fn target(file: &str, function: &str) -> Target {
        Target {
            file: PathBuf::from(file),
            function: function.to_string(),
        }
    }

    fn map(source: ItemSource) -> Calls {
        Calls::Map {
            source,
            shown: String::new(),
            max_items: 10,
        }
    }

    /// A recipe of the sequential road on `python`, for tests to change what they test.
    fn recipe<'a>(target: &'a Target, calls: &'a Calls, python: &'a str) -> Recipe<'a> {
        Recipe {
            target,
            calls,
            python,
            road: Road::Sequential,
            workers: 1,
            chunksize: None,
            start_method: None,
            plan: None,
        }
    }

    #[test]
    fn a_process_pool_is_made_with_its_workers_chunks_and_start_method() {
        let t = target("examples/python/map_examples.py", "collatz");
        let calls = map(ItemSource::Range(Span::new(1, 20001).unwrap()));
        let code = code(&Recipe {
            road: Road::ExecutorProcess,
            workers: 2,
            chunksize: Some(16),
            start_method: Some("forkserver"),
            ..recipe(&t, &calls, "3.14.10")
        });
        for line in [
            "import multiprocessing",
            "from concurrent.futures import ProcessPoolExecutor",
            "sys.path.insert(0, \"examples/python\")",
            "from map_examples import collatz",
            "    items = range(1, 20001)",
            "    pool = ProcessPoolExecutor(",
            "        max_workers=2, mp_context=multiprocessing.get_context(\"forkserver\"),",
            "        return list(pool.map(collatz, items, chunksize=16))",
        ] {
            assert!(code.lines().any(|l| l == line), "{line:?} not in:\n{code}");
        }
        assert!(code.lines().all(|l| l.len() <= 100), "{code}");
    }

    #[test]
    fn the_start_method_is_left_to_the_default_where_it_cannot_be_chosen() {
        let t = target("f.py", "f");
        let calls = map(ItemSource::Range(Span::new(0, 4).unwrap()));
        let code = code(&Recipe {
            road: Road::ExecutorProcess,
            workers: 2,
            chunksize: Some(1),
            start_method: Some("fork"),
            ..recipe(&t, &calls, "3.6.15")
        });
        assert!(!code.contains("multiprocessing"), "{code}");
        assert!(code.contains("sys.path.insert(0, \".\")"), "{code}");
        assert!(code.contains("return list(pool.map(f, items))"), "{code}");
    }

    #[test]
    fn range_mode_sums_the_parts_in_order() {
        let t = target("examples/python/arith.py", "sum_of_squares");
        let calls = Calls::Range;
        let span = Span::new(0, 10).unwrap();
        let seq = code(&Recipe {
            plan: Some(Plan::equal(span, 1)),
            ..recipe(&t, &calls, "3.11.7")
        });
        assert!(seq.contains("    parts = [(0, 10)]"), "{seq}");
        assert!(seq.contains("return sum(sum_of_squares(start, end) for start, end in parts)"));
        assert!(!seq.contains("concurrent"), "{seq}");
        let threads = code(&Recipe {
            road: Road::ExecutorThread,
            workers: 4,
            plan: Some(Plan::chunks(Span::new(0, 1003).unwrap(), 100)),
            ..recipe(&t, &calls, "3.11.7")
        });
        assert!(
            threads.contains("parts = [(a, min(a + 100, 1003)) for a in range(0, 1003, 100)]"),
            "{threads}"
        );
        assert!(threads.contains("return sum(pool.map(sum_of_squares, starts, ends))"));
        assert!(threads.contains("    print(run())"));
    }

    #[test]
    fn items_of_another_file_and_odd_names_are_imported_as_python_can() {
        let t = target("/tmp/my-work/odd-name.py", "f");
        let calls = map(ItemSource::Attr {
            file: PathBuf::from("data/items.py"),
            name: "ITEMS".to_string(),
        });
        let code = code(&Recipe {
            road: Road::ExecutorThread,
            workers: 2,
            chunksize: Some(1),
            ..recipe(&t, &calls, "3.12.1")
        });
        for line in [
            "import importlib",
            "sys.path.insert(0, \"/tmp/my-work\")",
            "sys.path.insert(0, \"data\")",
            "_module = importlib.import_module(\"odd-name\")",
            "f = _module.f",
            "from items import ITEMS",
            "    items = ITEMS() if callable(ITEMS) else ITEMS",
        ] {
            assert!(code.lines().any(|l| l == line), "{line:?} not in:\n{code}");
        }
    }

    #[test]
    fn literals_escape_what_python_would_misread() {
        assert_eq!(literal("a\"b\\c\nd\u{7}"), "\"a\\\"b\\\\c\\nd\\x07\"");
        assert_eq!(literal("dé"), "\"dé\"");
    }
}
