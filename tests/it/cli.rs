//! The command line: output, JSON, verify, help, and what a build without a feature says.
//! The bad-input catalogue is in `bad_input.rs`.

use assert_cmd::Command;

fn parlab() -> Command {
    Command::cargo_bin("parlab").unwrap()
}

#[test]
fn run_defaults_to_the_seed_experiment() {
    let text = stdout_of(&["run"]);
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
    // 2 kernels x 6 backends x 2 worker counts x 2 splits, and what verify leaves out.
    let summary = text
        .rsplit_once("\n48 cases: ")
        .map(|(_, s)| s)
        .expect(&text);
    let summary = summary.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(summary.starts_with("48 passed, 0 failed."), "{text}");
    for left_out in ["mpi (", "processes started by spawn (verify --start spawn"] {
        assert!(summary.contains(left_out), "{left_out}: {summary}");
    }
    assert_eq!(
        summary.contains("gpu (not in this build"),
        !cfg!(feature = "gpu"),
        "{summary}"
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

#[test]
fn help_lists_the_subcommands_but_not_the_worker() {
    let text = stdout_of(&["--help"]);
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
    // One paragraph, wrapped to the width.
    let gil = out.split_once("\nGIL (gil): ").expect(&out).1;
    let gil = gil.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(gil.contains("hand-off") && gil.contains("forced"), "{gil}");
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
    assert!(
        crate::intervals::assert_interval_style(&out, "reproduce") > 0,
        "{out}"
    );
    assert!(out.contains("CPython rows skipped (--no-python)"), "{out}");
    for heading in ["1. CPU-bound", "2. I/O-bound", "3. Inside the GIL"] {
        assert!(out.contains(heading), "{heading} missing:\n{out}");
    }
    // Each family's rows under its name.
    let seed = out
        .split_once("\nseed post (2017 laptop)\n")
        .map(|(_, rest)| rest.lines().next().unwrap())
        .expect(&out);
    assert!(seed.starts_with("  1 thread "), "{out}");
    assert!(
        seed.contains(" 100000000 ") && seed.contains(" 7.474"),
        "{out}"
    );
    assert!(out.contains("parlab gil-legacy"), "{out}");
    // The I/O section's claim follows from its rows' words: threads help for I/O only where a
    // row of them ran faster, which a busy machine may leave undecided.
    let io = out
        .split("2. I/O-bound")
        .nth(1)
        .and_then(|s| s.split("3. Inside the GIL").next())
        .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
        .unwrap();
    assert!(
        io.contains("a thread releases the GIL while it waits"),
        "{io}"
    );
    assert_eq!(
        io.contains("threads do help for I/O"),
        io.contains("threads ran faster than 1 thread"),
        "{io}"
    );
    assert!(!out.lines().any(|l| l.starts_with("CPython")), "{out}");
}

#[test]
fn reproduce_json_is_one_object() {
    let out = stdout_of(&["reproduce", "--quick", "--no-python", "--json"]);
    assert_eq!(out.lines().count(), 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["cpu"]["rows"].as_array().unwrap().len(), 14);
    assert_eq!(v["io"]["rows"].as_array().unwrap().len(), 3);
    assert_eq!(v["inside"].as_array().unwrap().len(), 5);
    assert!(v["python_missing"].is_string(), "{v}");
    assert_no_rust_internals(&v);
}

/// No `{"Ok": ...}` / `{"Err": ...}` (a Rust `Result` serialised as it is) anywhere in `v`.
pub fn assert_no_rust_internals(v: &serde_json::Value) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, x) in m {
                assert!(k != "Ok" && k != "Err", "a Rust Result in the JSON: {v}");
                assert_no_rust_internals(x);
            }
        }
        serde_json::Value::Array(xs) => xs.iter().for_each(assert_no_rust_internals),
        _ => {}
    }
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
