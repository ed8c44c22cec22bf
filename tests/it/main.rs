//! parlab's integration tests: one binary, one module per concern.

mod backends;
mod bad_input;
mod baseline;
mod bench;
mod cli;
mod exports;
mod faults;
mod gil;
#[cfg(feature = "gpu")]
mod gpu;
mod hostile;
mod limits;
#[cfg(feature = "mpi")]
mod mpi;
mod probe;
mod processes;
mod python;
mod pythons;
mod reproduce;
mod signals;
mod soak;

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
