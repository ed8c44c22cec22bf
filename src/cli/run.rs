//! `parlab run`: one job on one backend.

use std::process::ExitCode;
use std::time::Instant;

use anyhow::Result;
use serde_json::json;

use parlab::backend::BackendKind;
use parlab::job::Job;
use parlab::observer::Silent;

use super::args::RunArgs;

pub fn run(a: RunArgs) -> Result<ExitCode> {
    let job = Job {
        kernel: a.kernel.parse()?,
        range: a.range.parse()?,
        split: a.split.parse()?,
    };
    let backend: BackendKind = a.backend.parse()?;
    let workers = super::verify::parse_workers(a.workers.as_deref())?;
    let parts = job.plan(workers).len();

    let t0 = Instant::now();
    let total = backend.create().run(&job, workers, &Silent)?;
    let elapsed = t0.elapsed().as_secs_f64();

    if a.json {
        let line = json!({
            "kernel": job.kernel,
            "range": job.range,
            "split": job.split,
            "parts": parts,
            "backend": backend,
            "workers": workers,
            "result": total,
            "headline": total.headline().to_string(),
            "elapsed_s": elapsed,
        });
        println!("{line}");
    } else {
        println!("Result: {total}");
        println!(
            "kernel {}, range {}, split {} ({parts} parts), backend {backend}, {workers} worker{}",
            job.kernel,
            job.range,
            job.split,
            if workers == 1 { "" } else { "s" }
        );
        println!("Elapsed: {elapsed:.4} s");
    }
    Ok(ExitCode::SUCCESS)
}
