//! `parlab reproduce`: the seed experiment as tables with verdicts.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;

use parlab::report::table::{Column, Table};
use parlab::reproduce::{self, ReproduceOptions, ReproduceReport, Section, verdict};
use parlab::stats::Estimate;
use parlab::units::{figure, seconds};

use super::args::ReproduceArgs;

impl ReproduceArgs {
    /// What to run, from the command line (every default is [`ReproduceOptions::default`]'s).
    pub fn options(&self) -> parlab::Result<ReproduceOptions> {
        Ok(ReproduceOptions {
            quick: self.quick,
            python: !self.python.no_python,
            python_spec: self.python.python.clone(),
            python_start: self.python_start.clone(),
            backends: self.settings.options()?,
        })
    }
}

pub fn reproduce(a: ReproduceArgs) -> Result<ExitCode> {
    let options = a.options()?;
    let status = super::StatusLine::new();
    let report = reproduce::run(&options, &mut |what, i, n| {
        status.show(&format!("[{i}/{n}] {what}"))
    })?;
    drop(status);
    let mut out = std::io::stdout().lock();
    if a.json {
        writeln!(out, "{}", serde_json::to_string(&report)?)?;
    } else {
        let width = parlab::report::width::of_stdout();
        print_report(&mut out, &report, width, a.wide)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The report as text: prose wrapped to `width` (at most 100 columns), tables fitted to it
/// unless `wide`.
fn print_report(
    out: &mut impl Write,
    r: &ReproduceReport,
    width: usize,
    wide: bool,
) -> std::io::Result<()> {
    let prose = parlab::report::width::prose(width);
    let python = match &r.python_missing {
        Some(why) => why.clone(),
        None => {
            let all: Vec<String> = r.pythons.iter().map(|p| p.info.label()).collect();
            format!("CPython {}", all.join(", "))
        }
    };
    let say = |out: &mut dyn Write, text: &str| -> std::io::Result<()> {
        write!(out, "{}", parlab::report::width::paragraph(text, prose))
    };
    say(
        out,
        &format!(
            "The seed experiment, reproduced ({} CPUs; {})",
            r.cpus,
            super::shown(&python)
        ),
    )?;
    if let Some(busy) = &r.busy_warning {
        say(out, &format!("Warning: {busy}."))?;
    }
    let fitted = |t: &mut Table| {
        if !wide {
            t.fit(width).when_cut("--wide shows every column.");
        }
        t.render()
    };
    if !r.pythons.is_empty() {
        writeln!(out)?;
        write!(out, "{}", fitted(&mut pythons_table(r)))?;
    }
    for (n, section) in [(1, &r.cpu), (2, &r.io)] {
        writeln!(out)?;
        say(out, &format!("{n}. {}: {}", section.title, section.job))?;
        writeln!(out)?;
        write!(out, "{}", fitted(&mut section_table(section)))?;
    }
    writeln!(out)?;
    say(
        out,
        &format!(
            "3. Inside the GIL: CPython against parlab's model (switch interval {} ms)",
            r.switch_interval_s * 1e3
        ),
    )?;
    writeln!(out)?;
    write!(out, "{}", fitted(&mut inside_table(r)))?;
    if !r.fidelity.is_empty() {
        writeln!(out)?;
        say(
            out,
            "4. Fidelity: each GIL model against the interpreter it models (targets: 15% on the \
             thread ratios, 10% on the hold, 2x on the convoy)",
        )?;
        writeln!(out)?;
        write!(out, "{}", fitted(&mut fidelity_table(r)))?;
    }
    if !r.summary.is_empty() {
        writeln!(out)?;
        say(out, "Summary: speedup at 2 workers against 1 thread")?;
        writeln!(out)?;
        write!(out, "{}", fitted(&mut summary_table(r)))?;
    }
    Ok(())
}

/// Each interpreter: who it is, its GIL, how its processes rows started, and the notes on
/// those left out.
fn pythons_table(r: &ReproduceReport) -> Table {
    let mut t = Table::new([
        Column::left("interpreter").min_width(18),
        Column::left("implementation").min_width(14),
        Column::left("GIL").min_width(8),
        Column::left("processes by").min_width(12),
        Column::left("subinterpreters").min_width(16),
        Column::left("program").gap(2).spill(12),
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

/// Each model's measures against its interpreter's, under a heading per model and
/// interpreter.
fn fidelity_table(r: &ReproduceReport) -> Table {
    let mut t = Table::new([
        Column::left("measure").min_width(38).wrap(16),
        Column::right("model").min_width(10),
        Column::right("CPython").min_width(10),
        Column::right("ratio").min_width(7),
        Column::left("target").gap(2),
    ]);
    let mut last = None;
    for f in &r.fidelity {
        let pair = (f.model.as_str(), f.python.as_str());
        if last != Some(pair) {
            t.heading(format!("{} against {}", f.model, f.python));
            last = Some(pair);
        }
        t.row([
            format!("  {}", f.measure),
            with_interval(&f.model_value),
            with_interval(&f.python_value),
            f.ratio.figure(2, ""),
            f.judgement.word().to_string(),
        ]);
    }
    t.notes(&r.fidelity_verdict);
    t
}

fn summary_table(r: &ReproduceReport) -> Table {
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

/// Rows of a section under a heading per family (who ran them), and its verdict. A measured
/// row shows its runs, its speedup's interval (paired rounds) and, with more than one worker
/// on the CPU-bound job, the machine's ceiling and the share of it reached.
fn section_table(s: &Section) -> Table {
    let mut t = Table::new([
        Column::left("who, variant").min_width(16),
        Column::right("result").min_width(10).optional(2),
        Column::right("wall s").min_width(8),
        Column::right("CPUs").min_width(4),
        Column::right("runs").min_width(4),
        Column::right("speedup (95% CI)")
            .min_width(18)
            .short("speedup"),
        Column::right("ceiling").min_width(7).optional(1),
        Column::right("of ceiling").min_width(10),
        Column::left("note").gap(2).spill(12),
    ]);
    let mut last_family = String::new();
    for row in &s.rows {
        let family = row.who.family();
        if family != last_family {
            t.heading(family.clone());
            last_family = family;
        }
        let gil = row.gil.as_ref().filter(|g| g.handoffs > 0).map(|g| {
            format!(
                "{}, hold median {}",
                parlab::units::count(g.handoffs, "hand-off"),
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
            format!("  {}", row.variant),
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
fn inside_table(r: &ReproduceReport) -> Table {
    let mut t = Table::new([
        Column::left("measure").min_width(58).wrap(24),
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

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::super::args::{Cli, Command};
    use super::*;

    fn args(line: &[&str]) -> ReproduceArgs {
        let line = ["parlab", "reproduce"].iter().chain(line);
        match Cli::try_parse_from(line).unwrap().command {
            Command::Reproduce(a) => a,
            other => panic!("not reproduce: {other:?}"),
        }
    }

    /// No flag: the library's defaults, the backends' settings included (clap's defaults for
    /// `--switch-interval` and `--check-interval`, which `--help` shows, are theirs).
    #[test]
    fn the_flags_defaults_are_the_librarys() {
        let given = args(&[]).options().unwrap();
        assert_eq!(
            format!("{given:?}"),
            format!("{:?}", ReproduceOptions::default())
        );
        let o = args(&["--no-python", "--quick", "--switch-interval", "1ms"])
            .options()
            .unwrap();
        assert!(o.quick && !o.python);
        assert_eq!(
            o.backends.switch_interval,
            std::time::Duration::from_millis(1)
        );
    }
}
