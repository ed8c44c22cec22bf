//! `memory`: resident memory of an idle thread and of an idle worker process.
//!
//! Threads: the growth of this process's RSS when 64 threads are started and left blocked.
//! Processes: RSS and PSS (RSS with shared pages divided among their users) of idle parlab
//! worker processes, read from `/proc/<pid>/smaps_rollup`.

use std::sync::{Arc, Barrier};
use std::time::Duration;

use super::{Options, ProbeKind, Report, Row, Stats, proc_kib, times};
use crate::error::{Error, Result};

/// Runs the probe.
pub fn probe(o: &Options) -> Result<Report> {
    let threads = 64;
    let workers = if o.quick { 2 } else { 4 };
    let mut rows = Vec::new();

    let rss = || proc_kib("/proc/self/status", "VmRSS:").unwrap_or(0.0);
    let before = rss();
    let gate = Arc::new(Barrier::new(threads + 1));
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let gate = gate.clone();
            std::thread::spawn(move || {
                gate.wait();
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(50));
    let per_thread = (rss() - before).max(0.0) / threads as f64;
    gate.wait();
    for h in handles {
        h.join()
            .map_err(|_| Error::io("joining a thread", std::io::Error::other("panicked")))?;
    }
    rows.push(Row::new(
        "idle thread: RSS added to the process",
        "KiB",
        Stats::single(per_thread),
    ));

    let mut children = Vec::with_capacity(workers);
    for _ in 0..workers {
        let child = o
            .processes
            .idle_worker()
            .map_err(|e| Error::io("starting an idle worker", e))?;
        children.push(child);
    }
    std::thread::sleep(Duration::from_millis(100));
    let mut rss_kib = Vec::new();
    let mut pss_kib = Vec::new();
    for c in &children {
        let path = format!("/proc/{}/smaps_rollup", c.id());
        rss_kib.push(proc_kib(&path, "Rss:").unwrap_or(0.0));
        pss_kib.push(proc_kib(&path, "Pss:").unwrap_or(0.0));
    }
    for mut c in children {
        // Closing its input ends an idle worker.
        drop(c.stdin.take());
        let _ = c.wait();
    }
    let rss_s = Stats::of(rss_kib);
    let pss_s = Stats::of(pss_kib);
    rows.push(Row::new("idle parlab worker process: RSS", "KiB", rss_s));
    rows.push(Row::new(
        "idle parlab worker process: PSS (shared pages split)",
        "KiB",
        pss_s,
    ));

    let conclusion = vec![format!(
        "An idle thread adds {per_thread:.0} KiB of resident memory (its stack is reserved, \
         not touched); an idle worker process holds {:.0} KiB ({:.0} KiB once shared pages \
         are split), {} a thread.",
        rss_s.median,
        pss_s.median,
        times(pss_s.median, per_thread.max(1.0))
    )];
    Ok(Report {
        probe: ProbeKind::Memory,
        title: "memory: resident memory per idle worker".into(),
        rows,
        conclusion,
        series: Vec::new(),
    })
}
