//! `spawn`: what it costs to create a worker and reap it.

use std::process::{Command, Stdio};

use super::{
    MS, Options, ProbeKind, Report, Row, TrueProgram, US, exit_now, fork_wait, python_stats,
    time_reps, times,
};
use crate::backend::Backend;
use crate::error::{Error, Result};
use crate::job::Job;
use crate::observer::Silent;

/// Runs the probe.
pub fn probe(o: &Options) -> Result<Report> {
    let reps = if o.quick { 20 } else { 200 };
    let mut rows = Vec::new();

    let thread = time_reps(reps * 5, US, || {
        std::thread::spawn(|| {})
            .join()
            .map_err(|_| Error::io("joining a thread", std::io::Error::other("panicked")))
    })?;
    rows.push(Row::new("thread: std::thread::spawn + join", "us", thread));

    let fork = time_reps(reps, US, || fork_wait(|| exit_now(0)))?;
    rows.push(Row::new("process: fork + _exit + waitpid", "us", fork));

    let program = TrueProgram::new();
    let fork_exec = time_reps(reps, US, || fork_wait(|| program.exec()))?;
    rows.push(Row::new(
        "process: fork + exec /bin/true + waitpid",
        "us",
        fork_exec,
    ));

    let posix_spawn = time_reps(reps, US, || {
        Command::new("/bin/true")
            .stdin(Stdio::null())
            .status()
            .map(drop)
            .map_err(|e| Error::io("spawning /bin/true", e))
    })?;
    rows.push(Row::new(
        "process: posix_spawn /bin/true + waitpid (std Command)",
        "us",
        posix_spawn,
    ));

    let empty = Job {
        range: crate::job::Span { start: 0, end: 0 },
        ..Job::seed()
    };
    let worker = time_reps(reps / 2, US, || {
        o.processes.run(&empty, 1, &Silent).map(drop)
    })?;
    rows.push(Row::new(
        "parlab worker: start, 1 empty part, shut down, reap",
        "us",
        worker,
    ));

    let py = match &o.python {
        Some(py) => Some(py.run(&["spawn".into(), (if o.quick { 3 } else { 10 }).to_string()])?),
        None => None,
    };
    for (key, what, unit, scale) in [
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
    ] {
        rows.push(
            match py.as_ref().and_then(|v| python_stats(&v[key], scale)) {
                Some(s) => Row::new(what, unit, s),
                None => Row::skipped(what, unit, "python3 not used"),
            },
        );
    }

    let mut conclusion = vec![format!(
        "A thread is created and joined in {:.0} us; a process costs {} that by fork and {} \
         by fork + exec, so threads are the cheaper workers to start, as the seed says.",
        thread.median,
        times(fork.median, thread.median),
        times(fork_exec.median, thread.median),
    )];
    conclusion.push(format!(
        "A parlab worker process (exec of parlab, handshake, one part, exit) costs {:.2} ms, \
         {} a bare posix_spawn of /bin/true.",
        worker.median / 1e3,
        times(worker.median, posix_spawn.median)
    ));
    if let Some(spawn) = py
        .as_ref()
        .and_then(|v| python_stats(&v["process_spawn"], MS))
    {
        conclusion.push(format!(
            "CPython's spawn start method takes {:.1} ms per process, {} a parlab worker.",
            spawn.median,
            times(spawn.median * 1e3, worker.median)
        ));
    }
    Ok(Report {
        probe: ProbeKind::Spawn,
        title: "spawn: create and reap one worker".into(),
        rows,
        conclusion,
        series: Vec::new(),
    })
}
