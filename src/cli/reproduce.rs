//! `parlab reproduce`: the seed experiment as tables with verdicts.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;

use parlab::report::table::{Column, Table};
use parlab::reproduce::{self, Options, Report, Section, verdict};
use parlab::stats::Estimate;
use parlab::units::{figure, seconds};

use super::args::ReproduceArgs;

pub fn reproduce(a: ReproduceArgs) -> Result<ExitCode> {
    let options = Options {
        quick: a.quick,
        python: !a.python.no_python,
        python_spec: a.python.python,
        python_start: a.python_start,
        backends: a.settings.options()?,
    };
    let status = super::StatusLine::new();
    let report = reproduce::run(&options, &mut |what, i, n| {
        status.show(&format!("[{i}/{n}] {what}"))
    })?;
    drop(status);
    let mut out = std::io::stdout().lock();
    if a.json {
        writeln!(out, "{}", serde_json::to_string(&report)?)?;
    } else {
        print_report(&mut out, &report)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn print_report(out: &mut impl Write, r: &Report) -> std::io::Result<()> {
    let python = match &r.python_missing {
        Some(why) => why.clone(),
        None => {
            let all: Vec<String> = r.pythons.iter().map(|p| p.info.label()).collect();
            format!("CPython {}", all.join(", "))
        }
    };
    writeln!(
        out,
        "The seed experiment, reproduced ({} CPUs; {})",
        r.cpus,
        super::shown(&python)
    )?;
    if let Some(busy) = &r.busy_warning {
        writeln!(out, "Warning: {busy}.")?;
    }
    if !r.pythons.is_empty() {
        writeln!(out)?;
        write!(out, "{}", pythons_table(r).render())?;
    }
    for (n, section) in [(1, &r.cpu), (2, &r.io)] {
        writeln!(out)?;
        writeln!(out, "{n}. {}: {}", section.title, section.job)?;
        writeln!(out)?;
        write!(out, "{}", section_table(section).render())?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "3. Inside the GIL: CPython against parlab's model (switch interval {} ms)",
        r.switch_interval_s * 1e3
    )?;
    writeln!(out)?;
    write!(out, "{}", inside_table(r).render())?;
    if !r.fidelity.is_empty() {
        writeln!(out)?;
        writeln!(
            out,
            "4. Fidelity: each GIL model against the interpreter it models (targets: 15% on \
             the thread ratios, 10% on the hold, 2x on the convoy)"
        )?;
        writeln!(out)?;
        write!(out, "{}", fidelity_table(r).render())?;
    }
    if !r.summary.is_empty() {
        writeln!(out)?;
        writeln!(out, "Summary: speedup at 2 workers against 1 thread")?;
        writeln!(out)?;
        write!(out, "{}", summary_table(r).render())?;
    }
    Ok(())
}

/// Each interpreter: who it is, its GIL, how its processes rows started, and the notes on
/// those left out.
fn pythons_table(r: &Report) -> Table {
    let mut t = Table::new([
        Column::left("interpreter").min_width(18),
        Column::left("implementation").min_width(14),
        Column::left("GIL").min_width(8),
        Column::left("processes by").min_width(12),
        Column::left("subinterpreters").min_width(16),
        Column::left("program").gap(2),
    ]);
    for p in &r.pythons {
        t.row([
            format!("CPython {}", p.info.label()),
            p.info.implementation.clone(),
            match (p.info.gil_enabled, p.info.free_threaded) {
                (true, true) => "back on",
                (true, false) => "enabled",
                (false, _) => "disabled",
            }
            .to_string(),
            p.processes_start.clone().unwrap_or_else(|| "-".into()),
            p.info.subinterpreters.clone().unwrap_or_else(|| "-".into()),
            p.program.display().to_string(),
        ]);
    }
    t.notes(&r.python_notes);
    t
}

/// A figure and its interval, each number written by [`figure`]: "5.09 (5.01-5.20)", or the
/// figure alone when exact.
fn with_interval(e: &Estimate) -> String {
    e.written_as(figure(e.value), figure)
}

fn fidelity_table(r: &Report) -> Table {
    let mut t = Table::new([
        Column::left("model").min_width(11),
        Column::left("interpreter").min_width(16),
        Column::left("measure").min_width(36),
        Column::right("model").min_width(10),
        Column::right("CPython").min_width(10),
        Column::right("ratio").min_width(7),
        Column::left("target").gap(2),
    ]);
    for f in &r.fidelity {
        t.row([
            f.model.clone(),
            f.python.clone(),
            f.measure.clone(),
            with_interval(&f.model_value),
            with_interval(&f.python_value),
            f.ratio.figure(2, ""),
            f.judgement.word().to_string(),
        ]);
    }
    t.notes(&r.fidelity_verdict);
    t
}

fn summary_table(r: &Report) -> Table {
    let mut t = Table::new([
        Column::left("interpreter").min_width(18),
        Column::right("threads").min_width(9),
        Column::right("processes").min_width(10),
        Column::right("subinterpreters").min_width(16),
    ]);
    let x = |s: Option<f64>| s.map_or("-".into(), |v| format!("{v:.2}x"));
    for s in &r.summary {
        t.row([
            s.python.clone(),
            x(s.threads),
            x(s.processes),
            x(s.subinterpreters),
        ]);
    }
    t
}

/// Rows of a section, the family named once at the head of its group, and its verdict. A
/// measured row shows its runs, its speedup's interval (paired rounds) and, with more than one
/// worker on the CPU-bound job, the machine's ceiling and the share of it reached.
fn section_table(s: &Section) -> Table {
    let mut t = Table::new([
        Column::left("who").min_width(24),
        Column::left("variant").min_width(12),
        Column::right("result").min_width(12),
        Column::right("wall s").min_width(10),
        Column::right("CPUs").min_width(4),
        Column::right("runs").min_width(4),
        Column::right("speedup (95% CI)").min_width(18),
        Column::right("ceiling").min_width(7),
        Column::right("of ceiling").min_width(10),
        Column::left("note").gap(2),
    ]);
    let mut last_family = String::new();
    for row in &s.rows {
        let family = row.who.family();
        let shown = if family == last_family {
            String::new()
        } else {
            family.clone()
        };
        last_family = family;
        let gil = row.gil.as_ref().filter(|g| g.handoffs > 0).map(|g| {
            format!(
                "{} hand-offs, hold median {}",
                g.handoffs,
                seconds(g.hold_median_s)
            )
        });
        let spread = row.spread.as_ref();
        let equal = spread
            .filter(|s| verdict::clock_misleads(s))
            .map(|s| format!("{} by the clock", s.speedup.ratio()));
        let note: Vec<String> = [row.note.clone(), gil, equal]
            .into_iter()
            .flatten()
            .collect();
        t.row([
            shown,
            row.variant.to_string(),
            row.result.map_or("-".into(), |v| v.to_string()),
            row.wall_s.map_or("-".into(), |v| format!("{v:.3}")),
            spread
                .and_then(|s| s.cpus)
                .map_or("".into(), |c| format!("{:.2}", c.value)),
            row.spread.map_or("-".into(), |s| s.runs.to_string()),
            row.judged_estimate().map_or("".into(), |e| e.ratio()),
            spread
                .and_then(|s| s.ceiling)
                .map_or("".into(), |c| format!("{:.2}x", c.value)),
            spread
                .and_then(|s| s.vs_ceiling)
                .map_or("".into(), |v| v.figure(2, "")),
            note.join("; "),
        ]);
    }
    let mut notes = s.verdict.clone();
    if let Some(p) = s.probes {
        notes.push(format!(
            "The ceiling probes took {} ({:.1}% of this section's measuring).",
            parlab::units::seconds(p.seconds),
            100.0 * p.share
        ));
    }
    t.notes(&notes);
    t
}

/// CPython against the model, metric by metric, and the verdict.
fn inside_table(r: &Report) -> Table {
    let mut t = Table::new([
        Column::left("measure").min_width(58),
        Column::right("CPython").min_width(24),
        Column::right("parlab gil").min_width(24),
        Column::left("unit").gap(2),
    ]);
    for c in &r.inside {
        t.row([
            c.metric.describe().to_string(),
            c.cpython.as_ref().map_or("-".to_string(), with_interval),
            with_interval(&c.parlab),
            c.metric.unit().to_string(),
        ]);
    }
    t.notes(&r.inside_verdict);
    t
}
