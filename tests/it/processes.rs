//! Failures of worker processes: each is reported with the part, PID and exit code or signal,
//! quickly, with no hang and no process left behind.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use parlab::backend::Backend;
use parlab::backend::processes::{Processes, StartMethod};
use parlab::job::Job;
use parlab::observer::Observer;
use parlab::observer::Silent;
use parlab::span::Part;

use crate::{alive, children, forkserver_backend, processes_backend};

fn job(kernel: &str, range: &str, split: &str) -> Job {
    Job {
        kernel: kernel.parse().unwrap(),
        range: range.parse().unwrap(),
        split: split.parse().unwrap(),
    }
}

/// Records worker PIDs and kills one of them once the job is under way, noting when.
struct Killer {
    pids: Mutex<Vec<u32>>,
    victim: usize,
    killed_at: Arc<Mutex<Option<Instant>>>,
}

impl Observer for Killer {
    fn worker_started(&self, worker: usize, pid: Option<u32>) {
        let pid = pid.expect("worker processes have a pid");
        self.pids.lock().unwrap().push(pid);
        if worker == self.victim {
            let killed_at = Arc::clone(&self.killed_at);
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(300));
                *killed_at.lock().unwrap() = Some(Instant::now());
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid as i32),
                    nix::sys::signal::Signal::SIGKILL,
                );
            });
        }
    }
}

#[test]
fn a_killed_worker_is_reported_quickly_and_nothing_survives() {
    for backend in [processes_backend(), forkserver_backend()] {
        let method = backend.start_method();
        // Three workers each sleep at least 10 s on their part; worker 1 is killed after 0.3 s.
        let j = job("sleep:1ms", "0..30000", "static");
        let killer = Killer {
            pids: Mutex::new(Vec::new()),
            victim: 1,
            killed_at: Arc::default(),
        };
        let err = backend.run(&j, 3, &killer).unwrap_err();
        let since_kill = killer.killed_at.lock().unwrap().expect("killed").elapsed();
        let pids = killer.pids.into_inner().unwrap();
        let msg = format!("{method}: {err}");
        assert!(
            msg.contains(&format!("worker 1 (pid {})", pids[1])),
            "{msg}"
        );
        assert!(msg.contains("part 1 (10000..20000)"), "{msg}");
        assert!(msg.contains("signal 9 (SIGKILL)"), "{msg}");
        // Detection at the kill (milliseconds on a quiet machine), not when the other parts
        // end: their sleeps cannot end sooner than 9.7 s after it, however fast the machine,
        // and 5 s leaves room for a machine whose CPUs are both busy.
        assert!(
            since_kill < Duration::from_secs(5),
            "{method}: reported {since_kill:?} after the kill"
        );
        for pid in pids {
            assert!(!alive(pid), "{method}: worker pid {pid} outlived the run");
        }
    }
}

/// The error of a small `count` job run by `backend` on `workers` workers, which must fail.
fn failure(backend: Processes, workers: usize) -> String {
    backend
        .run(&job("count", "0..10", "static"), workers, &Silent)
        .unwrap_err()
        .to_string()
}

#[test]
fn a_program_that_is_not_a_fork_server_is_refused() {
    let msg = failure(
        Processes::with_worker("sh", ["-c", "exit 3"]).with_start(StartMethod::ForkServer),
        2,
    );
    assert!(
        msg.contains("could not start: starting the fork server sh: ended: exit status: 3"),
        "{msg}"
    );
    let msg = failure(
        Processes::with_worker("/nonexistent/parlab-worker", Vec::<String>::new())
            .with_start(StartMethod::ForkServer),
        2,
    );
    assert!(
        msg.contains("starting the fork server /nonexistent/parlab-worker"),
        "{msg}"
    );
}

/// This process's children whose environment marks them as fork servers.
fn fork_servers() -> Vec<u32> {
    children(std::process::id())
        .into_iter()
        .filter(|pid| {
            let env = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
            env.split(|b| *b == 0)
                .any(|v| v == b"PARLAB_WORKER=forkserver")
        })
        .collect()
}

#[test]
#[ignore = "run by a_dead_or_hung_fork_server_is_replaced_and_shut_down_reaps_it in a process of its own"]
fn fork_server_inner() {
    let backend = forkserver_backend();
    let j = job("sum", "0..1000", "static");
    // The first run, which starts the server, comes from a thread that then ends. The server
    // and the workers it forks must not die with that thread (PR_SET_PDEATHSIG follows the
    // thread that started a process, not the process).
    std::thread::scope(|s| {
        s.spawn(|| assert_eq!(backend.run(&j, 3, &Silent).unwrap().headline(), 499_500));
    });
    std::thread::sleep(Duration::from_millis(50));
    let servers = fork_servers();
    assert_eq!(servers.len(), 1, "{servers:?}");
    let slow = job("sleep:1ms", "0..200", "static");
    assert_eq!(backend.run(&slow, 2, &Silent).unwrap().headline(), 200);
    assert_eq!(fork_servers(), servers);
    // A second run uses the same server.
    assert_eq!(backend.run(&j, 3, &Silent).unwrap().headline(), 499_500);
    assert_eq!(fork_servers(), servers);
    // Killed, it is replaced on the next run.
    kill(Pid::from_raw(servers[0] as i32), Signal::SIGKILL).unwrap();
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(backend.run(&j, 3, &Silent).unwrap().headline(), 499_500);
    let replaced = fork_servers();
    assert_eq!(replaced.len(), 1, "{replaced:?}");
    assert_ne!(replaced, servers);
    // Ctrl-C in a terminal reaches the server too: it must survive it.
    kill(Pid::from_raw(replaced[0] as i32), Signal::SIGINT).unwrap();
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(backend.run(&j, 3, &Silent).unwrap().headline(), 499_500);
    assert_eq!(fork_servers(), replaced);
    // Stopped, it is taken for hung: the run fails within about 2 s naming it, and the next
    // run starts a fresh server.
    let stopped = fork_servers();
    kill(Pid::from_raw(stopped[0] as i32), Signal::SIGSTOP).unwrap();
    let t0 = Instant::now();
    let err = backend.run(&j, 3, &Silent).unwrap_err().to_string();
    let took = t0.elapsed();
    assert!(
        err.contains(&format!(
            "the fork server (pid {}) did not answer within 2s",
            stopped[0]
        )),
        "{err}"
    );
    // The 2 s deadline, and the kill and the error after it: a fraction of a second on a quiet
    // machine; 10 s leaves room for a busy one and still fails a run that waited for a server
    // that never answers.
    assert!(took < Duration::from_secs(10), "took {took:?}");
    assert!(!alive(stopped[0]), "the hung server was not killed");
    assert_eq!(backend.run(&j, 3, &Silent).unwrap().headline(), 499_500);
    let fresh = fork_servers();
    assert_eq!(fresh.len(), 1, "{fresh:?}");
    assert_ne!(fresh, stopped);
    // Shut down, it is reaped: no child of any kind is left.
    parlab::backend::processes::shut_down();
    assert!(!alive(fresh[0]), "the server is still there");
    assert!(fork_servers().is_empty());
}

#[test]
fn a_dead_or_hung_fork_server_is_replaced_and_shut_down_reaps_it() {
    crate::run_isolated("processes::fork_server_inner");
}

#[test]
fn a_worker_exiting_non_zero_names_its_code_and_part() {
    let msg = failure(Processes::with_worker("sh", ["-c", "exit 3"]), 1);
    assert!(msg.contains("worker 0 (pid "), "{msg}");
    assert!(msg.contains("on part 0 (0..10)"), "{msg}");
    assert!(msg.contains("exited with code 3"), "{msg}");
}

#[test]
fn a_truncated_frame_is_a_protocol_error() {
    // The first 7 bytes of a 15-byte Hello frame, then a clean exit.
    let backend = Processes::with_worker(
        "sh",
        [
            "-c",
            r"printf '\013\000\000\000\001PL'; exec cat >/dev/null",
        ],
    );
    let msg = failure(backend, 1);
    assert!(
        msg.contains("truncated frame: stream ended after 7 of 15 bytes"),
        "{msg}"
    );
    assert!(msg.contains("exited with code 0"), "{msg}");
}

#[test]
fn a_program_that_is_not_a_worker_is_refused() {
    // `cat` echoes our Setup frame back instead of saying Hello.
    let msg = failure(Processes::with_worker("cat", Vec::<String>::new()), 1);
    assert!(
        msg.contains("unexpected Setup frame; expected Hello"),
        "{msg}"
    );
}

#[test]
fn a_missing_worker_program_is_a_spawn_error() {
    let msg = failure(
        Processes::with_worker("/nonexistent/parlab-worker", Vec::<String>::new()),
        2,
    );
    assert!(
        msg.contains("could not start: /nonexistent/parlab-worker"),
        "{msg}"
    );
}

#[test]
fn a_worker_refuses_a_reversed_part_with_a_failed_frame() {
    // A part whose start is after its end can only come from a broken parent: the worker
    // answers it with a Failed frame that names the bad range, and keeps serving.
    use parlab::backend::processes::protocol::{Frame, VERSION};
    use std::io::{Read, Write};
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_parlab"))
        .arg("__worker")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let input = Frame::stream(&[
        Frame::Setup {
            version: VERSION,
            kernel: parlab::kernels::Kernel::Count,
        },
        Frame::Part {
            index: 5,
            start: 10,
            end: 2,
        },
        Frame::Shutdown,
    ]);
    child.stdin.take().unwrap().write_all(&input).unwrap();
    let mut out = Vec::new();
    child.stdout.take().unwrap().read_to_end(&mut out).unwrap();
    assert!(child.wait().unwrap().success());
    match &Frame::decode_all(&out).unwrap()[..] {
        [
            Frame::Hello {
                version: VERSION, ..
            },
            Frame::Failed {
                index: 5,
                panic: false,
                message,
            },
        ] => assert!(message.contains("'10..2'"), "{message}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn many_tiny_chunks_all_arrive() {
    #[derive(Default)]
    struct Count(Mutex<Vec<Part>>);
    impl Observer for Count {
        fn part_done(&self, part: Part, _: usize, _: u64, _: u64) {
            self.0.lock().unwrap().push(part);
        }
    }
    let rec = Count::default();
    let t = processes_backend()
        .run(&job("sum", "0..20000", "chunks:1"), 3, &rec)
        .unwrap();
    assert_eq!(t.headline(), 19_999 * 20_000 / 2);
    let mut parts = rec.0.into_inner().unwrap();
    parts.sort_by_key(|p| p.index);
    assert!(
        parts
            .iter()
            .enumerate()
            .all(|(i, p)| p.index == i as u64 && p.start == i as u64)
    );
    assert_eq!(parts.len(), 20_000);
}

#[test]
fn the_example_program_serves_as_its_own_worker() {
    // `cargo test` builds the examples next to the binaries.
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_parlab"));
    let example = bin.parent().unwrap().join("examples").join("own_worker");
    let out = std::process::Command::new(&example)
        .output()
        .unwrap_or_else(|e| panic!("{}: {e} (it is built by `cargo test`)", example.display()));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.starts_with("664579 primes below 10^7"), "{stdout}");
}
