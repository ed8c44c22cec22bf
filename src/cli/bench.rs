//! `parlab bench`: the matrix, a progress bar, a table, and the exports.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Result;
use indicatif::{ProgressBar, ProgressStyle};

use parlab::backend::BackendKind;
use parlab::bench::{self, BenchOptions, BenchReport};
use parlab::kernels::Kernel;
use parlab::number::parse_u64_in;
use parlab::report::csv::Csv;
use parlab::report::export::Exporter;
use parlab::report::html::Html;
use parlab::report::json::Json;
use parlab::report::markdown::{self, Markdown};
use parlab::report::output::{Output, Protected};
use parlab::report::speedup::SpeedupPlot;
use parlab::report::table::{Column, Table};
use parlab::units::parse_positive_duration;

use super::args::BenchArgs;
use super::run::policy;
use super::verify::parse_workers;

fn count(what: &'static str, text: &str, lo: u64, hi: u64) -> parlab::Result<usize> {
    Ok(parse_u64_in(what, text, lo, hi)? as usize)
}

impl BenchArgs {
    /// What to benchmark, from the command line: each flag given, checked, in place of its
    /// default in [`BenchOptions::default`]. `--runs` alone asks for exactly that many rounds:
    /// no `--precision` then, unless it is given too.
    pub fn options(&self) -> parlab::Result<BenchOptions> {
        let default = BenchOptions::default();
        let backends: Vec<BackendKind> = self
            .backend
            .iter()
            .map(|b| b.parse())
            .collect::<Result<_, _>>()?;
        let workers = if self.workers.is_empty() {
            default.workers
        } else {
            self.workers
                .iter()
                .map(|w| parse_workers(Some(w)))
                .collect::<Result<_, _>>()?
        };
        let kernels: Vec<Kernel> = self
            .kernel
            .iter()
            .map(|k| k.parse())
            .collect::<Result<_, _>>()?;
        let ranges = self
            .range
            .iter()
            .map(|r| r.parse())
            .collect::<Result<_, _>>()?;
        let mut options = self.settings.options()?;
        options.policy = policy(self.timeout.as_deref(), "0")?;
        let mpirun: Vec<String> = self.mpirun.split_whitespace().map(String::from).collect();
        if mpirun.is_empty() && backends.contains(&BackendKind::Mpi) {
            return Err(parlab::Error::invalid(
                "mpirun",
                self.mpirun.as_str(),
                "a launcher command, e.g. \"mpirun --oversubscribe\"",
            ));
        }
        options.mpirun = Some(mpirun);
        let min_time = match &self.min_time {
            Some(t) => Some(parse_positive_duration("min time", t)?),
            None => default.min_time,
        };
        Ok(BenchOptions {
            backends,
            workers,
            kernels,
            ranges,
            split: self.split.parse()?,
            warmup: count("warm-up rounds", &self.warmup, 0, 100)?,
            runs: match &self.runs {
                Some(r) => count("runs", r, 1, 10_000)?,
                None => default.runs,
            },
            precision: match (&self.precision, &self.runs) {
                (Some(p), _) => bench::parse_precision(p)?,
                (None, Some(_)) => None,
                (None, None) => default.precision,
            },
            max_time: match &self.max_time {
                Some(t) => Some(parse_positive_duration("max time", t)?),
                None => default.max_time,
            },
            min_time,
            options,
        })
    }
}

pub fn bench(a: BenchArgs) -> Result<ExitCode> {
    let spec = a.options()?;

    let mut exports = exports(&a)?;
    let baseline = baseline(&a, &spec)?;
    // A report on standard output must stay one clean document: the table goes to stderr.
    let to_stdout = exports.iter().any(|e| e.to == Output::Stdout);

    // The bar is made at the first run, when the engine has said whether the total is known.
    let live = !a.quiet && std::io::stderr().is_terminal();
    let mut bar: Option<ProgressBar> = None;
    let report = bench::run(
        &spec,
        &mut |p| {
            if live {
                let bar = bar.get_or_insert_with(|| progress_bar(p));
                bar.set_position(p.done as u64);
                bar.set_message(format!(
                    "{}; {}: {}",
                    progress_words(p, &spec),
                    p.phase,
                    p.cell
                ));
            }
        },
        &mut |r| {
            // Files are rewritten as the benchmark goes, so Ctrl-C leaves the rounds measured;
            // a failed write is kept to report at the end, and the benchmark goes on.
            let compared = baseline.as_ref().map(|b| b.compare(r));
            let r = compared.as_ref().unwrap_or(r);
            for e in exports.iter_mut().filter(|e| e.to.is_rewritable()) {
                e.failed = e.format.write(r, &e.to).err();
            }
            Ok(())
        },
    )?;
    let report = match &baseline {
        Some(b) => b.compare(&report),
        None => report,
    };
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    // Standard output and special files get one whole document, at the end; before the table,
    // so that a table that cannot be printed (`| head`) loses no export.
    for e in exports.iter_mut().filter(|e| !e.to.is_rewritable()) {
        e.failed = e.format.write(&report, &e.to).err();
    }
    let wide = |w: usize| (!a.wide).then_some(w);
    let table = if to_stdout {
        let w = wide(parlab::report::width::of_stderr());
        print_table(&mut std::io::stderr().lock(), &report, w)
    } else {
        let w = wide(parlab::report::width::of_stdout());
        print_table(&mut std::io::stdout().lock(), &report, w)
    };
    let failed: Vec<_> = exports.iter().filter_map(|e| e.failed.as_ref()).collect();
    for e in &failed {
        eprintln!("error: {}", super::shown(e));
    }
    table?;
    if let Some(stopped) = &report.interrupted {
        let kept = exports.iter().filter(|e| e.failed.is_none()).count();
        let (when, held) = match report.rounds {
            0 => (
                "before any round was measured".to_string(),
                "the settings and no run",
            ),
            1 => ("after 1 round measured".to_string(), "that round"),
            n => (format!("after {n} rounds measured"), "those rounds"),
        };
        let tail = match (kept, exports.len()) {
            (_, 0) => String::new(),
            (0, _) => "; no export could be written".to_string(),
            (k, n) if k == n => format!("; the exports hold {held}"),
            _ => format!("; the exports written hold {held}"),
        };
        eprintln!("error: {stopped} {when}{tail}");
        let signal = parlab::interrupt::requested().unwrap_or(2);
        return Ok(ExitCode::from(128 + signal as u8));
    }
    // A stop asked for while an export still waited for its reader (a FIFO): the exit of a
    // process stopped by that signal, as for a stop during the runs.
    if let Some(signal) = parlab::interrupt::requested() {
        return Ok(ExitCode::from(128 + signal as u8));
    }
    if !report.all_correct() {
        let bad = report
            .cells
            .iter()
            .filter(|c| c.mismatches > 0 || !c.errors.is_empty())
            .count();
        eprintln!(
            "error: {} had wrong answers or failed runs (see the status column)",
            parlab::units::count(bad as u64, "cell")
        );
        return Ok(ExitCode::from(super::EXIT_FAILURE));
    }
    if !failed.is_empty() {
        return Ok(ExitCode::from(super::EXIT_FAILURE));
    }
    if let Some(c) = report.comparison.as_ref().filter(|c| c.failed()) {
        for s in &c.slower {
            eprintln!("slower: {}", s.line());
        }
        eprintln!(
            "error: {} slower than the baseline by more than {:.0}%",
            parlab::units::count(c.slower.len() as u64, "cell"),
            c.fail_if_slower.unwrap_or(0.0) * 100.0
        );
        return Ok(ExitCode::from(super::EXIT_FAILURE));
    }
    Ok(ExitCode::SUCCESS)
}

/// The progress bar for a benchmark: a bar of every run when the total is known from the
/// start, else an open count with no total and no time left, since neither is known. The
/// message (where it stands, then the run under way) is cut to what the terminal's width
/// leaves.
fn progress_bar(p: &bench::BenchProgress) -> ProgressBar {
    let (bar, template) = match p.total {
        Some(total) => (
            ProgressBar::new(total as u64),
            "{spinner} [{elapsed_precise}] {bar:24} {pos}/{len} runs, {wide_msg}",
        ),
        None => (
            ProgressBar::new_spinner(),
            "{spinner} [{elapsed_precise}] {pos} runs, {wide_msg}",
        ),
    };
    bar.set_style(ProgressStyle::with_template(template).expect("valid template"));
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// Where a benchmark stands, in words: the time left from the rounds measured when the total
/// is known; else the round and what ends the benchmark.
fn progress_words(p: &bench::BenchProgress, spec: &BenchOptions) -> String {
    if p.total.is_some() {
        return match p.eta {
            Some(eta) => {
                let s = eta.as_secs_f64().round() as u64;
                if s < 60 {
                    format!("{s}s left")
                } else {
                    format!("{}m{:02}s left", s / 60, s % 60)
                }
            }
            None => "time left after the first round".to_string(),
        };
    }
    let mut until = Vec::new();
    if let Some(precision) = spec.precision {
        until.push(format!("±{}%", precision * 100.0));
    }
    if let Some(t) = spec.min_time {
        until.push(format!("{} a cell", parlab::units::format_duration(t)));
    }
    let by = spec.max_time.map_or(String::new(), |t| {
        format!(", none after {}", parlab::units::format_duration(t))
    });
    format!(
        "round {} of {}+ (until {}{by})",
        p.round,
        p.least_rounds,
        until.join(" and ")
    )
}

/// The saved report to compare with and the gate on it, checked before any work.
struct Baseline {
    file: String,
    report: BenchReport,
    fail_if_slower: Option<f64>,
}

impl Baseline {
    /// `now` with every common cell's change and the comparison section.
    fn compare(&self, now: &BenchReport) -> BenchReport {
        let mut r = now.clone();
        bench::baseline::annotate(&mut r, &self.report, &self.file, self.fail_if_slower);
        r
    }
}

/// `--baseline` and `--fail-if-slower`: the gate needs a baseline, the percentage must parse,
/// and the file must be a report of this schema sharing a cell with `spec`.
fn baseline(a: &BenchArgs, spec: &BenchOptions) -> parlab::Result<Option<Baseline>> {
    let fail_if_slower = match &a.fail_if_slower {
        Some(p) => Some(bench::baseline::parse_fail_if_slower(p)?),
        None => None,
    };
    let Some(file) = &a.baseline else {
        return match &a.fail_if_slower {
            Some(p) => Err(parlab::Error::invalid(
                "--fail-if-slower",
                p.as_str(),
                "needs --baseline OLD.json, the report to compare with",
            )),
            None => Ok(None),
        };
    };
    let report = bench::baseline::load(file)?;
    bench::baseline::check_overlap(file, &report, &spec.cell_keys())?;
    Ok(Some(Baseline {
        file: file.clone(),
        report,
        fail_if_slower,
    }))
}

/// One export the user asked for: its format, where it goes, and its last write's error.
struct Export {
    format: Box<dyn Exporter>,
    to: Output,
    failed: Option<parlab::Error>,
}

/// The exports named on the command line, every destination checked before any work; two
/// exports to one place (two `-`, or two names of one file) are bad input, and so is an export
/// onto the baseline or parlab's own program.
fn exports(a: &BenchArgs) -> parlab::Result<Vec<Export>> {
    let mut protected = Protected::program();
    if let Some(b) = &a.baseline {
        protected = protected.input(
            format!("the baseline this benchmark compares with (--baseline {b})"),
            b,
        );
    }
    let mut exports: Vec<Export> = Vec::new();
    let mut flags: Vec<&str> = Vec::new();
    for (path, format, what, flag) in [
        (
            &a.export_json,
            Box::new(Json) as Box<dyn Exporter>,
            "JSON export path",
            "--export-json",
        ),
        (
            &a.export_csv,
            Box::new(Csv),
            "CSV export path",
            "--export-csv",
        ),
        (
            &a.export_markdown,
            Box::new(Markdown),
            "Markdown export path",
            "--export-markdown",
        ),
        (
            &a.export_html,
            Box::new(Html),
            "HTML export path",
            "--export-html",
        ),
        (&a.plot, Box::new(SpeedupPlot), "plot path", "--plot"),
    ] {
        let Some(p) = path else { continue };
        let to = Output::parse_with(what, p, &protected)?;
        if let Some(i) = exports.iter().position(|e| e.to.same_place(&to)) {
            return Err(parlab::Error::invalid(
                what,
                p.as_str(),
                format!(
                    "{} already writes there; give each export a place of its own",
                    flags[i]
                ),
            ));
        }
        flags.push(flag);
        exports.push(Export {
            format,
            to,
            failed: None,
        });
    }
    Ok(exports)
}

/// The table on the terminal: the Markdown export's columns that have something to show,
/// fitted to `width` (none: `--wide`, every column however wide), the columns that give way
/// first being those the exports hold anyway.
fn print_table(out: &mut impl Write, r: &BenchReport, width: Option<usize>) -> std::io::Result<()> {
    let prose = parlab::report::width::prose(width.unwrap_or(parlab::report::width::DEFAULT));
    for line in markdown::machine_lines(r)
        .into_iter()
        .chain(markdown::comparison_lines(r))
    {
        super::paragraph(out, &line, prose)?;
    }
    let [kernel, range, backend, workers] = super::job_columns();
    let columns = [
        kernel,
        range,
        backend,
        workers,
        Column::right("median wall (± sd)")
            .min_width(22)
            .gap(2)
            .short("wall (± sd)")
            .optional(6),
        Column::right("speedup (95% CI)")
            .min_width(22)
            .short("speedup"),
        Column::right("of ceiling").min_width(14).optional(5),
        Column::right("efficiency").optional(3),
        Column::right("CPU user / sys").optional(2),
        Column::right("peak RSS").optional(1),
        Column::right("serial fraction (Karp-Flatt)")
            .min_width(20)
            .short("serial fraction")
            .optional(4),
        Column::right("wall vs baseline")
            .min_width(18)
            .short("vs baseline"),
        Column::left("status").gap(2).spill(16),
    ];
    let shown = markdown::shown_columns(r);
    let mut table = Table::new(
        columns
            .into_iter()
            .enumerate()
            .filter(|(i, _)| shown.contains(i))
            .map(|(_, c)| c),
    );
    if let Some(w) = width {
        table
            .fit(w)
            .when_cut("--wide shows every column, and the exports hold them.");
    }
    for c in &r.cells {
        let mut cells = markdown::cells_of(c);
        let status = &mut cells[12];
        if let Some(e) = c.errors.first().or(c.artefact.as_ref()) {
            status.push_str(&format!(": {e}"));
        }
        if c.within_precision == Some(false) {
            status.push_str(", interval wider than --precision");
        }
        table.row(
            cells
                .into_iter()
                .enumerate()
                .filter(|(i, _)| shown.contains(i))
                .map(|(_, v)| v),
        );
    }
    for c in &r.ceilings.at {
        table.note(format!(
            "The machine's ceiling at {} workers (a perfectly parallel loop, measured before every \
             round): {}, between {:.2}x and {:.2}x over the rounds.",
            c.workers,
            c.ceiling.ratio(),
            c.range.0,
            c.range.1
        ));
    }
    if !r.ceilings.at.is_empty() {
        table.note(format!(
            "The ceiling probes took {:.2} s, {:.1}% of the benchmark.",
            r.ceilings.cost_s,
            r.ceilings.cost_share * 100.0
        ));
    }
    table.notes(markdown::findings(r));
    write!(out, "\n{}", table.render())
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::super::args::{Cli, Command};
    use super::*;

    fn args(line: &[&str]) -> BenchArgs {
        let line = ["parlab", "bench"].iter().chain(line);
        match Cli::try_parse_from(line).unwrap().command {
            Command::Bench(a) => *a,
            other => panic!("not bench: {other:?}"),
        }
    }

    /// The defaults `--help` shows (clap's) are the library's.
    #[test]
    fn the_flags_defaults_are_the_librarys() {
        let given = args(&[]).options().unwrap();
        assert_eq!(
            format!("{given:?}"),
            format!("{:?}", BenchOptions::default())
        );
    }

    /// The defaults `--help` states in words are the library's too.
    #[test]
    fn the_defaults_in_the_help_are_the_librarys() {
        use clap::CommandFactory;
        let d = BenchOptions::default();
        let cli = Cli::command();
        let bench = cli.find_subcommand("bench").unwrap();
        let help = |id: &str| {
            let arg = bench.get_arguments().find(|a| a.get_id() == id).unwrap();
            arg.get_help().unwrap().to_string()
        };
        let max_time = parlab::units::format_duration(d.max_time.unwrap());
        assert!(help("max_time").contains(&format!("[default: {max_time}]")));
        let precision = format!("[default: {}% unless --runs", d.precision.unwrap() * 100.0);
        assert!(
            help("precision").contains(&precision),
            "{}",
            help("precision")
        );
        let runs = format!("at least {}, then more", d.runs);
        assert!(help("runs").contains(&runs), "{}", help("runs"));
    }

    #[test]
    fn runs_alone_ask_for_exactly_that_many_rounds() {
        let o = args(&["--runs", "3"]).options().unwrap();
        assert_eq!((o.runs, o.precision), (3, None));
        let o = args(&["--runs", "3", "--precision", "2%"])
            .options()
            .unwrap();
        assert_eq!((o.runs, o.precision), (3, Some(0.02)));
        let o = args(&["--precision", "off", "--max-time", "2s"])
            .options()
            .unwrap();
        assert_eq!(o.precision, None);
        assert_eq!(o.max_time, Some(Duration::from_secs(2)));
        let e = args(&["--max-time", "0s"]).options().unwrap_err();
        assert!(e.to_string().contains("above zero"), "{e}");
    }
}
