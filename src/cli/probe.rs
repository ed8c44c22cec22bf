//! `parlab probe`: what threads and processes cost on this machine.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;

use parlab::backend::processes::Processes;
use parlab::cpython::Python;
use parlab::cpython::discover::{self, Places, Spec};
use parlab::probe::{self, Options, ProbeKind, Report};
use parlab::report::output::Output;
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
    if let Some(path) = &a.plot {
        if !probes.contains(&ProbeKind::ForkRss) {
            return Err(parlab::Error::invalid(
                "plot",
                path.as_str(),
                "--plot draws the fork-rss probe, which is not selected",
            )
            .into());
        }
        Output::parse("plot path", path)?;
    }
    // A --python the user named must be there and run as Python (exit 2 before probing);
    // the CPython rows use the first interpreter it names.
    let python = match (&a.python.python, a.python.no_python) {
        (_, true) => None,
        (Some(spec), false) => {
            let found = discover::resolve(&Spec::parse_list(spec)?, &Places::from_env())?;
            found.pythons.into_iter().next().map(|(p, _)| p)
        }
        (None, false) => Python::find(None)?,
    };
    let python_note = match (&python, a.python.no_python) {
        (Some(p), _) => format!("CPython {}", p.version),
        (None, true) => "CPython rows skipped (--no-python)".into(),
        (None, false) => "no interpreter found: CPython rows skipped".into(),
    };
    let options = Options {
        quick: a.quick,
        python,
        processes: Processes::default(),
    };
    let status = super::StatusLine::new();
    let reports = probe::run(&probes, &options, &mut |p| {
        status.show(&format!("probing {p}"))
    })?;
    drop(status);
    if let Some(path) = &a.plot
        && let Some(fork) = reports.iter().find(|r| r.probe == ProbeKind::ForkRss)
    {
        let svg = plot::line_chart(
            "Process start-up against the parent's resident memory",
            "parent RSS (MiB)",
            "latency (ms, log scale)",
            &fork.series,
        )?;
        Output::parse("plot path", path)?.write(svg.as_bytes())?;
    }
    let mut out = std::io::stdout().lock();
    if a.json {
        writeln!(out, "{}", serde_json::to_string(&reports)?)?;
    } else {
        writeln!(out, "What workers cost on this machine ({python_note})")?;
        for r in &reports {
            print_report(&mut out, r)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_report(out: &mut impl Write, r: &Report) -> std::io::Result<()> {
    let mut table = Table::new([
        Column::left("what").min_width(58),
        Column::right("median").min_width(11),
        Column::right("min").min_width(11),
        Column::right("max").min_width(11),
        Column::left("unit").gap(2),
    ]);
    for row in &r.rows {
        match &row.value {
            Ok(s) => table.row([
                row.what.clone(),
                figure(s.median),
                figure(s.min),
                figure(s.max),
                row.unit.to_string(),
            ]),
            Err(why) => table.row([
                row.what.clone(),
                "-".into(),
                "-".into(),
                "-".into(),
                format!("not measured: {why}"),
            ]),
        };
    }
    table.notes(&r.conclusion);
    write!(out, "\n{}\n\n{}", r.title, table.render())
}
