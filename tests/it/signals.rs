//! Ctrl-C and SIGTERM: parlab stops its workers, says what finished, exits 130 or 143, and
//! leaves no process behind.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::faults::sleep_args;
use crate::{alive, children};

/// Waits until `pid` has at least `want` children, up to 20 s (they start in milliseconds; a
/// busy machine may take seconds); returns the last list seen.
fn wait_for_children(pid: u32, want: usize) -> Vec<u32> {
    let t0 = Instant::now();
    let mut procs = children(pid);
    while procs.len() < want && t0.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(10));
        procs = children(pid);
    }
    procs
}

/// Starts a long job, waits until it runs `want_children` workers (or a moment for threads),
/// sends `signal` to parlab (or, as a terminal does, to its whole process group), and checks
/// the outcome.
fn stop_with(signal: Signal, backend: &str, want_children: usize, code: i32, to_group: bool) {
    use std::os::unix::process::CommandExt;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_parlab"));
    if to_group {
        cmd.process_group(0);
    }
    let child = cmd
        .args(sleep_args(backend, "0..30000"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let workers = wait_for_children(pid, want_children);
    assert!(
        workers.len() >= want_children,
        "workers never started: {workers:?}"
    );
    std::thread::sleep(Duration::from_millis(200));
    let sent = Instant::now();
    let target = if to_group { -(pid as i32) } else { pid as i32 };
    kill(Pid::from_raw(target), signal).unwrap();
    let out = child.wait_with_output().unwrap();
    let took = sent.elapsed();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(code), "{stderr}");
    // The job's parts sleep for 10 s: stopping takes milliseconds on a quiet machine, and 5 s
    // leaves room for a busy one while still failing a run that went on with its parts.
    assert!(took < Duration::from_secs(5), "took {took:?} to stop");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "interrupted by signal {} ({})",
            signal as i32,
            signal.as_str()
        )),
        "{stderr}"
    );
    assert!(stderr.contains("of 3 parts had finished"), "{stderr}");
    for w in workers {
        assert!(!alive(w), "worker {w} outlived parlab");
    }
}

#[test]
fn sigterm_stops_worker_processes_and_leaves_none() {
    stop_with(Signal::SIGTERM, "processes", 3, 143, false);
}

#[test]
fn ctrl_c_stops_worker_processes_and_leaves_none() {
    stop_with(Signal::SIGINT, "processes", 3, 130, false);
}

#[test]
fn ctrl_c_stops_threads_mid_part() {
    stop_with(Signal::SIGINT, "threads", 0, 130, false);
}

#[test]
fn sigterm_stops_the_gil_model_mid_part() {
    stop_with(Signal::SIGTERM, "gil", 0, 143, false);
}

#[test]
fn ctrl_c_in_a_terminal_signals_the_whole_group_and_still_reads_as_an_interruption() {
    // A terminal sends SIGINT to every process of the foreground group, workers included.
    stop_with(Signal::SIGINT, "processes", 3, 130, true);
}

/// True while `pid` runs: it exists and is not a zombie. (A process orphaned by a SIGKILLed
/// parent is reaped by whoever adopts it, which may take its time.)
fn running(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        let state = stat
            .rsplit_once(") ")
            .and_then(|(_, rest)| rest.chars().next());
        !matches!(state, Some('Z' | 'X') | None)
    })
}

#[test]
fn sigkill_of_parlab_takes_every_worker_and_the_fork_server_with_it() {
    // Nothing in parlab runs on SIGKILL: only PR_SET_PDEATHSIG can stop the workers.
    for (start, want) in [("spawn", 3), ("forkserver", 4)] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_parlab"))
            .args(sleep_args("processes", "0..30000"))
            .args(["--start", start])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let pid = child.id();
        let procs = wait_for_children(pid, want);
        assert_eq!(procs.len(), want, "{start}: {procs:?}");
        kill(Pid::from_raw(pid as i32), Signal::SIGKILL).unwrap();
        child.wait().unwrap();
        // The kernel stops them at once; their exit may wait for a CPU on a busy machine. 5 s
        // is still far less than the 10 s their parts would sleep on.
        let t0 = Instant::now();
        while procs.iter().any(|&p| running(p)) && t0.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(10));
        }
        let left: Vec<_> = procs.iter().copied().filter(|&p| running(p)).collect();
        assert!(
            left.is_empty(),
            "{start}: still running after parlab: {left:?}"
        );
    }
}
