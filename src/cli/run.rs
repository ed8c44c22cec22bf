//! `parlab run`: one job on one backend.

use std::process::ExitCode;
use std::time::Instant;

use anyhow::Result;

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};

use parlab::backend::mpi::MpiRun;
use parlab::backend::processes::StartMethod;
use parlab::backend::record::RunRecord;
use parlab::backend::{BackendKind, BackendOptions, Policy};
use parlab::job::Job;
use parlab::number::parse_u64_in;
use parlab::observer::Observer;
use parlab::span::Part;
use parlab::units::parse_positive_duration;

/// Counts retries and tells of each on standard error.
#[derive(Default)]
struct Capture {
    retries: AtomicU64,
}

impl Observer for Capture {
    fn part_retried(&self, part: Part, attempt: u32, cause: &parlab::Error) {
        self.retries.fetch_add(1, Ordering::Relaxed);
        eprintln!(
            "retry {attempt} of part {} ({}..{}) after: {cause}",
            part.index, part.start, part.end
        );
    }
}

/// Parses `--timeout` and `--retries`.
pub fn policy(timeout: Option<&str>, retries: &str) -> parlab::Result<Policy> {
    let timeout = match timeout {
        None => None,
        Some(t) => Some(parse_positive_duration("timeout", t)?),
    };
    let retries = parse_u64_in("retries", retries, 0, 100)? as u32;
    Ok(Policy { timeout, retries })
}

impl BackendArgs {
    /// The backend settings, checked; timeouts and retries at their defaults.
    pub fn options(&self) -> parlab::Result<BackendOptions> {
        let switch_interval = parse_positive_duration("switch interval", &self.switch_interval)?;
        let check_interval =
            parse_u64_in("check interval", &self.check_interval, 1, 1_000_000)? as u32;
        Ok(BackendOptions {
            switch_interval,
            check_interval,
            policy: Policy::default(),
            start: match &self.start {
                Some(s) => s.parse()?,
                None => StartMethod::default(),
            },
            ..BackendOptions::default()
        })
    }
}

use super::args::{BackendArgs, RunArgs};

impl RunArgs {
    /// The job, from the command line: by default the seed experiment ([`Job::seed`]).
    pub fn job(&self) -> parlab::Result<Job> {
        Ok(Job {
            kernel: self.kernel.parse()?,
            range: self.range.parse()?,
            split: self.split.parse()?,
        })
    }
}

pub fn run(a: RunArgs) -> Result<ExitCode> {
    let job = a.job()?;
    let backend: BackendKind = a.backend.parse()?;
    let mut options = a.settings.options()?;
    options.policy = policy(a.timeout.as_deref(), &a.retries)?;
    let capture = Capture::default();
    // Under MPI the ranks are the workers, and only rank 0 reports.
    let mpi = match backend {
        BackendKind::Mpi => Some(MpiRun::init()?),
        _ => None,
    };
    let workers = match &mpi {
        Some(m) => m.size(),
        None => super::verify::parse_workers(a.workers.as_deref())?,
    };
    let parts = job.plan(workers).len();
    // The GPU is set up before the clock starts, and its set-up reported apart.
    let gpu = match backend {
        BackendKind::Gpu => Some(parlab::backend::gpu::info()?),
        _ => None,
    };

    let t0 = Instant::now();
    let (total, gil) = match &mpi {
        Some(m) => match m.run(&job, &capture) {
            Ok(Some(total)) => (total, None),
            Ok(None) => return Ok(ExitCode::SUCCESS),
            Err(e) => {
                eprintln!("error: rank {} of {}: {e}", m.rank(), m.size());
                if m.size() > 1 {
                    // Stop every rank now rather than leave them waiting for this one.
                    m.abort(1);
                }
                return Ok(ExitCode::from(1));
            }
        },
        None => backend
            .create_with(&options)
            .run_with_stats(&job, workers, &capture)?,
    };
    let elapsed = t0.elapsed().as_secs_f64();
    let retries = capture.retries.load(Ordering::Relaxed);

    let mut out = std::io::stdout().lock();
    if a.json {
        let mut record = RunRecord::new(&job, backend, workers, total);
        record.elapsed_s = elapsed;
        record.retries = retries;
        record.adapter = gpu.as_ref().map(|g| g.description());
        record.gpu = gpu;
        record.gil = gil;
        writeln!(out, "{}", record.to_line())?;
    } else {
        let width = parlab::report::width::prose(parlab::report::width::of_stdout());
        super::paragraph(&mut out, &format!("Result: {total}"), width)?;
        super::paragraph(
            &mut out,
            &format!(
                "kernel {}, range {}, split {} ({}), backend {backend}, {}",
                job.kernel,
                job.range,
                job.split,
                parlab::units::count(parts, "part"),
                parlab::units::count(workers as u64, "worker")
            ),
            width,
        )?;
        writeln!(out, "Elapsed: {elapsed:.4} s")?;
        if let Some(g) = &gpu {
            writeln!(out, "Adapter: {}", super::shown(g.description()))?;
            writeln!(out, "GPU set-up: {}; not in Elapsed", g.setup())?;
            writeln!(out, "GPU dispatches: {}", g.grid())?;
        }
        if retries > 0 {
            writeln!(
                out,
                "Retries: {retries} (the answer is checked like any other)"
            )?;
        }
        if let Some(g) = gil {
            let line = format!(
                "GIL ({}): {} ({:.0}/s), hold per turn median {:.3} ms, p90 {:.3} ms; drops: {} \
                 forced, {} voluntary; threads waited {:.3} s in total",
                g.model,
                parlab::units::count(g.handoffs, "hand-off"),
                g.handoffs_per_s,
                g.hold_median_s * 1e3,
                g.hold_p90_s * 1e3,
                g.forced_drops,
                g.voluntary_drops,
                g.wait_s,
            );
            super::paragraph(&mut out, &line, width)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::super::args::{Cli, Command};
    use super::*;

    fn args(line: &[&str]) -> RunArgs {
        let line = ["parlab", "run"].iter().chain(line);
        match Cli::try_parse_from(line).unwrap().command {
            Command::Run(a) => a,
            other => panic!("not run: {other:?}"),
        }
    }

    /// The defaults `--help` shows (clap's) are the library's: the seed job, the backends'
    /// settings (`--switch-interval`, `--check-interval`, `--start`), no timeout and no retry.
    #[test]
    fn the_flags_defaults_are_the_librarys() {
        let a = args(&[]);
        assert_eq!(a.job().unwrap(), Job::seed());
        assert_eq!(
            format!("{:?}", a.settings.options().unwrap()),
            format!("{:?}", BackendOptions::default())
        );
        assert_eq!(
            policy(a.timeout.as_deref(), &a.retries).unwrap(),
            Policy::default()
        );
    }

    #[test]
    fn a_timeout_or_interval_of_zero_is_refused() {
        let e = policy(Some("0s"), "0").unwrap_err().to_string();
        assert!(e.contains("'0s'") && e.contains("above zero"), "{e}");
        let a = args(&["--switch-interval", "0ms"]);
        let e = a.settings.options().unwrap_err().to_string();
        assert!(
            e.contains("switch interval") && e.contains("above zero"),
            "{e}"
        );
    }
}
