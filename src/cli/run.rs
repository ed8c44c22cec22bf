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

pub fn run(a: RunArgs) -> Result<ExitCode> {
    let job = Job {
        kernel: a.kernel.parse()?,
        range: a.range.parse()?,
        split: a.split.parse()?,
    };
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
