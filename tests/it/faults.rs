//! Injected faults on every backend, through the command line: each is reported with the part,
//! the worker and the cause, and a hang is stopped by its timeout; with `--retries` the answer
//! is still exact.

use std::time::{Duration, Instant};

use assert_cmd::Command;

/// The most a failed run may take: a run that did not stop at its fault would be killed at
/// 30 s (`run`'s own limit) and fail on its exit code instead.
const GENEROUS: Duration = Duration::from_secs(15);

/// Every local backend; `processes` by both start methods (forkserver is the default).
const BACKENDS: [&str; 7] = [
    "sequential",
    "threads",
    "pool",
    "processes",
    "processes --start spawn",
    "gil",
    "gil-legacy",
];

/// The arguments of `parlab run` for 3 workers of `backend` sleeping 1 ms per index over
/// `range`: slow enough to be failed or stopped part-way, and shared with the signal tests.
pub fn sleep_args<'a>(backend: &'a str, range: &'a str) -> [&'a str; 9] {
    [
        "run",
        "-b",
        backend,
        "-w",
        "3",
        "-k",
        "sleep:1ms",
        "-r",
        range,
    ]
}

/// 30 chunks of 10 sleeps of 1 ms on 3 workers: part 1 starts at once. `backend` may carry
/// options after its name.
fn run(backend: &str, fault: &str, extra: &[&str]) -> (Option<i32>, String, String, Duration) {
    let mut words = backend.split_whitespace();
    let backend = words.next().unwrap();
    let t0 = Instant::now();
    let out = Command::cargo_bin("parlab")
        .unwrap()
        .env("PARLAB_FAULT", fault)
        .args(sleep_args(backend, "0..300"))
        .args(["-s", "chunks:10"])
        .args(words)
        .args(["--timeout", "300ms"])
        .args(extra)
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
        t0.elapsed(),
    )
}

/// Faults each backend can suffer, with what the error must say.
fn faults(backend: &str) -> Vec<(&'static str, &'static str)> {
    let mut f = vec![
        ("panic@1", "panicked: injected fault: panic in part 1"),
        ("hang@1", "did not finish within the timeout of 300ms"),
    ];
    if backend.starts_with("processes") {
        f.extend([
            ("exit:7@1", "exited with code 7"),
            ("signal:9@1", "killed by signal 9 (SIGKILL)"),
            (
                "corrupt@1",
                "sent a bad frame: frame length 4294967295 out of bounds",
            ),
        ]);
    }
    f
}

#[test]
fn every_fault_is_reported_with_part_worker_and_cause() {
    for backend in BACKENDS {
        for (fault, cause) in faults(backend) {
            let (code, stdout, stderr, took) = run(backend, fault, &[]);
            let what = format!("{backend} {fault}: {stderr}");
            assert_eq!(code, Some(1), "{what}");
            assert!(stdout.is_empty(), "{what}");
            assert_eq!(stderr.lines().count(), 1, "{what}");
            assert!(stderr.contains("failed on part 1 (10..20)"), "{what}");
            assert!(stderr.contains(cause), "{what}");
            assert!(stderr.contains("parts had finished"), "{what}");
            if backend.starts_with("processes") {
                assert!(stderr.contains("(pid "), "{what}");
            }
            // A hang stops at its 0.3 s timeout (the message says so), well before the 30 s
            // after which the command is killed; on a quiet machine each run takes about
            // 0.35 s, and 15 s leaves room for a machine whose CPUs are both busy.
            assert!(took < GENEROUS, "{what} took {took:?}");
        }
    }
}

#[test]
fn retries_recover_the_exact_answer() {
    for backend in BACKENDS {
        for (fault, cause) in faults(backend) {
            let (code, stdout, stderr, _) = run(backend, fault, &["--retries", "1"]);
            let what = format!("{backend} {fault}: {stdout}{stderr}");
            assert_eq!(code, Some(0), "{what}");
            assert!(stdout.starts_with("Result: 300\n"), "{what}");
            assert!(stdout.contains("Retries: 1"), "{what}");
            assert!(
                stderr.starts_with("retry 1 of part 1 (10..20) after: "),
                "{what}"
            );
            assert!(stderr.contains(cause), "{what}");
        }
    }
}

#[test]
fn a_bad_fault_spec_is_bad_input() {
    let out = Command::cargo_bin("parlab")
        .unwrap()
        .env("PARLAB_FAULT", "explode@1")
        .args(["run", "-r", "0..10"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("invalid fault 'explode@1'"), "{stderr}");
}
