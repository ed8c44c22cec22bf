//! `parlab reproduce`: the seed experiment as tables with verdicts.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use anyhow::Result;

use parlab::backend::processes::Processes;
use parlab::reproduce::{self, Options, Report, Section};

use super::args::ReproduceArgs;

pub fn reproduce(a: ReproduceArgs) -> Result<ExitCode> {
    let settings = a.settings.options()?;
    let options = Options {
        quick: a.quick,
        python: !a.python.no_python,
        python_program: a.python.python.map(Into::into),
        switch_interval: settings.switch_interval,
        check_interval: settings.check_interval,
        processes: Processes::default().with_start(settings.start),
    };
    let live = std::io::stderr().is_terminal();
    let report = reproduce::run(&options, &mut |what, i, n| {
        if live {
            eprint!("\r\x1b[2K[{i}/{n}] {what} ...");
            let _ = std::io::stderr().flush();
        }
    })?;
    if live {
        eprint!("\r\x1b[2K");
    }
    let mut out = std::io::stdout().lock();
    if a.json {
        writeln!(out, "{}", serde_json::to_string(&report)?)?;
    } else {
        print_report(&mut out, &report)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn print_report(out: &mut impl Write, r: &Report) -> std::io::Result<()> {
    let python = match &r.python {
        Ok(v) => format!("CPython {v}"),
        Err(why) => why.clone(),
    };
    writeln!(
        out,
        "The seed experiment, reproduced ({} CPUs; {python})",
        r.cpus
    )?;
    print_section(out, 1, &r.cpu)?;
    print_section(out, 2, &r.io)?;

    writeln!(out)?;
    writeln!(
        out,
        "3. Inside the GIL: CPython against parlab's model (switch interval {} ms)",
        r.switch_interval_s * 1e3
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "{:<58} {:>14} {:>14}  unit",
        "measure", "CPython", "parlab gil"
    )?;
    for c in &r.inside {
        let py = c.cpython.map_or("-".to_string(), figure);
        writeln!(
            out,
            "{:<58} {:>14} {:>14}  {}",
            c.metric,
            py,
            figure(c.parlab),
            c.unit
        )?;
    }
    print_verdict(out, &r.inside_verdict)
}

fn print_section(out: &mut impl Write, n: usize, s: &Section) -> std::io::Result<()> {
    writeln!(out)?;
    writeln!(out, "{n}. {}: {}", s.title, s.job)?;
    writeln!(out)?;
    writeln!(
        out,
        "{:<24} {:<12} {:>12} {:>10} {:>9}  note",
        "who", "variant", "result", "wall s", "speedup"
    )?;
    let mut last_family = "";
    for row in &s.rows {
        let family = if row.family == last_family {
            ""
        } else {
            &row.family
        };
        last_family = &row.family;
        let result = row.result.map_or("-".into(), |v| v.to_string());
        let wall = row.wall_s.map_or("-".into(), |v| format!("{v:.3}"));
        let speedup = row.speedup.map_or("".into(), |v| format!("{v:.2}x"));
        let gil = row.gil.as_ref().filter(|g| g.handoffs > 0).map(|g| {
            format!(
                "{} hand-offs, hold median {}",
                g.handoffs,
                duration(g.hold_median_s)
            )
        });
        let note = [row.note.clone(), gil]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join("; ");
        let line = format!(
            "{family:<24} {:<12} {result:>12} {wall:>10} {speedup:>9}  {note}",
            row.variant
        );
        writeln!(out, "{}", line.trim_end())?;
    }
    print_verdict(out, &s.verdict)
}

fn print_verdict(out: &mut impl Write, lines: &[String]) -> std::io::Result<()> {
    writeln!(out)?;
    for line in lines {
        let mut first = true;
        for chunk in wrap(line, 92) {
            writeln!(out, "  {} {chunk}", if first { "-" } else { " " })?;
            first = false;
        }
    }
    Ok(())
}

/// A figure with about four significant digits.
fn figure(v: f64) -> String {
    if v >= 1000.0 {
        format!("{:.0}", v)
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.3}")
    }
}

/// Seconds in the unit that reads best.
fn duration(s: f64) -> String {
    if s >= 1.0 {
        format!("{s:.2} s")
    } else if s >= 1e-3 {
        format!("{:.2} ms", s * 1e3)
    } else {
        format!("{:.1} us", s * 1e6)
    }
}

fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.len() + 1 + word.len() > width {
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
