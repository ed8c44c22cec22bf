//! `memory`: resident memory of an idle thread and of an idle worker process.
//!
//! Threads: the growth of this process's RSS when 64 threads are started and left blocked.
//! Processes: RSS and PSS (RSS with shared pages divided among their users) of idle parlab
//! worker processes, by each start method, read from `/proc/<pid>/smaps_rollup`.

use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::Duration;

use super::figures::times;
use super::{ProbeFigure, ProbeKind, ProbeOptions, ProbeReport, Stats};
use crate::backend::processes::StartMethod;
use crate::error::{Error, Result};
use crate::measure::rusage::proc_field;

/// Runs the probe.
pub fn probe(o: &ProbeOptions) -> Result<ProbeReport> {
    let threads = 64;
    let workers = if o.quick { 2 } else { 4 };
    let mut rows = Vec::new();

    let rss = || proc_field::<f64>("/proc/self/status", "VmRSS:").unwrap_or(0.0);
    let before = rss();
    // The threads block until the gate opens; it opens after the measurement, or at once when
    // the OS refuses a thread, so that none is left waiting.
    let gate = Arc::new((Mutex::new(false), Condvar::new()));
    let open = |gate: &(Mutex<bool>, Condvar)| {
        *gate.0.lock().unwrap_or_else(PoisonError::into_inner) = true;
        gate.1.notify_all();
    };
    let mut handles = Vec::with_capacity(threads);
    for i in 0..threads {
        let waits = gate.clone();
        let started = crate::limits::spawn(&format!("parlab-probe-idle-{i}"), move || {
            let (lock, cv) = &*waits;
            let mut opened = lock.lock().unwrap_or_else(PoisonError::into_inner);
            while !*opened {
                opened = cv.wait(opened).unwrap_or_else(PoisonError::into_inner);
            }
        });
        match started {
            Ok(h) => handles.push(h),
            Err(e) => {
                open(&gate);
                for h in handles {
                    let _ = h.join();
                }
                return Err(e);
            }
        }
    }
    std::thread::sleep(Duration::from_millis(50));
    let per_thread = (rss() - before).max(0.0) / threads as f64;
    open(&gate);
    for h in handles {
        h.join()
            .map_err(|_| Error::io("joining a thread", std::io::Error::other("panicked")))?;
    }
    rows.push(ProbeFigure::new(
        "idle thread: RSS added to the process",
        "KiB",
        Stats::single(per_thread),
    ));

    let mut idle = |start: StartMethod| -> Result<(Stats, Stats)> {
        let workers = o.processes.clone().with_start(start).idle_workers(workers);
        let measured = workers.map(|workers| {
            std::thread::sleep(Duration::from_millis(100));
            let (mut rss_kib, mut pss_kib) = (Vec::new(), Vec::new());
            for w in &workers {
                let path = format!("/proc/{}/smaps_rollup", w.pid());
                rss_kib.push(proc_field::<f64>(&path, "Rss:").unwrap_or(0.0));
                pss_kib.push(proc_field::<f64>(&path, "Pss:").unwrap_or(0.0));
            }
            // Dropped, the workers end.
            (Stats::of(rss_kib), Stats::of(pss_kib))
        });
        // The fork server is not left behind either.
        crate::backend::processes::shut_down();
        let (rss, pss) = measured?;
        rows.push(ProbeFigure::new(
            format!("idle parlab worker ({start}): RSS"),
            "KiB",
            rss,
        ));
        rows.push(ProbeFigure::new(
            format!("idle parlab worker ({start}): PSS (shared split)"),
            "KiB",
            pss,
        ));
        Ok((rss, pss))
    };
    let (rss_spawn, pss_spawn) = idle(StartMethod::Spawn)?;
    let (rss_fork, pss_fork) = idle(StartMethod::ForkServer)?;

    let conclusion = vec![
        format!(
            "An idle thread adds {per_thread:.0} KiB of resident memory (its stack is reserved, \
             not touched); an idle spawned worker process holds {:.0} KiB ({:.0} KiB once \
             shared pages are split), {} a thread.",
            rss_spawn.median,
            pss_spawn.median,
            times(pss_spawn.median, per_thread.max(1.0))
        ),
        format!(
            "A worker forked by the fork server holds {:.0} KiB ({:.0} KiB split): it shares \
             its pages, copy-on-write, with the server and its siblings.",
            rss_fork.median, pss_fork.median,
        ),
    ];
    Ok(ProbeReport {
        probe: ProbeKind::Memory,
        title: "memory: resident memory per idle worker".into(),
        rows,
        conclusion,
        series: Vec::new(),
    })
}
