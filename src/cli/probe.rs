//! `parlab probe`: what threads and processes cost on this machine.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;

use parlab::cpython::discover;
use parlab::probe::{self, ProbeKind, ProbeOptions, ProbeReport};
use parlab::report::output::{Output, Protected};
use parlab::report::plot;
use parlab::report::table::{Column, Table};
use parlab::units::figure;

use super::args::ProbeArgs;

pub fn probe(a: ProbeArgs) -> Result<ExitCode> {
    let probes: Vec<ProbeKind> = if a.probes.is_empty() {
        ProbeKind::ALL.to_vec()
    } else {
        a.probes
            .iter()
            .map(|p| p.parse())
            .collect::<Result<_, _>>()?
    };
    let plot_to = plot_destination(&a, &probes, &Protected::program())?;
    // A --python the user named must be there and run as Python (exit 2 before probing);
    // every interpreter it names gets its own CPython rows.
    let (pythons, found_notes) = if a.python.no_python {
        (Vec::new(), Vec::new())
    } else {
        let found = discover::chosen(a.python.python.as_deref())?;
        (found.pythons, found.notes)
    };
    // Checked again once the interpreters are known: the plot replaces none of them.
    let plot_to = match plot_to {
        None => None,
        Some(_) => plot_destination(
            &a,
            &probes,
            &super::protect_pythons(Protected::program(), &pythons),
        )?,
    };
    let python_note = match (pythons.is_empty(), a.python.no_python) {
        (false, _) => {
            let names: Vec<String> = pythons
                .iter()
                .map(|(p, _)| format!("CPython {}", p.version))
                .collect();
            names.join(", ")
        }
        (true, true) => "CPython rows skipped (--no-python)".into(),
        (true, false) => "no interpreter found: CPython rows skipped".into(),
    };
    for note in &found_notes {
        let width = parlab::report::width::prose(parlab::report::width::of_stderr());
        eprint!(
            "{}",
            parlab::report::width::paragraph(&format!("note: {}", super::shown(note)), width)
        );
    }
    let options = ProbeOptions {
        quick: a.quick,
        pythons,
        ..ProbeOptions::default()
    };
    let status = super::StatusLine::new();
    let reports = probe::run(&probes, &options, &mut |p| {
        status.show(&format!("probing {p}"))
    })?;
    drop(status);
    // The plot first, so that tables that cannot be printed (`| head`) lose no plot; a plot
    // that cannot be written is reported after the tables, which are never lost to it.
    let mut failed = None;
    if let Some(to) = &plot_to
        && let Some(fork) = reports.iter().find(|r| r.probe == ProbeKind::ForkRss)
    {
        let svg = plot::line_chart(
            "Process start-up against the parent's resident memory",
            "parent RSS (MiB)",
            "latency (ms, log scale)",
            &fork.series,
        )?;
        failed = to.write(svg.as_bytes()).err();
    }
    // With the plot on standard output (`--plot -`), the tables go to stderr.
    let printed = if plot_to == Some(Output::Stdout) {
        let width = parlab::report::width::of_stderr();
        print_reports(
            &mut std::io::stderr().lock(),
            &a,
            &python_note,
            &reports,
            width,
        )
    } else {
        let width = parlab::report::width::of_stdout();
        print_reports(
            &mut std::io::stdout().lock(),
            &a,
            &python_note,
            &reports,
            width,
        )
    };
    if let Some(e) = &failed {
        eprintln!("error: {}", super::shown(e));
    }
    printed?;
    Ok(match (failed, parlab::interrupt::requested()) {
        // Stopped while the plot waited for its reader (a FIFO).
        (Some(_), Some(signal)) => ExitCode::from(128 + signal as u8),
        (Some(_), None) => ExitCode::from(super::EXIT_FAILURE),
        (None, _) => ExitCode::SUCCESS,
    })
}

/// `--plot`: only with the fork-rss probe, not onto standard output beside `--json`, and onto
/// no file of `protected`.
fn plot_destination(
    a: &ProbeArgs,
    probes: &[ProbeKind],
    protected: &Protected,
) -> parlab::Result<Option<Output>> {
    let Some(path) = &a.plot else {
        return Ok(None);
    };
    if !probes.contains(&ProbeKind::ForkRss) {
        return Err(parlab::Error::invalid(
            "plot",
            path.as_str(),
            "--plot draws the fork-rss probe, which is not selected",
        ));
    }
    let to = Output::parse_with("plot path", path, protected)?;
    if a.json && to == Output::Stdout {
        return Err(parlab::Error::invalid(
            "plot path",
            path.as_str(),
            "--json already writes to standard output; give the plot a file",
        ));
    }
    Ok(Some(to))
}

fn print_reports(
    out: &mut impl Write,
    a: &ProbeArgs,
    python_note: &str,
    reports: &[ProbeReport],
    width: usize,
) -> Result<()> {
    if a.json {
        writeln!(out, "{}", serde_json::to_string(&reports)?)?;
    } else {
        let prose = parlab::report::width::prose(width);
        super::paragraph(
            out,
            &format!("What workers cost on this machine ({python_note})"),
            prose,
        )?;
        for r in reports {
            print_report(out, r, width)?;
        }
    }
    Ok(())
}

/// One probe's rows: the median, least and most of each row's samples, and how many samples
/// there were (one sample has no spread: its least and most are left blank).
fn print_report(out: &mut impl Write, r: &ProbeReport, width: usize) -> std::io::Result<()> {
    let mut table = Table::new([
        Column::left("what").min_width(58).wrap(24),
        Column::right("median").min_width(11),
        Column::right("min").min_width(11),
        Column::right("max").min_width(11),
        Column::right("samples").short("n"),
        Column::left("unit").gap(2).spill(6),
    ]);
    table.fit(width);
    for row in &r.rows {
        match &row.value {
            Ok(s) => {
                let spread = |v: f64| if s.n > 1 { figure(v) } else { "-".into() };
                table.row([
                    row.what.clone(),
                    figure(s.median),
                    spread(s.min),
                    spread(s.max),
                    s.n.to_string(),
                    row.unit.to_string(),
                ])
            }
            Err(why) => table.row([
                row.what.clone(),
                "-".into(),
                "-".into(),
                "-".into(),
                "0".into(),
                format!("not measured: {why}"),
            ]),
        };
    }
    table.notes(&r.conclusion);
    writeln!(out)?;
    super::paragraph(out, &r.title, parlab::report::width::prose(width))?;
    write!(out, "\n{}", table.render())
}
