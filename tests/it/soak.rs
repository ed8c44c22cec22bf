//! A soak test: 10,000 small jobs through the processes backend in one process, with no growth
//! in open file descriptors, threads or child processes.
//!
//! It measures the whole process, so it runs alone: the outer test re-runs this test binary
//! with only the inner (ignored) test selected.

use parlab::backend::Backend;
use parlab::job::Job;
use parlab::observer::Silent;

use crate::{forkserver_backend, processes_backend};

/// Open descriptors, threads and children of this process, from /proc.
fn census() -> (usize, usize, usize) {
    let fds = std::fs::read_dir("/proc/self/fd").unwrap().count();
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let threads = status
        .lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap();
    (fds, threads, crate::children(std::process::id()).len())
}

#[test]
#[ignore = "run by soak_10000_jobs_leak_nothing in a process of its own"]
fn soak_inner() {
    for backend in [processes_backend(), forkserver_backend()] {
        let job = Job {
            kernel: "sum".parse().unwrap(),
            range: "0..1000".parse().unwrap(),
            split: "static".parse().unwrap(),
        };
        // Warm up: the first runs create what stays for good (std's buffers, the environment,
        // the fork server and the thread that started it).
        for _ in 0..10 {
            backend.run(&job, 1, &Silent).unwrap();
        }
        let before = census();
        for _ in 0..10_000 {
            let t = backend.run(&job, 1, &Silent).unwrap();
            assert_eq!(t.headline(), 499_500);
        }
        let after = census();
        assert_eq!(
            before,
            after,
            "{}: (fds, threads, children) grew",
            backend.start_method()
        );
    }
}

#[test]
fn soak_10000_jobs_leak_nothing() {
    crate::run_isolated("soak::soak_inner");
}
