//! The command line: output, JSON, verify, and every bad input giving one line and exit 2.

use assert_cmd::Command;

fn parlab() -> Command {
    Command::cargo_bin("parlab").unwrap()
}

#[test]
fn run_defaults_to_the_seed_experiment() {
    let out = parlab()
        .arg("run")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("Result: 100000000"));
    let info = lines.next().unwrap();
    assert!(
        info.starts_with("kernel count, range 0..100000000, split static"),
        "{info}"
    );
    assert!(info.contains("backend threads"), "{info}");
    assert!(lines.next().unwrap().starts_with("Elapsed: "));
}

#[test]
fn run_json_is_one_parseable_line() {
    let out = parlab()
        .args([
            "run",
            "--json",
            "-k",
            "primes",
            "-r",
            "0..1e6",
            "-b",
            "processes",
            "-w",
            "3",
            "-s",
            "chunks:1e4",
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert_eq!(text.lines().count(), 1);
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["result"]["primes"], 78_498);
    assert_eq!(v["headline"], "78498");
    assert_eq!(v["backend"], "processes");
    assert_eq!(v["workers"], 3);
    assert_eq!(v["parts"], 100);
    assert_eq!(v["split"], "chunks:10000");
    assert!(v["elapsed_s"].as_f64().unwrap() > 0.0);
}

#[test]
fn number_forms_are_accepted() {
    for range in ["0..1e6", "0..1_000_000", "0..1M", "0..1000000"] {
        let out = stdout_of(&["run", "-r", range, "-w", "2"]);
        assert!(out.starts_with("Result: 1000000\n"), "{range}: {out}");
    }
}

/// Runs parlab and returns its stdout, asserting success.
fn stdout_of(args: &[&str]) -> String {
    let out = parlab()
        .args(args)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    String::from_utf8(out).unwrap()
}

#[test]
fn an_empty_range_is_valid() {
    let out = stdout_of(&["run", "-r", "5..5", "-b", "processes", "-w", "2"]);
    assert!(out.starts_with("Result: 0\n"), "{out}");
}

#[test]
fn collatz_and_pi_print_their_details() {
    let out = parlab()
        .args(["run", "-k", "collatz", "-r", "1..1e6"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("longest 524 steps, first at 837799"),
        "{text}"
    );
    let out = parlab()
        .args(["run", "-k", "pi", "-r", "0..1e6"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("hits of 1000000 points (pi ~ 3.14"), "{text}");
}

#[test]
fn verify_is_green_on_a_small_matrix() {
    let out = parlab()
        .args([
            "verify",
            "-k",
            "primes,collatz",
            "-r",
            "0..20000",
            "-w",
            "1,4",
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    // 2 kernels x 6 backends x 2 worker counts x 2 splits.
    assert!(
        text.trim_end().ends_with("48 cases: 48 passed, 0 failed"),
        "{text}"
    );
    for backend in [
        "sequential",
        "threads",
        "pool",
        "processes",
        "gil",
        "gil-legacy",
    ] {
        assert!(text.contains(backend), "{backend} missing:\n{text}");
    }
}

#[test]
fn verify_json_has_one_object_per_case() {
    let out = parlab()
        .args([
            "verify",
            "--json",
            "-k",
            "sum",
            "-b",
            "pool,processes",
            "-w",
            "2",
            "-s",
            "static,chunks:1000",
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let rows: Vec<serde_json::Value> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 4);
    assert!(
        rows.iter()
            .all(|r| r["passed"] == true && r["got"] == r["expected"])
    );
}

/// The bad-input catalogue: every bad invocation gives exit 2, one line on stderr naming the
/// value, nothing on stdout, no panic.
#[test]
fn bad_inputs_give_one_line_and_exit_2() {
    let cases: &[(&[&str], &str)] = &[
        (&["run", "-r", "10..5"], "'10..5'"),
        (&["run", "-w", "0"], "'0'"),
        (&["run", "-w", "100000"], "'100000'"),
        (
            &["run", "-w", "99999999999999999999999"],
            "'99999999999999999999999'",
        ),
        (&["run", "-w", "two"], "'two'"),
        (&["run", "-s", "chunks:0"], "'0'"),
        (&["run", "-s", "chunks:abc"], "'abc'"),
        (&["run", "-s", "guided"], "'guided'"),
        (&["run", "-k", "fib"], "'fib'"),
        (&["run", "-k", "sleep:forever"], "'forever'"),
        (&["run", "-k", "count:3"], "'count:3'"),
        (&["run", "-b", "gpu2"], "'gpu2'"),
        (&["run", "-r", "0..abc"], "'abc'"),
        (
            &["run", "-r", "0..18446744073709551616"],
            "'18446744073709551616'",
        ),
        (&["run", "-r", "0..1e20"], "'1e20'"),
        (&["run", "-r", "1.5..3"], "'1.5'"),
        (&["run", "-r", "100"], "'100'"),
        (&["run", "-r", "-5..3"], "'-5'"),
        (&["run", "-w", "-1"], "'-1'"),
        (&["run", "--no-such-flag"], "--no-such-flag"),
        (&["frobnicate"], "frobnicate"),
        (&["verify", "-w", "1,0"], "'0'"),
        (&["verify", "-b", "threads,nope"], "'nope'"),
        (&["verify", "-k", "count,nope"], "'nope'"),
        (&["verify", "-s", "chunks:0"], "'0'"),
        (&["verify", "-r", "9..1"], "'9..1'"),
        (&["run", "-b", "gil", "--switch-interval", "0ms"], "'0ms'"),
        (&["run", "-b", "gil", "--switch-interval", "soon"], "'soon'"),
        (&["run", "-b", "gil-legacy", "--check-interval", "0"], "'0'"),
        (&["reproduce", "--switch-interval", "-5ms"], "'-5ms'"),
        (&["reproduce", "--check-interval", "1e9"], "'1e9'"),
        (&["run", "-b", "processes", "--start", "fork"], "'fork'"),
        (&["verify", "--start", "Spawn"], "'Spawn'"),
        (&["bench", "--start", ""], "''"),
        (
            &["reproduce", "--no-python", "--python", "python3"],
            "--python",
        ),
        (&["run", "--timeout", "0s"], "'0s'"),
        (&["run", "--timeout", "soon"], "'soon'"),
        (&["run", "--timeout", "-1s"], "'-1s'"),
        (&["run", "--retries", "101"], "'101'"),
        (&["run", "--retries", "-1"], "'-1'"),
        (&["run", "--retries", "x"], "'x'"),
        (&["run", "-k", "sleep:2h"], "'2h'"),
        (&["run", "-k", "sleep:-1ms"], "'-1ms'"),
        (&["run", "-k", ""], "''"),
        (&["run", "-r", ""], "''"),
        (&["run", "-r", "0..1e8..2"], "'1e8..2'"),
        (&["run", "-s", "chunks:1e20"], "'1e20'"),
        (&["run", "-s", "static:4"], "'static:4'"),
        (&["run", "-w", "1.5"], "'1.5'"),
        (&["run", "--json", "--json"], "--json"),
        (&["verify", "-w", "2000"], "'2000'"),
        (&["verify", "-k", "sleep:forever"], "'forever'"),
        (&["verify", "-r", "0..x"], "'x'"),
        (&["verify", "-s", "static,guided"], "'guided'"),
        (&["reproduce", "--switch-interval", "0ns"], "'0ns'"),
        (&["reproduce", "--quick=yes"], "--quick"),
        (&["run", "extra"], "extra"),
        (&["probe", "nap"], "'nap'"),
        (&["bench", "--runs", "0"], "'0'"),
        (&["bench", "--warmup", "x"], "'x'"),
        (&["bench", "--min-time", "0s"], "'0s'"),
        (&["bench", "-b", "threads,nope"], "'nope'"),
        (&["bench", "-w", "1,0"], "'0'"),
        (&["bench", "-k", "fib"], "'fib'"),
        (&["bench", "-r", "5..1"], "'5..1'"),
        (
            &["bench", "--export-json", "/nonexistent/dir/r.json"],
            "'/nonexistent/dir/r.json'",
        ),
        (&["bench", "--plot", "/tmp"], "'/tmp'"),
        (&["bench", "--export-csv", ""], "''"),
        (&["probe", "spawn", "--plot", "x.svg"], "'x.svg'"),
        (
            &["probe", "fork-rss", "--plot", "/nonexistent/dir/x.svg"],
            "'/nonexistent/dir/x.svg'",
        ),
        (&["probe", "fork-rss", "--plot", "/tmp"], "'/tmp'"),
        (&["probe", "--no-python", "--python", "python3"], "--python"),
        // Exports: one place each; standard output carries one document.
        (&["bench", "--export-json", "-", "--export-csv", "-"], "'-'"),
        (
            &["bench", "--export-json", "-", "--plot", "/dev/stdout"],
            "'/dev/stdout'",
        ),
        (
            &[
                "bench",
                "--export-csv",
                "/tmp/r.csv",
                "--export-html",
                "/tmp/r.csv",
            ],
            "'/tmp/r.csv'",
        ),
        (&["probe", "fork-rss", "--json", "--plot", "-"], "'-'"),
    ];
    assert!(cases.len() >= 40, "the catalogue has {} cases", cases.len());
    for (args, needle) in cases {
        let out = parlab().args(*args).output().unwrap();
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.starts_with("error: "), "{args:?}: {stderr}");
        assert!(
            stderr.contains(needle),
            "{args:?} should name {needle}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?} printed to stdout");
    }
}

#[test]
fn unknown_names_list_the_valid_ones() {
    let out = parlab().args(["run", "-b", "gpu2"]).output().unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("sequential, threads, pool, processes"),
        "{stderr}"
    );
    let out = parlab().args(["run", "-k", "fib"]).output().unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("count, sum, primes, pi, collatz, sleep"),
        "{stderr}"
    );
}

#[test]
fn help_lists_the_subcommands_but_not_the_worker() {
    let out = parlab()
        .arg("--help")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("run") && text.contains("verify"), "{text}");
    assert!(!text.contains("__worker"), "{text}");
}

#[test]
fn run_on_a_gil_backend_reports_the_lock() {
    let out = stdout_of(&[
        "run",
        "-b",
        "gil",
        "-w",
        "2",
        "-k",
        "pi",
        "-r",
        "0..1e6",
        "--switch-interval",
        "1ms",
    ]);
    assert!(out.starts_with("Result: 785"), "{out}");
    let gil = out
        .lines()
        .find(|l| l.starts_with("GIL (gil): "))
        .expect(&out);
    assert!(gil.contains("hand-offs") && gil.contains("forced"), "{gil}");
    let json = stdout_of(&[
        "run",
        "--json",
        "-b",
        "gil-legacy",
        "-w",
        "2",
        "-r",
        "0..1e6",
    ]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["gil"]["model"], "gil-legacy");
    assert_eq!(v["gil"]["violations"], 0);
}

#[test]
fn reproduce_quick_prints_three_sections_with_verdicts() {
    let out = stdout_of(&["reproduce", "--quick", "--no-python"]);
    assert!(
        out.starts_with("The seed experiment, reproduced ("),
        "{out}"
    );
    assert!(out.contains("CPython rows skipped (--no-python)"), "{out}");
    for heading in ["1. CPU-bound", "2. I/O-bound", "3. Inside the GIL"] {
        assert!(out.contains(heading), "{heading} missing:\n{out}");
    }
    assert!(
        out.contains("seed post (2017 laptop)  1 thread        100000000      7.474"),
        "{out}"
    );
    assert!(out.contains("parlab gil-legacy"), "{out}");
    assert!(out.contains("threads do help for I/O"), "{out}");
    assert!(!out.lines().any(|l| l.starts_with("CPython")), "{out}");
}

#[test]
fn reproduce_json_is_one_object() {
    let out = stdout_of(&["reproduce", "--quick", "--no-python", "--json"]);
    assert_eq!(out.lines().count(), 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["cpu"]["rows"].as_array().unwrap().len(), 14);
    assert_eq!(v["io"]["rows"].as_array().unwrap().len(), 3);
    assert_eq!(v["inside"].as_array().unwrap().len(), 4);
    assert!(v["python"]["Err"].is_string(), "{v}");
}

#[cfg(not(feature = "mpi"))]
#[test]
fn the_mpi_backend_says_how_to_build_it() {
    let out = parlab().args(["run", "-b", "mpi"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("--features mpi") && stderr.contains("libopenmpi-dev"),
        "{stderr}"
    );
}

#[test]
fn json_keeps_sums_beyond_two_to_the_64() {
    let out = stdout_of(&[
        "run",
        "--json",
        "-k",
        "sum",
        "-r",
        "18446744073709551000..18446744073709551615",
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    // 615 numbers averaging 2^64 - 308.
    let want: u128 = (18_446_744_073_709_551_000u128..18_446_744_073_709_551_615).sum();
    assert_eq!(v["result"]["sum"], want.to_string());
    assert_eq!(v["headline"], want.to_string());
}

#[test]
fn output_into_a_closed_pipe_ends_quietly() {
    use std::io::Read;
    use std::process::{Command, Stdio};
    // Read one byte of a long listing, then stop reading.
    let mut child = Command::new(env!("CARGO_BIN_EXE_parlab"))
        .args([
            "verify",
            "-k",
            "count,sum",
            "-r",
            "0..1e3",
            "-w",
            "1,2,3,4,5,6,7,8",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 1];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        matches!(out.status.code(), Some(0) | Some(141)),
        "{:?} {stderr}",
        out.status
    );
}

#[cfg(not(feature = "gpu"))]
#[test]
fn the_gpu_backend_says_how_to_build_it() {
    let out = parlab().args(["run", "-b", "gpu"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("--features gpu") && stderr.contains("mesa-vulkan-drivers"),
        "{stderr}"
    );
}
