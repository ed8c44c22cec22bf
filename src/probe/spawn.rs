//! `spawn`: what it costs to create a worker and reap it.

use super::figures::{MS, Stats, US, time_reps, times, versus};
use super::fork::{TrueProgram, exit_now, fork_wait, spawn_true};
use super::{ProbeFigure, ProbeKind, ProbeOptions, ProbeReport};
use crate::backend::Backend;
use crate::backend::processes::StartMethod;
use crate::error::{Error, Result};
use crate::job::Job;
use crate::observer::Silent;

/// Runs the probe.
pub fn probe(o: &ProbeOptions) -> Result<ProbeReport> {
    let reps = if o.quick { 20 } else { 200 };
    let mut rows = Vec::new();

    // `std::thread::spawn` itself, but a thread the OS refuses is an error naming the limit.
    let thread = time_reps(reps * 5, US, || {
        std::thread::Builder::new()
            .spawn(|| {})
            .map_err(|e| crate::limits::start_error("starting a thread".into(), e, 0))?
            .join()
            .map_err(|_| Error::io("joining a thread", std::io::Error::other("panicked")))
    })?;
    rows.push(ProbeFigure::new(
        "thread: std::thread::spawn + join",
        "us",
        thread,
    ));

    let fork = time_reps(reps, US, || fork_wait(|| exit_now(0)))?;
    rows.push(ProbeFigure::new(
        "process: fork + _exit + waitpid",
        "us",
        fork,
    ));

    let program = TrueProgram::new();
    let fork_exec = time_reps(reps, US, || fork_wait(|| program.exec()))?;
    rows.push(ProbeFigure::new(
        "process: fork + exec /bin/true + waitpid",
        "us",
        fork_exec,
    ));

    let posix_spawn = time_reps(reps, US, spawn_true)?;
    rows.push(ProbeFigure::new(
        "process: posix_spawn /bin/true + waitpid (std Command)",
        "us",
        posix_spawn,
    ));

    let empty = Job {
        range: crate::span::Span { start: 0, end: 0 },
        ..Job::seed()
    };
    let mut worker = |start: StartMethod| -> Result<_> {
        let processes = o.processes.clone().with_start(start);
        let stats = time_reps(reps / 2, US, || processes.run(&empty, 1, &Silent).map(drop));
        // The fork server started for this row is not left behind.
        crate::backend::processes::shut_down();
        let stats = stats?;
        rows.push(ProbeFigure::new(
            format!("parlab worker ({start}): start, 1 part, stop, reap"),
            "us",
            stats,
        ));
        Ok(stats)
    };
    let spawned = worker(StartMethod::Spawn)?;
    let forked = worker(StartMethod::ForkServer)?;

    let mut notes = Vec::new();
    let pys = super::on_pythons(
        o,
        &["spawn".into(), (if o.quick { 3 } else { 10 }).to_string()],
        &mut notes,
    )?;
    const CPYTHON: [(&str, &str, &str, f64); 4] = [
        ("thread", "CPython threading.Thread start + join", "us", US),
        (
            "process_fork",
            "CPython multiprocessing.Process, fork",
            "ms",
            MS,
        ),
        (
            "process_forkserver",
            "CPython multiprocessing.Process, forkserver",
            "ms",
            MS,
        ),
        (
            "process_spawn",
            "CPython multiprocessing.Process, spawn",
            "ms",
            MS,
        ),
    ];
    if pys.is_empty() {
        for (_, what, unit, _) in CPYTHON {
            rows.push(ProbeFigure::skipped(what, unit, "no CPython used"));
        }
    }
    for (version, v) in &pys {
        for (key, what, unit, scale) in CPYTHON {
            let what = format!("{what} ({version})");
            rows.push(match Stats::from_python(&v[key], scale) {
                Some(s) => ProbeFigure::new(what, unit, s),
                // Python 2 has no start methods to choose from.
                None => {
                    ProbeFigure::skipped(what, unit, "no start methods to choose in this version")
                }
            });
        }
    }

    let mut conclusion = vec![format!(
        "A thread is created and joined in {:.0} us; a process costs {} that by fork and {} \
         by fork + exec, so threads are the cheaper workers to start, as the seed says.",
        thread.median,
        times(fork.median, thread.median),
        times(fork_exec.median, thread.median),
    )];
    conclusion.push(format!(
        "A parlab worker process started by spawn (exec of parlab, handshake, one part, exit) \
         costs {:.2} ms, {} a bare posix_spawn of /bin/true; forked by the fork server it costs \
         {:.2} ms, {}{}.",
        spawned.median / 1e3,
        times(spawned.median, posix_spawn.median),
        forked.median / 1e3,
        versus(forked.median, spawned.median, "more", "less"),
        if forked.median > spawned.median {
            " (a busy machine?)"
        } else {
            ""
        },
    ));
    for (version, v) in &pys {
        for (key, method, parlab) in [
            ("process_spawn", "spawn", &spawned),
            ("process_forkserver", "forkserver", &forked),
        ] {
            if let Some(python) = Stats::from_python(&v[key], MS) {
                conclusion.push(format!(
                    "CPython {version}'s {method} start method takes {:.1} ms per process, {} \
                     a parlab worker started the same way.",
                    python.median,
                    times(python.median * 1e3, parlab.median)
                ));
            }
        }
    }
    conclusion.extend(notes);
    Ok(ProbeReport {
        probe: ProbeKind::Spawn,
        title: "spawn: create and reap one worker".into(),
        rows,
        conclusion,
        series: Vec::new(),
    })
}
