//! parlab's integration tests: one binary, one module per concern.
//!
//! # Timing bounds
//!
//! The suite passes on a machine whose CPUs are all taken by other work: it asserts answers,
//! words and structure, not speed (speed is what `bench` and `reproduce` measure, and
//! BENCHMARKS.md records). The bounds on time that remain, and why each holds on a busy
//! machine:
//!
//! - Limits against a hang, far above the time the work takes and below the point where a
//!   hang would show: a failed run within 15 s (`faults`; `run` kills the command at 30 s), a
//!   killed worker reported within 5 s of the kill while its siblings' parts sleep 9.7 s more
//!   (`processes`), a stopped fork server within 10 s of its 2 s deadline (`processes`), a
//!   signalled run stopped within 5 s while its parts sleep 10 s (`signals`), failed start-ups
//!   within 20 s of their 2 s and 0.5 s limits (`limits`), the `python` command's bad input
//!   within 20 s (map mode's within 30 s) and a hang stopped by its 1 s timeout within 30 s, a
//!   livelock ended by the default 10 s limit within 120 s (`python`), the MPI faults
//!   within 20 s (`mpi`).
//! - Waits that end as soon as what they wait for happens, with room for seconds of delay:
//!   workers to appear (20 s), processes to be gone (5 or 10 s), a first export (60 s), a
//!   fake interpreter to run (10 s).
//! - Floors that load cannot break, since a sleep cannot end early: one thread's 200 sleeps
//!   of 2 ms take at least 0.4 s (`gil`); a benchmark's rounds of sleeps outlast the moment a
//!   directory is removed beside them (`exports`).
//! - Ratios within one test: four GIL threads overlap their sleeps, 1.25x as fast as one
//!   thread timed beside them at least (about 4x on a quiet machine, 2x with every CPU taken;
//!   `gil`); a thread starts faster than a fork+exec, a child writing every page of a 256 MiB
//!   parent is slower than of a small one (`probe`); a CPU-bound GIL turn lasts at least the
//!   switch interval (load only lengthens it) and at most a fifth of the run (`gil`).
//! - Baselines made far from any run: a nanosecond and a thousand seconds a run (`baseline`).
//! - `bench --precision` is held to its interval only when the run stopped before its
//!   `--max-time` (`bench`); a busy machine that runs out of time asks nothing of it.
//! - Words that depend on what was measured are checked against the figures they stand on,
//!   not expected: the I/O section says threads help only beside a row that ran faster (`cli`).
//!   No speedup is asked for: the browser test wants each plotted line's points, not their
//!   height (`bench`); a row's busy CPUs are more than none and no more than its threads
//!   (`reproduce`); the machine's ceiling is asked for where a round kept a sample of it (a
//!   busy machine's sample above what the CPUs allow is dropped; `bench`, and the engine's
//!   unit test).

mod backends;
mod bad_input;
mod baseline;
mod bench;
mod cli;
mod docs;
mod exports;
mod faults;
mod gil;
#[cfg(feature = "gpu")]
mod gpu;
mod hostile;
mod hostile_input;
mod intervals;
mod limits;
#[cfg(feature = "mpi")]
mod mpi;
mod names;
mod probe;
mod processes;
mod python;
mod pythons;
mod random_input;
mod reproduce;
mod signals;
mod soak;
mod today;
mod width;

use parlab::backend::processes::worker::WORKER_ARG;
use parlab::backend::processes::{Processes, StartMethod};

/// The processes backend with the parlab binary built for these tests as its worker, started
/// by `spawn`.
pub fn processes_backend() -> Processes {
    Processes::with_worker(env!("CARGO_BIN_EXE_parlab"), [WORKER_ARG])
}

/// The same, with workers forked by a fork server.
pub fn forkserver_backend() -> Processes {
    processes_backend().with_start(StartMethod::ForkServer)
}

/// The children of `pid` (of any of its threads), from /proc.
pub fn children(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    if let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) {
        for task in tasks.flatten() {
            if let Ok(list) = std::fs::read_to_string(task.path().join("children")) {
                out.extend(
                    list.split_whitespace()
                        .filter_map(|p| p.parse::<u32>().ok()),
                );
            }
        }
    }
    out
}

/// True while `pid` exists (as a process of any state other than gone).
pub fn alive(pid: u32) -> bool {
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), None).is_ok()
}

/// Runs one ignored test of this binary alone in a process of its own, for tests that measure
/// the whole process (its descriptors, threads, children), which other tests would disturb.
pub fn run_isolated(test: &str) {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            test,
            "--test-threads=1",
            "--nocapture",
        ])
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("1 passed"), "{test} did not run: {text}");
    // A check the test skipped is not silent here either.
    for line in text.lines().filter(|l| l.starts_with("skipped:")) {
        eprintln!("{test}: {line}");
    }
}

/// Whether `python3` (3.6 or later) is on the PATH; says the test skips where it is not.
pub fn have_python() -> bool {
    let ok = std::process::Command::new("python3")
        .args(["-c", "import sys; sys.exit(sys.version_info < (3, 6))"])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("skipped: no python3 (3.6+) on the PATH");
    }
    ok
}
