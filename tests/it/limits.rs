//! Runs at the edges of what is accepted or allowed: the most workers by either start method, a
//! fork server or a worker that stops answering during start-up, too few file descriptors.
//! Each must finish or fail with one line within a bound that catches a hang (generous: this
//! is no performance target), and leave no process behind.

use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use parlab::backend::Backend;
use parlab::backend::processes::{Processes, StartMethod};
use parlab::job::Job;
use parlab::observer::Silent;

use crate::{alive, children};

/// Longer than anything here takes by far; only a hang reaches it.
const HANG: Duration = Duration::from_secs(60);

/// Runs `cmd` to its end, or kills it after [`HANG`] and fails the test.
fn finish(mut cmd: Command) -> Output {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if t0.elapsed() > HANG {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{cmd:?} did not end within {HANG:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

fn parlab() -> Command {
    Command::new(env!("CARGO_BIN_EXE_parlab"))
}

#[test]
fn the_most_workers_start_and_finish_by_either_method() {
    // 1024 workers once hung the fork server's start-up: requests were all sent before any
    // answer was read, and both socket buffers filled.
    for start in ["forkserver", "spawn"] {
        let mut cmd = parlab();
        cmd.args(["run", "-b", "processes", "--start", start, "-w", "1024"])
            .args(["-r", "0..100000", "-k", "sum"]);
        let out = finish(cmd);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{start}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.contains("Result: 4999950000"), "{start}: {stdout}");
        assert!(stdout.contains("1024 workers"), "{start}: {stdout}");
    }
}

/// Runs `job` on `backend` with `workers` in a thread, and fails the test if it takes longer
/// than [`HANG`]; the run's error message.
fn failure_within_bound(backend: Processes, workers: usize) -> (String, Duration) {
    let (tx, rx) = mpsc::channel();
    let t0 = Instant::now();
    std::thread::spawn(move || {
        let job = Job {
            kernel: "count".parse().unwrap(),
            range: "0..100000".parse().unwrap(),
            split: "static".parse().unwrap(),
        };
        let _ = tx.send(backend.run(&job, workers, &Silent).map(|t| t.headline()));
    });
    let outcome = rx.recv_timeout(HANG).expect("the run hung");
    let err = outcome.expect_err("a run that cannot start succeeded");
    (err.to_string(), t0.elapsed())
}

#[test]
fn a_fork_server_that_stops_answering_fails_the_start_up_in_bounded_time() {
    // It greets as a server should, then reads nothing and answers nothing: the requests for
    // 1024 workers fill its socket, which once left parlab waiting in `sendmsg` forever.
    let script = r#"printf "parlab-forkserver 1 %s" $$ >&0; exec sleep 60"#;
    let backend = Processes::with_worker("sh", ["-c", script]).with_start(StartMethod::ForkServer);
    let (err, took) = failure_within_bound(backend, 1024);
    assert!(err.contains("did not answer within 2s"), "{err}");
    assert!(err.contains("worker 0 failed"), "{err}");
    // The watchdog's own bound, 2 s, with room for a loaded machine.
    assert!(took < Duration::from_secs(20), "took {took:?}");
    let left: Vec<u32> = children(std::process::id())
        .into_iter()
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| c.starts_with(b"sleep\x0060"))
        })
        .collect();
    // Killed at once; gone as soon as it is reaped, which a busy machine may delay.
    let t0 = Instant::now();
    while left.iter().any(|p| alive(*p)) && t0.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        left.iter().all(|p| !alive(*p)),
        "the hung server was left: {left:?}"
    );
}

#[test]
fn a_worker_that_never_starts_is_reported_not_waited_for() {
    // A worker program that never greets: without a part timeout it would be waited for
    // forever; the start-up limit ends the run. (The limit is checked in the one scheduling
    // loop, whichever way the worker was started.)
    let backend = Processes::with_worker("sh", ["-c", "exec sleep 61"])
        .with_start_limit(Duration::from_millis(500));
    let (err, took) = failure_within_bound(backend, 3);
    assert!(err.contains("could not start"), "{err}");
    assert!(
        err.contains("did not greet within 500ms of being started"),
        "{err}"
    );
    assert!(took < Duration::from_secs(20), "took {took:?}");
    let left: Vec<u32> = children(std::process::id())
        .into_iter()
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| c.starts_with(b"sleep\x0061"))
        })
        .collect();
    assert!(left.is_empty(), "workers were left: {left:?}");
}

#[test]
fn too_few_file_descriptors_fail_with_one_line_naming_the_limit() {
    for start in ["forkserver", "spawn"] {
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(format!(
                "ulimit -n 64 && exec \"$0\" run -b processes --start {start} -w 200 -r 0..1e5"
            ))
            .arg(env!("CARGO_BIN_EXE_parlab"));
        let out = finish(cmd);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{start}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{start}: {stderr}");
        assert!(stderr.starts_with("error: worker "), "{start}: {stderr}");
        assert!(
            stderr.contains("Too many open files")
                && stderr.contains("RLIMIT_NOFILE")
                && stderr.contains("200 workers need about 464"),
            "{start}: {stderr}"
        );
    }
}

#[test]
fn a_benchmark_waiting_on_its_mpi_launcher_stops_on_sigterm() {
    // A launcher that never ends (as `mpirun` with 1024 ranks on 2 CPUs runs for many
    // minutes): SIGTERM must end the benchmark, and the launcher with it.
    let dir = std::env::temp_dir().join(format!("parlab-it-launcher-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let launcher = dir.join("mpirun");
    std::fs::write(&launcher, "#!/bin/sh\nexec sleep 62\n").unwrap();
    let mut perms = std::fs::metadata(&launcher).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(&launcher, perms).unwrap();
    let child = parlab()
        .args([
            "bench", "-b", "mpi", "-w", "2", "-r", "0..1000", "--runs", "1",
        ])
        .args(["--warmup", "0", "--mpirun"])
        .arg(&launcher)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    // Wait until the launcher runs.
    let t0 = Instant::now();
    let launched = loop {
        let sleeping = children(child.id()).into_iter().find(|p| {
            std::fs::read(format!("/proc/{p}/cmdline")).is_ok_and(|c| c.starts_with(b"sleep\x0062"))
        });
        if let Some(p) = sleeping {
            break p;
        }
        assert!(t0.elapsed() < HANG, "the launcher never started");
        std::thread::sleep(Duration::from_millis(10));
    };
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let out = rx.recv_timeout(HANG).expect("bench hung").unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(143), "{stderr}");
    assert!(
        stderr.contains("interrupted by signal 15 (SIGTERM)"),
        "{stderr}"
    );
    assert!(!alive(launched), "the launcher was left running");
    let _ = std::fs::remove_dir_all(&dir);
}
