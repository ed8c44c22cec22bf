//! `parlab python FILE:FUNCTION`: the user's function on every road, a table (or one JSON
//! object) and a recommendation; exit 1 when any row failed, after the rows that finished.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;

use parlab::cpython::discover::{Places, Spec, resolve};
use parlab::number::parse_u64_as;
use parlab::pyfunc::{Interpreter, Lab, Report, Road, Settings, Target};
use parlab::report::table::{Column, Table};
use parlab::units::seconds;

use super::args::PythonFnArgs;
use super::verify::parse_workers;

pub fn python(a: PythonFnArgs) -> Result<ExitCode> {
    // Every value is read before an interpreter runs.
    let target: Target = a.target.parse()?;
    let range = a.range.parse()?;
    let split = a.split.parse()?;
    let mut workers = Vec::new();
    for w in &a.workers {
        let w = parse_workers(Some(w))?;
        if !workers.contains(&w) {
            workers.push(w);
        }
    }
    let roads = Road::parse_list(&a.roads)?;
    let policy = super::run::policy(a.timeout.as_deref(), &a.retries)?;
    let warmup = parse_u64_as("warmup", &a.warmup)? as usize;
    let runs = match parse_u64_as("runs", &a.runs)? {
        0 => return Err(parlab::Error::invalid("runs", &a.runs, "at least 1").into()),
        n => n as usize,
    };
    let specs = Spec::parse_list(&a.python)?;
    let found = resolve(&specs, &Places::from_env())?;
    let pythons: Vec<Interpreter> = found
        .pythons
        .iter()
        .map(|(py, _)| Interpreter::of(py))
        .collect();
    let lab = Lab::new(target, pythons)?;
    let settings = Settings {
        range,
        split,
        workers,
        roads,
        warmup,
        runs,
        timeout: policy.timeout,
        retries: policy.retries,
    };
    let status = (!a.quiet).then(super::StatusLine::new);
    let report = lab.measure(&settings, &mut |p| {
        if let Some(s) = &status {
            s.show(&format!("[{}/{}] {}", p.done, p.total, p.what));
        }
    })?;
    drop(status);
    let mut out = std::io::stdout().lock();
    if a.json {
        writeln!(out, "{}", serde_json::to_string(&report)?)?;
    } else {
        print_report(&mut out, &report)?;
    }
    out.flush()?;
    match report.first_failure() {
        Some(why) => Err(anyhow::anyhow!("{why}")),
        None => Ok(ExitCode::SUCCESS),
    }
}

fn print_report(out: &mut impl Write, r: &Report) -> std::io::Result<()> {
    let answer = r.result.as_deref().unwrap_or("none");
    writeln!(
        out,
        "{} over {} ({} split): answer {answer}",
        r.function, r.range, r.split
    )?;
    writeln!(out)?;
    let mut table = Table::new([
        Column::left("python").min_width(8),
        Column::left("road").min_width(15),
        Column::right("workers"),
        Column::right("start-up"),
        Column::right("median"),
        Column::right("speedup [95% interval]"),
        Column::left("answer"),
    ]);
    for row in &r.rows {
        let speedup = row.speedup.map_or(String::new(), |s| {
            format!("{:.2}x [{:.2}, {:.2}]", s.value, s.low, s.high)
        });
        let status = match (&row.error, &row.result) {
            (Some(_), _) => "FAILED".to_string(),
            (None, Some(v)) if Some(v) == r.result.as_ref() => "ok".to_string(),
            (None, Some(v)) => format!("ok ({})", short(v)),
            (None, None) => String::new(),
        };
        table.row([
            row.python.clone(),
            row.road.to_string(),
            row.workers.to_string(),
            row.startup_s.map_or(String::new(), seconds),
            row.median_s.map_or(String::new(), seconds),
            speedup,
            status,
        ]);
    }
    table.note(
        "start-up: starting the workers and loading the function, apart from the runs; \
         median: one run of the whole range; speedup: paired against the sequential run of the \
         same round",
    );
    table.notes(r.notes.iter().cloned());
    table.notes(r.rows.iter().filter_map(|row| row.error.clone()));
    write!(out, "{}", table.render())?;
    if let Some(rec) = &r.recommendation {
        writeln!(out)?;
        writeln!(
            out,
            "Recommendation: {} with {} worker{} on {}: {}",
            rec.road,
            rec.workers,
            if rec.workers == 1 { "" } else { "s" },
            rec.python,
            rec.reason
        )?;
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
