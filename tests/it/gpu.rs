//! The `gpu` backend on whatever adapter the machine has (CI: Mesa's lavapipe, on the CPU):
//! every kernel against the sequential answer, including ranges that would run past lavapipe's
//! loop cap if the host did not bound each invocation, what the GPU refuses, and a stop in the
//! middle of a wait for the device.

use std::process::{Command, Output};

fn parlab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_parlab"))
        .args(args)
        .env("XDG_RUNTIME_DIR", std::env::temp_dir())
        .output()
        .unwrap()
}

fn result(out: &Output) -> String {
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text.lines().next().unwrap().to_string()
}

/// Checks that `verify` named the adapter and passed all its `cases`; returns its output.
fn verified_all(out: &Output, cases: usize) -> String {
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{text}");
    assert!(text.starts_with("Adapter: "), "{text}");
    let summary = format!("{cases} cases: {cases} passed, 0 failed.");
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(flat.contains(&summary), "{text}");
    text
}

#[test]
fn every_kernel_matches_the_sequential_answer() {
    let cases = [
        ("count", "0..1e6", "1"),
        ("count", "18446744073708551615..18446744073709551615", "2"),
        ("sum", "0..1e6", "3"),
        ("sum", "18446744073709000000..18446744073709551615", "2"),
        ("pi", "0..300000", "2"),
        ("pi", "18446744073709400000..18446744073709551615", "1"),
        ("primes", "0..200000", "2"),
        // Near 2^32 each number may take 32,768 trial divisions: one number per invocation.
        ("primes", "4294960000..4294967296", "2"),
        ("collatz", "0..20000", "2"),
        // Trajectories that leave 64 bits: flagged on the GPU, computed again on the CPU.
        ("collatz", "18446744073709550000..18446744073709551615", "1"),
    ];
    for (kernel, range, workers) in cases {
        let gpu = parlab(&["run", "-b", "gpu", "-k", kernel, "-r", range, "-w", workers]);
        let seq = parlab(&["run", "-b", "sequential", "-k", kernel, "-r", range]);
        assert_eq!(result(&gpu), result(&seq), "{kernel} {range}");
        let text = String::from_utf8_lossy(&gpu.stdout);
        assert!(text.contains("Adapter: "), "{text}");
    }
}

#[test]
fn static_and_chunked_splits_agree() {
    for split in ["static", "chunks:77777"] {
        let gpu = parlab(&[
            "run",
            "-b",
            "gpu",
            "-k",
            "pi",
            "-r",
            "0..500000",
            "-s",
            split,
            "-w",
            "3",
        ]);
        let seq = parlab(&["run", "-b", "sequential", "-k", "pi", "-r", "0..500000"]);
        assert_eq!(result(&gpu), result(&seq), "{split}");
    }
}

#[test]
fn verify_includes_the_gpu_and_names_its_adapter() {
    let out = parlab(&[
        "verify",
        "-b",
        "sequential,gpu",
        "-k",
        "count,sum,pi,primes,collatz",
        "-r",
        "0..50000",
        "-w",
        "1,2",
    ]);
    verified_all(&out, 40);
}

#[test]
fn plain_verify_includes_the_gpu_in_a_gpu_build() {
    let out = parlab(&["verify", "-k", "count,pi,sleep", "-r", "0..64", "-w", "2"]);
    // 3 kernels x 7 backends x 2 splits, less the GPU's two sleep cases.
    let text = verified_all(&out, 40);
    assert!(
        text.lines()
            .any(|l| l.starts_with("pi ") && l.contains(" gpu ")),
        "{text}"
    );
}

#[test]
fn what_the_gpu_cannot_do_is_refused_clearly() {
    for (args, needle) in [
        (
            &["run", "-b", "gpu", "-k", "sleep", "-r", "0..10"][..],
            "cannot run sleep",
        ),
        (
            &["run", "-b", "gpu", "-k", "primes", "-r", "0..5e9"][..],
            "below 2^32",
        ),
    ] {
        let out = parlab(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains(needle), "{stderr}");
    }
}

#[test]
fn ctrl_c_stops_a_long_gpu_run_within_seconds() {
    use nix::sys::signal::{Signal, kill};
    use nix::unistd::Pid;
    use std::process::Stdio;
    use std::time::{Duration, Instant};
    // Minutes of work on any adapter, even the largest GPU's: the wait for the device's first
    // submission is what the stop must cut short.
    let mut child = Command::new(env!("CARGO_BIN_EXE_parlab"))
        .args(["run", "-b", "gpu", "-k", "pi", "-r", "0..1e15", "-w", "3"])
        .env("XDG_RUNTIME_DIR", std::env::temp_dir())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Past the set-up (a fraction of a second on lavapipe) and into the first submission.
    std::thread::sleep(Duration::from_secs(2));
    let sent = Instant::now();
    kill(Pid::from_raw(child.id() as i32), Signal::SIGINT).unwrap();
    // A run that does not stop is killed after a minute, so that the test fails, not hangs.
    while child.try_wait().unwrap().is_none() && sent.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(20));
    }
    if child.try_wait().unwrap().is_none() {
        child.kill().unwrap();
    }
    let took = sent.elapsed();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    // The device is asked every 100 ms; 5 s leaves room for a busy machine.
    assert!(took < Duration::from_secs(5), "took {took:?} to stop");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("interrupted by signal 2 (SIGINT)")
            && stderr.contains("0 of 3 parts had finished"),
        "{stderr}"
    );
}
