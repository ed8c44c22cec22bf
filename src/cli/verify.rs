//! `parlab verify`: every backend against the sequential answer.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;

use parlab::backend::BackendKind;
use parlab::kernels::Kernel;
use parlab::number::parse_u64_in;
use parlab::report::table::{Column, Table};
use parlab::verify::{self, Matrix, VerifiedCase};

use super::args::VerifyArgs;

/// Parses a worker count; absent means the machine's available parallelism.
pub fn parse_workers(text: Option<&str>) -> parlab::Result<usize> {
    match text {
        None => Ok(std::thread::available_parallelism().map_or(1, |n| n.get())),
        Some(t) => {
            let n = parse_u64_in("workers", t, 1, parlab::backend::MAX_WORKERS as u64)?;
            Ok(n as usize)
        }
    }
}

impl VerifyArgs {
    /// What to verify, from the command line: each flag given, checked, in place of its part
    /// of [`Matrix::default`] (a `--range` for every kernel in place of each one's own).
    pub fn matrix(&self) -> parlab::Result<Matrix> {
        let mut m = if self.backend.is_empty() {
            Matrix::default()
        } else {
            Matrix::default_for(
                self.backend
                    .iter()
                    .map(|b| b.parse())
                    .collect::<Result<_, _>>()?,
            )
        };
        if !self.kernel.is_empty() {
            let kernels: Vec<Kernel> = self
                .kernel
                .iter()
                .map(|k| k.parse())
                .collect::<Result<_, _>>()?;
            m.jobs = kernels
                .iter()
                .map(|k| (*k, verify::default_range(k)))
                .collect();
        }
        if let Some(r) = &self.range {
            let range = r.parse()?;
            for (_, span) in &mut m.jobs {
                *span = range;
            }
        }
        m.workers = self
            .workers
            .iter()
            .map(|w| parse_workers(Some(w)))
            .collect::<Result<_, _>>()?;
        if !self.split.is_empty() {
            m.splits = self
                .split
                .iter()
                .map(|s| s.parse().map(Some))
                .collect::<Result<_, _>>()?;
        }
        Ok(m)
    }
}

pub fn verify(a: VerifyArgs) -> Result<ExitCode> {
    let options = a.settings.options()?;
    let m = a.matrix()?;

    let mut out = std::io::stdout().lock();
    let width = parlab::report::width::of_stdout();
    // The GPU is set up before the first case, and its set-up reported apart from theirs.
    let gpu = if m.backends.contains(&BackendKind::Gpu) {
        Some(parlab::backend::gpu::info()?)
    } else {
        None
    };
    if let Some(g) = gpu.as_ref().filter(|_| !a.json) {
        let prose = parlab::report::width::prose(width);
        super::paragraph(
            &mut out,
            &format!("Adapter: {}", super::shown(g.description())),
            prose,
        )?;
        super::paragraph(
            &mut out,
            &format!("GPU set-up: {}; not in any case's time", g.setup()),
            prose,
        )?;
    }
    let references = verify::references(&m)?;
    // Rows are printed as they finish, so the columns are laid out beforehand, from the cases
    // to come and their expected answers (a wrong answer of other length pushes its line); a
    // long error goes on the lines under its row.
    let mut table = Table::new(super::job_columns().into_iter().chain([
        Column::left("split").min_width(16).gap(2),
        Column::right("result").min_width(24),
        Column::right("time").min_width(10).gap(2).optional(1),
        Column::left("status").gap(2).spill(6),
    ]));
    if !a.wide {
        table.fit(width).when_cut("--wide shows every column.");
    }
    for (&(kernel, range), expected) in m.jobs.iter().zip(&references) {
        for backend in &m.backends {
            for split in &m.splits {
                let split = split.unwrap_or_else(|| verify::default_chunks(range));
                for workers in &m.workers {
                    table.sizing_row([
                        kernel.to_string(),
                        range.to_string(),
                        backend.to_string(),
                        workers.to_string(),
                        split.to_string(),
                        expected.headline().to_string(),
                        "99999.99ms".to_string(),
                        "ok".to_string(),
                    ]);
                }
            }
        }
    }
    if !a.json {
        write!(out, "{}", table.header_line())?;
    }
    let rows = verify::run_against(
        &m,
        &references,
        &|k| k.create_with(&options),
        &mut |row: &VerifiedCase| {
            let _ = if a.json {
                writeln!(
                    out,
                    "{}",
                    serde_json::json!({
                        "kernel": row.job.kernel,
                        "range": row.job.range,
                        "split": row.job.split,
                        "backend": row.backend,
                        "workers": row.workers,
                        "expected": row.expected,
                        "got": row.got.as_ref().ok(),
                        "error": row.got.as_ref().err(),
                        "passed": row.passed(),
                        "elapsed_s": row.elapsed.as_secs_f64(),
                        "gpu": gpu.as_ref().filter(|_| row.backend == BackendKind::Gpu),
                    })
                )
            } else {
                let (result, status) = match &row.got {
                    Ok(t) if row.passed() => (t.headline().to_string(), "ok".to_string()),
                    Ok(t) => (
                        t.headline().to_string(),
                        format!("MISMATCH: expected {}", row.expected.headline()),
                    ),
                    Err(e) => ("-".to_string(), format!("ERROR: {e}")),
                };
                write!(
                    out,
                    "{}",
                    table.row_line(&[
                        row.job.kernel.to_string(),
                        row.job.range.to_string(),
                        row.backend.to_string(),
                        row.workers.to_string(),
                        row.job.split.to_string(),
                        result,
                        format!("{:.2}ms", row.elapsed.as_secs_f64() * 1e3),
                        status,
                    ])
                )
            };
        },
    )?;
    let failed = rows.iter().filter(|r| !r.passed()).count();
    if !a.json {
        let left_out = verify::left_out(&m.backends, options.start);
        let mut summary = format!(
            "{}: {} passed, {} failed.",
            parlab::units::count(rows.len() as u64, "case"),
            rows.len() - failed,
            failed
        );
        if !left_out.is_empty() {
            summary.push_str(&format!(" Not verified: {}.", left_out.join("; ")));
        }
        if let Some(cut) = table.left_out() {
            summary.push_str(&format!(" {cut}"));
        }
        super::paragraph(&mut out, &summary, parlab::report::width::prose(width))?;
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(super::EXIT_FAILURE)
    })
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::super::args::{Cli, Command};
    use super::*;

    fn args(line: &[&str]) -> VerifyArgs {
        let line = ["parlab", "verify"].iter().chain(line);
        match Cli::try_parse_from(line).unwrap().command {
            Command::Verify(a) => a,
            other => panic!("not verify: {other:?}"),
        }
    }

    /// The defaults `--help` shows (clap's `--workers`) are the library's.
    #[test]
    fn the_flags_defaults_are_the_librarys() {
        let given = args(&[]).matrix().unwrap();
        assert_eq!(format!("{given:?}"), format!("{:?}", Matrix::default()));
        let m = args(&["-k", "pi", "-r", "0..10", "-b", "threads", "-s", "static"])
            .matrix()
            .unwrap();
        assert_eq!(m.jobs, vec![(Kernel::Pi, "0..10".parse().unwrap())]);
        assert_eq!(m.backends, vec![BackendKind::Threads]);
        assert_eq!(m.splits, vec![Some(parlab::split::Split::Static)]);
    }
}
