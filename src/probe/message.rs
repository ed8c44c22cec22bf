//! `message`: how many messages per second workers can exchange.
//!
//! - threads: a `std::sync::mpsc` channel of integers, one producer, one consumer;
//! - processes: parlab's own frame protocol over pipes, as the `processes` backend uses it (one
//!   worker process answering one-index parts: a `Part` frame out, a `Done` frame back, batched);
//! - CPython's `multiprocessing.Queue`, one row per interpreter used (`--python`).

use std::sync::mpsc;
use std::time::Instant;

use super::figures::{check_interrupt, per_second, versus};
use super::{ProbeFigure, ProbeKind, ProbeOptions, ProbeReport, Stats};
use crate::backend::Backend;
use crate::error::{Error, Result};
use crate::job::Job;
use crate::kernels::Kernel;
use crate::observer::Silent;
use crate::span::Span;
use crate::split::Split;

/// Runs the probe.
pub fn probe(o: &ProbeOptions) -> Result<ProbeReport> {
    let n: u64 = if o.quick { 200_000 } else { 2_000_000 };
    let reps = if o.quick { 3 } else { 5 };
    let mut rows = Vec::new();

    let mut xs = Vec::new();
    for _ in 0..reps {
        check_interrupt()?;
        let (tx, rx) = mpsc::channel::<u64>();
        let t0 = Instant::now();
        let producer = crate::limits::spawn("parlab-probe-producer", move || {
            for i in 0..n {
                if tx.send(i).is_err() {
                    break;
                }
            }
        })?;
        let mut got = 0u64;
        while rx.recv().is_ok() {
            got += 1;
        }
        let elapsed = t0.elapsed().as_secs_f64();
        producer
            .join()
            .map_err(|_| Error::io("joining the producer", std::io::Error::other("panicked")))?;
        if got != n {
            return Err(Error::io(
                "channel probe",
                std::io::Error::other("messages lost"),
            ));
        }
        xs.push(n as f64 / elapsed);
    }
    let threads = Stats::of(xs);
    rows.push(ProbeFigure::new(
        "threads: std mpsc channel",
        "msgs/s",
        threads,
    ));

    let parts = n / 4;
    let job = Job {
        kernel: Kernel::Count,
        range: Span {
            start: 0,
            end: parts,
        },
        split: Split::Chunks(1),
    };
    let mut xs = Vec::new();
    for _ in 0..reps {
        let t0 = Instant::now();
        let total = o.processes.run(&job, 1, &Silent)?;
        let elapsed = t0.elapsed().as_secs_f64();
        if total.headline() != parts as u128 {
            return Err(Error::io(
                "pipe probe",
                std::io::Error::other("wrong total"),
            ));
        }
        // Every part is two messages: Part out, Done back.
        xs.push(2.0 * parts as f64 / elapsed);
    }
    let pipes = Stats::of(xs);
    rows.push(ProbeFigure::new(
        "processes: parlab frames over pipes (Part + Done)",
        "msgs/s",
        pipes,
    ));

    let mut notes = Vec::new();
    let pys = super::on_pythons(o, &["queue".into(), (n / 10).to_string()], &mut notes)?;
    let what = "CPython multiprocessing.Queue, 1 producer process";
    if pys.is_empty() {
        rows.push(ProbeFigure::skipped(what, "msgs/s", "no CPython used"));
    }
    let queues: Vec<(&String, Option<f64>)> = pys
        .iter()
        .map(|(version, v)| (version, v["per_s"].as_f64()))
        .collect();
    for (version, queue) in &queues {
        let what = format!("{what} ({version})");
        rows.push(match queue {
            Some(q) => ProbeFigure::new(what, "msgs/s", Stats::single(*q)),
            None => ProbeFigure::skipped(what, "msgs/s", "no rate in its output"),
        });
    }

    let mut conclusion = vec![format!(
        "Threads pass {} messages/s through a channel, processes {}/s through pipes with \
         parlab's batched binary frames ({} than the channel): processes need a way to pass \
         results back, and a good one costs little.",
        per_second(threads.median),
        per_second(pipes.median),
        versus(pipes.median, threads.median, "faster", "slower"),
    )];
    for (version, queue) in queues {
        if let Some(q) = queue {
            conclusion.push(format!(
                "CPython {version}'s multiprocessing.Queue carries {} messages/s, {} than \
                 parlab's pipes.",
                per_second(q),
                versus(q, pipes.median, "more", "fewer"),
            ));
        }
    }
    conclusion.extend(notes);
    Ok(ProbeReport {
        probe: ProbeKind::Message,
        title: "message: messages per second between two workers".into(),
        rows,
        conclusion,
        series: Vec::new(),
    })
}
