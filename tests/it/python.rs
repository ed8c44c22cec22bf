//! `parlab python FILE:FUNCTION`: exact answers on every road, bad input before any
//! measuring, and every fault of the function (it raises, returns a non-int, hangs, answers
//! wrongly or differently each time, Ctrl-C) on threads and on processes, leaving no Python
//! process behind.
//!
//! The function learns its road from `PARLAB_ROAD`; the fixtures fail only on the road named in
//! `FAIL_ON`, so that the other roads' rows are seen to be kept.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

mod executors;
mod map;
mod roads;

use crate::have_python;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::Value;

const FIXTURE: &str = r#"
import os, time
BAD = os.environ.get("PARLAB_ROAD") == os.environ.get("FAIL_ON")
calls = 0

def count(start, end):
    return end - start

def big(start, end):
    return 2**100 * (end - start)

def raises(start, end):
    if BAD and start > 0:
        raise ValueError("boom at %d" % start)
    return end - start

def text(start, end):
    return "many" if BAD else end - start

def hangs(start, end):
    if BAD:
        time.sleep(1000)
    return end - start

def wrong(start, end):
    return end - start + (1 if BAD else 0)

def unstable(start, end):
    global calls
    calls += 1
    return calls

def crash(start, end):
    if BAD:
        os._exit(3)
    return end - start

def flaky(start, end):
    marker = os.environ.get("MARKER")
    if BAD and start > 0 and marker and not os.path.exists(marker):
        open(marker, "w").close()
        os._exit(3)
    return end - start

def noisy(start, end):
    print("a line the protocol must not see", start)
    return end - start

def one(start):
    return start

NOT_A_FUNCTION = 3
"#;

/// The fixture written to a folder of the test's own, so that its path marks its processes.
fn fixture(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("parlab-pyfn-{}-{test}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("fixture.py");
    std::fs::write(&file, FIXTURE).unwrap();
    file
}

fn parlab(file: &Path, function: &str, extra: &[&str], fail_on: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_parlab"));
    cmd.arg("python")
        .arg(format!("{}:{function}", file.display()))
        .args(["--workers", "2", "--runs", "2"])
        .arg("--quiet")
        .args(extra)
        .env("FAIL_ON", fail_on);
    for (flag, default) in [("--roads", "threads,processes"), ("--range", "0..100")] {
        if !extra.contains(&flag) {
            cmd.args([flag, default]);
        }
    }
    cmd
}

fn run(file: &Path, function: &str, extra: &[&str], fail_on: &str) -> Output {
    parlab(file, function, extra, fail_on).output().unwrap()
}

/// PIDs of processes whose command line names `file` (the fixture's interpreters).
fn leftovers(file: &Path) -> Vec<u32> {
    let needle = file.to_string_lossy().into_owned();
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        let state = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
        let zombie = state
            .rsplit(')')
            .next()
            .is_some_and(|s| s.trim().starts_with('Z'));
        if !zombie && String::from_utf8_lossy(&cmdline).contains(&needle) {
            out.push(pid);
        }
    }
    out
}

fn stderr_of(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The JSON record, and the rows that finished on `road`.
fn record(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr_of(out)))
}

fn rows_of<'a>(v: &'a Value, road: &str) -> Vec<&'a Value> {
    v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["road"] == road)
        .collect()
}

#[test]
fn bad_input_is_one_line_and_exit_2_before_measuring() {
    if !have_python() {
        return;
    }
    let file = fixture("bad");
    let syntax = file.with_file_name("syntax.py");
    std::fs::write(&syntax, "def f(a, b):\n    return a +\n").unwrap();
    let missing = file.with_file_name("missing.py");
    let cases: Vec<(PathBuf, &str, Vec<&str>, &str)> = vec![
        (missing.clone(), "f", vec![], "no such file"),
        (syntax.clone(), "f", vec![], "syntax error in"),
        (file.clone(), "nope", vec![], "has no function nope"),
        (
            file.clone(),
            "one",
            vec![],
            "cannot be called with two arguments",
        ),
        (file.clone(), "NOT_A_FUNCTION", vec![], "not a function"),
        (
            file.clone(),
            "count",
            vec!["--python", "/nonexistent/python3"],
            "/nonexistent/python3",
        ),
        (file.clone(), "count", vec!["--roads", "fibers"], "fibers"),
        (file.clone(), "count", vec!["--timeout", "0s"], "timeout"),
    ];
    for (path, function, extra, want) in cases {
        let t0 = Instant::now();
        let out = run(&path, function, &extra, "");
        let stderr = stderr_of(&out);
        assert_eq!(out.status.code(), Some(2), "{function} {extra:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains(want), "{want}: {stderr}");
        assert!(out.stdout.is_empty(), "measured anyway: {stderr}");
        assert!(t0.elapsed() < Duration::from_secs(20));
    }
    let out = run(&syntax, "f", &[], "");
    assert!(stderr_of(&out).contains("line 2"), "{}", stderr_of(&out));
    assert!(leftovers(&file).is_empty());
}

/// Runs `function` failing on `road`; checks exit 1 with the failure's line, the failed row
/// and the other road's finished row.
fn fails_on(road: &str, function: &str, extra: &[&str], wants: &[&str]) -> Output {
    let file = fixture(&format!("{function}-{road}"));
    let mut args = vec!["--json"];
    args.extend_from_slice(extra);
    let out = run(&file, function, &args, road);
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let last = stderr.lines().last().unwrap();
    for want in wants {
        assert!(last.contains(want), "{want}: {stderr}");
    }
    assert!(last.contains(&format!("{road} x2")), "{stderr}");
    let v = record(&out);
    let failed = rows_of(&v, road);
    assert!(failed[0]["error"].as_str().is_some(), "{v}");
    let other = if road == "threads" {
        "processes"
    } else {
        "threads"
    };
    for row in rows_of(&v, other)
        .into_iter()
        .chain(rows_of(&v, "sequential"))
    {
        assert!(row["error"].is_null(), "{row}");
        assert_eq!(row["result"], "100", "{row}");
        assert!(row["speedup"].is_object(), "{row}");
    }
    assert!(leftovers(&file).is_empty(), "{:?}", leftovers(&file));
    out
}

#[test]
fn a_raise_names_the_part_the_exception_and_the_line() {
    if !have_python() {
        return;
    }
    for road in ["threads", "processes"] {
        let wants = [
            "on part 1 (50..100)",
            "ValueError: boom at 50",
            "fixture.py:14 in raises",
        ];
        fails_on(road, "raises", &[], &wants);
    }
}

#[test]
fn a_non_int_answer_names_its_type() {
    if !have_python() {
        return;
    }
    for road in ["threads", "processes"] {
        fails_on(road, "text", &[], &["returned a str, not an int"]);
    }
}

#[test]
fn a_hang_is_stopped_by_the_timeout_and_its_interpreter_killed() {
    if !have_python() {
        return;
    }
    for road in ["threads", "processes"] {
        let t0 = Instant::now();
        fails_on(
            road,
            "hangs",
            &["--timeout", "1s"],
            &["within the timeout of 1s"],
        );
        assert!(t0.elapsed() < Duration::from_secs(30), "{:?}", t0.elapsed());
    }
}

#[test]
fn an_interpreter_that_dies_is_reported_with_its_exit_code() {
    if !have_python() {
        return;
    }
    for road in ["threads", "processes"] {
        fails_on(road, "crash", &[], &["the interpreter exited with code 3"]);
    }
}

#[test]
fn a_wrong_answer_fails_its_row() {
    if !have_python() {
        return;
    }
    for road in ["threads", "processes"] {
        fails_on(road, "wrong", &[], &["wrong answer", "(expected 100)"]);
    }
}

#[test]
fn retries_run_a_failed_part_again_and_still_fail_a_steady_fault() {
    if !have_python() {
        return;
    }
    for road in ["threads", "processes"] {
        fails_on(road, "raises", &["--retries", "2"], &["ValueError"]);
    }
}

#[test]
fn a_retry_recovers_from_a_fault_that_passes() {
    if !have_python() {
        return;
    }
    for road in ["threads", "processes"] {
        let file = fixture(&format!("flaky-{road}"));
        let marker = file.with_file_name("marker");
        let out = parlab(&file, "flaky", &["--retries", "1", "--json"], road)
            .env("MARKER", &marker)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{road}: {}", stderr_of(&out));
        assert!(marker.exists(), "{road}: the fault never happened");
        for row in record(&out)["rows"].as_array().unwrap() {
            assert_eq!(row["result"], "100", "{row}");
        }
        assert!(leftovers(&file).is_empty());
    }
}

#[test]
fn an_answer_that_changes_between_runs_fails() {
    if !have_python() {
        return;
    }
    let file = fixture("unstable");
    let out = run(&file, "unstable", &[], "");
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("changed between runs"), "{stderr}");
    assert!(leftovers(&file).is_empty());
}

/// Starts a run that hangs on `road` (no timeout), waits until its interpreters run, sends
/// SIGINT to parlab's process group as a terminal does, and checks exit 130 and that no
/// interpreter is left.
fn ctrl_c_on(road: &str) {
    use std::os::unix::process::CommandExt;
    let file = fixture(&format!("ctrl-c-{road}"));
    let mut cmd = parlab(&file, "hangs", &[], road);
    let child = cmd
        .process_group(0)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    // Sequential + threads (one each) + two processes, all loaded.
    while leftovers(&file).len() < 4 && t0.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(500));
    assert!(!leftovers(&file).is_empty(), "no interpreter started");
    kill(Pid::from_raw(-(child.id() as i32)), Signal::SIGINT).unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("interrupted by signal 2 (SIGINT)"),
        "{stderr}"
    );
    assert!(leftovers(&file).is_empty(), "{:?}", leftovers(&file));
}

#[test]
fn ctrl_c_stops_hung_threads_and_leaves_no_interpreter() {
    if have_python() {
        ctrl_c_on("threads");
    }
}

#[test]
fn ctrl_c_stops_hung_processes_and_leaves_no_interpreter() {
    if have_python() {
        ctrl_c_on("processes");
    }
}
