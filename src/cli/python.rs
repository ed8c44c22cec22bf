//! `parlab python FILE:FUNCTION [--items SOURCE]`: the user's function on every road, a table
//! (or one JSON object) and a recommendation for each interpreter and overall; exit 1 when any
//! row failed, after the rows that finished.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;

use parlab::cpython::discover::{InterpreterSpec, Places, resolve};
use parlab::number::parse_u64_in;
use parlab::pyfunc::{
    Calls, DEFAULT_MAX_ITEMS, Interpreter, ItemSource, Mode, PoolStart, PythonLab, PythonOptions,
    PythonReport, Road, Target, export,
};
use parlab::report::output::{Output, Protected};
use parlab::report::table::{Column, Table};
use parlab::span::Span;
use parlab::units::seconds;

use super::args::PythonFnArgs;
use super::verify::parse_workers;

impl PythonFnArgs {
    /// What to measure, from the command line: each flag given, checked, in place of its
    /// default in [`PythonOptions::default`]; a repeated range, worker count or chunk size is
    /// measured once.
    pub fn options(&self) -> parlab::Result<PythonOptions> {
        let mut ranges: Vec<Span> = Vec::new();
        for r in &self.range {
            let r: Span = r.parse()?;
            if !ranges.contains(&r) {
                ranges.push(r);
            }
        }
        let split = self.split.parse()?;
        let mut workers = Vec::new();
        for w in &self.workers {
            let w = parse_workers(Some(w))?;
            if !workers.contains(&w) {
                workers.push(w);
            }
        }
        let roads = match &self.roads {
            Some(text) => Road::parse_list(text)?,
            None => PythonOptions::default().roads,
        };
        let start = self
            .start
            .as_deref()
            .map(str::parse::<PoolStart>)
            .transpose()?;
        if self.items.is_none()
            && let Some(c) = self.chunksize.first()
        {
            return Err(parlab::Error::invalid(
                "chunksize",
                c.as_str(),
                "chunks are of items: --chunksize goes with --items SOURCE (map mode); a range \
                 is cut by --split",
            ));
        }
        let mut chunksizes = Vec::new();
        for c in &self.chunksize {
            let c = parse_u64_in("chunksize", c, 1, 1_000_000_000)?;
            if !chunksizes.contains(&c) {
                chunksizes.push(c);
            }
        }
        // No --timeout: a limit on each run once the sequential run is timed; "none": no limit.
        let off = self.timeout.as_deref() == Some("none");
        let timeout = self.timeout.as_deref().filter(|_| !off);
        let policy = super::run::policy(timeout, &self.retries)?;
        Ok(PythonOptions {
            ranges,
            split,
            chunksizes,
            workers,
            roads,
            start,
            // The bounds of bench: a number beyond them would measure for ever.
            warmup: parse_u64_in("warmup", &self.warmup, 0, 100)? as usize,
            runs: parse_u64_in("runs", &self.runs, 1, 10_000)? as usize,
            timeout: policy.timeout,
            default_limit: self.timeout.is_none(),
            retries: policy.retries,
        })
    }

    /// What FUNCTION is called with: `--items` (map mode, at most `--max-items` of them) or
    /// the parts of the ranges.
    pub fn calls(&self) -> parlab::Result<Calls> {
        let calls = match &self.items {
            None => Calls::Range,
            Some(text) => Calls::Map {
                source: text.parse::<ItemSource>()?,
                shown: text.clone(),
                max_items: parse_u64_in("max items", &self.max_items, 1, 1_000_000_000)?,
            },
        };
        if let Calls::Map {
            source: ItemSource::Range(span),
            max_items,
            ..
        } = &calls
            && span.len() > *max_items
        {
            return Err(parlab::Error::invalid(
                "items",
                self.items.clone().unwrap_or_default(),
                format!(
                    "the range holds {} items, more than --max-items {max_items} (default {})",
                    span.len(),
                    DEFAULT_MAX_ITEMS
                ),
            ));
        }
        Ok(calls)
    }
}

pub fn python(a: PythonFnArgs) -> Result<ExitCode> {
    // Every value is read before an interpreter runs.
    let target: Target = a.target.parse()?;
    let settings = a.options()?;
    let calls = a.calls()?;
    // Checked before the interpreters are looked for, and again once they are known: no
    // export replaces the function's file, an interpreter or parlab itself.
    let source = Protected::program().input(
        format!(
            "the Python file of the function measured ({})",
            target.file.display()
        ),
        &target.file,
    );
    exports(&a, &source)?;
    let specs = InterpreterSpec::parse_list(&a.python)?;
    let found = resolve(&specs, &Places::from_env())?;
    let exports = exports(&a, &super::protect_pythons(source, &found.pythons))?;
    let pythons: Vec<(Interpreter, bool)> = found
        .pythons
        .iter()
        .map(|(py, named)| (Interpreter::of(py), *named))
        .collect();
    let lab = PythonLab::new(target, calls, pythons, settings.timeout)?;
    let status = (!a.quiet).then(super::StatusLine::new);
    let report = lab.measure(&settings, &mut |p| {
        if let Some(s) = &status {
            s.show(&format!("[{}/{}] {}", p.done, p.total, p.what));
        }
    })?;
    drop(status);
    // With an export on standard output, the text goes to standard error.
    let to_stdout = exports.iter().any(|(_, o)| *o == Output::Stdout);
    let (mut text, width): (Box<dyn Write>, usize) = if to_stdout {
        let width = parlab::report::width::of_stderr();
        (Box::new(std::io::stderr().lock()), width)
    } else {
        let width = parlab::report::width::of_stdout();
        (Box::new(std::io::stdout().lock()), width)
    };
    if a.json {
        writeln!(text, "{}", serde_json::to_string(&report)?)?;
    } else {
        print_report(&mut text, &report, width)?;
    }
    text.flush()?;
    drop(text);
    let mut failed = Vec::new();
    for (format, to) in &exports {
        let bytes = match format {
            Format::Json => serde_json::to_string_pretty(&report)? + "\n",
            Format::Csv => export::to_csv(&report)?,
            Format::Markdown => export::to_markdown(&report),
        };
        if let Err(e) = to.write(bytes.as_bytes()) {
            failed.push(e.to_string());
        }
    }
    if let Some(why) = report.first_failure() {
        return Err(anyhow::anyhow!("{why}"));
    }
    match failed.first() {
        Some(e) => Err(anyhow::anyhow!("{e}")),
        None => Ok(ExitCode::SUCCESS),
    }
}

#[derive(Debug, Clone, Copy)]
enum Format {
    Json,
    Csv,
    Markdown,
}

/// The exports asked for, each destination checked before any work; two to one place, or one
/// onto a file of `protected`, are bad input.
fn exports(a: &PythonFnArgs, protected: &Protected) -> parlab::Result<Vec<(Format, Output)>> {
    let mut out: Vec<(Format, Output)> = Vec::new();
    for (format, what, path) in [
        (Format::Json, "JSON export path", &a.export_json),
        (Format::Csv, "CSV export path", &a.export_csv),
        (Format::Markdown, "Markdown export path", &a.export_markdown),
    ] {
        let Some(path) = path else { continue };
        let to = Output::parse_with(what, path, protected)?;
        if out.iter().any(|(_, o)| o.same_place(&to)) {
            return Err(parlab::Error::invalid(
                what,
                path.as_str(),
                "a place no other export writes to",
            ));
        }
        out.push((format, to));
    }
    Ok(out)
}

fn print_report(out: &mut impl Write, r: &PythonReport, width: usize) -> std::io::Result<()> {
    let prose = parlab::report::width::prose(width);
    let map = r.mode == Mode::Map;
    // The file's name and what the interpreters said are the user's: shown, never obeyed.
    let head = match &r.items {
        Some(items) if map => super::shown(format_args!(
            "{} over {} items of {}: every result checked against the sequential one",
            r.function, items.count, items.source
        )),
        _ => {
            let answer = r.result.as_deref().unwrap_or("none");
            super::shown(format_args!(
                "{} over {} ({} split): answer {answer}",
                r.function, r.range, r.split
            ))
        }
    };
    super::paragraph(out, &head, prose)?;
    writeln!(out)?;
    let many = r.rows.iter().any(|row| row.range != r.range);
    let mut columns = vec![Column::left("python").min_width(8).constant()];
    if many {
        columns.push(Column::left("range"));
    }
    columns.extend([Column::left("road").min_width(15), Column::right("workers")]);
    if map {
        columns.push(Column::right("chunk"));
    }
    columns.extend([
        Column::right("start-up"),
        Column::right("median"),
        Column::right("speedup (95% CI)").short("speedup"),
        Column::right("ceiling").optional(1),
        Column::left("answer").spill(6),
    ]);
    let mut table = Table::new(columns);
    table.fit(width);
    for row in &r.rows {
        let speedup = row.speedup.map_or(String::new(), |s| s.ratio());
        let status = match (&row.error, &row.result) {
            (Some(_), _) => "FAILED".to_string(),
            (None, Some(v)) if Some(v) == r.result.as_ref() || many => "ok".to_string(),
            (None, Some(v)) => format!("ok ({})", short(v)),
            (None, None) if map && row.runs > 0 => "ok".to_string(),
            (None, None) => String::new(),
        };
        let mut cells = vec![row.python.clone()];
        if many {
            cells.push(row.range.clone());
        }
        cells.extend([row.road.to_string(), row.workers.to_string()]);
        if map {
            cells.push(row.chunksize.map_or(String::new(), |c| c.to_string()));
        }
        table.row(cells.into_iter().chain([
            row.startup_s.map_or(String::new(), seconds),
            row.median_s.map_or(String::new(), seconds),
            speedup,
            row.ceiling.map_or(String::new(), |c| format!("{c:.2}x")),
            status,
        ]));
    }
    table.note(if map {
        "chunk: items handed out at a time; start-up: starting the workers, loading the function \
         and handing one interpreter its items, apart from the runs; median: one run over every \
         item; speedup: paired against the sequential run of the same round; ceiling: what a \
         perfectly parallel loop reached at that many workers just before each round (the most \
         the machine allowed)"
    } else {
        "start-up: starting the workers and loading the function, apart from the runs; \
         median: one run of the whole range; speedup: paired against the sequential run of the \
         same round; ceiling: what a perfectly parallel loop reached at that many workers just \
         before each round (the most the machine allowed)"
    });
    table.notes(r.notes.iter().cloned());
    table.notes(r.rows.iter().filter_map(|row| row.error.clone()));
    write!(out, "{}", table.render())?;
    // With several interpreters, each one's recommendation, then the overall one.
    let each = if r.recommendations.len() > 1 {
        r.recommendations.as_slice()
    } else {
        &[]
    };
    for rec in each {
        writeln!(out)?;
        let text = format!("On {}: {}: {}", rec.python, rec.setting(), rec.reason);
        super::paragraph(out, &super::shown(text), prose)?;
    }
    if let Some(rec) = &r.recommendation {
        writeln!(out)?;
        let text = format!(
            "Recommendation{}: {} on {}: {}",
            if each.is_empty() { "" } else { " overall" },
            rec.setting(),
            rec.python,
            rec.reason
        );
        super::paragraph(out, &super::shown(text), prose)?;
        if let Some(range) = &rec.smallest_range {
            super::paragraph(
                out,
                &format!("It beats one thread from range {range} on (the smallest measured)."),
                prose,
            )?;
        }
        if let Some(f) = &rec.failures {
            super::paragraph(out, &format!("On failure: {f}."), prose)?;
        }
        if let Some(code) = &rec.code {
            print_code(out, code, width)?;
        }
    }
    Ok(())
}

/// The code to paste, indented under a line saying what it is; where a line of it (a long
/// path) is wider than the terminal, only where to find it.
fn print_code(out: &mut impl Write, code: &str, width: usize) -> std::io::Result<()> {
    writeln!(out)?;
    let indent = "    ";
    // The user's paths are shown, never obeyed.
    let shown: Vec<String> = code.lines().map(super::shown).collect();
    if shown
        .iter()
        .any(|l| indent.len() + l.chars().count() > width)
    {
        return writeln!(
            out,
            "The code to paste is in --json's recommendation.code (a line of it is wider than \
             {width} columns)."
        );
    }
    writeln!(out, "The code to paste (what was measured):")?;
    writeln!(out)?;
    for line in &shown {
        if line.is_empty() {
            writeln!(out)?;
        } else {
            writeln!(out, "{indent}{line}")?;
        }
    }
    Ok(())
}

/// A long answer cut to its ends.
fn short(v: &str) -> String {
    if v.len() <= 24 {
        v.to_string()
    } else {
        format!("{}...{} ({} digits)", &v[..8], &v[v.len() - 8..], v.len())
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::super::args::{Cli, Command};
    use super::*;

    fn args(line: &[&str]) -> PythonFnArgs {
        let line = ["parlab", "python", "work.py:work"].iter().chain(line);
        match Cli::try_parse_from(line).unwrap().command {
            Command::Python(a) => a,
            other => panic!("not python: {other:?}"),
        }
    }

    /// The defaults `--help` shows (clap's) are the library's.
    #[test]
    fn the_flags_defaults_are_the_librarys() {
        let given = args(&[]).options().unwrap();
        assert_eq!(
            format!("{given:?}"),
            format!("{:?}", PythonOptions::default())
        );
        assert_eq!(args(&[]).calls().unwrap(), Calls::Range);
        match args(&["--items", "0..10"]).calls().unwrap() {
            Calls::Map { max_items, .. } => assert_eq!(max_items, DEFAULT_MAX_ITEMS),
            other => panic!("not map mode: {other:?}"),
        }
    }

    #[test]
    fn a_timeout_of_none_lifts_the_default_limit() {
        let o = args(&["--timeout", "none"]).options().unwrap();
        assert_eq!((o.timeout, o.default_limit), (None, false));
        let o = args(&["--timeout", "2s", "-w", "2,2,1"]).options().unwrap();
        assert_eq!(o.timeout, Some(std::time::Duration::from_secs(2)));
        assert_eq!(o.workers, vec![2, 1]);
        assert!(!o.default_limit);
    }
}
